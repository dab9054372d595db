// Tournaments end to end: created by server code (the bundled Rust module `leaderboards_api`,
// called with the HTTP key, and Lua's `nk.tournament_*` from tests/lua/leaderboards.lua),
// joined, written, listed and paged by the official client over REST; joining, the size limit,
// the limit on submissions and extra attempts, authoritative tournaments, periods not open yet,
// the end and reset callbacks (Rust and Lua), listing filters and bad input.
// Runs on SQLite, or PostgreSQL with TAVERN_TEST_DB.
// tavern-test: postgres

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { makeClient, rejectsWith } from "./lib/client.mjs";
import { repoRoot, sleep, startServer, uniqueName } from "./lib/server.mjs";

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

describe("tournaments", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({ label: "tournaments", args: ["--session.token_expiry_sec", "7200"] });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  const rpc = async (id, input) => (await client.rpcHttpKey(HTTP_KEY, id, input)).payload;
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
  async function tournament(settings = {}) {
    const id = uniqueName("t");
    await rpc("rust_tournament_create", { id, duration: 3600, ...settings });
    return id;
  }
  const write = (session, id, score, subscore = 0) => client.writeTournamentRecord(session, id, { score, subscore });

  test("joining creates a score-0 record; writing needs it when the tournament says so", async () => {
    const id = await tournament({ join_required: true, max_num_score: 2 });
    const alice = await user();
    await rejectsWith(write(alice, id, 10), 400, 9, "Must join tournament before attempting to write value.");
    assert.equal(await client.joinTournament(alice, id), true);
    const joined = await client.listTournamentRecords(alice, id, undefined, 10);
    assert.deepEqual(joined.records.map((r) => [r.owner_id, r.score, r.num_score, r.rank]), [[alice.user_id, 0, 0, 1]]);
    // Joining again changes nothing.
    await client.joinTournament(alice, id);
    const first = await write(alice, id, 10);
    assert.deepEqual([first.score, first.num_score, first.max_num_score, first.rank], [10, 1, 2, 1]);
    const second = await write(alice, id, 20);
    assert.deepEqual([second.score, second.num_score], [20, 2]);
    // Past the limit, a tournament players join answers with the record, unchanged.
    const third = await write(alice, id, 30);
    assert.deepEqual([third.score, third.num_score], [20, 2]);
  });

  test("max_num_score refuses submissions past the limit; add_attempt gives more", async () => {
    const id = await tournament({ max_num_score: 1 });
    const alice = await user();
    const first = await write(alice, id, 5);
    assert.deepEqual([first.score, first.num_score, first.max_num_score], [5, 1, 1]);
    await rejectsWith(write(alice, id, 50), 400, 9, "Reached allowed max number of score attempts.");
    const kept = await client.listTournamentRecords(alice, id, [alice.user_id], 10);
    assert.equal(kept.records[0].score, 5, "nothing written");
    await rpc("rust_tournament_add_attempt", { id, owner_id: alice.user_id, count: 1 });
    const again = await write(alice, id, 50);
    assert.deepEqual([again.score, again.num_score, again.max_num_score], [50, 2, 2]);
  });

  test("max_size limits the players; size counts only then", async () => {
    const id = await tournament({ join_required: true, max_size: 1 });
    const [alice, bob] = [await user(), await user()];
    await client.joinTournament(alice, id);
    await rejectsWith(client.joinTournament(bob, id), 400, 3, "Tournament cannot be joined as it has reached its max size.");
    const open = await tournament();
    await write(alice, open, 1);
    const { tournaments } = await rpc("rust_tournaments_get_id", { ids: [id, open] });
    const [full, unlimited] = tournaments;
    assert.equal(full.size, 1);
    assert.equal(full.max_size, 1);
    assert.equal(full.can_enter, undefined, "false, left out");
    assert.equal(unlimited.size, undefined, "0, left out");
    assert.equal(unlimited.can_enter, true);
    // A tournament without joining counts its writers against max_size.
    const small = await tournament({ max_size: 1 });
    await write(alice, small, 1);
    await rejectsWith(write(bob, small, 1), 400, 9, "Tournament has reached max size.");
  });

  test("authoritative tournaments, periods not open yet and unknown ids are refused", async () => {
    const alice = await user();
    const authoritative = await tournament({ authoritative: true });
    await rejectsWith(write(alice, authoritative, 1), 403, 7, "Tournament only allows authoritative score submissions.");
    const record = await rpc("rust_tournament_record_write", { id: authoritative, owner_id: alice.user_id, score: 7 });
    assert.deepEqual([record.score, record.rank], ["7", "1"]);

    const later = await tournament({ start_time: Math.floor(Date.now() / 1000) + 3600 });
    await rejectsWith(write(alice, later, 1), 400, 9, "Tournament is not active and cannot accept new scores.");
    // Joining is open until the period ends, before it starts too (as Nakama); not after.
    const joinLater = await tournament({ start_time: Math.floor(Date.now() / 1000) + 3600, join_required: true });
    assert.equal(await client.joinTournament(alice, joinLater), true);
    const now = Math.floor(Date.now() / 1000);
    const over = await tournament({ start_time: now - 100, end_time: now - 50, duration: 10, join_required: true });
    await rejectsWith(client.joinTournament(alice, over), 400, 3, "Tournament is not active and cannot accept new joins.");
    await rejectsWith(client.listTournamentRecords(alice, over), 404, 5, "Tournament has ended.");

    await rejectsWith(write(alice, "no-such-tournament", 1), 404, 5, "Tournament not found.");
    await rejectsWith(client.joinTournament(alice, "no-such-tournament"), 404, 5, "Tournament not found.");
    await rejectsWith(client.listTournamentRecords(alice, "no-such-tournament"), 404, 5, "Tournament not found.");
    // A leaderboard is not a tournament.
    const board = uniqueName("lb");
    await rpc("rust_leaderboard_create", { id: board });
    await rejectsWith(write(alice, board, 1), 404, 5, "Tournament not found.");
    const clash = await rpcFailure("rust_tournament_create", { id: board, duration: 60 }, 400);
    assert.match(clash, /cannot create tournament as leaderboard is already in use/);
  });

  test("bad settings are refused at create", async () => {
    const cases = [
      [{ duration: 0 }, "duration must be > 0"],
      [{ duration: 10, reset_schedule: "whenever" }, "could not parse reset schedule"],
      [{ duration: 10, category: 200 }, "category must be 0-127"],
      [{ duration: 10, start_time: 2000, end_time: 1000 }, "endTime must be > startTime"],
      [{ duration: 10, max_size: -1 }, "maxSize must be >= 0"],
      [{ duration: 10, operator: "max" }, "'best', 'set', 'decr' or 'incr'"],
    ];
    for (const [settings, message] of cases) {
      const got = await rpcFailure("rust_tournament_create", { id: uniqueName("t"), ...settings }, 400);
      assert.ok(got.includes(message), `${got} should say ${message}`);
    }
  });

  test("listing filters by category and time, pages with a cursor, and shows the period", async () => {
    const category = 90 + Math.floor(Math.random() * 20);
    const ids = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(await tournament({ category, title: `cup ${i}`, description: "weekly", metadata: { prize: i } }));
    }
    const alice = await user();
    const page1 = await client.listTournaments(alice, category, category, undefined, undefined, 2);
    assert.equal(page1.tournaments.length, 2);
    assert.ok(page1.cursor);
    const page2 = await client.listTournaments(alice, category, category, undefined, undefined, 2, page1.cursor);
    const listed = [...page1.tournaments, ...page2.tournaments].map((t) => t.id);
    assert.deepEqual([...listed].sort(), [...ids].sort());
    const t = page1.tournaments[0];
    const now = Date.now() / 1000;
    assert.equal(t.category, category);
    assert.equal(t.description, "weekly");
    assert.equal(t.duration, 3600);
    assert.equal(t.can_enter, true);
    assert.ok(t.start_active <= now && t.end_active > now, JSON.stringify(t));
    await rejectsWith(client.listTournaments(alice, 5, 200), 400, 3, "Tournament category end must be >=0 and <128.");
    await rejectsWith(client.listTournaments(alice, 5, 4), 400, 3, "Tournament category end must be greater than category start.");
    await rejectsWith(client.listTournaments(alice, 0, 127, undefined, undefined, 101), 400, 3, "Limit must be between 1 and 100.");
    // Server code lists the same.
    const fromRust = await rpc("rust_tournament_list", { category_start: category, category_end: category, limit: 10 });
    assert.equal(fromRust.tournaments.length, 3);
  });

  test("records page and the window around an owner works as on leaderboards", async () => {
    const id = await tournament({ sort_order: "asc" });
    const players = [];
    for (let i = 0; i < 5; i += 1) {
      const u = await user();
      await write(u, id, 10 + i);
      players.push(u);
    }
    const page = await client.listTournamentRecords(players[0], id, undefined, 2);
    assert.deepEqual(page.records.map((r) => [r.owner_id, r.rank]), [[players[0].user_id, 1], [players[1].user_id, 2]]);
    const next = await client.listTournamentRecords(players[0], id, undefined, 2, page.next_cursor);
    assert.deepEqual(next.records.map((r) => r.rank), [3, 4]);
    const around = await client.listTournamentRecordsAroundOwner(players[0], id, players[2].user_id, 3);
    assert.deepEqual(around.records.map((r) => r.rank), [2, 3, 4]);
    const fromRust = await rpc("rust_tournament_records_haystack", { id, owner_id: players[4].user_id, limit: 2 });
    assert.deepEqual(fromRust.records.map((r) => r.rank), ["4", "5"]);
  });

  test("a tournament's end and reset run the callbacks, and its records of an ended period stop counting", async () => {
    // A period every 4 seconds, open for 2 of them (seven fields: seconds first).
    const id = await tournament({ duration: 2, reset_schedule: "*/4 * * * * * *" });
    let info;
    // Wait for a period with time left, so the write lands in it.
    await until(async () => {
      [info] = (await rpc("rust_tournaments_get_id", { ids: [id] })).tournaments;
      return info.can_enter && info.end_active - Date.now() / 1000 > 0.8;
    }, "an open period");
    const alice = await user();
    const written = await write(alice, id, 3);
    const expiry = Date.parse(written.expiry_time) / 1000;
    assert.equal(expiry, info.next_reset);
    const ended = await until(async () => {
      const { events } = await rpc("rust_tournament_events", {});
      return events.find((e) => e.id === id && e.kind === "end" && e.end === info.end_active);
    }, "the end callback");
    assert.equal(ended.reset, expiry);
    await rejectsWith(write(alice, id, 4), 400, 9, "Tournament is not active and cannot accept new scores.");
    const reset = await until(async () => {
      const { events } = await rpc("rust_tournament_events", {});
      return events.find((e) => e.id === id && e.kind === "reset" && e.reset === expiry);
    }, "the reset callback");
    assert.equal(reset.end, info.end_active);
    const list = await client.listTournamentRecords(alice, id, undefined, 10);
    assert.deepEqual(list.records, []);
  });
});

// Lua modules replace the bundled Rust callbacks, so Lua runs on a server of its own.
describe("tournaments from Lua", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({
      label: "tournaments-lua",
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
    });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  const rpc = async (id, input) => (await client.rpcHttpKey(HTTP_KEY, id, input)).payload;

  test("Lua creates, joins, writes and lists tournaments and leaderboards, and its callbacks run", async () => {
    const result = await rpc("lua_leaderboards_roundtrip", {});
    // Lua encodes an empty table as `{}`.
    assert.deepEqual(Array.isArray(result.errors) ? result.errors : [], [], JSON.stringify(result));
    assert.equal(result.leaderboard.operator, "increment");
    assert.equal(result.record.score, 15);
    assert.equal(result.record.rank, 1);
    assert.equal(result.tournament.title, "lua cup");
    assert.equal(result.tournament_record.score, 42);
    assert.equal(result.listed, 1);
    // A Lua leaderboard with a short schedule: the Lua reset callback records its reset.
    const seen = await until(async () => {
      const out = await rpc("lua_leaderboard_resets", {});
      return out.resets.length > 0 && out;
    }, "the Lua reset callback");
    assert.ok(seen.resets[0].reset > 0);
  });
});
