// Wallets end to end: Rust `Nk` (bundled storage_api, `rust_wallet_*`, `rust_multi_update`) and
// Lua `nk` (tests/lua/storage.lua, `wallet_*`) through RPCs over REST and JSON/protobuf sockets;
// balances that never go negative, the ledger (only when asked, newest first, cursors bound to
// their user), `wallet_ledger_update`, `multi_update` all or nothing, the wallet in
// `GET /v2/account`, and parallel updates of one wallet that lose no increment. One server
// runs both runtimes. Runs on SQLite, or PostgreSQL with TAVERN_TEST_DB.
// tavern-test: postgres

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocketAdapterPb } from "@heroiclabs/nakama-js-protobuf";

import { UUID_RE, makeClient } from "./lib/client.mjs";
import { repoRoot, startServer, uniqueName } from "./lib/server.mjs";

describe("wallets", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({
      label: "wallet",
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
    });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  const user = () => client.authenticateDevice(uniqueName("dev"), true);
  const rpc = async (session, id, input) => (await client.rpc(session, id, input)).payload;
  const wallet = async (session) => JSON.parse((await client.getAccount(session)).wallet);
  // Lua encodes an empty table as `{}`.
  const list = (items) => (Array.isArray(items) ? items : []);
  /** The error body of an RPC that must fail (Rust errors keep their code; Lua's are 13). */
  async function failure(promise, status) {
    let response;
    try {
      await promise;
    } catch (e) {
      response = e;
    }
    assert.ok(response instanceof Response, "the call should have failed with an HTTP error");
    if (status !== undefined) {
      assert.equal(response.status, status);
    }
    return (await response.json()).message;
  }
  // The same calls in both runtimes: [runtime, wallet_update, wallets_update, ledger_list,
  // ledger_update, multi_update].
  const runtimes = [
    ["Rust", "rust_wallet_update", "rust_wallets_update", "rust_wallet_ledger_list", "rust_wallet_ledger_update", "rust_multi_update"],
    ["Lua", "wallet_update", "wallets_update", "wallet_ledger_list", "wallet_ledger_update", "wallet_multi_update"],
  ];

  for (const [runtime, update, updates, ledgerList, ledgerUpdate] of runtimes) {
    test(`${runtime}: changes add up, a balance never goes below zero, and the account shows the wallet`, async () => {
      const alice = await user();
      assert.deepEqual(await wallet(alice), {});
      const first = await rpc(alice, update, { user_id: alice.user_id, changeset: { gold: 10, gems: 2 } });
      assert.deepEqual(first, { updated: { gems: 2, gold: 10 }, previous: {} });
      const second = await rpc(alice, update, { user_id: alice.user_id, changeset: { gold: -4 } });
      assert.deepEqual(second, { updated: { gems: 2, gold: 6 }, previous: { gems: 2, gold: 10 } });
      assert.deepEqual(await wallet(alice), { gems: 2, gold: 6 });
      // One key going negative refuses the whole change.
      const message = "wallet update rejected negative value at path 'gold'";
      const status = runtime === "Rust" ? 400 : 500;
      const refused = await failure(client.rpc(alice, update, { user_id: alice.user_id, changeset: { gems: 5, gold: -7 } }), status);
      assert.ok(refused.includes(message), refused);
      assert.deepEqual(await wallet(alice), { gems: 2, gold: 6 });
      // Down to zero is fine; the key stays.
      await rpc(alice, update, { user_id: alice.user_id, changeset: { gold: -6 } });
      assert.deepEqual(await wallet(alice), { gems: 2, gold: 0 });
      // An unknown user, a malformed id.
      const unknown = await failure(client.rpc(alice, update, { user_id: "00000000-0000-4000-8000-000000000001", changeset: { gold: 1 } }), runtime === "Rust" ? 404 : 500);
      assert.ok(unknown.includes("user not found"), unknown);
      const bad = await failure(client.rpc(alice, update, { user_id: "nope", changeset: { gold: 1 } }), status);
      assert.ok(bad.includes("expects a valid user id"), bad);
    });

    test(`${runtime}: the ledger records only what asks for it, newest first, paged by cursor`, async () => {
      const alice = await user();
      const bob = await user();
      await rpc(alice, update, { user_id: alice.user_id, changeset: { gold: 100 } });
      for (let n = 0; n < 5; n++) {
        await rpc(alice, update, { user_id: alice.user_id, changeset: { gold: -1 }, metadata: { n }, update_ledger: true });
      }
      const pages = [];
      let cursor = "";
      for (let i = 0; i < 10; i++) {
        const page = await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 2, cursor });
        pages.push(page.items.map((item) => item.metadata.n));
        cursor = page.cursor ?? "";
        if (!cursor) {
          break;
        }
      }
      assert.deepEqual(pages, [[4, 3], [2, 1], [0]]);
      const { items } = await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 100 });
      assert.equal(items.length, 5);
      const [newest] = items;
      assert.match(newest.id, UUID_RE);
      assert.equal(newest.user_id, alice.user_id);
      assert.deepEqual(newest.changeset, { gold: -1 });
      assert.equal(typeof newest.create_time, "number");
      assert.ok(Math.abs(newest.create_time - Date.now() / 1000) < 60);
      // Cursors belong to one user's ledger; a limit is 0-100.
      const first = await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 1 });
      const foreign = await failure(client.rpc(alice, ledgerList, { user_id: bob.user_id, limit: 1, cursor: first.cursor }));
      assert.ok(foreign.includes("wallet ledger cursor invalid"), foreign);
      const garbage = await failure(client.rpc(alice, ledgerList, { user_id: alice.user_id, limit: 1, cursor: "zzz" }));
      assert.ok(garbage.includes("wallet ledger cursor invalid"), garbage);
      const tooMany = await failure(client.rpc(alice, ledgerList, { user_id: alice.user_id, limit: 101 }));
      assert.ok(tooMany.includes("expects limit to be 0-100"), tooMany);
      assert.deepEqual(list((await rpc(alice, ledgerList, { user_id: bob.user_id, limit: 10 })).items), []);

      // wallet_ledger_update merges into the entry's metadata.
      const updated = await rpc(alice, ledgerUpdate, { id: newest.id, metadata: { note: "refund" } });
      assert.equal(updated.id, newest.id);
      assert.equal(updated.user_id, alice.user_id);
      assert.deepEqual(updated.metadata, { n: 4, note: "refund" });
      assert.deepEqual(updated.changeset, { gold: -1 });
      assert.ok(updated.update_time >= updated.create_time);
      const again = (await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 1 })).items[0];
      assert.deepEqual(again.metadata, { n: 4, note: "refund" });
      const missing = await failure(client.rpc(alice, ledgerUpdate, { id: "00000000-0000-4000-8000-000000000002", metadata: {} }));
      assert.ok(missing.includes("wallet ledger item not found"), missing);
      const badId = await failure(client.rpc(alice, ledgerUpdate, { id: "nope", metadata: {} }));
      assert.match(badId, /expects a valid (item )?id/);
    });

    test(`${runtime}: wallets_update applies all or nothing and skips unknown users`, async () => {
      const alice = await user();
      const bob = await user();
      const res = await rpc(alice, updates, {
        updates: [
          { user_id: alice.user_id, changeset: { gold: 5 } },
          { user_id: "00000000-0000-4000-8000-000000000003", changeset: { gold: 5 } },
          { user_id: bob.user_id, changeset: { gold: 7 }, metadata: { why: "gift" } },
          { user_id: alice.user_id, changeset: { gold: 1 } },
        ],
        update_ledger: true,
      });
      assert.deepEqual(res.results, [
        { user_id: alice.user_id, updated: { gold: 5 }, previous: {} },
        { user_id: bob.user_id, updated: { gold: 7 }, previous: {} },
        { user_id: alice.user_id, updated: { gold: 6 }, previous: { gold: 5 } },
      ]);
      assert.equal((await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 10 })).items.length, 2);
      const bobLedger = (await rpc(alice, ledgerList, { user_id: bob.user_id, limit: 10 })).items;
      assert.deepEqual(bobLedger.map((i) => i.metadata), [{ why: "gift" }]);
      await failure(client.rpc(alice, updates, {
        updates: [
          { user_id: alice.user_id, changeset: { gold: 100 } },
          { user_id: bob.user_id, changeset: { gold: -100 } },
        ],
        update_ledger: true,
      }));
      assert.deepEqual(await wallet(alice), { gold: 6 });
      assert.deepEqual(await wallet(bob), { gold: 7 });
      assert.equal((await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 10 })).items.length, 2);
    });

    test(`${runtime}: parallel updates of one wallet lose no increment`, async () => {
      const alice = await user();
      const n = 40;
      await Promise.all(
        Array.from({ length: n }, (_, i) => rpc(alice, update, { user_id: alice.user_id, changeset: { coins: 1, [`k${i % 4}`]: 2 }, update_ledger: i % 2 === 0 })),
      );
      assert.deepEqual(await wallet(alice), { coins: n, k0: 20, k1: 20, k2: 20, k3: 20 });
      assert.equal((await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 100 })).items.length, n / 2);
      // Racing withdrawals: exactly as many succeed as the balance allows.
      const outcomes = await Promise.allSettled(
        Array.from({ length: n + 10 }, () => rpc(alice, update, { user_id: alice.user_id, changeset: { coins: -1 } })),
      );
      assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, n);
      assert.equal((await wallet(alice)).coins, 0);
    });
  }

  test("deleting an account deletes its ledger", async () => {
    const alice = await user();
    const bob = await user();
    await rpc(alice, "rust_wallet_update", { user_id: alice.user_id, changeset: { gold: 1 }, update_ledger: true });
    assert.equal((await rpc(bob, "rust_wallet_ledger_list", { user_id: alice.user_id, limit: 10 })).items.length, 1);
    await client.deleteAccount(alice);
    assert.deepEqual((await rpc(bob, "rust_wallet_ledger_list", { user_id: alice.user_id, limit: 10 })).items, []);
  });

  test("Rust and Lua update the same wallet concurrently, over REST and both socket formats", async () => {
    const alice = await user();
    const sockets = [];
    try {
      for (const adapter of [undefined, new WebSocketAdapterPb()]) {
        const socket = client.createSocket(false, false, adapter);
        await socket.connect(alice, false);
        sockets.push(socket);
      }
      const calls = [];
      for (let i = 0; i < 12; i++) {
        const id = i % 2 === 0 ? "rust_wallet_update" : "wallet_update";
        const payload = { user_id: alice.user_id, changeset: { coins: 1 } };
        calls.push(rpc(alice, id, payload));
        for (const socket of sockets) {
          calls.push(socket.rpc(id, JSON.stringify(payload)).then((r) => JSON.parse(r.payload)));
        }
      }
      const results = await Promise.all(calls);
      assert.ok(results.every((r) => r.updated.coins === r.previous.coins + 1 || (r.updated.coins === 1 && r.previous.coins === undefined)));
      assert.deepEqual(await wallet(alice), { coins: 36 });
      const failed = await sockets[1].rpc("rust_wallet_update", JSON.stringify({ user_id: alice.user_id, changeset: { coins: -100 } })).catch((e) => e);
      assert.equal(failed.code, 7);
      assert.equal(failed.message, "wallet update rejected negative value at path 'coins'");
    } finally {
      for (const socket of sockets) {
        socket.disconnect(false);
      }
    }
  });

  for (const [runtime, , , ledgerList, , multi] of runtimes) {
    test(`${runtime}: multi_update writes accounts, storage and wallets together, or nothing`, async () => {
      const alice = await user();
      const c = uniqueName("multi");
      const profile = runtime === "Rust" ? (fields) => ({ profile: fields }) : (fields) => fields;
      const done = await rpc(alice, multi, {
        accounts: [{ user_id: alice.user_id, ...profile({ display_name: "Alice", location: "Berlin" }), metadata: { level: 3 } }],
        writes: [{ collection: c, key: "sword", user_id: alice.user_id, value: { damage: 7 } }],
        wallets: [{ user_id: alice.user_id, changeset: { gold: 50 }, metadata: { why: "quest" } }],
        update_ledger: true,
      });
      assert.deepEqual(done.acks.map((a) => [a.collection, a.key, a.user_id]), [[c, "sword", alice.user_id]]);
      assert.deepEqual(done.results, [{ user_id: alice.user_id, updated: { gold: 50 }, previous: {} }]);
      const account = await client.getAccount(alice);
      assert.equal(account.user.display_name, "Alice");
      assert.equal(account.user.location, "Berlin");
      assert.deepEqual(JSON.parse(account.user.metadata), { level: 3 });
      assert.deepEqual(JSON.parse(account.wallet), { gold: 50 });
      const sword = await client.readStorageObjects(alice, { object_ids: [{ collection: c, key: "sword", user_id: alice.user_id }] });
      assert.deepEqual(sword.objects[0].value, { damage: 7 });
      const ledger = (await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 10 })).items;
      assert.deepEqual(ledger.map((i) => i.metadata), [{ why: "quest" }]);

      // A wallet going negative undoes the account change and the storage write.
      const refused = await failure(client.rpc(alice, multi, {
        accounts: [{ user_id: alice.user_id, ...profile({ display_name: "Mallory" }) }],
        writes: [{ collection: c, key: "shield", user_id: alice.user_id, value: { armor: 2 } }],
        wallets: [{ user_id: alice.user_id, changeset: { gold: -51 } }],
        update_ledger: true,
      }));
      assert.ok(refused.includes("wallet update rejected negative value at path 'gold'"), refused);
      // So does a storage version conflict.
      await failure(client.rpc(alice, multi, {
        accounts: [{ user_id: alice.user_id, ...profile({ display_name: "Mallory" }) }],
        writes: [{ collection: c, key: "sword", user_id: alice.user_id, value: { damage: 99 }, version: "stale" }],
        wallets: [{ user_id: alice.user_id, changeset: { gold: -10 } }],
      }));
      const after = await client.getAccount(alice);
      assert.equal(after.user.display_name, "Alice");
      assert.deepEqual(JSON.parse(after.wallet), { gold: 50 });
      const objects = await client.listStorageObjects(alice, c, alice.user_id, 10);
      assert.deepEqual(objects.objects.map((o) => [o.key, o.value]), [["sword", { damage: 7 }]]);
      assert.equal((await rpc(alice, ledgerList, { user_id: alice.user_id, limit: 10 })).items.length, 1);
      // An account update with nothing to change is refused, as Nakama does.
      const empty = await failure(client.rpc(alice, multi, { accounts: [{ user_id: alice.user_id }] }));
      assert.ok(empty.includes("No fields to update."), empty);
    });
  }

  test("Lua: nk.wallet_* and nk.multi_update refuse bad arguments with Nakama's messages", async () => {
    const alice = await user();
    const tryCall = async (name, args) => (await client.rpc(alice, "lua_try", { name, args })).payload;
    const id = alice.user_id;
    const cases = [
      ["wallet_update", ["nope", { gold: 1 }], "bad argument #1 to wallet_update (expects a valid user id)"],
      ["wallet_update", [id, "x"], "bad argument #2 to wallet_update (table expected, got string)"],
      ["wallet_update", [id, { gold: 1.5 }], "bad argument #2 to wallet_update (expects changeset values to be whole numbers)"],
      ["wallet_update", [id, { gold: "1" }], "bad argument #2 to wallet_update (expects changeset values to be whole numbers)"],
      ["wallets_update", [[{ user_id: id }]], "bad argument #1 to wallets_update (expects changeset to be supplied)"],
      ["wallets_update", [[{ user_id: "nope", changeset: {} }]], "bad argument #1 to wallets_update (expects user_id to be a valid ID)"],
      ["wallets_update", [[{ user_id: id, changeset: 1 }]], "bad argument #1 to wallets_update (expects changeset to be table)"],
      ["wallet_ledger_list", ["nope"], "bad argument #1 to wallet_ledger_list (expects a valid user id)"],
      ["wallet_ledger_list", [id, 101], "bad argument #2 to wallet_ledger_list (expects limit to be 0-100)"],
      ["wallet_ledger_update", ["nope", {}], "bad argument #1 to wallet_ledger_update (expects a valid id)"],
      ["multi_update", [[{ display_name: "x" }]], "bad argument #1 to multi_update (expects a valid user ID)"],
      ["multi_update", [[{ user_id: id, display_name: 1 }]], "bad argument #1 to multi_update (expects display name to be string)"],
      ["multi_update", [{}, [{ collection: "c", key: "k" }]], "bad argument #2 to multi_update (expects value to be supplied)"],
      ["multi_update", [{}, {}, [{ user_id: id }]], "bad argument #3 to multi_update (expects changeset to be supplied)"],
    ];
    for (const [name, args, message] of cases) {
      const res = await tryCall(name, args);
      assert.equal(res.ok, false, `${name} ${JSON.stringify(args)}`);
      assert.ok(res.error.includes(message), `${name}: ${res.error}`);
    }
    // An empty list of updates returns nothing; empty multi_update arguments do nothing.
    assert.deepEqual(await tryCall("wallets_update", [[]]), { ok: true });
    assert.deepEqual(await rpc(alice, "wallet_multi_update", {}), {});
  });
});
