// A plain start, as a new user gets it: no bundled example or test module is loaded unless
// runtime.bundled_modules names it, so clients see Nakama with no modules. Tic-tac-toe stays
// on, and only ever acts on its own tickets (matchmaker.test.mjs checks that).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { makeClient, request } from "./lib/client.mjs";
import { runTavern, startServer, uniqueName } from "./lib/server.mjs";

/** Every RPC the bundled example and test modules register. */
const DEMO_RPCS = [
  "echo",
  "rpc_error",
  "panic",
  "login_count",
  "create_match_rpc",
  "create_echo_match",
  "create_idle_matches",
  "find_or_create_match",
];
const NOT_FOUND = { error: "RPC function not found", message: "RPC function not found", code: 5 };

describe("plain start", () => {
  let server;
  let client;
  before(async () => {
    server = await startServer({ label: "plain", bundled: [] });
    client = makeClient(server);
  });
  after(() => server?.stop());

  test("an ordinary custom id authenticates (no example before hook)", async () => {
    const id = uniqueName("custom-plain");
    const session = await client.authenticateCustom(id, true);
    assert.ok(session.token);
    const account = await client.getAccount(session);
    assert.equal(account.custom_id, id);
  });

  test("no RPC is registered at all", () => {
    assert.doesNotMatch(server.log(), /Registered RPC function/);
  });

  test("no example RPC is reachable, with the HTTP key or a session", async () => {
    const session = await client.authenticateDevice(uniqueName("device-plain"), true);
    for (const id of DEMO_RPCS) {
      const byKey = await request(server, `/v2/rpc/${id}?http_key=defaulthttpkey`, { method: "POST", body: '"{}"' });
      assert.equal(byKey.status, 404, `${id}: ${byKey.text}`);
      assert.deepEqual(byKey.json, NOT_FOUND);
      const bySession = await request(server, `/v2/rpc/${id}`, { method: "POST", bearer: session.token, body: '"{}"' });
      assert.equal(bySession.status, 404, `${id}: ${bySession.text}`);
    }
  });

  test("the log says which modules loaded, and tic-tac-toe's page is served", async () => {
    const loaded = server.log().split("\n").find((line) => line.includes("Runtime modules loaded"));
    assert.deepEqual(JSON.parse(JSON.parse(loaded).modules), ["tictactoe"]);
    const page = await request(server, "/play");
    assert.equal(page.status, 200);
  });
});

describe("runtime.bundled_modules", () => {
  test("names one module: only its RPC is there", async () => {
    const server = await startServer({ label: "bundled-echo", bundled: ["echo"] });
    try {
      const echo = await request(server, "/v2/rpc/echo?http_key=defaulthttpkey", { method: "POST", body: '"hi"' });
      assert.equal(echo.status, 200, echo.text);
      assert.deepEqual(echo.json, { payload: "hi" });
      const panic = await request(server, "/v2/rpc/panic?http_key=defaulthttpkey", { method: "POST", body: '"{}"' });
      assert.equal(panic.status, 404);
      const client = makeClient(server);
      await client.authenticateCustom(uniqueName("custom-echo-only"), true);
    } finally {
      await server.stop();
    }
  });

  test("an unknown name stops the start with exit code 2, listing the bundled ones", async () => {
    const r = await runTavern(["--runtime.bundled_modules", "no_such_module", "--data_dir", "/nonexistent/tavern"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /runtime\.bundled_modules: unknown bundled module "no_such_module"/);
    assert.match(r.stderr, /echo/);
    assert.match(r.stderr, /custom_id_guard/);
  });
});
