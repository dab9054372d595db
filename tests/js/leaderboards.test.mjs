// Leaderboards end to end: boards created by server code (the bundled Rust module
// `leaderboards_api`, called with the HTTP key), scores written, listed, paged and deleted by the
// official client over REST; every operator and both sort orders, ties, authoritative boards,
// owner records, the window around an owner, Rust `Nk` listing, the refusals of bad input, resets
// (a short cron, the reset callback, a reset missed while stopped) and account deletion.
// Runs on SQLite, or PostgreSQL with TAVERN_TEST_DB.
// tavern-test: postgres

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { makeClient, rejectsWith } from "./lib/client.mjs";
import { dbMode, sleep, startServer, uniqueName } from "./lib/server.mjs";

const HTTP_KEY = "defaulthttpkey";

/** Polls `check` until it returns something truthy; resolves with that. */
async function until(check, what, ms = 8000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = await check();
    if (found) {
      return found;
    }
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("leaderboards", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({ label: "leaderboards", args: ["--session.token_expiry_sec", "7200"] });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  /** Calls a `leaderboards_api` RPC server to server; resolves with its answer. */
  const rpc = async (id, input) => (await client.rpcHttpKey(HTTP_KEY, id, input)).payload;
  /** The message of an RPC that must fail. */
  async function rpcFailure(id, input, status) {
    let response;
    try {
      await client.rpcHttpKey(HTTP_KEY, id, input);
    } catch (e) {
      response = e;
    }
    assert.ok(response instanceof Response, "the call should have failed with an HTTP error");
    if (status !== undefined) {
      assert.equal(response.status, status);
    }
    return (await response.json()).message;
  }
  const user = () => client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
  async function board(settings = {}) {
    const id = uniqueName("lb");
    await rpc("rust_leaderboard_create", { id, ...settings });
    return id;
  }
  const write = (session, id, score, subscore = 0, metadata) =>
    client.writeLeaderboardRecord(session, id, { score, subscore, metadata });
  // nakama-js 2.8 has no wrapper for this route: its generated API client does.
  const deleteRecord = (session, id) => client.apiClient.deleteLeaderboardRecord(session.token, id);
  /** [owner, score, subscore, rank] of each record. */
  const rows = (records) => records.map((r) => [r.owner_id, r.score, r.subscore, r.rank]);

  test("best on a descending board keeps the higher score and the higher subscore, each on its own", async () => {
    const id = await board();
    const alice = await user();
    const first = await write(alice, id, 100, 5, { weather: "rain" });
    assert.equal(first.leaderboard_id, id);
    assert.equal(first.owner_id, alice.user_id);
    assert.equal(first.username, alice.username);
    assert.deepEqual([first.score, first.subscore, first.num_score, first.rank], [100, 5, 1, 1]);
    assert.deepEqual(first.metadata, { weather: "rain" });
    assert.equal(first.expiry_time, undefined);
    // Worse on both: nothing changes, not even the count.
    const worse = await write(alice, id, 50, 1);
    assert.deepEqual([worse.score, worse.subscore, worse.num_score], [100, 5, 1]);
    // A lower score with a higher subscore: each keeps its best.
    const mixed = await write(alice, id, 90, 9);
    assert.deepEqual([mixed.score, mixed.subscore, mixed.num_score], [100, 9, 2]);
    const better = await write(alice, id, 150, 0);
    assert.deepEqual([better.score, better.subscore, better.num_score], [150, 9, 3]);
    assert.deepEqual(better.metadata, { weather: "rain" });
  });

  test("best on an ascending board keeps the lower score", async () => {
    const id = await board({ sort_order: "asc" });
    const [alice, bob] = [await user(), await user()];
    await write(alice, id, 30);
    const kept = await write(alice, id, 40);
    assert.equal(kept.score, 30);
    const lower = await write(alice, id, 20);
    assert.deepEqual([lower.score, lower.num_score], [20, 2]);
    const bobs = await write(bob, id, 25);
    assert.equal(bobs.rank, 2);
    const list = await client.listLeaderboardRecords(alice, id, undefined, 10);
    assert.deepEqual(rows(list.records), [
      [alice.user_id, 20, 0, 1],
      [bob.user_id, 25, 0, 2],
    ]);
  });

  test("set, incr and decr combine as Nakama's operators do", async () => {
    const alice = await user();
    const set = await board({ operator: "set" });
    await write(alice, set, 10, 3);
    const replaced = await write(alice, set, 4, 1);
    assert.deepEqual([replaced.score, replaced.subscore, replaced.num_score], [4, 1, 2]);
    const same = await write(alice, set, 4, 1);
    assert.equal(same.num_score, 2, "the same score again is not a new submission");

    const incr = await board({ operator: "incr" });
    await write(alice, incr, 10, 1);
    const added = await write(alice, incr, 5, 2);
    assert.deepEqual([added.score, added.subscore, added.num_score], [15, 3, 2]);
    const nothing = await write(alice, incr, 0, 0);
    assert.equal(nothing.num_score, 2);

    const decr = await board({ operator: "decr" });
    const started = await write(alice, decr, 10, 1);
    assert.deepEqual([started.score, started.subscore], [0, 0], "a decrement starts at 0");
    await rpc("rust_leaderboard_record_write", { id: decr, owner_id: alice.user_id, score: 20, subscore: 5, operator: "set" });
    const less = await write(alice, decr, 7, 1);
    assert.deepEqual([less.score, less.subscore], [13, 4]);
    const floor = await write(alice, decr, 100, 100);
    assert.deepEqual([floor.score, floor.subscore], [0, 0], "never below zero");
  });

  test("ties rank by subscore, then by owner id", async () => {
    const id = await board();
    const users = [await user(), await user(), await user()];
    for (const u of users) {
      await write(u, id, 10, 1);
    }
    const top = await user();
    await write(top, id, 10, 2);
    const list = await client.listLeaderboardRecords(top, id, undefined, 10);
    const tied = users.map((u) => u.user_id).sort().reverse();
    assert.deepEqual(rows(list.records), [
      [top.user_id, 10, 2, 1],
      ...tied.map((owner, i) => [owner, 10, 1, i + 2]),
    ]);
    // The rank a write answers with is the listing's.
    const again = await write(users[0], id, 10, 1);
    assert.equal(again.rank, tied.indexOf(users[0].user_id) + 2);
  });

  test("pages go forward and back with cursors, ranks and owner records", async () => {
    const id = await board();
    const players = [];
    for (let i = 0; i < 7; i += 1) {
      const u = await user();
      await write(u, id, 100 - i * 10);
      players.push(u.user_id);
    }
    const viewer = await user();
    const first = await client.listLeaderboardRecords(viewer, id, [players[6], viewer.user_id], 3);
    assert.deepEqual(first.records.map((r) => [r.owner_id, r.rank]), players.slice(0, 3).map((p, i) => [p, i + 1]));
    assert.equal(first.prev_cursor, undefined);
    assert.ok(first.next_cursor);
    assert.deepEqual(first.owner_records.map((r) => [r.owner_id, r.score, r.rank]), [[players[6], 40, 7]]);
    const second = await client.listLeaderboardRecords(viewer, id, undefined, 3, first.next_cursor);
    assert.deepEqual(second.records.map((r) => [r.owner_id, r.rank]), players.slice(3, 6).map((p, i) => [p, i + 4]));
    assert.ok(second.prev_cursor);
    const third = await client.listLeaderboardRecords(viewer, id, undefined, 3, second.next_cursor);
    assert.deepEqual(third.records.map((r) => [r.owner_id, r.rank]), [[players[6], 7]]);
    assert.equal(third.next_cursor, undefined);
    // Back from the second page: the first again, with the same ranks.
    const back = await client.listLeaderboardRecords(viewer, id, undefined, 3, second.prev_cursor);
    assert.deepEqual(back.records.map((r) => [r.owner_id, r.rank]), players.slice(0, 3).map((p, i) => [p, i + 1]));
    assert.equal(back.prev_cursor, undefined);
    assert.ok(back.next_cursor);
    const forward = await client.listLeaderboardRecords(viewer, id, undefined, 3, back.next_cursor);
    assert.deepEqual(forward.records.map((r) => r.owner_id), players.slice(3, 6));
    // The default limit is 1.
    const one = await client.listLeaderboardRecords(viewer, id);
    assert.deepEqual(one.records.map((r) => r.owner_id), [players[0]]);
    // A cursor of another board is refused.
    const other = await board();
    await rejectsWith(client.listLeaderboardRecords(viewer, other, undefined, 3, first.next_cursor), 400, 3, "Cursor is invalid or expired.");
    await rejectsWith(client.listLeaderboardRecords(viewer, id, undefined, 3, "bm90IGEgY3Vyc29y"), 400, 3, "Cursor is invalid or expired.");
  });

  test("the window around an owner keeps the owner near the middle", async () => {
    const id = await board();
    const players = [];
    for (let i = 0; i < 9; i += 1) {
      const u = await user();
      await write(u, id, 1000 - i);
      players.push(u);
    }
    const middle = players[4];
    const around = await client.listLeaderboardRecordsAroundOwner(middle, id, middle.user_id, 3);
    assert.deepEqual(around.records.map((r) => [r.owner_id, r.rank]), [3, 4, 5].map((i) => [players[i].user_id, i + 1]));
    const top = await client.listLeaderboardRecordsAroundOwner(middle, id, players[0].user_id, 3);
    assert.deepEqual(top.records.map((r) => r.rank), [1, 2, 3]);
    const bottom = await client.listLeaderboardRecordsAroundOwner(middle, id, players[8].user_id, 3);
    assert.deepEqual(bottom.records.map((r) => r.rank), [7, 8, 9]);
    const alone = await client.listLeaderboardRecordsAroundOwner(middle, id, middle.user_id);
    assert.deepEqual(alone.records.map((r) => [r.owner_id, r.rank]), [[middle.user_id, 5]]);
    // Someone without a record: nothing around them.
    const nobody = await user();
    const none = await client.listLeaderboardRecordsAroundOwner(nobody, id, nobody.user_id, 5);
    assert.deepEqual(none.records, []);
    // Server code sees the same window.
    const haystack = await rpc("rust_leaderboard_records_haystack", { id, owner_id: middle.user_id, limit: 3 });
    assert.deepEqual(haystack.records.map((r) => r.rank), ["4", "5", "6"]);
    await rejectsWith(client.listLeaderboardRecordsAroundOwner(middle, id, "not-a-uuid", 3), 400, 3, "Invalid owner ID provided.");
    await rejectsWith(client.listLeaderboardRecordsAroundOwner(middle, id, middle.user_id, 101), 400, 3, "Invalid limit - limit must be between 1 and 100.");
  });

  test("authoritative boards take scores only from server code; unknown boards are 404", async () => {
    const id = await board({ authoritative: true });
    const alice = await user();
    await rejectsWith(write(alice, id, 10), 403, 7, "Leaderboard only allows authoritative score submissions.");
    const written = await rpc("rust_leaderboard_record_write", { id, owner_id: alice.user_id, username: "server-set", score: 10 });
    assert.deepEqual([written.score, written.rank, written.username], ["10", "1", "server-set"]);
    await rejectsWith(deleteRecord(alice, id), 403, 7, "Leaderboard only allows authoritative score deletions.");
    const listed = await client.listLeaderboardRecords(alice, id, [alice.user_id], 10);
    assert.equal(listed.records.length, 1);
    await rpc("rust_leaderboard_record_delete", { id, owner_id: alice.user_id });
    const emptied = await client.listLeaderboardRecords(alice, id, undefined, 10);
    assert.deepEqual(emptied.records, []);

    await rejectsWith(write(alice, "no-such-board", 1), 404, 5, "Leaderboard not found.");
    await rejectsWith(client.listLeaderboardRecords(alice, "no-such-board"), 404, 5, "Leaderboard not found.");
    await rejectsWith(deleteRecord(alice, "no-such-board"), 404, 5, "Leaderboard not found.");
    await rejectsWith(client.listLeaderboardRecordsAroundOwner(alice, "no-such-board", alice.user_id), 404, 5, "Leaderboard not found.");
  });

  test("a player deletes their own record and the ranks close up", async () => {
    const id = await board();
    const [alice, bob, carol] = [await user(), await user(), await user()];
    await write(alice, id, 30);
    await write(bob, id, 20);
    await write(carol, id, 10);
    await deleteRecord(alice, id);
    const list = await client.listLeaderboardRecords(bob, id, undefined, 10);
    assert.deepEqual(list.records.map((r) => [r.owner_id, r.rank]), [[bob.user_id, 1], [carol.user_id, 2]]);
    const again = await write(carol, id, 5);
    assert.equal(again.rank, 2);
    // Deleting what is not there is fine.
    await deleteRecord(alice, id);
  });

  test("bad input is refused and writes nothing", async () => {
    const id = await board();
    const alice = await user();
    await rejectsWith(write(alice, id, 1, 0, "not json"), 400, 3, "Metadata value must be JSON, if provided.");
    await rejectsWith(client.listLeaderboardRecords(alice, id, undefined, 0), 400, 3, "Invalid limit - limit must be between 1 and 100.");
    await rejectsWith(client.listLeaderboardRecords(alice, id, undefined, 101), 400, 3, "Invalid limit - limit must be between 1 and 100.");
    await rejectsWith(client.listLeaderboardRecords(alice, id, ["nope"], 10), 400, 3, "One or more owner IDs are invalid.");
    const list = await client.listLeaderboardRecords(alice, id, undefined, 10);
    assert.deepEqual(list.records, []);

    const badCron = await rpcFailure("rust_leaderboard_create", { id: uniqueName("lb"), reset_schedule: "every day" }, 400);
    assert.match(badCron, /expects reset schedule to be a valid CRON expression/);
    const badOperator = await rpcFailure("rust_leaderboard_create", { id: uniqueName("lb"), operator: "max" }, 400);
    assert.equal(badOperator, "expects operator to be 'best', 'set', 'decr' or 'incr'");
    const badSort = await rpcFailure("rust_leaderboard_create", { id: uniqueName("lb"), sort_order: "up" }, 400);
    assert.equal(badSort, "expects sort order to be 'asc' or 'desc'");
    assert.equal(await rpcFailure("rust_leaderboard_create", { id: "" }, 400), "expects a leaderboard ID string");
    const negative = await rpcFailure("rust_leaderboard_record_write", { id, owner_id: alice.user_id, score: -1 }, 400);
    assert.equal(negative, "expects score to be >= 0");
    const badOwner = await rpcFailure("rust_leaderboard_record_write", { id, owner_id: "x", score: 1 }, 400);
    assert.equal(badOwner, "expects owner ID to be a valid identifier");
    const unknown = await rpcFailure("rust_leaderboard_record_write", { id: "no-such-board", owner_id: alice.user_id, score: 1 }, 404);
    assert.match(unknown, /leaderboard not found/);
  });

  test("server code lists, gets and deletes boards", async () => {
    const ids = [await board({ metadata: { season: 3 } }), await board({ reset_schedule: "0 0 * * 1", sort_order: "asc", operator: "incr" })];
    const got = await rpc("rust_leaderboards_get_id", { ids: [...ids, "no-such-board"] });
    assert.deepEqual(got.leaderboards.map((b) => b.id), ids);
    const [plain, weekly] = got.leaderboards;
    assert.equal(plain.sort_order, 1);
    assert.equal(plain.operator, 1, "BEST, as a number (Nakama's JSON writes enum numbers)");
    assert.deepEqual(JSON.parse(plain.metadata), { season: 3 });
    assert.equal(plain.next_reset, undefined);
    assert.equal(weekly.sort_order, undefined, "ascending is 0, left out");
    assert.equal(weekly.operator, 3, "INCREMENT");
    const now = Date.now() / 1000;
    assert.ok(weekly.next_reset > now && weekly.next_reset <= now + 7 * 86400, JSON.stringify(weekly));
    assert.equal(new Date(weekly.next_reset * 1000).getUTCDay(), 1, "a Monday");
    // Scores on a board that resets expire at the next reset.
    const alice = await user();
    const record = await write(alice, ids[1], 3);
    assert.equal(Date.parse(record.expiry_time) / 1000, weekly.next_reset);

    // Every board, a page at a time.
    const seen = [];
    let cursor = "";
    for (let page = 0; page < 100; page += 1) {
      const list = await rpc("rust_leaderboard_list", { limit: 2, cursor });
      assert.ok(list.leaderboards.length <= 2);
      seen.push(...list.leaderboards.map((b) => b.id));
      if (!list.cursor) {
        break;
      }
      cursor = list.cursor;
    }
    for (const id of ids) {
      assert.ok(seen.includes(id), `${id} listed`);
    }
    assert.equal(new Set(seen).size, seen.length, "no board twice");
    const badLimit = await rpcFailure("rust_leaderboard_list", { limit: 0 }, 400);
    assert.equal(badLimit, "limit must be 1-100");

    // Creating again changes nothing; deleting removes the board and its records.
    await rpc("rust_leaderboard_create", { id: ids[0], sort_order: "asc" });
    const same = await rpc("rust_leaderboards_get_id", { ids: [ids[0]] });
    assert.equal(same.leaderboards[0].sort_order, 1);
    await write(alice, ids[0], 5);
    await rpc("rust_leaderboard_delete", { id: ids[0] });
    await rejectsWith(client.listLeaderboardRecords(alice, ids[0]), 404, 5, "Leaderboard not found.");
    await rpc("rust_leaderboard_create", { id: ids[0] });
    const fresh = await client.listLeaderboardRecords(alice, ids[0], undefined, 10);
    assert.deepEqual(fresh.records, [], "a board made again starts empty");
  });

  test("server code lists records with owners only, or a page", async () => {
    const id = await board();
    const [alice, bob] = [await user(), await user()];
    await write(alice, id, 2);
    await write(bob, id, 1);
    const owners = await rpc("rust_leaderboard_records_list", { id, owner_ids: [bob.user_id] });
    assert.deepEqual(owners.records, undefined);
    assert.deepEqual(owners.owner_records.map((r) => [r.owner_id, r.rank]), [[bob.user_id, "2"]]);
    const page = await rpc("rust_leaderboard_records_list", { id, limit: 1 });
    assert.deepEqual(page.records.map((r) => r.owner_id), [alice.user_id]);
    const next = await rpc("rust_leaderboard_records_list", { id, limit: 1, cursor: page.next_cursor });
    assert.deepEqual(next.records.map((r) => [r.owner_id, r.rank]), [[bob.user_id, "2"]]);
  });

  test("a board with a short schedule resets: the ended period stops counting and the callback runs", async () => {
    // Seven fields: seconds first. Every three seconds.
    const id = await board({ reset_schedule: "*/3 * * * * * *" });
    const alice = await user();
    const first = await write(alice, id, 10);
    const expiry = Date.parse(first.expiry_time) / 1000;
    assert.ok(expiry > Date.now() / 1000 - 1 && expiry <= Date.now() / 1000 + 3, first.expiry_time);
    while (Date.now() / 1000 < expiry + 0.2) {
      await sleep(100);
    }
    const now = await client.listLeaderboardRecords(alice, id, [alice.user_id], 10);
    assert.deepEqual(now.records, []);
    assert.deepEqual(now.owner_records, []);
    // The ended period can still be read by its expiry time.
    const ended = await client.listLeaderboardRecords(alice, id, undefined, 10, undefined, String(expiry));
    assert.deepEqual(rows(ended.records), [[alice.user_id, 10, 0, 1]]);
    const fresh = await write(alice, id, 4);
    assert.deepEqual([fresh.score, fresh.num_score, fresh.rank], [4, 1, 1]);
    assert.ok(Date.parse(fresh.expiry_time) / 1000 > expiry);
    // The module's reset callback saw the reset, with the board as it was just before.
    const seen = await until(async () => {
      const { resets } = await rpc("rust_leaderboard_resets", {});
      return resets.find((r) => r.id === id && r.reset === expiry);
    }, "the reset callback");
    assert.equal(seen.next_reset, expiry);
  });

  test("a reset missed while the server was stopped runs when it starts again", { skip: dbMode === "postgres" && "the data directory is SQLite's" }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tavern-lb-restart-"));
    try {
      const first = await startServer({ label: "leaderboards-restart-1", args: ["--data_dir", dir] });
      const firstClient = makeClient(first);
      // Once a minute, a few seconds from now: it passes while the server is stopped.
      const at = Math.floor(Date.now() / 1000) + 4;
      const id = uniqueName("lb");
      await firstClient.rpcHttpKey(HTTP_KEY, "rust_leaderboard_create", { id, reset_schedule: `${at % 60} * * * * * *` });
      await first.stop();
      while (Date.now() / 1000 < at + 1) {
        await sleep(100);
      }
      const second = await startServer({ label: "leaderboards-restart-2", args: ["--data_dir", dir] });
      try {
        const secondClient = makeClient(second);
        const seen = await until(async () => {
          const { resets } = (await secondClient.rpcHttpKey(HTTP_KEY, "rust_leaderboard_resets", {})).payload;
          return resets.find((r) => r.id === id);
        }, "the missed reset");
        assert.equal(seen.reset, at);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("deleting an account deletes its records and closes the ranks up", async () => {
    const id = await board();
    const [alice, bob] = [await user(), await user()];
    await write(alice, id, 20);
    await write(bob, id, 10);
    await client.deleteAccount(alice);
    const list = await client.listLeaderboardRecords(bob, id, undefined, 10);
    assert.deepEqual(rows(list.records), [[bob.user_id, 10, 0, 1]]);
  });
});
