// Runtime modules seen by the official client: RPCs over HTTP with a session or the HTTP key,
// their error bodies and statuses, and the bundled example hooks (custom-id guard, login
// counter). Runs the `tavern` binary with every bundled example module on.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@heroiclabs/nakama-js";

const HOST = "127.0.0.1";
const SERVER_KEY = "defaultkey";
const HTTP_KEY = "defaulthttpkey";
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const tavernBin = process.env.TAVERN_BIN
  ? path.resolve(process.env.TAVERN_BIN)
  : path.join(repoRoot, "target", "release", "tavern");

// A minimal stand-in for the shared harness (tests/js/lib/server.mjs): a fresh data folder, a
// free port, wait for /healthcheck, SIGTERM on stop.
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function startServer({ args = [] } = {}) {
  if (!existsSync(tavernBin)) {
    throw new Error(`no tavern binary at ${tavernBin}; build it or set TAVERN_BIN`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "tavern-runtime-test-"));
  const port = await freePort();
  const baseUrl = `http://${HOST}:${port}`;
  const child = spawn(
    tavernBin,
    [
      "--socket.address", HOST,
      "--socket.port", String(port),
      "--data_dir", dataDir,
      "--runtime.bundled_modules", "*",
      ...args,
    ],
    { cwd: dataDir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((resolve) => child.once("close", resolve));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`tavern exited during start-up:\n${log}`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthcheck`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`tavern did not answer in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    baseUrl,
    log: () => log,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let server;
let client;

before(async () => {
  server = await startServer();
  client = new Client(SERVER_KEY, HOST, String(server.port), false, 7000, false);
});

after(async () => {
  await server?.stop();
});

/** The rejected fetch Response of a failed client call, with its JSON body. */
async function failure(promise) {
  try {
    await promise;
  } catch (response) {
    assert.equal(typeof response?.status, "number", `expected an HTTP failure, got ${response}`);
    return { status: response.status, body: await response.json() };
  }
  assert.fail("the call succeeded");
}

function deviceId() {
  return `dev-${process.pid}-${Math.random().toString(36).slice(2, 12)}`;
}

function customId() {
  return `cid-${String(Math.floor(Math.random() * 1_000_000)).padStart(6, "0")}`;
}

test("client.rpc with a session calls echo and gets its payload back", async () => {
  const session = await client.authenticateDevice(deviceId(), true);
  const result = await client.rpc(session, "echo", { hello: "world", n: [1, 2] });
  assert.deepEqual(result.payload, { hello: "world", n: [1, 2] });
  const upper = await client.rpc(session, "ECHO", { case: "insensitive" });
  assert.deepEqual(upper.payload, { case: "insensitive" });
});

test("client.rpcHttpKey keeps the payload (Nakama drops it)", async () => {
  const result = await client.rpcHttpKey(HTTP_KEY, "echo", { via: "http key" });
  assert.deepEqual(result.payload, { via: "http key" });
});

test("raw HTTP: JSON-string body, unwrap, Basic HTTP key", async () => {
  const basic = "Basic " + Buffer.from(`${HTTP_KEY}:`).toString("base64");
  let res = await fetch(`${server.baseUrl}/v2/rpc/echo`, {
    method: "POST",
    headers: { Authorization: basic },
    body: JSON.stringify('{"a":1}'),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.deepEqual(await res.json(), { payload: '{"a":1}' });

  res = await fetch(`${server.baseUrl}/v2/rpc/echo?unwrap&http_key=${HTTP_KEY}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-custom" },
    body: '{"raw":true}',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-custom");
  assert.equal(await res.text(), '{"raw":true}');

  res = await fetch(`${server.baseUrl}/v2/rpc/echo?http_key=${HTTP_KEY}`, { method: "POST", body: '{"a":1}' });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    error: "json: cannot unmarshal object into Go value of type string",
    message: "json: cannot unmarshal object into Go value of type string",
    code: 3,
  });
});

test("a wrong HTTP key, no credentials and a bad token are 401 with Nakama's bodies", async () => {
  let { status, body } = await failure(client.rpcHttpKey("wrongkey", "echo", {}));
  assert.equal(status, 401);
  assert.deepEqual(body, { error: "HTTP key invalid", message: "HTTP key invalid", code: 16 });

  const basic = "Basic " + Buffer.from("wrongkey:").toString("base64");
  let res = await fetch(`${server.baseUrl}/v2/rpc/echo`, { method: "POST", headers: { Authorization: basic } });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "HTTP key invalid", message: "HTTP key invalid", code: 16 });

  res = await fetch(`${server.baseUrl}/v2/rpc/echo`, { method: "POST", body: '""' });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), {
    error: "Auth token or HTTP key required",
    message: "Auth token or HTTP key required",
    code: 16,
  });

  res = await fetch(`${server.baseUrl}/v2/rpc/echo`, { method: "POST", headers: { Authorization: "Bearer nope" } });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "Auth token invalid", message: "Auth token invalid", code: 16 });
});

test("an unknown RPC is 404 and a missing id is 400", async () => {
  const session = await client.authenticateDevice(deviceId(), true);
  const { status, body } = await failure(client.rpc(session, "does.not.exist", {}));
  assert.equal(status, 404);
  assert.deepEqual(body, { error: "RPC function not found", message: "RPC function not found", code: 5 });

  const res = await fetch(`${server.baseUrl}/v2/rpc/?http_key=${HTTP_KEY}`);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { error: "RPC ID must be set", message: "RPC ID must be set", code: 3 });
});

test("rpc_error's code picks the HTTP status", async () => {
  const session = await client.authenticateDevice(deviceId(), true);
  const expected = { 3: 400, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 12: 501, 13: 500, 14: 503, 16: 401 };
  for (const [code, status] of Object.entries(expected)) {
    const failed = await failure(client.rpc(session, "rpc_error", { code: Number(code), message: `code ${code}` }));
    assert.equal(failed.status, status, `code ${code}`);
    assert.equal(failed.body.code, Number(code));
    assert.equal(failed.body.message, `code ${code}`);
    assert.equal(typeof failed.body.error, "object");
  }
});

test("a panicking RPC is a 500 with code 13 and the server keeps serving", async () => {
  const session = await client.authenticateDevice(deviceId(), true);
  const { status, body } = await failure(client.rpc(session, "panic", {}));
  assert.equal(status, 500);
  assert.equal(body.code, 13);
  assert.equal(body.message, "Internal Server Error");
  assert.ok(server.alive(), "the server process is still running");
  const result = await client.rpc(session, "echo", { still: "here" });
  assert.deepEqual(result.payload, { still: "here" });
});

test("the custom-id before hook rejects custom-abc and admits cid-123456", async () => {
  const { status, body } = await failure(client.authenticateCustom("custom-abc", true));
  assert.equal(status, 400);
  assert.equal(body.code, 3);
  assert.match(body.message, /cid-000000/);

  const session = await client.authenticateCustom("cid-123456", true);
  assert.ok(session.token);
  assert.ok(session.user_id);
});

test("the login-counting after hook is observed through login_count", async () => {
  const id = customId();
  const first = await client.authenticateCustom(id, true);
  let result = await client.rpc(first, "login_count", {});
  assert.deepEqual(result.payload, { logins: 1 });
  const second = await client.authenticateCustom(id, false);
  assert.equal(second.user_id, first.user_id);
  result = await client.rpc(second, "login_count", {});
  assert.deepEqual(result.payload, { logins: 2 });
});
