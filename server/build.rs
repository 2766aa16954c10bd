//! Generates the etcd v3 gRPC code from `proto/etcd.proto` with a protoc that comes as a
//! crate (no system protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; this only tells prost-build where protoc is.
    unsafe { std::env::set_var("PROTOC", protoc) };
    println!("cargo:rerun-if-changed=proto/etcd.proto");
    tonic_prost_build::configure().compile_protos(&["proto/etcd.proto"], &["proto"])?;
    Ok(())
}
