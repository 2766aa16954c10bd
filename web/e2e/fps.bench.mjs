// In headless Chromium: the simulator's speed in WASM, links to late moments (first paint,
// replay, memory, scrubbing), the frame rate with 9 nodes at 200 puts/s, and the size of the
// WASM module (raw and gzipped). Prints figures; asserts nothing.
// Run by `cargo xtask bench-web`.
import fs from "node:fs";
import zlib from "node:zlib";
import { launch, open } from "./browser.mjs";

const base = process.argv[2];
const browser = await launch();
try {
  // The simulator in this WASM module, on the workload of `cargo bench -p raftbook-core`, and
  // the floor under it: raft-rs alone on the same workload (core/src/sim/raft_alone.rs).
  {
    const page = await open(browser, `${base}#nodes=5&seed=1`);
    const speeds = (bench) => page.evaluate(async (bench) => {
      const module = await import("/pkg/raftbook_web.js");
      // A first run lets V8 compile the hot functions with its optimising tier.
      module[bench](30);
      const runs = [];
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        const simulated = module[bench](300);
        runs.push(simulated / ((performance.now() - start) / 1000));
      }
      return runs.sort((a, b) => a - b);
    }, bench);
    const shown = (runs) => `${runs[1].toFixed(0)}x real time (median of 3 runs of 300 virtual s; ${runs.map((r) => r.toFixed(0)).join(", ")})`;
    console.log(`simulator in WASM: 5 nodes, 100 puts/s, checkers on: ${shown(await speeds("bench_simulator"))}`);
    console.log(`raft-rs alone in WASM, the same workload: ${shown(await speeds("bench_raft_alone"))}`);
    await page.close();
  }
  // Links to a late moment: how soon the page paints, and how long the replay takes.
  {
    const start = await open(browser, `${base}#nodes=5&seed=1`);
    await start.fill("#console-input", "load 50");
    await start.press("#console-input", "Enter");
    await start.waitForFunction(() => location.hash.includes("actions="));
    const link = start.url();
    await start.close();
    for (const minutes of [10, 60]) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const opened = Date.now();
      await page.goto(link.replace(/([#&])t=\d+/, `$1t=${minutes * 60000}`));
      await page.waitForSelector("#catching-up");
      const painted = Date.now() - opened;
      try {
        await page.waitForSelector("#catching-up", { state: "detached", timeout: 600000 });
        const replayed = (Date.now() - opened) / 1000;
        const memory = await page.evaluate(async () => (await import("/pkg/raftbook_web.js")).memory_bytes());
        console.log(`link to minute ${minutes} (5 nodes, 50 puts/s): first paint ${painted} ms, replayed in ${replayed.toFixed(1)} s; WASM memory ${(memory / 1048576).toFixed(0)} MiB`);
        // Scrubbing: from the input event to the next frame, as the learner sees it.
        const end = minutes * 60000;
        // Three moments near each place, a little over a second apart, so that they fall at
        // different distances after the nearest checkpoint.
        for (const [label, at] of [["1 s", 1000], ["the middle", end / 2 + 777], ["the end", end]]) {
          const times = [];
          for (let i = 0; i < 3; i++) {
            const to = at === end ? end - i * 1313 : at + i * 1313;
            // Start each from elsewhere, so that every scrub has work to do.
            await page.evaluate((t) => {
              const s = document.querySelector("#scrubber");
              s.value = String(t);
              s.dispatchEvent(new Event("input", { bubbles: true }));
            }, at === 1000 ? end : 1000 + i);
            times.push(await page.evaluate((t) => new Promise((resolve) => {
              const s = document.querySelector("#scrubber");
              const start = performance.now();
              s.value = String(t);
              s.dispatchEvent(new Event("input", { bubbles: true }));
              requestAnimationFrame(() => resolve(performance.now() - start));
            }), to));
            const shown = Number(await page.getAttribute("#time", "data-ms"));
            if (shown !== to) throw new Error(`scrubbed to ${to}, shows ${shown}`);
          }
          times.sort((a, b) => a - b);
          console.log(`  scrub to ${label} of minute ${minutes}: ${times[1].toFixed(0)} ms (median of 3 moments 1.3 s apart; ${times.map((t) => t.toFixed(0)).join(", ")})`);
        }
      } catch (error) {
        console.log(`link to minute ${minutes} (5 nodes, 50 puts/s): first paint ${painted} ms, replay failed: ${error.message.split("\n")[0]}`);
      }
      await page.close();
    }
  }
  // The last: a window tall enough to show the logs too (below the cluster at 1280x800, where
  // rows off the screen are not drawn while the run plays).
  for (const [speed, label, viewport] of [["3", "1x", undefined], ["6", "10x", undefined],
    ["3", "1x, logs in view (1280x1700)", { width: 1280, height: 1700 }]]) {
    // This machine kind is noisy: three runs, each on a fresh page, and their median.
    const runs = [];
    let page;
    let simulated;
    for (let round = 0; round < 3; round++) {
      if (page) await page.close();
      page = await open(browser, `${base}#nodes=9&seed=1`, viewport);
      await page.selectOption("#speed", speed);
      await page.selectOption("#load", "200");
      await page.click("#play");
      await page.waitForTimeout(2000); // let elections settle and the logs fill
      runs.push(await page.evaluate(() => new Promise((resolve) => {
        let frames = 0;
        const start = performance.now();
        const count = (t) => {
          frames += 1;
          if (t - start < 5000) requestAnimationFrame(count); else resolve(frames / ((t - start) / 1000));
        };
        requestAnimationFrame(count);
      })));
      simulated = Number(await page.getAttribute("#time", "data-ms"));
    }
    const sorted = [...runs].sort((a, b) => a - b);
    console.log(`fps: 9 nodes, 200 puts/s, speed ${label}: ${sorted[1].toFixed(1)} frames/s, median of 3 runs of 5 s (${runs.map((r) => r.toFixed(1)).join(", ")}; target 60); ${simulated} virtual ms after ~7 s`);
    // Paused, the page should do nothing at all (after the redraw that pausing makes).
    await page.click("#play");
    await page.waitForTimeout(500);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const busy = async () => (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "TaskDuration").value;
    const before = await busy();
    await page.waitForTimeout(2000);
    console.log(`paused: ${(((await busy()) - before) / 2 * 1000).toFixed(1)} ms of main-thread work per second`);
    await page.close();
  }
  const wasm = fs.readFileSync(process.env.WASM);
  const gzipped = zlib.gzipSync(wasm, { level: 9 });
  console.log(`wasm: ${(wasm.length / 1024).toFixed(0)} KiB raw, ${(gzipped.length / 1024).toFixed(0)} KiB gzipped`);
} finally {
  await browser.close();
}
