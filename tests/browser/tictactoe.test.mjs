// The tic-tac-toe showcase in a real browser: Debian's Chromium, driven by playwright-core, opens
// the page the tavern binary serves at /play in two browser contexts (two players), both find an
// opponent through the matchmaker, play one game to a win and the rematch to a draw, and one
// leaves. Every step checks what both pages show; screenshots go to artifacts/.
//
//   cargo build --release -p tavern && (cd tests/browser && npm ci && node --test)
//
// Environment: TAVERN_BIN (see ../js/lib/server.mjs), CHROMIUM (default /usr/bin/chromium),
// UPDATE_DOCS_IMAGE=1 to also write docs/images/tictactoe.png (the README's picture).

import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, "artifacts");
// The harness reads this when it loads: server logs go next to the screenshots.
process.env.TAVERN_TEST_ARTIFACTS ??= artifacts;
const { startServer, repoRoot } = await import("../js/lib/server.mjs");

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps dialling out, and this machine's closed
// network refuses it. Playwright gives every launch a new, empty user-data-dir of its own.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const STEP_MS = 15_000;
const VIEWPORT = { width: 480, height: 720 };

let server;
let browser;
const pageErrors = [];

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)`);
  }
  mkdirSync(artifacts, { recursive: true });
  // A plain start: tic-tac-toe is on without any bundled example module.
  server = await startServer({ label: "tictactoe", bundled: [], args: ["--matchmaker.interval_sec", "1"] });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A new browser context (its own storage: its own player) with the page open. */
async function openPlayer(name) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") {
      pageErrors.push(`${name} console: ${m.text()}`);
    }
  });
  await page.goto(`${server.baseUrl}/play`);
  page.playerName = name;
  return page;
}

const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

/** What a page shows, in one object: for checks and for failure messages. */
async function shown(page) {
  return page.evaluate(() => {
    const text = (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
    const visible = (id) => {
      const el = document.querySelector(`[data-testid="${id}"]`);
      return Boolean(el && !el.hidden);
    };
    const cells = [...document.querySelectorAll('[data-testid^="cell-"]')];
    return {
      status: text("status"),
      myMark: text("my-mark"),
      opponentMark: text("opponent-mark"),
      score: text("score"),
      cells: cells.map((c) => c.textContent || "."),
      playable: cells.filter((c) => !c.disabled).map((c) => Number(c.dataset.cell)),
      winning: cells.filter((c) => c.classList.contains("win")).map((c) => Number(c.dataset.cell)),
      countdown: visible("countdown") ? text("countdown") : null,
      notice: visible("notice") ? text("notice") : null,
      find: visible("find") ? text("find") : null,
      leave: visible("leave"),
    };
  });
}

/** Waits until `check(shown(page))` holds for every page; fails with what they showed. */
async function eventually(what, pages, check, timeoutMs = STEP_MS) {
  const deadline = Date.now() + timeoutMs;
  let last = [];
  while (Date.now() < deadline) {
    last = await Promise.all(pages.map(shown));
    if (last.every((s, i) => check(s, i))) {
      return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const report = last.map((s, i) => `${pages[i].playerName}: ${JSON.stringify(s)}`).join("\n");
  throw new Error(`timed out waiting for ${what}; the pages showed:\n${report}${serverHint(last)}`);
}

function serverHint(states) {
  const notices = states.map((s) => s.notice ?? "").join(" ");
  if (/hook is missing/.test(notices)) {
    return "\n(the server matched the players but created no match: register the tictactoe matchmaker hook)";
  }
  return "";
}

async function screenshot(page, name) {
  const file = path.join(artifacts, `tictactoe-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Both players' views side by side, as one picture. */
async function sideBySide(pages, file) {
  const shots = await Promise.all(pages.map((p) => p.screenshot()));
  const context = await browser.newContext({ viewport: { width: VIEWPORT.width * 2 + 24, height: VIEWPORT.height } });
  const page = await context.newPage();
  const images = shots.map((png) => `<img src="data:image/png;base64,${png.toString("base64")}">`).join("");
  await page.setContent(
    `<body style="margin:0;display:flex;gap:24px;background:#d9d3c5">${images}</body>`,
  );
  await page.screenshot({ path: file });
  await context.close();
}

/** The mover clicks `cell`; both pages then show `mark` there. */
async function move(pages, mover, cell, mark) {
  await byTestId(mover, `cell-${cell}`).click();
  await eventually(`${mark} on cell ${cell}`, pages, (s) => s.cells[cell] === mark);
}

test("two browsers find each other, play to a win, then a rematch to a draw", { timeout: 120_000 }, async () => {
  const page = await fetch(`${server.baseUrl}/play`);
  assert.equal(page.status, 200, "GET /play must serve the page (is the /play route wired?)");
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  await page.arrayBuffer();

  const a = await openPlayer("A");
  const b = await openPlayer("B");
  const both = [a, b];

  // Logged in, each as its own user, and ready.
  await eventually("both pages to be ready", both, (s) => s.status === "Find an opponent to start a game");
  const [nameA, nameB] = await Promise.all(both.map((p) => byTestId(p, "username").textContent()));
  assert.notEqual(nameA, nameB, "two contexts must be two players");
  await screenshot(a, "1-ready");

  await byTestId(a, "find").click();
  await eventually("A to be searching", [a], (s) => s.status === "Looking for an opponent…" && s.find === null);
  await byTestId(b, "find").click();

  // Matched into one match: one is X, the other O; X moves first.
  const started = await eventually(
    "the first game to start",
    both,
    (s) => (s.status === "Your turn" || s.status === "Opponent's turn") && s.leave,
  );
  assert.deepEqual(started.map((s) => s.myMark).sort(), ["O", "X"]);
  const [x, o] = started[0].myMark === "X" ? [a, b] : [b, a];
  let [sx, so] = await Promise.all([shown(x), shown(o)]);
  assert.equal(sx.status, "Your turn");
  assert.equal(so.status, "Opponent's turn");
  assert.equal(sx.opponentMark, "O");
  assert.equal(so.opponentMark, "X");
  assert.deepEqual(sx.cells, Array(9).fill("."));
  assert.deepEqual(sx.playable, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(so.playable, [], "no cell is playable on the opponent's turn");
  assert.equal(sx.score, "0 : 0");
  await screenshot(x, "2-first-move-X");

  // Game 1: X takes the top row.
  await move(both, x, 0, "X");
  [sx, so] = await Promise.all([shown(x), shown(o)]);
  assert.equal(sx.status, "Opponent's turn");
  assert.equal(so.status, "Your turn");
  assert.deepEqual(so.playable, [1, 2, 3, 4, 5, 6, 7, 8]);
  await move(both, o, 4, "O");
  await move(both, x, 1, "X");
  await move(both, o, 8, "O");
  await move(both, x, 2, "X");

  [sx, so] = await eventually("the win to show", [x, o], (s, i) =>
    s.status === (i === 0 ? "You win!" : "You lose") && s.countdown !== null,
  );
  for (const s of [sx, so]) {
    assert.deepEqual(s.cells, ["X", "X", "X", ".", "O", ".", ".", ".", "O"]);
    assert.deepEqual(s.winning, [0, 1, 2], "the winning line is highlighted");
    assert.deepEqual(s.playable, []);
  }
  assert.match(sx.countdown, /^Rematch in [1-5]… you'll play O$/);
  assert.match(so.countdown, /^Rematch in [1-5]… you'll play X$/);
  assert.equal(sx.score, "1 : 0");
  assert.equal(so.score, "0 : 1");
  // The countdown ticks down each second.
  const first = Number(sx.countdown.match(/\d/)[0]);
  if (first > 1) {
    await eventually(`the countdown to reach ${first - 1}`, [x], (s) => s.countdown?.startsWith(`Rematch in ${first - 1}…`), 3_000);
  }
  await Promise.all([screenshot(x, "3-win-X"), screenshot(o, "3-lose-O")]);
  const picture = path.join(artifacts, "tictactoe-win-both.png");
  await sideBySide([x, o], picture);
  if (process.env.UPDATE_DOCS_IMAGE === "1") {
    mkdirSync(path.join(repoRoot, "docs", "images"), { recursive: true });
    copyFileSync(picture, path.join(repoRoot, "docs", "images", "tictactoe.png"));
  }

  // Game 2: the marks swap, so the loser of game 1 is X and opens.
  const [x2, o2] = [o, x];
  [sx, so] = await eventually(
    "the rematch to start",
    [x2, o2],
    (s, i) => s.myMark === (i === 0 ? "X" : "O") && s.status === (i === 0 ? "Your turn" : "Opponent's turn"),
    10_000,
  );
  for (const s of [sx, so]) {
    assert.deepEqual(s.cells, Array(9).fill("."), "a fresh board");
    assert.deepEqual(s.winning, []);
    assert.equal(s.countdown, null);
  }
  // X O X / X O O / O X X
  const draw = [0, 1, 2, 4, 3, 5, 7, 6, 8];
  for (const [n, cell] of draw.entries()) {
    const xMoves = n % 2 === 0;
    await move([x2, o2], xMoves ? x2 : o2, cell, xMoves ? "X" : "O");
  }
  [sx, so] = await eventually("the draw to show", [x2, o2], (s) => s.status === "Draw" && s.countdown !== null);
  for (const s of [sx, so]) {
    assert.deepEqual(s.cells, ["X", "O", "X", "X", "O", "O", "O", "X", "X"]);
    assert.deepEqual(s.winning, [], "a draw highlights nothing");
    assert.deepEqual(s.playable, []);
  }
  assert.equal(sx.score, "0 : 1", "a draw changes no score");
  assert.equal(so.score, "1 : 0");
  await Promise.all([screenshot(x2, "4-draw-X"), screenshot(o2, "4-draw-O")]);

  // One player leaves: the other is told, and may look for a new opponent.
  await byTestId(x2, "leave").click();
  const [left, stayed] = await eventually("the leave to show", [x2, o2], (s, i) =>
    i === 0 ? s.status === "You left the game" : s.status === "Opponent left",
  );
  assert.equal(stayed.find, "Find a new opponent");
  assert.equal(stayed.countdown, null, "no rematch without an opponent");
  assert.equal(left.find, "Find a new opponent");
  await screenshot(o2, "5-opponent-left");

  assert.deepEqual(pageErrors, [], "no script errors on either page");
});
