// Lua modules (tests/lua) run by the server from --runtime.path: RPCs, error codes, run_once,
// require across files, the sandbox, hooks, Lua match handlers (ping-pong, tic-tac-toe played
// to a win), the matchmaker hook in Lua, and the instruction budget stopping a runaway script
// while other matches keep ticking, nk.http_request against a local HTTP server, nk.fleet_*
// without a fleet manager, the Lua echo match. Plus shutdown calling a Lua match's terminate, the
// benchmark's Lua match (crates/tavern-bench/lua), and a module with a syntax error stopping the start.
// tavern-test: postgres

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { makeClient, nextEvent, rejectsWith, shutdownDuringMatch, text } from "./lib/client.mjs";
import { repoRoot, runTavern, sleep, startServer, uniqueName } from "./lib/server.mjs";

const WAIT_MS = 5000;
const luaPath = path.join(repoRoot, "tests", "lua");
describe("Lua runtime", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({
      label: "lua",
      args: ["--runtime.path", luaPath, "--matchmaker.interval_sec", "1", "--runtime.lua_instruction_budget", "5000000",
        "--runtime.lua_match_threads", "1"],
    });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  async function player() {
    const session = await client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
    const socket = client.createSocket(false, false);
    await socket.connect(session, false);
    return { session, socket };
  }

  test("an RPC sees its context, and require finds modules in subfolders", async () => {
    const { session, socket } = await player();
    try {
      const res = await client.rpc(session, "lua_echo", { a: [1, 2], b: {} });
      assert.deepEqual(res.payload.echo, { a: [1, 2], b: {} });
      assert.equal(res.payload.user_id, session.user_id);
      assert.equal(res.payload.mode, "rpc");
      assert.equal(res.payload.greeting, `hello ${session.username}`);
      const viaSocket = await socket.rpc("lua_echo", JSON.stringify({ x: 1 }));
      assert.deepEqual(JSON.parse(viaSocket.payload).echo, { x: 1 });
    } finally {
      socket.disconnect(false);
    }
  });

  test("error({msg, code}) maps to that code; a plain error is 13", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    await rejectsWith(client.rpc(session, "lua_fail_code", {}), 400, 9, "not your turn");
    const res = await fetch(`${server.baseUrl}/v2/rpc/lua_fail_plain`, {
      method: "POST",
      headers: { authorization: `Bearer ${session.token}` },
      body: JSON.stringify("{}"),
    });
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.code, 13);
    assert.match(body.message, /plain failure/);
  });

  test("run_once ran once and what it registered is callable", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    for (let i = 0; i < 3; i++) {
      const res = await client.rpc(session, "lua_once", {});
      assert.deepEqual(res.payload, { once: 1 });
    }
  });

  test("the sandbox: goto, bit32, hashes, no io/debug/dofile/os.exit", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    const res = await client.rpc(session, "lua_stdlib", {});
    assert.deepEqual(res.payload, {
      goto_sum: 25,
      band: 15,
      sha: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      md5: "900150983cd24fb0d6963f7d28e17f72",
      b64: "aGkh",
      hex: "6869",
      uuid_len: 36,
      io: "nil",
      debug: "nil",
      dofile: "nil",
      os_exit: "nil",
      os_time: "number",
    });
  });

  test("account and users functions reach the server", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true, uniqueName("acct"));
    const res = await client.rpc(session, "lua_account", {});
    assert.deepEqual(res.payload, { username: session.username, found: 1 });
  });

  test("account_update_id writes metadata and profile fields, read back in Nakama's shapes", async () => {
    const device = uniqueName("dev");
    const session = await client.authenticateDevice(device, true);
    const res = await client.rpc(session, "lua_account_update", { level: 7, display_name: "Zed" });
    assert.deepEqual(res.payload, {
      top_level: true,
      display_name: "Zed",
      lang_tag: "fr",
      level: 7,
      tags: ["a", "b"],
      device,
      create_time_is_number: true,
      accounts: 1,
      accounts_level: 7,
      user_level: 7,
      user_has_id_key: false,
    });
    // Clients see the metadata the server wrote, and the fields left alone keep their values.
    const account = await client.getAccount(session);
    const metadata = account.user.metadata;
    assert.deepEqual(typeof metadata === "string" ? JSON.parse(metadata) : metadata, { level: 7, tags: ["a", "b"] });
    assert.equal(account.user.username, session.username);
    assert.equal(account.user.display_name, "Zed");
  });

  test("a runaway RPC and a memory hog fail alone, and the server keeps answering", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    await rejectsWith(client.rpc(session, "lua_runaway", {}), 500, 13, "instruction budget exceeded");
    const hog = await client.rpc(session, "lua_hog", {}).then(() => null, (e) => e);
    assert.ok(hog, "the hog must fail");
    const res = await client.rpc(session, "lua_echo", { still: "alive" });
    assert.deepEqual(res.payload.echo, { still: "alive" });
  });

  test("before hooks: a request hook rejects with its code, a realtime hook refuses a message", async () => {
    await rejectsWith(client.authenticateCustom("lua-blocked-id", true), 403, 7, "blocked by lua");
    const ok = await client.authenticateCustom(uniqueName("custom"), true);
    assert.ok(ok.token);
    const { socket } = await player();
    try {
      const created = await socket.createMatch("allowed");
      assert.ok(created.match_id);
      await assert.rejects(socket.createMatch("forbidden"));
    } finally {
      socket.disconnect(false);
    }
  });

  test("nk.match_create/get/list/signal from Lua", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    const res = await client.rpc(session, "lua_match_create", {});
    assert.match(res.payload.match_id, /^[0-9a-f-]{36}\.nakama$/);
    assert.equal(res.payload.handler, "pingpong");
    assert.ok(res.payload.listed >= 1);
    assert.equal(res.payload.signal, "pong:hello");
  });

  async function createMatch(session, module) {
    const res = await client.rpc(session, "lua_create", { module });
    return typeof res.payload === "string" ? res.payload : JSON.stringify(res.payload);
  }

  test("a Lua ping-pong match answers each sender; join attempts can be refused", async () => {
    const a = await player();
    try {
      const res = await fetch(`${server.baseUrl}/v2/rpc/lua_create?unwrap=true`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.session.token}` },
        body: JSON.stringify({ module: "pingpong" }),
      });
      const matchId = await res.text();
      assert.match(matchId, /^[0-9a-f-]{36}\.nakama$/);
      await assert.rejects(a.socket.joinMatch(matchId, undefined, { deny: "yes" }));
      const joined = await a.socket.joinMatch(matchId);
      assert.equal(joined.match_id, matchId);
      const reply = nextEvent(a.socket, "onmatchdata", (m) => m.op_code === 6 && m);
      await a.socket.sendMatchState(matchId, 5, "ping");
      const m = await reply;
      const body = JSON.parse(text(m.data));
      assert.equal(body.pong, "ping");
      assert.equal(body.from, a.session.username);
      assert.equal(body.node, "nakama");
      assert.equal(body.match_id, matchId);
    } finally {
      a.socket.disconnect(false);
    }
  });

  test("the Lua echo match: op 2 back to its sender only, op 1 to both players", async () => {
    const a = await player();
    const b = await player();
    try {
      const res = await client.rpc(a.session, "create_lua_echo_match", { tick_rate: 20 });
      const matchId = res.payload.match_id;
      assert.match(matchId, /^[0-9a-f-]{36}\.nakama$/);
      await a.socket.joinMatch(matchId);
      await b.socket.joinMatch(matchId);
      const seenByA = [];
      const seenByB = [];
      a.socket.onmatchdata = (m) => seenByA.push([m.op_code, text(m.data)]);
      b.socket.onmatchdata = (m) => seenByB.push([m.op_code, text(m.data)]);
      await a.socket.sendMatchState(matchId, 2, "from a");
      await b.socket.sendMatchState(matchId, 2, "from b");
      await b.socket.sendMatchState(matchId, 1, "to all");
      const deadline = Date.now() + WAIT_MS;
      while ((seenByA.length < 2 || seenByB.length < 2) && Date.now() < deadline) {
        await sleep(20);
      }
      await sleep(200);
      assert.deepEqual(seenByA.sort(), [[1, "to all"], [2, "from a"]]);
      assert.deepEqual(seenByB.sort(), [[1, "to all"], [2, "from b"]]);
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("a Lua match callback creates another Lua match, with a single match thread", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    const res = await client.rpc(session, "echo_lua_spawn", {});
    assert.match(res.payload.match_id, /^[0-9a-f-]{36}\.nakama$/);
    assert.match(res.payload.spawned, /^[0-9a-f-]{36}\.nakama$/);
    assert.notEqual(res.payload.spawned, res.payload.match_id);
  });

  test("a runaway match loop ends that match only; another match keeps ticking", async () => {
    const a = await player();
    const b = await player();
    try {
      const createRaw = async (session) => {
        const res = await fetch(`${server.baseUrl}/v2/rpc/lua_create?unwrap=true`, {
          method: "POST",
          headers: { authorization: `Bearer ${session.token}` },
          body: JSON.stringify({ module: "pingpong" }),
        });
        return res.text();
      };
      const doomed = await createRaw(a.session);
      const healthy = await createRaw(b.session);
      await a.socket.joinMatch(doomed);
      await b.socket.joinMatch(healthy);
      const closed = new Promise((resolve) => (a.socket.ondisconnect = resolve));
      await a.socket.sendMatchState(doomed, 1, "spin");
      await Promise.race([closed, sleep(WAIT_MS).then(() => assert.fail("the spinning match did not end"))]);
      assert.match(server.log(), /instruction budget exceeded/);
      const reply = nextEvent(b.socket, "onmatchdata", (m) => m.op_code === 2 && m);
      await b.socket.sendMatchState(healthy, 1, "still there");
      assert.equal(JSON.parse(text((await reply).data)).pong, "still there");
      const crashed = await createRaw(b.session);
      const c = await player();
      try {
        await c.socket.joinMatch(crashed);
        const gone = new Promise((resolve) => (c.socket.ondisconnect = resolve));
        await c.socket.sendMatchState(crashed, 1, "crash");
        await Promise.race([gone, sleep(WAIT_MS).then(() => assert.fail("the crashing match did not end"))]);
      } finally {
        c.socket.disconnect(false);
      }
      const again = nextEvent(b.socket, "onmatchdata", (m) => m.op_code === 2 && m);
      await b.socket.sendMatchState(healthy, 1, "after crash");
      assert.equal(JSON.parse(text((await again).data)).pong, "after crash");
    } finally {
      b.socket.disconnect(false);
    }
  });

  test("nk.http_request sends GET and POST to a local server and returns code, headers, body", async () => {
    const seen = [];
    const upstream = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, header: req.headers["x-test"], body });
        res.writeHead(req.method === "POST" ? 201 : 200, { "X-Reply": "yes", "Content-Type": "text/plain" });
        res.end(req.method === "POST" ? `got ${body}` : "hello");
      });
    });
    await new Promise((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${upstream.address().port}/path?q=1`;
    try {
      const session = await client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
      const get = (await client.rpc(session, "lua_http", { url, method: "get", headers: { "X-Test": "a" } })).payload;
      assert.equal(get.code, 200);
      assert.equal(get.headers["x-reply"], "yes");
      assert.equal(get.body, "hello");
      const post = (await client.rpc(session, "lua_http", { url, method: "POST", headers: {}, body: "ping", timeout: 2000 }))
        .payload;
      assert.equal(post.code, 201);
      assert.equal(post.body, "got ping");
      assert.deepEqual(seen, [
        { method: "GET", url: "/path?q=1", header: "a", body: "" },
        { method: "POST", url: "/path?q=1", header: undefined, body: "ping" },
      ]);
      const tryCall = async (name, args) => (await client.rpc(session, "lua_try", { name, args })).payload;
      const badMethod = await tryCall("http_request", [url, "trace", {}]);
      assert.equal(badMethod.ok, false);
      assert.match(badMethod.error, /expects method to be one of/);
      const badHeader = await tryCall("http_request", [url, "get", { "X-Num": 1 }]);
      assert.match(badHeader.error, /header values must be strings/);
      const refused = await tryCall("http_request", ["http://127.0.0.1:1/", "get", {}]);
      assert.match(refused.error, /HTTP request error/);
    } finally {
      await new Promise((resolve) => upstream.close(resolve));
    }
  });

  test("nk.fleet_* without a fleet manager raise a clear Lua error", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
    const calls = [
      ["fleet_get", ["some-id"]],
      ["fleet_list", ["", 10, ""]],
      ["fleet_join", ["some-id", ["u1"], {}]],
      ["fleet_create", [2, [], [], {}]],
    ];
    for (const [name, args] of calls) {
      const res = (await client.rpc(session, "lua_try", { name, args })).payload;
      assert.equal(res.ok, false, name);
      assert.match(res.error, /no fleet manager is registered/, name);
    }
  });

  test("the matchmaker hook in Lua sends two players to a Lua tic-tac-toe match, played to a win", async () => {
    const a = await player();
    const b = await player();
    try {
      const matched = (p) => nextEvent(p.socket, "onmatchmakermatched", (m) => m, 10_000);
      const ma = matched(a);
      const mb = matched(b);
      await a.socket.addMatchmaker("+properties.mode:lua", 2, 2, { mode: "lua" });
      await b.socket.addMatchmaker("+properties.mode:lua", 2, 2, { mode: "lua" });
      const [xa, xb] = await Promise.all([ma, mb]);
      assert.ok(xa.match_id, "the Lua hook returned a match id");
      assert.equal(xa.match_id, xb.match_id);
      const matchId = xa.match_id;
      const states = { a: [], b: [] };
      a.socket.onmatchdata = (m) => m.op_code === 2 && states.a.push(JSON.parse(text(m.data)));
      b.socket.onmatchdata = (m) => m.op_code === 2 && states.b.push(JSON.parse(text(m.data)));
      await a.socket.joinMatch(matchId);
      await b.socket.joinMatch(matchId);
      const waitState = async (who, n) => {
        const deadline = Date.now() + WAIT_MS;
        while (states[who].length < n) {
          if (Date.now() > deadline) assert.fail(`no state #${n} for ${who}`);
          await sleep(20);
        }
        return states[who][n - 1];
      };
      const first = await waitState("a", 1);
      const xPlayer = first.turn === a.session.user_id ? a : b;
      const oPlayer = xPlayer === a ? b : a;
      const moves = [[xPlayer, 1], [oPlayer, 4], [xPlayer, 2], [oPlayer, 5], [xPlayer, 3]];
      let n = 1;
      for (const [p, cell] of moves) {
        await p.socket.sendMatchState(matchId, 1, JSON.stringify({ cell }));
        n += 1;
        await waitState("a", n);
      }
      const last = await waitState("b", n);
      assert.equal(last.winner, "X");
      assert.deepEqual(last.board.slice(0, 3), ["X", "X", "X"]);
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });
});

test("SIGTERM calls a Lua match's terminate on its thread; players receive its broadcast", async () => {
  const server = await startServer({
    label: "lua-shutdown",
    args: ["--runtime.path", luaPath, "--shutdown_grace_sec", "2"],
  });
  const { notice, exit } = await shutdownDuringMatch(server, "create_lua_echo_match");
  assert.deepEqual(notice, { grace_seconds: 2 });
  assert.equal(exit.code, 0, JSON.stringify(exit));
});

test("the bench's Lua match (crates/tavern-bench/lua) echoes op 1 to its sender only and ignores other op codes", async () => {
  const server = await startServer({
    label: "lua-bench-match",
    args: ["--runtime.path", path.join(repoRoot, "crates", "tavern-bench", "lua")],
  });
  const client = makeClient(server);
  const players = [];
  try {
    for (let i = 0; i < 2; i++) {
      const session = await client.authenticateDevice(uniqueName("dev"), true);
      const socket = client.createSocket(false, false);
      await socket.connect(session, false);
      players.push({ session, socket, seen: [] });
    }
    const [a, b] = players;
    const many = await client.rpc(a.session, "bench_match_create_many", { count: 3, tick_rate: 20 });
    assert.deepEqual(many.payload, { created: 3 });
    const res = await client.rpc(a.session, "bench_match_create", { tick_rate: 20 });
    const matchId = res.payload.match_id;
    assert.match(matchId, /^[0-9a-f-]{36}\.nakama$/);
    for (const p of players) {
      await p.socket.joinMatch(matchId);
      p.socket.onmatchdata = (m) => p.seen.push([m.op_code, text(m.data)]);
    }
    await a.socket.sendMatchState(matchId, 2, "ignored");
    await a.socket.sendMatchState(matchId, 1, "from a");
    await b.socket.sendMatchState(matchId, 1, "from b");
    const deadline = Date.now() + WAIT_MS;
    while ((a.seen.length < 1 || b.seen.length < 1) && Date.now() < deadline) {
      await sleep(20);
    }
    await sleep(200);
    assert.deepEqual(a.seen, [[1, "from a"]]);
    assert.deepEqual(b.seen, [[1, "from b"]]);
  } finally {
    for (const p of players) p.socket.disconnect(false);
    await server.stop();
  }
});

test("a Lua module with a syntax error stops the start with its file and line", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tavern-lua-bad-"));
  try {
    await writeFile(path.join(dir, "ok.lua"), "local nk = require('nakama')\n");
    await writeFile(path.join(dir, "broken.lua"), "local x = 1\nlocal y = = 2\n");
    const result = await runTavern(["--runtime.path", dir, "--data_dir", dir, "--socket.port", "17349"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr + result.stdout, /broken\.lua:2/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
