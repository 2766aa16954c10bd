// Shared by the end-to-end test and the frame-rate bench: Debian's Chromium, headless,
// driven by playwright-core (which never downloads a browser).
import { chromium } from "playwright-core";

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

// A new page (in a fresh context: its own local storage) that fails the run on any page
// error. `locale` is the browser's language, which the page follows until the learner picks.
export async function open(browser, url, viewport = { width: 1280, height: 800 }, locale = "en-US") {
  const page = await browser.newPage({ viewport, locale });
  page.on("pageerror", (error) => { console.error(`page error: ${error.message}`); process.exitCode = 1; });
  await page.goto(url);
  await page.waitForSelector("svg.cluster g.node");
  return page;
}

// Polls `check` (an async function returning a truthy value) for up to `ms` real milliseconds.
export async function until(what, check, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
