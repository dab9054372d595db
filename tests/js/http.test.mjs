// HTTP behaviour shared by every route: root and health, unknown routes and methods, CORS,
// nakama-js's query strings, headers (captures 01, 02, 60-62).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { startServer, uniqueName } from "./lib/server.mjs";
import { assertError, makeClient, request } from "./lib/client.mjs";

let server;

before(async () => {
  server = await startServer({ label: "http" });
});

after(async () => {
  await server?.stop();
});

describe("liveness", () => {
  test("GET / answers 200 with an empty body (01_root_get)", async () => {
    const res = await request(server, "/");
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
  });

  test("GET /healthcheck answers {} without credentials (02_healthcheck)", async () => {
    const res = await request(server, "/healthcheck");
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
    assert.match(res.headers.get("content-type"), /^application\/json/);
    assert.equal(res.headers.get("cache-control"), "no-store, no-cache, must-revalidate");
  });
});

describe("routing errors", () => {
  test("unknown route: 404 {code:5, message:Not Found} (60_unknown_route)", async () => {
    for (const path of ["/v2/nope", "/v2/account/authenticate/nope", "/nothing/here"]) {
      const res = await request(server, path);
      assertError(res, 404, 5, "Not Found");
    }
  });

  test("unknown route with a bad token is still a 404", async () => {
    const res = await request(server, "/v2/nope", { bearer: "not.a.token" });
    assertError(res, 404, 5, "Not Found");
  });

  test("wrong method on a known route: 501 {code:12, message:Method Not Allowed}", async () => {
    for (const [method, path] of [
      ["GET", "/v2/account/authenticate/device"],
      ["POST", "/v2/account"],
      ["DELETE", "/v2/user"],
      ["PUT", "/healthcheck"],
    ]) {
      const res = await request(server, path, { method });
      assertError(res, 501, 12, "Method Not Allowed");
    }
  });
});

describe("CORS", () => {
  test("preflight is answered for any origin (61_cors_preflight)", async () => {
    const res = await request(server, "/v2/account/authenticate/device?create=true", {
      method: "OPTIONS",
      headers: {
        Origin: "http://example.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    assert.match(allowed, /authorization/);
    assert.match(allowed, /content-type/);
  });

  test("simple requests carry Access-Control-Allow-Origin: * (62_cors_simple_get)", async () => {
    const res = await request(server, "/healthcheck", { headers: { Origin: "http://example.test" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });

  test("errors carry it too, so browsers can read them", async () => {
    const res = await request(server, "/v2/account", { headers: { Origin: "http://example.test" } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });
});

describe("query strings and bodies", () => {
  test("trailing & and bare ? are accepted, as nakama-js sends them", async () => {
    const username = uniqueName("amp");
    const res = await request(server, `/v2/account/authenticate/device?create=true&username=${username}&`, {
      method: "POST",
      basic: true,
      body: { id: uniqueName("device") },
    });
    assert.equal(res.status, 200, res.text);
    const session = res.json;
    const bare = await request(server, "/v2/account?", { bearer: session.token });
    assert.equal(bare.status, 200);
    assert.equal(bare.json.user.username, username);
    const users = await request(server, `/v2/user?usernames=${username}&&`, { bearer: session.token });
    assert.equal(users.status, 200);
    assert.equal(users.json.users.length, 1);
  });

  test("nakama-js itself builds such URLs and they work", async () => {
    const client = makeClient(server);
    const session = await client.authenticateDevice(uniqueName("device"), true, uniqueName("js"));
    const users = await client.getUsers(session, [session.user_id], [session.username]);
    assert.equal(users.users.length, 1);
  });

  test("a body over socket.max_request_size_bytes is refused, not read", async () => {
    const big = JSON.stringify({ id: uniqueName("device"), vars: { pad: "x".repeat(300_000) } });
    let status;
    try {
      const res = await request(server, "/v2/account/authenticate/device", { method: "POST", basic: true, body: big });
      status = res.status;
    } catch (e) {
      // A server may also cut the connection on an oversized body.
      status = `connection closed (${e.cause?.code ?? e.message})`;
    }
    assert.ok(status === 400 || status === 413 || typeof status === "string", `got ${status}`);
    const health = await request(server, "/healthcheck");
    assert.equal(health.status, 200, "the server keeps serving");
  });

  test("a gzip-compressed request body is accepted", async () => {
    const { gzipSync } = await import("node:zlib");
    const res = await fetch(`${server.baseUrl}/v2/account/authenticate/device?create=true`, {
      method: "POST",
      headers: {
        Authorization: `Basic ${Buffer.from("defaultkey:").toString("base64")}`,
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
      },
      body: gzipSync(JSON.stringify({ id: uniqueName("device") })),
      signal: AbortSignal.timeout(7000),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok((await res.json()).token);
  });
});
