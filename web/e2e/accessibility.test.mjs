// Accessibility, end to end (issue: every student in the room). axe-core, the standard
// engine (npm, injected by Playwright: nothing is downloaded at test time), finds no WCAG 2
// A/AA violation on the playground (busy: messages flying, a member and its store shown), a
// lesson and an exercise, in English and in Chinese. With the keyboard alone a learner plays,
// crashes the leader, isolates a node and solves an exercise, and a screen reader's live
// region says what happened. With reduced motion, nothing moves: messages jump, timers are
// numbers. Screenshots to $SCREENSHOTS.
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launch, open, until } from "./browser.mjs";

const base = process.argv[2];
const shots = process.env.SCREENSHOTS || ".";
const axePath = fileURLToPath(new URL("./node_modules/axe-core/axe.min.js", import.meta.url));
const browser = await launch();
const shot = (page, name) => page.screenshot({ path: path.join(shots, `a11y-${name}.png`) });

async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    await page.addScriptTag({ path: axePath });
  }
  const result = await page.evaluate(() =>
    axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
  return result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.slice(0, 5).map((n) => `    ${n.target.join(" ")}: ${n.failureSummary}`).join("\n"));
}
const noViolations = async (page, where) =>
  assert.deepEqual(await axeViolations(page), [], `axe found WCAG violations on ${where}`);

const nodes = (page) => page.$$eval("svg.cluster g.node", (gs) =>
  gs.map((g) => ({ id: Number(g.dataset.node), role: g.dataset.role })));
const focused = (page) => page.evaluate(() => document.activeElement?.dataset?.node);
const announced = (page) => page.textContent("#announcements");

try {
  console.log("axe: no WCAG 2 A/AA violations on the playground, a lesson and an exercise");
  for (const locale of ["en-US", "zh-CN"]) {
    const page = await open(browser, base, undefined, locale);
    await noViolations(page, `the fresh playground (${locale})`);
    // Busy: a leader, messages in flight, a selected member with keys, a lease, a watch.
    await page.selectOption("#speed", "3");
    await page.click("#play");
    await until("a leader", async () => (await nodes(page)).some((n) => n.role === "leader"));
    for (const line of ["put greeting hello", "lease grant 60", "watch greeting"]) {
      await page.fill("#console-input", line);
      await page.press("#console-input", "Enter");
    }
    await page.waitForTimeout(300);
    await page.click("#play");
    // Step event by event until messages are in flight, so their names are checked too.
    for (let i = 0; i < 300 && (await page.$$("svg.cluster g.message")).length === 0; i++) {
      await page.click("#step");
    }
    assert.ok((await page.$$("svg.cluster g.message")).length > 0, "messages in flight");
    await page.click("svg.cluster g.node >> nth=0");
    await page.click("#help");
    await noViolations(page, `the busy playground with the key help open (${locale})`);
    await shot(page, `busy-${locale}`);
    for (const fragment of ["#lesson=04-partitions", "#lesson=04-partitions&exercise=two-leaders"]) {
      const lesson = await open(browser, base + fragment, undefined, locale);
      await lesson.waitForSelector("#notebook");
      await lesson.click("#notebook .predict .option >> nth=0"); // an answered prediction too
      await noViolations(lesson, `${fragment} (${locale})`);
    }
  }

  console.log("the keyboard alone: play, crash the leader, isolate a node, read what happened");
  const page = await open(browser, base);
  await page.selectOption("#speed", "5"); // 5x
  await page.focus("body");
  await page.keyboard.press("Space");
  await until("a leader", async () => (await nodes(page)).some((n) => n.role === "leader"));
  await page.keyboard.press("Space");
  await until("the new leader announced", async () => /became leader in term/.test(await announced(page)));
  // Tab from the page's start to the cluster: the first node takes the focus.
  await page.focus("#lang");
  for (let i = 0; i < 40 && !(await focused(page)); i++) await page.keyboard.press("Tab");
  assert.ok(await focused(page), "Tab reaches a node");
  const leader = (await nodes(page)).find((n) => n.role === "leader").id;
  for (let i = 0; i < 9 && Number(await focused(page)) !== leader; i++) await page.keyboard.press("ArrowRight");
  assert.equal(Number(await focused(page)), leader, "arrows move between nodes");
  await page.keyboard.press("c");
  await until("the leader down", async () => (await nodes(page)).find((n) => n.id === leader).role === "down");
  await until("the crash announced", async () => (await announced(page)).includes(`n${leader} crashed`));
  await page.keyboard.press("ArrowRight");
  const other = Number(await focused(page));
  assert.notEqual(other, leader);
  await page.keyboard.press("i");
  await until("the isolation announced", async () => (await announced(page)).includes(`network: partition ${other} |`));
  await page.keyboard.press("Space"); // play on: the rest elect a new leader
  await until("a new leader announced", async () => {
    const now = await nodes(page);
    return now.some((n) => n.role === "leader" && n.id !== leader && n.id !== other);
  });
  await page.keyboard.press("Space");
  // Roles and states are told in words and stroke patterns, not colour alone: the cluster
  // under the common colour-vision deficiencies, for a person to look at.
  const cdp = await page.context().newCDPSession(page);
  for (const type of ["protanopia", "deuteranopia", "tritanopia", "achromatopsia"]) {
    await cdp.send("Emulation.setEmulatedVisionDeficiency", { type });
    await page.locator("svg.cluster").screenshot({ path: path.join(shots, `a11y-vision-${type}.png`) });
  }
  await cdp.send("Emulation.setEmulatedVisionDeficiency", { type: "none" });
  const roleWords = await page.$$eval("svg.cluster g.node text.role", (ts) => ts.map((t) => t.textContent.trim()));
  assert.ok(roleWords.every((w) => w.length > 0), "every node says its role in words");
  await page.keyboard.press("?");
  assert.ok(await page.isVisible("#keyboard-help"), "? shows the keys");
  await page.keyboard.press("Escape");
  assert.ok(!(await page.isVisible("#keyboard-help")), "Escape hides them");
  await shot(page, "keyboard");

  console.log("an exercise solved with the keyboard alone");
  const exercise = await open(browser, `${base}#lesson=pick-the-leader&exercise=pick-the-leader`);
  await exercise.waitForSelector('[data-exercise="pick-the-leader"]');
  await exercise.selectOption("#speed", "5");
  await exercise.focus("body");
  await exercise.focus("#lang");
  for (let i = 0; i < 40 && !(await focused(exercise)); i++) await exercise.keyboard.press("Tab");
  for (let i = 0; i < 9 && (await focused(exercise)) !== "5"; i++) await exercise.keyboard.press("ArrowLeft");
  assert.equal(await focused(exercise), "5");
  await exercise.keyboard.press("l"); // make n5 the leader
  await exercise.keyboard.press("Space");
  await until("the exercise solved", async () =>
    (await exercise.getAttribute('[data-exercise="pick-the-leader"]', "data-solved")) === "true");
  await exercise.keyboard.press("Space");
  assert.ok((await announced(exercise)).includes("n5 became leader"));

  console.log("reduced motion: messages jump, timers are numbers, nothing animates");
  const context = await browser.newContext({ reducedMotion: "reduce", viewport: { width: 1280, height: 800 } });
  const calm = await context.newPage();
  calm.on("pageerror", (error) => { console.error(`page error: ${error.message}`); process.exitCode = 1; });
  await calm.goto(base);
  await calm.waitForSelector("svg.cluster g.node");
  assert.equal(await calm.isChecked("#reduce-motion"), true, "the system's setting is followed");
  assert.equal(await calm.$$eval("svg.cluster circle.timer", (c) => c.length), 0, "no timer rings");
  assert.ok((await calm.$$eval("svg.cluster text.ticks", (t) => t.length)) > 0, "timers as numbers");
  const places = () => calm.$$eval("svg.cluster g.message", (gs) =>
    Object.fromEntries(gs.map((g) => [g.dataset.message, g.getAttribute("transform")])));
  // Plays slowly (1/100x: a flying message moves a little every frame) and watches the
  // messages seen in two looks 300 ms apart; returns how many moved and how many were seen.
  const watch = async () => {
    await calm.selectOption("#speed", "0");
    await calm.click("#play");
    let seen = 0;
    let moved = 0;
    for (let tries = 0; tries < 60 && seen < 3; tries++) {
      const first = await places();
      await calm.waitForTimeout(300);
      const second = await places();
      for (const id of Object.keys(first).filter((id) => id in second)) {
        seen++;
        if (first[id] !== second[id]) moved++;
      }
    }
    await calm.click("#play");
    return { seen, moved };
  };
  // First a leader, whose heartbeats keep messages in flight.
  await calm.selectOption("#speed", "3");
  await calm.click("#play");
  await until("a leader", async () => (await nodes(calm)).some((n) => n.role === "leader"));
  await calm.click("#play");
  const still = await watch();
  assert.ok(still.seen > 0, "messages seen twice");
  assert.equal(still.moved, 0, "with reduced motion no message moves");
  assert.equal(await calm.evaluate(() => document.getAnimations().length), 0, "no CSS animation");
  await shot(calm, "reduced-motion");
  // And without it, messages do fly (so the check above can fail).
  await calm.click("#reduce-motion");
  const flying = await watch();
  assert.ok(flying.moved > 0, `without reduced motion messages fly (${JSON.stringify(flying)})`);
  await context.close();

  console.log("accessibility end-to-end: ok");
} catch (error) {
  console.error(`accessibility end-to-end FAILED: ${error.stack || error}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
