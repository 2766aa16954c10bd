// The playground, end to end, in real headless Chromium: what a learner clicks and reads.
// Run by `cargo xtask test` with the URL of a running `raftbook play`; screenshots go to
// $SCREENSHOTS (target/e2e-screenshots).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { launch, open, until } from "./browser.mjs";

const base = process.argv[2];
const shots = process.env.SCREENSHOTS || ".";
const browser = await launch();
let step = 0;

async function shot(page, name) {
  step += 1;
  const file = path.join(shots, `${String(step).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  console.log(`  screenshot ${file}`);
}


// Every node as the page shows it: id, role, term.
const nodes = (page) => page.$$eval("svg.cluster g.node", (gs) =>
  gs.map((g) => ({ id: Number(g.dataset.node), role: g.dataset.role, term: Number(g.dataset.term) })));
async function leader(page) {
  const leaders = (await nodes(page)).filter((n) => n.role === "leader");
  return leaders.sort((a, b) => b.term - a.term)[0];
}
const now = async (page) => Number(await page.getAttribute("#time", "data-ms"));
const consoleText = (page) => page.textContent("#console-output");

async function type(page, line) {
  await page.fill("#console-input", line);
  await page.press("#console-input", "Enter");
}

async function selectNode(page, id) {
  await page.click(`svg.cluster g.node[data-node="${id}"]`);
  await page.waitForSelector(`section.member[data-member="${id}"]`);
}

async function keyOn(page, id, key) {
  await selectNode(page, id);
  const cell = await page.$(`section.member tr[data-key="${key}"] td.value`);
  return cell ? cell.textContent() : null;
}

try {
  const page = await open(browser, `${base}#nodes=5&seed=3`);
  console.log("page loads; a leader appears");
  await page.selectOption("#speed", "6"); // 10x
  await page.click("#play");
  const first = await until("a leader", () => leader(page));
  const electedAt = await now(page);
  console.log(`  n${first.id} leads in term ${first.term}`);
  await shot(page, "leader");

  console.log("crashing the leader yields a new leader with a higher term");
  await selectNode(page, first.id);
  await page.click('section.member button[data-action="crash"]');
  await until("the crashed leader shown down", async () => (await nodes(page)).find((n) => n.id === first.id).role === "down");
  const second = await until("a new leader", async () => {
    const l = await leader(page);
    return l && l.id !== first.id && l.term > first.term ? l : null;
  });
  console.log(`  n${second.id} leads in term ${second.term}`);
  await shot(page, "new-leader");
  await selectNode(page, first.id);
  await page.click('section.member button[data-action="restart"]');

  console.log("isolating two of five: the majority can put, the minority cannot");
  const minority = (await nodes(page)).map((n) => n.id).filter((id) => id !== second.id).slice(0, 2);
  const majority = (await nodes(page)).map((n) => n.id).filter((id) => !minority.includes(id));
  await page.fill("#partition", `${minority.join(",")} | ${majority.join(",")}`);
  await page.click("#apply-partition");
  await type(page, "put lesson raft");
  await until("the majority's OK", async () => /> put lesson raft\nOK/.test(await consoleText(page)));
  await type(page, `put lost write node=${minority[0]}`);
  await until("the minority's put to fail", async () =>
    /> put lost write node=\d+\n(.*\n)*Error: context deadline exceeded/.test(await consoleText(page)));
  assert.equal(await keyOn(page, minority[0], "lesson"), null, "the minority has not seen the write");
  await shot(page, "partition");

  console.log("after heal the old minority has the value");
  await page.click("#heal");
  await until("the write on the old minority", async () => (await keyOn(page, minority[0], "lesson")) === "raft");
  await shot(page, "healed");

  console.log("keyboard: space pauses");
  await page.click("h1");
  await page.keyboard.press(" ");
  await until("paused", async () => (await page.textContent("#play")) === "Play");
  const present = await now(page);

  console.log("scrubbing back shows the earlier leader");
  await page.locator("#scrubber").fill(String(electedAt));
  await until("the earlier moment", async () => (await now(page)) === electedAt);
  const earlier = await leader(page);
  assert.equal(earlier.id, first.id);
  assert.equal(earlier.term, first.term);
  await shot(page, "scrubbed-back");

  console.log("a shared URL replays the same run");
  await page.locator("#scrubber").fill(String(present));
  await until("the present again", async () => (await now(page)) === present);
  const url = page.url();
  const shared = await open(browser, url);
  await until("the replay", async () => (await now(shared)) === present);
  assert.deepEqual(await nodes(shared), await nodes(page));
  assert.equal(await consoleText(shared), await consoleText(page));
  assert.equal(await shared.textContent("section.logs"), await page.textContent("section.logs"));
  await shot(shared, "shared-url");

  console.log("a narrow (phone) screen");
  const phone = await open(browser, url, { width: 390, height: 844 });
  await until("the replay on a phone", async () => (await now(phone)) === present);
  await shot(phone, "phone");

  console.log("a link with an absurd time gets a notice at once, not a frozen tab");
  const absurd = await open(browser, `${base}#nodes=3&seed=1&t=99999999999`);
  const notice = await absurd.locator("p.notice").textContent({ timeout: 5000 });
  assert.match(notice, /t=99999999999 ms is past the 4 hours of simulated time a link replays/);
  assert.equal(await now(absurd), 0, "nothing was replayed");
  await absurd.locator("#play").click();
  await until("the fresh run plays", async () => (await now(absurd)) > 0);
  await shot(absurd, "absurd-link");

  console.log("a link to a late moment paints at once, then replays in slices while the page answers");
  // The link: a run under background load, shared at its start, its moment moved to 10 minutes
  // (about 2.4 million trace events; seconds of replay, which the page must not freeze for).
  const loaded = await open(browser, `${base}#nodes=5&seed=3`);
  await type(loaded, "load 50");
  await until("the load in the link", async () => loaded.url().includes("actions="));
  const lateUrl = loaded.url().replace(/([#&])t=\d+/, "$1t=600000");
  await loaded.close();
  const opened = Date.now();
  const late = await open(browser, lateUrl);
  // Painted at the run's start, with the replay's progress (`cargo xtask bench-web` times it).
  assert.equal(await late.locator("#catching-up").count(), 1, "the progress is shown with the first paint");
  console.log(`  painted, with the replay's progress shown, ${Date.now() - opened} ms after opening`);
  assert.equal(await late.isDisabled("#play"), true, "the run's controls wait for the replay");
  assert.equal(await late.isDisabled("#scrubber"), true);
  assert.equal(await late.isDisabled("#console-input"), true, "nothing typed is lost meanwhile");
  const clicked = Date.now();
  await late.click("#help");
  const answered = await late.evaluate(() => ({
    help: document.querySelector("#keyboard-help") !== null,
    progress: document.querySelector("#catch-up-progress")?.value,
    max: document.querySelector("#catch-up-progress")?.max,
  }));
  console.log(`  the help opened ${Date.now() - clicked} ms after the click, at ${answered.progress} of ${answered.max} virtual ms`);
  assert.ok(answered.help, "the page answered a click during the replay");
  assert.ok(answered.progress > 0 && answered.progress < 600000, `mid-replay: ${JSON.stringify(answered)}`);
  await shot(late, "link-catching-up");
  await until("the replay at the link's moment", async () => (await now(late)) === 600000, 120000);
  assert.equal(await late.locator("#catching-up").count(), 0, "the progress is gone");
  assert.equal(await late.isDisabled("#play"), false, "the controls are back");
  assert.equal(await late.isDisabled("#console-input"), false);
  await late.close();
  console.log("with a member picked in the console's drop-down, cluster commands still work");
  const picked = await open(browser, `${base}#nodes=3&seed=1`);
  await picked.selectOption("#speed", "6");
  await picked.click("#play");
  const chief = await until("a leader", () => leader(picked));
  const other = (await nodes(picked)).find((n) => n.id !== chief.id).id;
  await picked.selectOption("#console-target", String(other));
  await type(picked, `crash ${other}`);
  await until("the picked member down", async () => (await nodes(picked)).find((n) => n.id === other).role === "down");
  await picked.selectOption("#console-target", String(chief.id));
  await type(picked, "propose picked=1");
  await until("the proposal's result", async () =>
    new RegExp(`#\\d+ put picked=1 at n${chief.id}: ok, index \\d+`).test(await consoleText(picked)));
  assert.doesNotMatch(await consoleText(picked), /expected a node id|pending/);
  await shot(picked, "console-picked-member");

  console.log("etcdctl's interactive txn -i, lock and elect typed into the console (a member picked)");
  // The picked member stays picked: input lines must go as typed, not with node= added.
  await type(picked, "put key1 v");
  await until("key1 written", async () => (await consoleText(picked)).includes("> put key1 v"));
  for (const line of ["txn -i", 'mod("key1") > "0"', "", 'put key1 "overwrote-key1"', "", "put key2 extra", ""]) {
    await type(picked, line);
  }
  await until("the transaction's answer", async () =>
    /compares:\nmod\("key1"\) > "0"\n\nsuccess requests \(get, put, del\):\nput key1 "overwrote-key1"\n\nfailure requests \(get, put, del\):\nput key2 extra\n\nSUCCESS\n\nOK/.test(await consoleText(picked)));
  await type(picked, "lock job");
  await type(picked, "lock job");
  await until("the first lock held", async () => /\njob\/[0-9a-f]+\n/.test(await consoleText(picked)));
  const heldOnce = (await consoleText(picked)).match(/\njob\/[0-9a-f]+\n/g).length;
  assert.equal(heldOnce, 1, "the second client waits, printing nothing");
  await type(picked, "stop-lock job");
  await until("the second lock held", async () => (await consoleText(picked)).match(/\njob\/[0-9a-f]+\n/g).length === 2);
  await shot(picked, "console-txn-i-and-lock");

  console.log("a chaos-test reproduction link shows the same safety violation");
  // Pinned by core/tests/chaos.rs, which checks this link fails natively as its script does.
  const link = readFileSync(path.resolve(import.meta.dirname, "../../core/tests/links/wiped_disk.link"), "utf8").trim();
  const broken = await open(browser, `${base}#${link}`);
  const violation = await until("the violation shown", async () => {
    const text = await broken.textContent("#safety");
    return /leader completeness violated/.test(text) && text;
  });
  assert.match(violation, /node 3 became leader of term 3 without entry 4@term 2, committed in term 2/);
  await shot(broken, "wiped-disk-violation");

  console.log("a message: hover it for its contents, click it to drop it, or drop one from the keyboard");
  const wire = await open(browser, `${base}#nodes=3&seed=1`);
  // Paused, stepping event by event until messages are in flight, so that they stay put.
  for (let i = 0; i < 300 && (await wire.$$("svg.cluster g.message")).length < 2; i++) {
    await wire.click("#step");
  }
  const [one, two] = await wire.$$eval("svg.cluster g.message", (gs) => gs.map((g) => g.dataset.message));
  assert.ok(one && two, "two messages in flight");
  const dot = (id) => `svg.cluster g.message[data-message="${id}"]`;
  assert.equal(await wire.$(`${dot(one)} title`), null, "no tooltip before the pointer comes");
  await wire.hover(`${dot(one)} circle`);
  const tip = await until("its tooltip", () => wire.$eval(`${dot(one)} title`, (t) => t.textContent).catch(() => null));
  assert.match(tip, new RegExp(`^#${one} [A-Za-z]+ .*n\\d→n\\d`), "the tooltip names the message");
  const actions = () => wire.evaluate(() => decodeURIComponent(location.hash));
  await wire.click(`${dot(one)} circle`);
  await until("the clicked message dropped", async () => (await wire.$(dot(one))) === null);
  assert.ok((await actions()).includes(`drop ${one}`), "the drop is an action of the run, in its link");
  assert.ok(await wire.$(dot(two)), "the other message still flies");
  await wire.focus(dot(two));
  await wire.keyboard.press("Delete");
  await until("the focused message dropped", async () => (await wire.$(dot(two))) === null);
  assert.ok((await actions()).includes(`drop ${two}`));

  console.log("a crowded run: dots coloured by kind while it plays, each message its own again when paused");
  const busy = await open(browser, `${base}#nodes=9&seed=1`);
  await busy.selectOption("#speed", "3"); // 1x
  await busy.selectOption("#load", "200");
  await busy.click("#play");
  await until("dots by kind", async () => (await busy.$$("svg.cluster path.dots.append")).length > 0);
  assert.equal((await busy.$$("svg.cluster g.message")).length, 0, "no element per message while it plays");
  assert.match(await busy.textContent("svg.cluster g.messages > title"), /Pause to pick one/, "the dots' tooltip says how to pick one");
  assert.match(await busy.textContent(".legend"), /Append, AppendResp.*Heartbeat.*rejected/s, "the legend says what the colours mean");
  await busy.click("#play");
  const paused = await until("messages to pick", async () => {
    const count = (await busy.$$("svg.cluster g.message")).length;
    return count > 40 && count;
  });
  assert.equal((await busy.$$("svg.cluster path.dots")).length, 0, "paused, no dots by kind");
  assert.equal((await busy.$$("svg.cluster g.message text")).length, 0, `${paused} labels would cover each other: none drawn`);
  await shot(busy, "crowded-paused");

  console.log("the logs: a row per node, drawn while in view or stopped, not while off the screen and playing");
  const logs = await open(browser, `${base}#nodes=5&seed=1`);
  await logs.selectOption("#speed", "6"); // 10x
  await logs.selectOption("#load", "50");
  await logs.click("#play");
  await until("a leader", () => leader(logs));
  const row = (id) => logs.textContent(`.logs .log-row[data-log="${id}"] .log-label small`);
  const commitOf = async (id) => Number((await row(id)).match(/commit (\d+)/)[1]);
  await logs.locator(".logs").scrollIntoViewIfNeeded();
  const seen = await commitOf(1);
  await until("the row in view keeps up", async () => (await commitOf(1)) > seen + 5);
  await logs.evaluate(() => window.scrollTo(0, 0));
  assert.equal(await logs.evaluate(() => document.querySelector(".logs").getBoundingClientRect().top > innerHeight), true, "the logs are below the window");
  await logs.waitForTimeout(200); // the observer's word arrives within a frame or two
  const offScreen = await row(1);
  await logs.waitForTimeout(1000); // 10 virtual seconds at 50 puts/s
  assert.equal(await row(1), offScreen, "off the screen while playing: not drawn again");
  await logs.click("#play"); // stopping draws every row, in view or not
  await until("every row drawn on stopping", async () => (await row(1)) !== offScreen);
  await selectNode(logs, 1);
  const member = await logs.textContent("section.member");
  assert.ok(member.includes(`commit ${await commitOf(1)} `), "the row agrees with n1's own panel");
  await logs.locator(".logs").scrollIntoViewIfNeeded();
  // A command's words stay inside their cell (cut short with an ellipsis), not under the next.
  const spilling = await logs.$$eval(".logs .entry small", (words) => words.filter((w) => {
    const [inner, outer] = [w.getBoundingClientRect(), w.parentElement.getBoundingClientRect()];
    return inner.left < outer.left - 0.5 || inner.right > outer.right + 0.5;
  }).length);
  assert.equal(spilling, 0, "no cell's words run outside it");
  await shot(logs, "logs");

  console.log("playground end-to-end: ok");
} catch (error) {
  console.error(`playground end-to-end FAILED: ${error.stack || error}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
