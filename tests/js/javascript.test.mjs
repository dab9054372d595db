// The JavaScript runtime: the TypeScript project in tests/ts, compiled with tsc to one file as
// Nakama's guide compiles it, runs from --runtime.path: RPCs over HTTP and the socket with
// Nakama's ctx, error codes as Nakama maps them, the return conventions, the instruction budget
// and the memory limit ending only their call, and modules that stop the start.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";

import { makeClient, rejectsWith } from "./lib/client.mjs";
import { HOST, freePort, jsRoot, repoRoot, runTavern, startServer, uniqueName } from "./lib/server.mjs";

const tsProject = path.join(repoRoot, "tests", "ts");

/** Compiles tests/ts with the pinned tsc into a fresh folder; returns the folder. */
async function buildTypeScript() {
  const out = await mkdtemp(path.join(os.tmpdir(), "tavern-ts-"));
  const tsc = path.join(jsRoot, "node_modules", ".bin", "tsc");
  await promisify(execFile)(tsc, ["-p", tsProject, "--outFile", path.join(out, "index.js")], {
    timeout: 60_000,
  });
  return out;
}

describe("JavaScript runtime", () => {
  let server;
  let client;
  let modules;

  before(async () => {
    modules = await buildTypeScript();
    server = await startServer({
      label: "javascript",
      bundled: [],
      args: ["--runtime.path", modules, "--runtime.env", "GREETING=hello", "--runtime.js_instruction_budget", "5000000",
        "--runtime.js_memory_limit_mb", "16", "--runtime.js_min_count", "2"],
    });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
    if (modules) await rm(modules, { recursive: true, force: true });
  });

  test("an RPC gets Nakama's ctx over HTTP and the socket", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
    const res = await client.rpc(session, "js_echo", { a: [1, 2] });
    assert.deepEqual(res.payload, {
      echo: { a: [1, 2] }, userId: session.user_id, username: session.username, mode: "rpc", env: "hello",
      hasSession: false,
    });
    const socket = client.createSocket(false, false);
    await socket.connect(session, false);
    try {
      const viaSocket = await socket.rpc("js_echo", JSON.stringify({ x: 1 }));
      const payload = JSON.parse(viaSocket.payload);
      assert.deepEqual(payload.echo, { x: 1 });
      assert.equal(payload.hasSession, true);
    } finally {
      socket.disconnect(false);
    }
    assert.match(server.log(), /echo from [0-9a-f-]{36}/);
    assert.match(server.log(), /JavaScript test module loaded in run_once mode/);
  });

  test("throw {message, code} sets the code; other throws are 13", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    await rejectsWith(client.rpc(session, "js_fail", { kind: "code", code: 9, message: "not your turn" }), 400, 9,
      "not your turn");
    await rejectsWith(client.rpc(session, "js_fail", { kind: "code", code: 5, message: "gone" }), 404, 5, "gone");
    await rejectsWith(client.rpc(session, "js_fail", { kind: "code", code: 99, message: "odd" }), 500, 99, "odd");
    await rejectsWith(client.rpc(session, "js_fail", { kind: "string" }), 500, 13, "a plain string");
    await rejectsWith(client.rpc(session, "js_fail", { kind: "message" }), 500, 13, "message only");
    const res = await fetch(`${server.baseUrl}/v2/rpc/js_fail`, {
      method: "POST",
      headers: { authorization: `Bearer ${session.token}` },
      body: JSON.stringify(JSON.stringify({ kind: "error" })),
    });
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.code, 13);
    assert.match(body.message, /^Error: boom at rpcFail \(index\.js:\d+/);
  });

  test("return conventions: a non-string is an error, nothing is an empty payload", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    await rejectsWith(client.rpc(session, "js_not_a_string", {}), 500, 13,
      "Runtime function returned invalid data - only allowed one return value of type String/Byte.");
    const res = await client.rpc(session, "js_nothing", {});
    assert.equal(res.payload, undefined);
    await rejectsWith(client.rpc(session, "js_missing", {}), 404, 5, "RPC function not found");
  });

  test("a runaway or memory-hungry call ends alone", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    await rejectsWith(client.rpc(session, "js_spin", {}), 500, 13, "JavaScript call exceeded its instruction budget");
    const hog = await fetch(`${server.baseUrl}/v2/rpc/js_hog`, {
      method: "POST",
      headers: { authorization: `Bearer ${session.token}` },
      body: JSON.stringify("{}"),
    });
    assert.equal(hog.status, 500);
    assert.match((await hog.json()).message, /out of memory/);
    const res = await client.rpc(session, "js_echo", { after: true });
    assert.deepEqual(res.payload.echo, { after: true });
  });
});

describe("JavaScript modules that cannot load", () => {
  async function start(files, extra = []) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tavern-js-bad-"));
    try {
      for (const [name, source] of Object.entries(files)) {
        await writeFile(path.join(dir, name), source);
      }
      const port = String(await freePort());
      const args = ["--runtime.path", dir, "--data_dir", dir, "--socket.address", HOST, "--socket.port", port];
      return await runTavern([...args, ...extra], {
        timeoutMs: 15_000,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test("an inline function, a syntax error or a missing entry file stops the start", async () => {
    const inline = await start({
      "index.js": "function InitModule(ctx, logger, nk, init) { init.registerRpc('x', function () { return ''; }); }",
    });
    assert.notEqual(inline.code, 0);
    assert.match(inline.stdout + inline.stderr, /javascript functions cannot be inlined/);
    const syntax = await start({ "index.js": "function InitModule( {" });
    assert.notEqual(syntax.code, 0);
    assert.match(syntax.stdout + syntax.stderr, /SyntaxError/);
    const missing = await start({}, ["--runtime.js_entrypoint", "game.js"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stdout + missing.stderr, /JavaScript entrypoint must be a valid path/);
  });
});
