// The Chinese edition, end to end: a Chinese browser gets Chinese without asking; the switch
// turns an English page Chinese and the choice is kept (URL and local storage); no English
// word of the page's own catalogue is left on the main page (etcdctl's output, commands and
// code excepted); a Chinese lesson runs and its exercise is solved by clicking. Screenshots
// of both languages go to $SCREENSHOTS.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { launch, open, until } from "./browser.mjs";

const base = process.argv[2];
const shots = process.env.SCREENSHOTS || ".";
const browser = await launch();
const shot = (page, name) => page.screenshot({ path: path.join(shots, `chinese-${name}.png`) });

// The literal words of a catalogue's messages (what is between the `{ $arguments }`).
function catalogueWords(file) {
  const words = [];
  for (const line of fs.readFileSync(new URL(`../locales/${file}`, import.meta.url), "utf8").split("\n")) {
    const match = line.match(/^[a-z][a-z-]* = (.*)$/) || line.match(/^ {4}(.*)$/);
    if (!match) continue;
    for (const piece of match[1].split(/\{[^}]*\}/)) words.push(piece.trim());
  }
  return words;
}
const chineseText = catalogueWords("zh.ftl").join("\n");
// English fragments that say something (a word of three letters or more) and that the
// Chinese catalogue does not share (`TTL`, `SIGSTOP` are the same in both).
const english = [...new Set(catalogueWords("en.ftl"))]
  .filter((w) => /[A-Za-z]{3,}/.test(w) && !chineseText.includes(w));

// Whether `text` shows `fragment` as words (not inside a longer word: "term" in "determinism").
const shows = (text, fragment) => {
  const escaped = fragment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![A-Za-z])${escaped}(?![A-Za-z])`).test(text);
};

// The page's own words: its text and its titles, placeholders and labels, leaving out what
// the cluster prints (the console, etcdctl's answers, log entries, commands, code).
const pageWords = (page) => page.evaluate(() => {
  // Also Raft's own notation: a message's summary (`Heartbeat commit 8 term 2`), like a log
  // entry's (`put x=1`), is printed by the simulator as the protocol names it.
  const skip = "#console-output, #console-input, pre, code, .entries, .store td, .cell, #partition, svg.cluster g.message";
  const texts = [];
  const walk = (node) => {
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (node.matches(skip)) return;
      for (const name of ["title", "placeholder", "aria-label"]) {
        if (node.getAttribute(name)) texts.push(node.getAttribute(name));
      }
      if (node.tagName === "OPTION" && node.closest("#lang")) return; // "English" names itself
      // Lesson titles are the lessons' own words (a Chinese title may name the English term).
      if (node.tagName === "OPTION" && node.closest("#lesson") && node.value) return;
    }
    if (node.nodeType === Node.TEXT_NODE) texts.push(node.textContent);
    for (const child of node.childNodes) walk(child);
  };
  walk(document.body);
  texts.push(document.title);
  return texts.join("\n");
});

try {
  console.log("a Chinese browser gets the Chinese page without a switch");
  const zh = await open(browser, base, { width: 1280, height: 800 }, "zh-CN");
  assert.equal(await zh.getAttribute("html", "lang"), "zh-CN");
  assert.equal((await zh.textContent("#play")).trim(), "播放");
  assert.equal(await zh.inputValue("#lang"), "zh");

  console.log("the switch turns an English page Chinese, and the choice is kept");
  const page = await open(browser, base);
  assert.equal((await page.textContent("#play")).trim(), "Play");
  await shot(page, "0-english");
  await page.selectOption("#lang", "zh");
  await until("the page in Chinese", async () => (await page.textContent("#play")).trim() === "播放");
  assert.ok(page.url().includes("lang=zh"), page.url());
  await page.reload();
  await page.waitForSelector("svg.cluster g.node");
  assert.equal((await page.textContent("#play")).trim(), "播放", "kept after a reload");

  console.log("no English word of the page is left");
  // Fill the page: a leader, a selected member with keys, a lease and a watch, a message.
  await page.selectOption("#speed", "6");
  await page.click("#play");
  await until("a leader", async () => (await page.$$('svg.cluster g.node[data-role="leader"]')).length === 1);
  await page.click("#play");
  await until("the screen reader told in Chinese", async () => /成为任期 \d+ 的领导者/.test(await page.textContent("#announcements")));
  const nodeName = await page.getAttribute('svg.cluster g.node[data-role="leader"]', "aria-label");
  assert.ok(nodeName.includes("领导者"), `a node's name in Chinese: ${nodeName}`);
  for (const line of ["put greeting 你好", "lease grant 60", "watch greeting"]) {
    await page.fill("#console-input", line);
    await page.press("#console-input", "Enter");
  }
  await page.click("#play");
  await page.waitForTimeout(300);
  await page.click("#play");
  const leader = await page.getAttribute('svg.cluster g.node[data-role="leader"]', "data-node");
  await page.click(`svg.cluster g.node[data-node="${leader}"]`);
  await until("the member's store", async () => (await page.$$("section.member .store tr[data-key]")).length > 0);
  const words = await pageWords(page);
  const left = english.filter((w) => shows(words, w));
  assert.deepEqual(left, [], `English left on the Chinese page:\n${words}`);
  assert.ok((words.match(/[\u4e00-\u9fff]/g) || []).length > 100, "the page speaks Chinese");
  // And the check itself is not blind: the English page shows English of the catalogue.
  await page.selectOption("#lang", "en");
  await until("the page in English", async () => (await page.textContent("#play")).trim() === "Play");
  const englishWords = await pageWords(page);
  assert.ok(english.filter((w) => shows(englishWords, w)).length > 25, "the English page has its words");
  await shot(page, "1-english-filled");
  await page.selectOption("#lang", "zh");
  await until("the page in Chinese", async () => (await page.textContent("#play")).trim() === "暂停" || (await page.textContent("#play")).trim() === "播放");
  await shot(page, "2-chinese");

  console.log("a Chinese lesson runs, and its exercise is solved by clicking");
  const lesson = await open(browser, `${base}#lesson=04-partitions&lang=zh`);
  await lesson.waitForSelector('#notebook[data-lesson="04-partitions"]');
  // Figures are fetched beside the lesson: wait for this one to arrive.
  await until("the figure", async () => await lesson.$eval("#notebook .block img", (img) => img.complete && img.naturalWidth > 0));
  const figure = await lesson.$eval("#notebook .block img", (img) => ({ alt: img.alt, width: img.naturalWidth }));
  assert.ok(/[\u4e00-\u9fff]/.test(figure.alt) && figure.width > 100, `a Chinese figure: ${JSON.stringify(figure)}`);
  await lesson.$eval("#notebook .block img", (img) => img.scrollIntoView());
  await shot(lesson, "2b-figure");
  const title = await lesson.textContent("#notebook h2");
  assert.ok(/[\u4e00-\u9fff]/.test(title), `a Chinese title: ${title}`);
  await lesson.selectOption("#speed", "8");
  await lesson.click("#notebook .cell .run-all");
  await until("a prediction asked first", async () => (await lesson.textContent("#notebook")).includes("请先回答上面的问题"));
  for (let option; (option = await lesson.$("#notebook .predict .option:not([disabled])")); ) {
    await option.click();
    await lesson.waitForTimeout(50);
  }
  await until("a verdict in Chinese", async () => /答对了|不太对/.test(await lesson.textContent("#notebook .predict .verdict")));
  const nodes = (p) => p.$$eval("svg.cluster g.node", (gs) => gs.map((g) => ({ id: Number(g.dataset.node), role: g.dataset.role })));
  await lesson.click('[data-exercise="two-leaders"] .start-exercise');
  await until("the exercise's cluster", async () => (await nodes(lesson)).some((n) => n.role === "leader" && n.id === 4));
  await lesson.selectOption("#speed", "5");
  await lesson.click('svg.cluster g.node[data-node="4"]');
  await lesson.click('section.member button[data-action="isolate"]');
  assert.equal((await lesson.textContent('section.member button[data-action="isolate"]')).trim(), "隔离");
  await lesson.click("#play");
  await until("the exercise marked solved", async () =>
    (await lesson.getAttribute('[data-exercise="two-leaders"]', "data-solved")) === "true");
  await lesson.click("#play");
  assert.ok((await lesson.textContent('[data-exercise="two-leaders"]')).includes("练习（已完成 ✔）"));
  await lesson.$eval('[data-exercise="two-leaders"]', (e) => e.scrollIntoView());
  await shot(lesson, "3-lesson-exercise-solved");

  console.log("an open English lesson turns Chinese at the same block when the page does");
  const switching = await open(browser, `${base}#lesson=04-partitions`);
  await switching.waitForSelector('#notebook[data-lesson="04-partitions"]');
  assert.ok(!/[\u4e00-\u9fff]/.test(await switching.textContent("#notebook h2")), "an English title first");
  await switching.click("#notebook .next");
  await switching.click("#notebook .next");
  const focused = await switching.getAttribute("#notebook .block.focused", "id");
  assert.equal(focused, "block-2");
  // The Chinese edition is fetched only now, the first time the page shows Chinese.
  await switching.selectOption("#lang", "zh");
  await until("the lesson in Chinese", async () => /[\u4e00-\u9fff]/.test(await switching.textContent("#notebook h2")));
  assert.equal(await switching.getAttribute("#notebook .block.focused", "id"), focused, "at the same block");

  console.log("chinese end-to-end: ok");
} catch (error) {
  console.error(`chinese end-to-end FAILED: ${error.stack || error}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
