// The node, crypto and utility functions of server code, through RPCs with nakama-js: events
// (Rust event handler; `nk.event` from Lua and Rust; `POST /v2/event` from a client, marked
// external), the local cache with TTL (Rust and Lua share it), custom metrics on /metrics,
// get_context, UUID bytes, AES, bcrypt, JWT, RSA signatures, random bytes and file_read
// confined to runtime.path (tests/lua/platform.lua, crates/tavern-examples/src/platform_api.rs).

import assert from "node:assert/strict";
import { createPublicKey, createVerify, generateKeyPairSync } from "node:crypto";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { decodeJwt, makeClient, request, verifyJwt } from "./lib/client.mjs";
import { HOST, freePort, repoRoot, sleep, startServer, uniqueName } from "./lib/server.mjs";

describe("server code platform functions", () => {
  let server;
  let client;
  let session;
  let metricsPort;

  before(async () => {
    metricsPort = await freePort();
    server = await startServer({
      label: "platform",
      args: [
        "--runtime.path", path.join(repoRoot, "tests", "lua"),
        "--runtime.env", "region=eu",
        "--metrics.prometheus_port", String(metricsPort),
      ],
    });
    client = makeClient(server);
    session = await client.authenticateDevice(uniqueName("platform"), true);
  });
  after(async () => {
    await server?.stop();
  });

  const rpc = async (id, input = {}) => (await client.rpc(session, id, input)).payload;
  const tryLua = (name, args) => rpc("lua_try", { name, args });

  async function eventsSeen(name, count) {
    for (let i = 0; i < 50; i++) {
      const { events } = await rpc("rust_platform_events_seen");
      const found = events.filter((e) => e.name === name);
      if (found.length >= count) return found;
      await sleep(100);
    }
    assert.fail(`event ${name} never reached the handler`);
  }

  test("events from Lua, Rust and clients reach the Rust event handler", async () => {
    const lua = uniqueName("lua_evt");
    await rpc("lua_platform_event", { name: lua, properties: { a: "1" }, timestamp: 1700000000 });
    const [fromLua] = await eventsSeen(lua, 1);
    assert.deepEqual(fromLua, { name: lua, properties: { a: "1" }, external: false, timestamp: 1700000000 });

    const rust = uniqueName("rust_evt");
    await rpc("rust_platform_event", { name: rust, properties: { b: "2" } });
    const [fromRust] = await eventsSeen(rust, 1);
    assert.equal(fromRust.external, false);
    assert.ok(fromRust.timestamp > 1700000000);

    const ext = uniqueName("client_evt");
    const res = await request(server, "/v2/event", {
      method: "POST",
      bearer: session.token,
      body: { name: ext, properties: { c: "3" }, external: false },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
    const [fromClient] = await eventsSeen(ext, 1);
    assert.equal(fromClient.external, true, "client events are always external");
    assert.deepEqual(fromClient.properties, { c: "3" });
  });

  test("nk.event checks its arguments as Nakama", async () => {
    assert.match((await tryLua("event", [""])).error, /expects name string/);
    assert.match((await tryLua("event", ["x", { a: 1 }])).error, /must be strings/);
    assert.match((await tryLua("event", ["x", {}, "soon"])).error, /timestamp must be numeric/);
  });

  test("the local cache is shared by Lua and Rust, with TTL, delete and clear", async () => {
    const key = uniqueName("k");
    await rpc("lua_platform_localcache", { op: "put", key, value: { n: 1, list: [1, 2] } });
    assert.deepEqual(await rpc("rust_platform_localcache", { op: "get", key }), { value: { n: 1, list: [1, 2] } });
    assert.deepEqual(await rpc("lua_platform_localcache", { op: "get", key }), { value: { n: 1, list: [1, 2] } });
    assert.deepEqual(await rpc("lua_platform_localcache", { op: "get", key: "absent", default: "d" }), { value: "d" });
    await rpc("lua_platform_localcache", { op: "delete", key });
    assert.deepEqual(await rpc("rust_platform_localcache", { op: "get", key }), { value: null });

    await rpc("rust_platform_localcache", { op: "put", key, value: "short", ttl: 1 });
    assert.deepEqual(await rpc("lua_platform_localcache", { op: "get", key }), { value: "short" });
    await sleep(1100);
    assert.deepEqual(await rpc("lua_platform_localcache", { op: "get", key }), {});

    await rpc("lua_platform_localcache", { op: "put", key, value: 5 });
    await rpc("lua_platform_localcache", { op: "clear" });
    assert.deepEqual(await rpc("rust_platform_localcache", { op: "get", key }), { value: null });
    assert.match((await tryLua("localcache_get", [""])).error, /expects key string/);
  });

  test("custom metrics show on /metrics under tavern_custom_", async () => {
    await rpc("lua_platform_metrics", { name: "lua_games", tags: { mode: "duel" } });
    await rpc("rust_platform_metrics", { name: "rust.games", tags: { mode: "solo" }, value: 4 });
    const text = await (await fetch(`http://${HOST}:${metricsPort}/metrics`)).text();
    assert.match(text, /^tavern_custom_lua_games\{mode="duel"\} 3$/m, "Lua counter: 2 + 1 (camel-case alias)");
    assert.match(text, /^tavern_custom_rust_games\{mode="solo"\} 4$/m);
    assert.match(text, /tavern_custom_lua_games_(count|sum|bucket)|tavern_custom_lua_games\{[^}]*quantile/);
  });

  test("get_context names the node, the mode and runtime.env", async () => {
    const ctx = await rpc("lua_platform_context");
    assert.equal(ctx.execution_mode, "run_once");
    assert.equal(typeof ctx.node, "string");
    assert.deepEqual(ctx.env, { region: "eu" });
  });

  test("UUID bytes round trip, and bad input is refused", async () => {
    const id = "4ec4f126-3f9d-11e7-84ef-b7c182b36521";
    assert.deepEqual(await rpc("lua_platform_uuid", { id }), { length: 16, back: id });
    assert.match((await tryLua("uuid_string_to_bytes", ["nope"])).error, /not a valid UUID string/);
    assert.match((await tryLua("uuid_bytes_to_string", ["short"])).error, /not a valid UUID byte string/);
  });

  test("AES, bcrypt, JWT, random bytes and RSA signatures in Lua; the same helpers in Rust", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const rsaKey = privateKey.export({ type: "pkcs1", format: "pem" });
    const key16 = "0123456789abcdef";
    const out = await rpc("lua_platform_crypto", {
      text: "hello", key16, key32: "0123456789abcdef0123456789abcdef", rsa_key: rsaKey,
    });
    assert.equal(out.sealed_length, 16 + 8, "IV, then the text padded to a multiple of 4");
    assert.equal(out.opened128, "hello   ");
    assert.equal(out.opened256, "hello   ");
    assert.equal(out.bcrypt_same, true);
    assert.equal(out.bcrypt_other, false);
    assert.ok(verifyJwt(out.jwt, key16));
    assert.deepEqual(decodeJwt(out.jwt).claims, { sub: "hello", n: 1 });
    assert.equal(out.random_length, 24);
    const verify = createVerify("RSA-SHA256").update("hello");
    assert.ok(verify.verify(createPublicKey(privateKey), Buffer.from(out.signature, "base64")));

    assert.match((await tryLua("aes128_encrypt", ["x", "short"])).error, /expects key 16 bytes long/);
    assert.match((await tryLua("jwt_generate", ["ES256", "k", {}])).error, /only allowed 'HS256', 'RS256'/);
    assert.match((await tryLua("bcrypt_compare", ["not-a-hash", "x"])).error, /error comparing hash/);
    assert.match((await tryLua("rsa_sha256_hash", ["x", "not a key"])).error, /error parsing key/);

    const rust = await rpc("rust_platform_crypto", { input: "hi", key: key16 });
    assert.equal(rust.decrypted, "hi  ");
    assert.ok(verifyJwt(rust.jwt, key16));
  });

  test("file_read reads below runtime.path only", async () => {
    assert.deepEqual(await rpc("lua_platform_file_read", { path: "data/platform.json" }), { content: '{"level": 3}\n' });
    assert.match((await tryLua("file_read", ["../../Cargo.toml"])).error, /failed to open file/);
    assert.match((await tryLua("file_read", ["/etc/hostname"])).error, /failed to open file/);
    assert.match((await tryLua("file_read", ["data/missing.json"])).error, /failed to open file/);
  });
});
