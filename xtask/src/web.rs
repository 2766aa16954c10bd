//! Building, serving and testing the browser playground.
//!
//! The build is plain: `cargo build --profile web` for wasm32 (the workspace's size-first
//! profile), then `wasm-bindgen --target web` into `target/web/pkg`, beside `web/static`'s
//! index.html and style.css. No bundler and no wasm-opt: npm's binaryen 132 runs, but on our
//! module `-Oz` saves 9% raw and nothing gzipped, for 46 s of build.
//! The end-to-end test and the frame-rate bench drive Debian's Chromium with playwright-core.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{lesson_prose, run, workspace_root};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A file of Debian's `fonts-noto-cjk`.
const CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

fn web_dir() -> PathBuf {
    workspace_root().join("target/web")
}

/// Installs Chromium (Debian's), a CJK font (so the Chinese edition's screenshots show
/// glyphs, not boxes), playwright-core and axe-core (npm), if missing.
pub fn setup() -> Result<(), String> {
    crate::apt_install_if_missing(CHROMIUM, "chromium")?;
    crate::apt_install_if_missing(CJK_FONT, "fonts-noto-cjk")?;
    let e2e = workspace_root().join("web/e2e");
    let installed = ["playwright-core", "axe-core"]
        .iter()
        .all(|package| e2e.join("node_modules").join(package).exists());
    if !installed {
        let status = Command::new("npm")
            .arg("ci")
            .current_dir(&e2e)
            .status()
            .map_err(|e| format!("npm: {e}"))?;
        if !status.success() {
            return Err("`npm ci` in web/e2e failed".into());
        }
    }
    Ok(())
}

/// Builds the playground into target/web and prints the module's size.
pub fn build() -> Result<(), String> {
    run(
        "cargo",
        &[
            "build",
            "--profile",
            "web",
            "-p",
            "raftbook-web",
            "--target",
            "wasm32-unknown-unknown",
        ],
    )?;
    let wasm = workspace_root().join("target/wasm32-unknown-unknown/web/raftbook_web.wasm");
    let out = web_dir();
    let pkg = out.join("pkg");
    run(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            // Function names are for debuggers; the page does not need them.
            "--remove-name-section",
            "--remove-producers-section",
            "--out-dir",
            &pkg.to_string_lossy(),
            &wasm.to_string_lossy(),
        ],
    )?;
    for file in ["index.html", "style.css"] {
        std::fs::copy(
            workspace_root().join("web/static").join(file),
            out.join(file),
        )
        .map_err(|e| format!("{file}: {e}"))?;
    }
    // The lessons, their prose as HTML and their figures are fetched by the page
    // (web/src/lesson_files.rs).
    let lessons = out.join("lessons");
    let _ = std::fs::remove_dir_all(&lessons);
    copy_lessons(&workspace_root().join("lessons"), &lessons, "lessons/img/")?;
    let module = pkg.join("raftbook_web_bg.wasm");
    refuse_protobuf_reflection(&module)?;
    let (raw, gzipped) = wasm_size(&module)?;
    eprintln!(
        "xtask: playground built in {}: wasm {} KiB raw, {} KiB gzipped",
        out.display(),
        raw / 1024,
        gzipped / 1024
    );
    Ok(())
}

/// The Markdown files under `lessons/` that are not lessons (as `web/build.rs` lists them).
const NOT_LESSONS: [&str; 2] = ["README.md", "GLOSSARY.md"];

/// Copies every lesson (`.md`) and figure (`.svg`) under `from` to `to`, keeping the folders,
/// and writes each lesson's prose as HTML beside it ([`lesson_prose`]), its figures pointing
/// to `figures` (the Chinese edition, in `zh/`, has its own).
fn copy_lessons(from: &Path, to: &Path, figures: &str) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let file_name = path.file_name().expect("an entry has a name");
        let target = to.join(file_name);
        if path.is_dir() {
            let figures = if file_name == "zh" {
                "lessons/zh/img/"
            } else {
                figures
            };
            copy_lessons(&path, &target, figures)?;
        } else if path.extension().is_some_and(|e| e == "md" || e == "svg") {
            std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
            std::fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
            if path.extension().is_some_and(|e| e == "md")
                && !NOT_LESSONS.iter().any(|n| file_name == *n)
            {
                let name = path.file_stem().expect("a name").to_string_lossy();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let prose = lesson_prose::render(&name, &text, figures)?;
                let prose_file = lesson_prose::prose_file(&target);
                std::fs::write(&prose_file, prose)
                    .map_err(|e| format!("{}: {e}", prose_file.display()))?;
            }
        }
    }
    Ok(())
}

/// rust-protobuf's reflection is 85 KiB of the module, gzipped, and one `{:?}` of a raft-rs
/// message anywhere brings it in (vendor/raft/RAFTBOOK.md). Its descriptors name their
/// `.proto` file, so the name in the module means the reflection is back.
fn refuse_protobuf_reflection(module: &Path) -> Result<(), String> {
    let bytes = std::fs::read(module).map_err(|e| format!("{}: {e}", module.display()))?;
    let name = b"eraftpb.proto";
    if bytes.windows(name.len()).any(|w| w == name) {
        return Err(format!(
            "{} carries rust-protobuf's reflection: is a raft-rs message printed with {{:?}}? \
             (see vendor/raft/RAFTBOOK.md)",
            module.display()
        ));
    }
    Ok(())
}

/// The module's size, raw and gzipped (what a browser downloads from a gzipping server).
fn wasm_size(path: &Path) -> Result<(usize, usize), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&bytes).map_err(|e| e.to_string())?;
    let gzipped = encoder.finish().map_err(|e| e.to_string())?.len();
    Ok((bytes.len(), gzipped))
}

/// A running `raftbook play` on a free port; stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(port: u16) -> Result<Server, String> {
        // A debug build: serving a few static files needs no optimising, and the test suite
        // has built this binary already (a release build would add minutes to CI).
        run("cargo", &["build", "-p", "raftbook-server"])?;
        let binary = workspace_root().join("target/debug/raftbook");
        let mut child = Command::new(binary)
            .args([
                "play",
                "--dir",
                &web_dir().to_string_lossy(),
                "--port",
                &port.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("raftbook play: {e}"))?;
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut first = String::new();
        stdout.read_line(&mut first).map_err(|e| e.to_string())?;
        // Keep reading, so the server never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = first
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !url.starts_with("http") {
            let _ = child.kill();
            return Err(format!("raftbook play did not print its URL: {first:?}"));
        }
        Ok(Server { child, url })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves the playground until interrupted.
pub fn serve(port: u16) -> Result<(), String> {
    let mut server = Server::start(port)?;
    println!("raftbook playground: {}  (Ctrl-C stops it)", server.url);
    server.child.wait().map_err(|e| e.to_string())?;
    Ok(())
}

fn node_script(script: &str, url: &str) -> Result<(), String> {
    let e2e = workspace_root().join("web/e2e");
    let shots = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&shots).map_err(|e| e.to_string())?;
    eprintln!("xtask: node web/e2e/{script} {url}");
    let started = std::time::Instant::now();
    let status = Command::new("node")
        .arg(script)
        .arg(url)
        .env("CHROMIUM", CHROMIUM)
        .env("SCREENSHOTS", &shots)
        .env("WASM", web_dir().join("pkg/raftbook_web_bg.wasm"))
        .current_dir(&e2e)
        .status()
        .map_err(|e| format!("node: {e}"))?;
    crate::report_duration(&format!("node web/e2e/{script}"), started);
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "web/e2e/{script} failed ({status}); screenshots in {}",
            shots.display()
        ))
    }
}

/// The playground's and the lessons' end-to-end tests in headless Chromium (screenshots in
/// target/e2e-screenshots).
pub fn end_to_end() -> Result<(), String> {
    let server = Server::start(0)?;
    node_script("playground.test.mjs", &server.url)?;
    node_script("lessons.test.mjs", &server.url)?;
    node_script("chinese.test.mjs", &server.url)?;
    node_script("accessibility.test.mjs", &server.url)
}

pub fn bench() -> Result<(), String> {
    let server = Server::start(0)?;
    node_script("fps.bench.mjs", &server.url)
}
