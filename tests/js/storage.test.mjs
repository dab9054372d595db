// Storage objects end to end with nakama-js: the four REST routes with Nakama's permission,
// version and cursor rules and messages, atomic multi-object writes and deletes, concurrent
// conditional writes, the before/after hooks of every route (Rust, bundled storage_api; Lua,
// tests/lua/storage.lua), and the storage functions of Rust `Nk` and Lua `nk` through RPCs over
// REST and over JSON and protobuf sockets. Runs on SQLite, or PostgreSQL with TAVERN_TEST_DB.
// tavern-test: postgres

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocketAdapterPb } from "@heroiclabs/nakama-js-protobuf";

import { UUID_RE, assertError, makeClient, rejectsWith, request } from "./lib/client.mjs";
import { repoRoot, startServer, uniqueName } from "./lib/server.mjs";

const SYSTEM = "00000000-0000-0000-0000-000000000000";
const md5Of = async (text) => (await import("node:crypto")).createHash("md5").update(text).digest("hex");

describe("storage objects over REST", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({ label: "storage", args: ["--session.token_expiry_sec", "7200"] });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  const user = () => client.authenticateDevice(uniqueName("dev"), true);
  const put = (session, objects) =>
    request(server, "/v2/storage", { method: "PUT", bearer: session.token, body: { objects } });
  const rpc = async (session, id, input) => (await client.rpc(session, id, input)).payload;

  test("a write answers acks with Nakama's version, and reads see the object", async () => {
    const alice = await user();
    const acks = await client.writeStorageObjects(alice, [
      { collection: "saves", key: "slot1", value: { a: 1 }, permission_read: 1, permission_write: 1 },
    ]);
    // As Nakama 3.15: collection, key, version (MD5 of the value text), user_id; no times.
    assert.deepEqual(acks, {
      acks: [{ collection: "saves", key: "slot1", version: await md5Of('{"a":1}'), user_id: alice.user_id }],
    });
    const read = await client.readStorageObjects(alice, {
      object_ids: [{ collection: "saves", key: "slot1", user_id: alice.user_id }],
    });
    assert.equal(read.objects.length, 1);
    const [o] = read.objects;
    assert.deepEqual(o.value, { a: 1 });
    assert.equal(o.version, acks.acks[0].version);
    assert.equal(o.user_id, alice.user_id);
    assert.equal(o.permission_read, 1);
    assert.equal(o.permission_write, 1);
    assert.match(o.create_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(o.update_time, o.create_time);
    // No user id means the system user's public objects: none here, and an empty body.
    const raw = await request(server, "/v2/storage", {
      method: "POST",
      bearer: alice.token,
      body: { object_ids: [{ collection: "saves", key: "slot1" }] },
    });
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json, {});
    // The default permissions are owner read, owner write; the raw value text is kept.
    const text = '{"b": [1, 2], "c": {"d": null}}';
    const res = await put(alice, [{ collection: "saves", key: "slot2", value: text }]);
    assert.equal(res.status, 200);
    assert.equal(res.json.acks[0].version, await md5Of(text));
    const back = await request(server, "/v2/storage", {
      method: "POST",
      bearer: alice.token,
      body: { object_ids: [{ collection: "saves", key: "slot2", user_id: alice.user_id }] },
    });
    assert.equal(back.json.objects[0].value, text);
    assert.equal(back.json.objects[0].permission_read, 1);
    assert.equal(back.json.objects[0].permission_write, 1);
  });

  test("bad input is a 400 with Nakama's message and writes nothing", async () => {
    const alice = await user();
    const c = uniqueName("bad");
    const cases = [
      [[{ collection: c, key: "k", value: "[1,2]" }], "Value must be a JSON object."],
      [[{ collection: c, key: "k", value: '"text"' }], "Value must be a JSON object."],
      [[{ collection: c, key: "k", value: "{oops" }], "Value must be a JSON object."],
      [[{ collection: c, key: "k", value: "{} {}" }], "Value must be a JSON object."],
      [[{ collection: c, key: "k" }], "Invalid collection or key value supplied. They must be set."],
      [[{ collection: "", key: "k", value: "{}" }], "Invalid collection or key value supplied. They must be set."],
      [[{ collection: c, key: "", value: "{}" }], "Invalid collection or key value supplied. They must be set."],
      [[{ collection: c, key: "k", value: "{}", permission_read: 3 }], "Invalid Read permission supplied. It must be either 0, 1 or 2."],
      [[{ collection: c, key: "k", value: "{}", permission_read: -1 }], "Invalid Read permission supplied. It must be either 0, 1 or 2."],
      [[{ collection: c, key: "k", value: "{}", permission_write: 2 }], "Invalid Write permission supplied. It must be either 0 or 1."],
      [[{ collection: "x".repeat(129), key: "k", value: "{}" }], "Invalid collection or key value supplied. They must be at most 128 characters."],
      [[{ collection: c, key: "é".repeat(129), value: "{}" }], "Invalid collection or key value supplied. They must be at most 128 characters."],
      // One bad object refuses the whole request: the good one before it is not written.
      [[{ collection: c, key: "good", value: "{}" }, { collection: c, key: "k", value: "[]" }], "Value must be a JSON object."],
    ];
    for (const [objects, message] of cases) {
      assertError(await put(alice, objects), 400, 3, message);
    }
    // 128 characters (not bytes) is still fine.
    assert.equal((await put(alice, [{ collection: c, key: "é".repeat(128), value: "{}" }])).status, 200);
    const own = await client.listStorageObjects(alice, c, alice.user_id, 100);
    assert.deepEqual(own.objects.map((o) => o.key), ["é".repeat(128)]);

    const readBad = (ids) => request(server, "/v2/storage", { method: "POST", bearer: alice.token, body: { object_ids: ids } });
    assertError(await readBad([{ collection: c, key: "" }]), 400, 3, "Invalid collection or key value supplied. They must be set.");
    assertError(await readBad([{ collection: c, key: "k", user_id: "nope" }]), 400, 3, "Invalid user ID - make sure user ID is a valid UUID.");
    assertError(await readBad([{ collection: c, key: "k", user_id: SYSTEM }]), 400, 3, "Invalid user ID - make sure user ID is a valid UUID.");
    const delBad = await request(server, "/v2/storage/delete", { method: "PUT", bearer: alice.token, body: { object_ids: [{ key: "k" }] } });
    assertError(delBad, 400, 3, "Invalid collection or key value supplied. They must be set.");

    const list = (query) => request(server, `/v2/storage/${c}${query}`, { bearer: alice.token });
    assertError(await list("?limit=0"), 400, 3, "Invalid limit - limit must be between 1 and 100.");
    assertError(await list("?limit=101"), 400, 3, "Invalid limit - limit must be between 1 and 100.");
    assertError(await list("?user_id=nope"), 400, 3, "Invalid user ID - make sure user ID is a valid UUID.");
    for (const cursor of ["zzz", "e30", "bm90IGpzb24", Buffer.from('{"r":1,"k":"a","u":"x"}').toString("base64url")]) {
      assertError(await list(`?cursor=${cursor}`), 400, 3, "Malformed cursor was used.");
    }
    assertError(await list("?limit=x"), 400, 3, 'parsing field "limit": strconv.ParseInt: parsing "x": invalid syntax');
    // Empty requests are answered empty.
    assert.deepEqual((await put(alice, [])).json, {});
    assert.deepEqual((await readBad([])).json, {});
  });

  test("a value over socket.max_request_size_bytes is refused whole", async () => {
    const small = await startServer({ label: "storage-small", args: ["--socket.max_request_size_bytes", "2048"] });
    try {
      const c2 = makeClient(small);
      const s = await c2.authenticateDevice(uniqueName("dev"), true);
      const big = JSON.stringify({ blob: "x".repeat(4096) });
      const res = await request(small, "/v2/storage", {
        method: "PUT",
        bearer: s.token,
        body: { objects: [{ collection: "big", key: "k", value: big }] },
      });
      assertError(res, 400, 3, "http: request body too large");
      const listed = await c2.listStorageObjects(s, "big", s.user_id, 10);
      assert.deepEqual(listed.objects, []);
    } finally {
      await small.stop();
    }
  });

  test("a user id in a write is ignored as Nakama ignores unknown fields: the caller owns the object", async () => {
    const alice = await user();
    const bob = await user();
    const c = uniqueName("foreign");
    const res = await put(alice, [{ collection: c, key: "k", value: "{}", user_id: bob.user_id }]);
    assert.equal(res.status, 200);
    assert.equal(res.json.acks[0].user_id, alice.user_id);
    assert.deepEqual((await client.listStorageObjects(bob, c, bob.user_id, 10)).objects, []);
    assert.equal((await client.listStorageObjects(alice, c, alice.user_id, 10)).objects.length, 1);
  });

  test("read permissions: 0 is server-only, 1 owner-only, 2 public", async () => {
    const alice = await user();
    const bob = await user();
    const c = uniqueName("perm");
    await client.writeStorageObjects(alice, [
      { collection: c, key: "hidden", value: { p: 0 }, permission_read: 0 },
      { collection: c, key: "mine", value: { p: 1 }, permission_read: 1 },
      { collection: c, key: "open", value: { p: 2 }, permission_read: 2 },
    ]);
    const ids = ["hidden", "mine", "open"].map((key) => ({ collection: c, key, user_id: alice.user_id }));
    const keys = (r) => r.objects.map((o) => o.key);
    assert.deepEqual(keys(await client.readStorageObjects(alice, { object_ids: ids })), ["mine", "open"]);
    assert.deepEqual(keys(await client.readStorageObjects(bob, { object_ids: ids })), ["open"]);
    assert.deepEqual(keys(await client.listStorageObjects(alice, c, alice.user_id, 100)), ["mine", "open"]);
    assert.deepEqual(keys(await client.listStorageObjects(bob, c, alice.user_id, 100)), ["open"]);
    assert.deepEqual(keys(await client.listStorageObjects(bob, c, undefined, 100)), ["open"]);
    // Server code reads and lists all three.
    const viaRust = await rpc(alice, "rust_storage_read", { reads: ids });
    assert.deepEqual(viaRust.objects.map((o) => o.key), ["hidden", "mine", "open"]);
    const all = await rpc(alice, "rust_storage_list", { user_id: alice.user_id, collection: c, limit: 10 });
    assert.deepEqual(all.objects.map((o) => o.key), ["hidden", "mine", "open"]);
    assert.equal(all.objects[0].permission_read, undefined, "zero values are omitted from JSON");
  });

  test("write permission 0: the owner can neither overwrite nor delete, server code can", async () => {
    const alice = await user();
    const c = uniqueName("locked");
    const [ack] = (await client.writeStorageObjects(alice, [{ collection: c, key: "k", value: { v: 1 }, permission_write: 0 }])).acks;
    assertError(await put(alice, [{ collection: c, key: "k", value: '{"v":2}' }]), 400, 3, "Storage write rejected - permission denied.");
    assertError(await put(alice, [{ collection: c, key: "k", value: '{"v":2}', version: ack.version }]), 400, 3, "Storage write rejected - permission denied.");
    assertError(await put(alice, [{ collection: c, key: "k", value: '{"v":2}', version: "*" }]), 400, 3, "Storage write rejected - version check failed.");
    assertError(await put(alice, [{ collection: c, key: "k", value: '{"v":2}', version: "stale" }]), 400, 3, "Storage write rejected - version check failed.");
    await rejectsWith(
      client.deleteStorageObjects(alice, { object_ids: [{ collection: c, key: "k" }] }),
      400, 3, "Storage delete rejected - not found, version check failed, or permission denied.",
    );
    const written = await rpc(alice, "rust_storage_write", { writes: [{ collection: c, key: "k", user_id: alice.user_id, value: { v: 3 } }] });
    assert.equal(written.acks[0].version, await md5Of('{"v":3}'));
    await rpc(alice, "rust_storage_delete", { deletes: [{ collection: c, key: "k", user_id: alice.user_id }] });
    assert.deepEqual((await rpc(alice, "rust_storage_read", { reads: [{ collection: c, key: "k", user_id: alice.user_id }] })).objects, []);
  });

  test("versions: if-match, if-absent, stale and missing", async () => {
    const alice = await user();
    const c = uniqueName("occ");
    assertError(await put(alice, [{ collection: c, key: "k", value: "{}", version: "abc" }]), 400, 3, "Storage write rejected - version check failed.");
    const v1 = (await put(alice, [{ collection: c, key: "k", value: '{"n":1}', version: "*" }])).json.acks[0].version;
    assertError(await put(alice, [{ collection: c, key: "k", value: '{"n":9}', version: "*" }]), 400, 3, "Storage write rejected - version check failed.");
    const v2 = (await put(alice, [{ collection: c, key: "k", value: '{"n":2}', version: v1 }])).json.acks[0].version;
    assert.notEqual(v1, v2);
    assertError(await put(alice, [{ collection: c, key: "k", value: '{"n":3}', version: v1 }]), 400, 3, "Storage write rejected - version check failed.");
    // Rewriting the same value with its own version changes nothing and is acknowledged.
    const same = await put(alice, [{ collection: c, key: "k", value: '{"n":2}', version: v2 }]);
    assert.equal(same.json.acks[0].version, v2);
    await rejectsWith(
      client.deleteStorageObjects(alice, { object_ids: [{ collection: c, key: "k", version: v1 }] }),
      400, 3, "Storage delete rejected - not found, version check failed, or permission denied.",
    );
    assert.equal(await client.deleteStorageObjects(alice, { object_ids: [{ collection: c, key: "k", version: v2 }] }), true);
    await rejectsWith(
      client.deleteStorageObjects(alice, { object_ids: [{ collection: c, key: "k" }] }),
      400, 3, "Storage delete rejected - not found, version check failed, or permission denied.",
    );
  });

  test("several objects are written and deleted all together or not at all", async () => {
    const alice = await user();
    const c = uniqueName("atomic");
    const v = (await put(alice, [{ collection: c, key: "b", value: '{"b":1}' }])).json.acks[0].version;
    // Acks come back in request order; a stale version anywhere undoes the whole write.
    const both = await put(alice, [
      { collection: c, key: "z", value: '{"z":1}' },
      { collection: c, key: "b", value: '{"b":2}', version: v },
    ]);
    assert.deepEqual(both.json.acks.map((a) => a.key), ["z", "b"]);
    assertError(await put(alice, [
      { collection: c, key: "a", value: '{"a":1}' },
      { collection: c, key: "b", value: '{"b":3}', version: v },
    ]), 400, 3, "Storage write rejected - version check failed.");
    const keys = async () => (await client.listStorageObjects(alice, c, alice.user_id, 100)).objects.map((o) => [o.key, o.value]);
    assert.deepEqual(await keys(), [["b", { b: 2 }], ["z", { z: 1 }]]);
    await rejectsWith(
      client.deleteStorageObjects(alice, { object_ids: [{ collection: c, key: "b" }, { collection: c, key: "missing" }] }),
      400, 3,
    );
    assert.deepEqual(await keys(), [["b", { b: 2 }], ["z", { z: 1 }]]);
    await client.deleteStorageObjects(alice, { object_ids: [{ collection: c, key: "b" }, { collection: c, key: "z" }] });
    assert.deepEqual(await keys(), []);
  });

  test("concurrent writers: one if-absent write wins, one writer per version wins", async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => user()));
    const alice = users[0];
    const c = uniqueName("race");
    const creates = await Promise.all(
      Array.from({ length: 16 }, (_, i) => put(alice, [{ collection: c, key: "k", value: `{"i":${i}}`, version: "*" }])),
    );
    assert.equal(creates.filter((r) => r.status === 200).length, 1);
    for (const r of creates.filter((r) => r.status !== 200)) {
      assertError(r, 400, 3, "Storage write rejected - version check failed.");
    }
    let version = creates.find((r) => r.status === 200).json.acks[0].version;
    for (let round = 0; round < 3; round++) {
      const tries = await Promise.all(
        Array.from({ length: 12 }, (_, i) => put(alice, [{ collection: c, key: "k", value: `{"r":${round},"i":${i}}`, version }])),
      );
      const won = tries.filter((r) => r.status === 200);
      assert.equal(won.length, 1, `round ${round}`);
      version = won[0].json.acks[0].version;
    }
    // Many users writing their own objects at once all succeed.
    const own = await Promise.all(users.flatMap((u) => Array.from({ length: 8 }, (_, i) => put(u, [{ collection: c, key: `own${i}`, value: "{}" }]))));
    assert.ok(own.every((r) => r.status === 200));
  });

  test("listings page with a cursor: public, own and another user's, in Nakama's order", async () => {
    const alice = await user();
    const bob = await user();
    const c = uniqueName("list");
    await client.writeStorageObjects(alice, [
      ...["e", "a", "c", "b", "d"].map((key) => ({ collection: c, key, value: { key }, permission_read: 2 })),
      { collection: c, key: "private", value: {}, permission_read: 1 },
      { collection: c, key: "hidden", value: {}, permission_read: 0 },
    ]);
    await client.writeStorageObjects(bob, [{ collection: c, key: "a", value: {}, permission_read: 2 }]);

    async function pages(fetch) {
      const seen = [];
      let cursor;
      for (let i = 0; i < 20; i++) {
        const page = await fetch(cursor);
        seen.push(page.objects.map((o) => `${o.user_id === alice.user_id ? "A" : "B"}:${o.key}`));
        if (!page.cursor) {
          return seen;
        }
        cursor = page.cursor;
      }
      throw new Error("too many pages");
    }
    // Another user's public objects, by key.
    assert.deepEqual(await pages((cur) => client.listStorageObjects(bob, c, alice.user_id, 2, cur)), [["A:a", "A:b"], ["A:c", "A:d"], ["A:e"]]);
    // One's own readable objects, by read permission then key.
    assert.deepEqual(
      await pages((cur) => client.listStorageObjects(alice, c, alice.user_id, 3, cur)),
      [["A:private", "A:a", "A:b"], ["A:c", "A:d", "A:e"]],
    );
    // Everyone's public objects, by key then owner.
    const ids = [alice.user_id, bob.user_id].sort();
    const publicPages = await pages((cur) => client.listStorageObjects(bob, c, undefined, 4, cur));
    const first = ids[0] === alice.user_id ? ["A:a", "B:a"] : ["B:a", "A:a"];
    assert.deepEqual(publicPages, [[...first, "A:b", "A:c"], ["A:d", "A:e"]]);
    // Without a limit a page holds one object, as Nakama's default.
    const one = await client.listStorageObjects(bob, c, alice.user_id);
    assert.equal(one.objects.length, 1);
    assert.ok(one.cursor);
    // The route with the user in the path answers the same.
    const res = await request(server, `/v2/storage/${c}/${alice.user_id}?limit=10`, { bearer: bob.token });
    assert.deepEqual(res.json.objects.map((o) => o.key), ["a", "b", "c", "d", "e"]);
    assert.equal(res.json.cursor, undefined);
    // A collection named "delete" is listed over GET like any other.
    await client.writeStorageObjects(alice, [{ collection: "delete", key: c, value: {}, permission_read: 2 }]);
    const del = await request(server, `/v2/storage/delete?user_id=${alice.user_id}&limit=100`, { bearer: bob.token });
    assert.equal(del.status, 200);
    assert.ok(del.json.objects.some((o) => o.key === c));
  });

  test("deleting an account deletes its objects", async () => {
    const alice = await user();
    const bob = await user();
    const c = uniqueName("gone");
    await client.writeStorageObjects(alice, [{ collection: c, key: "k", value: {}, permission_read: 2 }]);
    assert.equal((await client.listStorageObjects(bob, c, alice.user_id, 10)).objects.length, 1);
    await client.deleteAccount(alice);
    assert.deepEqual((await client.listStorageObjects(bob, c, alice.user_id, 10)).objects, []);
    assert.deepEqual((await rpc(bob, "rust_storage_list", { collection: c, limit: 10 })).objects, []);
  });

  test("before hooks refuse, disable and rewrite each route; after hooks run", async () => {
    const alice = await user();
    const denied = "denied by a before hook";
    assertError(await put(alice, [{ collection: "rust_hook_denied", key: "k", value: "{}" }]), 400, 3, denied);
    assertError(await put(alice, [{ collection: "rust_hook_disabled", key: "k", value: "{}" }]), 404, 5, "Requested resource was not found.");
    const read = (ids) => request(server, "/v2/storage", { method: "POST", bearer: alice.token, body: { object_ids: ids } });
    assertError(await read([{ collection: "rust_hook_denied", key: "k" }]), 400, 3, denied);
    assertError(await read([{ collection: "rust_hook_disabled", key: "k" }]), 404, 5, "Requested resource was not found.");
    const del = (ids) => request(server, "/v2/storage/delete", { method: "PUT", bearer: alice.token, body: { object_ids: ids } });
    assertError(await del([{ collection: "rust_hook_denied", key: "k" }]), 400, 3, denied);
    assertError(await del([{ collection: "rust_hook_disabled", key: "k" }]), 404, 5, "Requested resource was not found.");
    assertError(await request(server, "/v2/storage/rust_hook_denied", { bearer: alice.token }), 400, 3, denied);
    assertError(await request(server, "/v2/storage/rust_hook_disabled", { bearer: alice.token }), 404, 5, "Requested resource was not found.");

    const before = await rpc(alice, "rust_storage_hooks", {});
    assert.deepEqual(before, {});
    // The write hook replaces values, the read hook reads "real" for "alias", the list hook
    // pages one by one.
    await client.writeStorageObjects(alice, [
      { collection: "rust_hook_rewrite", key: "real", value: { mine: 1 } },
      { collection: "rust_hook_rewrite", key: "other", value: { mine: 2 } },
    ]);
    const got = await client.readStorageObjects(alice, { object_ids: [{ collection: "rust_hook_rewrite", key: "alias", user_id: alice.user_id }] });
    assert.deepEqual(got.objects.map((o) => [o.key, o.value]), [["real", { rewritten: true }]]);
    const page = await client.listStorageObjects(alice, "rust_hook_rewrite", alice.user_id, 100);
    assert.equal(page.objects.length, 1);
    assert.ok(page.cursor);
    await client.deleteStorageObjects(alice, { object_ids: [{ collection: "rust_hook_rewrite", key: "real" }] });
    assert.deepEqual(await rpc(alice, "rust_storage_hooks", {}), {
      WriteStorageObjects: 1,
      ReadStorageObjects: 1,
      ListStorageObjects: 1,
      DeleteStorageObjects: 1,
    });
  });

  for (const format of ["json", "protobuf"]) {
    test(`Rust nk storage functions through RPCs on a ${format} socket`, async () => {
      const alice = await user();
      const socket = client.createSocket(false, false, format === "protobuf" ? new WebSocketAdapterPb() : undefined);
      await socket.connect(alice, false);
      const call = async (id, input) => JSON.parse((await socket.rpc(id, JSON.stringify(input))).payload);
      const fail = async (id, input) => {
        try {
          await socket.rpc(id, JSON.stringify(input));
        } catch (e) {
          return e;
        }
        throw new Error(`${id} should have failed`);
      };
      try {
        const c = uniqueName(`rs_${format}`);
        // Empty user id: the system user. Acks carry the owner.
        const written = await call("rust_storage_write", {
          writes: [
            { collection: c, key: "config", value: { motd: "hi" }, permission_read: 2, permission_write: 0 },
            { collection: c, key: "b", user_id: alice.user_id, value: { n: 1 } },
          ],
        });
        assert.deepEqual(written.acks.map((a) => [a.key, a.user_id]), [["config", SYSTEM], ["b", alice.user_id]]);
        // Clients read the system's public object without a user id.
        const pub = await client.readStorageObjects(alice, { object_ids: [{ collection: c, key: "config" }] });
        assert.deepEqual(pub.objects[0].value, { motd: "hi" });
        assert.equal(pub.objects[0].user_id, SYSTEM);
        const read = await call("rust_storage_read", { reads: [{ collection: c, key: "config" }, { collection: c, key: "nope" }] });
        assert.equal(read.objects.length, 1);
        // Every owner's objects when listing without a user, paged.
        const p1 = await call("rust_storage_list", { collection: c, limit: 1 });
        assert.equal(p1.objects.length, 1);
        const p2 = await call("rust_storage_list", { collection: c, limit: 1, cursor: p1.cursor });
        assert.equal(p2.objects.length, 1);
        assert.equal(p2.cursor, "");
        assert.deepEqual([p1.objects[0].key, p2.objects[0].key].sort(), ["b", "config"]);
        assert.deepEqual((await call("rust_storage_list", { collection: c, limit: 0 })).objects, []);
        // Versions hold for server code; write permissions do not.
        // A failed RPC is error 7 (runtime function exception) on the socket; over REST, the
        // function's code 3 is a 400.
        const stale = await fail("rust_storage_write", { writes: [{ collection: c, key: "config", value: {}, version: "x" }] });
        assert.equal(stale.code, 7);
        assert.equal(stale.message, "Storage write rejected - version check failed.");
        await rejectsWith(
          client.rpc(alice, "rust_storage_write", { writes: [{ collection: c, key: "config", value: {}, version: "x" }] }),
          400, 3, "Storage write rejected - version check failed.",
        );
        await call("rust_storage_write", { writes: [{ collection: c, key: "config", value: { motd: "bye" } }] });
        // Deleting something missing is fine, unless a version is given.
        await call("rust_storage_delete", { deletes: [{ collection: c, key: "missing" }] });
        const versioned = await fail("rust_storage_delete", { deletes: [{ collection: c, key: "config", version: "x" }] });
        assert.equal(versioned.message, "Storage delete rejected - not found, version check failed, or permission denied.");
        for (const [id, input, message] of [
          ["rust_storage_write", { writes: [{ collection: c, key: "k", value: [1] }] }, "value must be a JSON-encoded object"],
          ["rust_storage_write", { writes: [{ collection: "", key: "k", value: {} }] }, "expects collection to be a non-empty string"],
          ["rust_storage_write", { writes: [{ collection: c, key: "k", value: {}, permission_read: 7 }] }, "expects permission_read to be 0, 1 or 2"],
          ["rust_storage_read", { reads: [{ collection: c, key: "" }] }, "expects key to be a non-empty string"],
          ["rust_storage_read", { reads: [{ collection: c, key: "k", user_id: "x" }] }, "expects an empty or valid user id"],
          ["rust_storage_list", { collection: c, limit: 5, cursor: "bad" }, "Malformed cursor was used."],
        ]) {
          const e = await fail(id, input);
          assert.equal(e.code, 7, id);
          assert.equal(e.message, message);
          await rejectsWith(client.rpc(alice, id, input), 400, 3, message);
        }
      } finally {
        socket.disconnect(false);
      }
    });
  }
});

describe("storage objects from Lua", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({
      label: "storage-lua",
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
    });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  const user = () => client.authenticateDevice(uniqueName("dev"), true);
  const rpc = async (session, id, input) => (await client.rpc(session, id, input)).payload;

  test("nk.storage_write, storage_read, storage_list and storage_delete in Nakama's shapes", async () => {
    const alice = await user();
    const c = uniqueName("lua");
    const r = await rpc(alice, "storage_round_trip", { collection: c });
    assert.deepEqual(r.acks.map((a) => [a.collection, a.key, a.user_id]), [[c, "a", alice.user_id], [c, "b", alice.user_id], [c, "c", alice.user_id]]);
    // Values are encoded with sorted keys, as Go's encoder does; the version is their MD5.
    assert.equal(r.acks[0].version, await md5Of('{"list":[1,2],"n":1}'));
    assert.equal(r.read.length, 1);
    const b = r.read[0];
    assert.deepEqual(b.value, { n: 2 });
    assert.equal(b.permission_read, 2);
    assert.equal(b.permission_write, 0);
    assert.equal(b.user_id, alice.user_id);
    assert.equal(typeof b.create_time, "number");
    assert.ok(Math.abs(b.create_time - Date.now() / 1000) < 60);
    // Listing order: read permission, then key.
    assert.deepEqual(r.first.map((o) => o.key), ["a", "c"]);
    assert.equal(r.cursor_is_string, true);
    assert.deepEqual(r.second.map((o) => o.key), ["b"]);
    assert.equal(r.last_is_nil, true);
    assert.deepEqual(r.left.map((o) => o.key), ["c"]);
    // The client sees what Lua wrote.
    const listed = await client.listStorageObjects(alice, c, alice.user_id, 10);
    assert.deepEqual(listed.objects.map((o) => o.key), ["c"]);
  });

  test("nk.storage_* refuse bad arguments with Nakama's messages", async () => {
    const alice = await user();
    const tryCall = async (name, args) => (await client.rpc(alice, "lua_try", { name, args })).payload;
    const cases = [
      ["storage_read", ["x"], "bad argument #1 to storage_read (expects a valid set of keys)"],
      ["storage_read", [[{ collection: "c" }]], "bad argument #1 to storage_read (expects key to be supplied)"],
      ["storage_read", [[{ collection: "c", key: "k", user_id: "nope" }]], "bad argument #1 to storage_read (expects user_id to be a valid ID)"],
      ["storage_read", [[{ collection: 1, key: "k" }]], "bad argument #1 to storage_read (expects collection to be string)"],
      ["storage_write", [[{ collection: "c", key: "k" }]], "bad argument #1 to storage_write (expects value to be supplied)"],
      ["storage_write", [[{ collection: "c", key: "k", value: "s" }]], "bad argument #1 to storage_write (expects value to be table)"],
      ["storage_write", [[{ collection: "c", key: "k", value: {}, permission_read: "x" }]], "bad argument #1 to storage_write (expects permission_read to be number)"],
      ["storage_write", [[{ collection: "c", key: "k", value: {}, version: "nope" }]], "failed to write storage objects: Storage write rejected - version check failed."],
      ["storage_write", [[{ collection: "c", key: "k", value: [1, 2] }]], "failed to write storage objects: value must be a JSON-encoded object"],
      ["storage_delete", [[{ collection: "c", key: "k", version: "nope" }]], "failed to remove storage: Storage delete rejected - not found, version check failed, or permission denied."],
      ["storage_list", ["", "c", -1], "bad argument #3 to storage_list (limit must not be negative)"],
      ["storage_list", ["", "c"], "bad argument #3 to storage_list (number expected, got no value)"],
      ["storage_list", ["nope", "c", 10], "bad argument #1 to storage_list (expects empty or a valid user ID)"],
      ["storage_list", ["", "c", 10, "zzz"], "failed to list storage objects: Malformed cursor was used."],
    ];
    for (const [name, args, message] of cases) {
      const res = await tryCall(name, args);
      assert.equal(res.ok, false, `${name} ${JSON.stringify(args)}`);
      assert.ok(res.error.includes(message), `${name}: ${res.error}`);
    }
    assert.deepEqual((await tryCall("storage_read", [[]])).ok, true);
  });

  test("Lua hooks on the storage routes refuse, rewrite and observe", async () => {
    const alice = await user();
    await rejectsWith(
      client.writeStorageObjects(alice, [{ collection: "lua_hook_denied", key: "k", value: {} }]),
      400, 3, "denied by a Lua hook",
    );
    await rejectsWith(client.readStorageObjects(alice, { object_ids: [{ collection: "lua_hook_denied", key: "k" }] }), 400, 3, "denied by a Lua hook");
    await rejectsWith(client.listStorageObjects(alice, "lua_hook_denied"), 400, 3, "denied by a Lua hook");
    await rejectsWith(
      client.deleteStorageObjects(alice, { object_ids: [{ collection: "lua_hook_denied", key: "k" }] }),
      404, 5, "Requested resource was not found.",
    );
    await client.writeStorageObjects(alice, [{ collection: "lua_hook_rewrite", key: "k", value: { mine: true } }]);
    const back = await client.readStorageObjects(alice, { object_ids: [{ collection: "lua_hook_rewrite", key: "k", user_id: alice.user_id }] });
    assert.deepEqual(back.objects[0].value, { rewritten: true });
    const seen = await rpc(alice, "storage_read", { reads: [{ collection: "lua_hook_seen", key: alice.user_id }] });
    assert.deepEqual(seen.objects[0].value, { acks: 1 });
    assert.match(seen.objects[0].user_id, UUID_RE);
  });
});
