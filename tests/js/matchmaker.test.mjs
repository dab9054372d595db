// The matchmaker with the official client, on a server that runs a pass every second. The
// tic-tac-toe module's matched hook puts pairs of tic-tac-toe tickets (property game=tictactoe)
// into an authoritative match; every other group gets the default, a relayed-match token.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { makeClient, request } from "./lib/client.mjs";
import { sleep, startServer, uniqueName } from "./lib/server.mjs";

const WAIT_MS = 8000;

function matched(socket, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not matched within ${ms} ms`)), ms);
    socket.onmatchmakermatched = (m) => {
      clearTimeout(timer);
      resolve(m);
    };
  });
}

describe("matchmaker", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({ label: "matchmaker", args: ["--matchmaker.interval_sec", "1"] });
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

  test("two tic-tac-toe tickets are matched into an authoritative match created by the hook", async () => {
    const mode = uniqueName("m");
    const [a, b] = [await player(), await player()];
    try {
      const got = [matched(a.socket), matched(b.socket)];
      const props = { mode, game: "tictactoe" };
      const ta = await a.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, props);
      const tb = await b.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, props);
      assert.match(ta.ticket, /^[0-9a-f-]{36}$/);
      const [ma, mb] = await Promise.all(got);
      assert.equal(ma.ticket, ta.ticket);
      assert.equal(mb.ticket, tb.ticket);
      assert.ok(ma.match_id?.endsWith(".nakama"), JSON.stringify(ma));
      assert.equal(ma.match_id, mb.match_id);
      assert.equal(ma.users.length, 2);
      assert.equal(ma.self.presence.user_id, a.session.user_id);
      assert.equal(ma.self.string_properties.mode, mode);
      const joined = await a.socket.joinMatch(ma.match_id);
      assert.equal(joined.authoritative, true);
      const stats = await request(server, "/v2/matchmaker/stats", { bearer: a.session.token });
      assert.equal(stats.status, 200);
      assert.ok(stats.json.completions?.length >= 2, JSON.stringify(stats.json));
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("a pair of other tickets gets a relayed token: tic-tac-toe's hook leaves it alone", async () => {
    const mode = uniqueName("m");
    const [a, b] = [await player(), await player()];
    try {
      const got = [matched(a.socket), matched(b.socket)];
      await a.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, { mode });
      await b.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, { mode });
      const [ma, mb] = await Promise.all(got);
      assert.ok(ma.token, JSON.stringify(ma));
      assert.equal(ma.match_id, undefined);
      assert.equal(mb.token, ma.token);
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("three players with min 2 max 3 get one relayed token and can join it", async () => {
    const mode = uniqueName("m");
    const players = [await player(), await player(), await player()];
    try {
      const got = players.map((p) => matched(p.socket));
      for (const p of players) {
        await p.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 3, { mode });
      }
      const results = await Promise.all(got);
      const token = results[0].token;
      assert.ok(token, JSON.stringify(results[0]));
      assert.ok(results.every((r) => r.token === token && r.users.length === 3));
      const joined = await players[0].socket.joinMatch(undefined, token);
      assert.match(joined.match_id, /^[0-9a-f-]{36}\.$/);
      const second = await players[1].socket.joinMatch(undefined, token);
      assert.equal(second.match_id, joined.match_id);
      assert.equal(second.size, 1);
    } finally {
      for (const p of players) p.socket.disconnect(false);
    }
  });

  test("queries that do not match each other stay apart", async () => {
    const [a, b] = [await player(), await player()];
    try {
      let matchedAny = false;
      a.socket.onmatchmakermatched = () => (matchedAny = true);
      b.socket.onmatchmakermatched = () => (matchedAny = true);
      const region = uniqueName("r");
      await a.socket.addMatchmaker(`+properties.region:${region}eu`, 2, 2, { region: `${region}eu` });
      await b.socket.addMatchmaker(`+properties.region:${region}us`, 2, 2, { region: `${region}us` });
      await sleep(2500);
      assert.equal(matchedAny, false);
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("count multiple: four tickets of min 2 max 4 multiple 2 make one group of four", async () => {
    const mode = uniqueName("m");
    const players = [await player(), await player(), await player(), await player()];
    try {
      const got = players.map((p) => matched(p.socket));
      // nakama-js 2.8.0's addMatchmaker has no count multiple: send the message itself.
      for (const p of players) {
        await p.socket.send({
          matchmaker_add: { min_count: 2, max_count: 4, query: `+properties.mode:${mode}`, string_properties: { mode }, count_multiple: 2 },
        });
      }
      const results = await Promise.all(got);
      assert.ok(results.every((r) => r.users.length === 4), JSON.stringify(results.map((r) => r.users.length)));
    } finally {
      for (const p of players) p.socket.disconnect(false);
    }
  });

  test("removal and disconnect take tickets out", async () => {
    const mode = uniqueName("m");
    const [a, b, c] = [await player(), await player(), await player()];
    try {
      let aMatched = false;
      a.socket.onmatchmakermatched = () => (aMatched = true);
      const ta = await a.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, { mode });
      await a.socket.removeMatchmaker(ta.ticket);
      await b.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, { mode });
      b.socket.disconnect(false);
      await sleep(200);
      let cMatched = false;
      c.socket.onmatchmakermatched = () => (cMatched = true);
      await c.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, { mode });
      await sleep(2500);
      assert.equal(aMatched, false);
      assert.equal(cMatched, false);
      await assert.rejects(a.socket.removeMatchmaker(ta.ticket), (e) => {
        assert.equal(e.code, 3);
        assert.equal(e.message, "Matchmaker ticket not found");
        return true;
      });
    } finally {
      a.socket.disconnect(false);
      c.socket.disconnect(false);
    }
  });

  test("bad counts and queries are rejected with Nakama's messages", async () => {
    const a = await player();
    try {
      await assert.rejects(a.socket.addMatchmaker("*", 1, 2), (e) => e.code === 3 && e.message === "Invalid minimum count, must be >= 2");
      await assert.rejects(a.socket.addMatchmaker("*", 3, 2), (e) => e.code === 3 && e.message === "Invalid maximum count, must be >= minimum count");
      await assert.rejects(
        a.socket.send({ matchmaker_add: { min_count: 2, max_count: 4, query: "*", count_multiple: 3 } }),
        (e) => e.code === 3 && e.message === "Invalid count multiple for minimum count, must divide",
      );
      await assert.rejects(a.socket.addMatchmaker("+properties.x:/[/", 2, 2), (e) => e.code === undefined && e.message === "Error adding to matchmaker");
      for (let i = 0; i < 3; i++) await a.socket.addMatchmaker("+properties.never:x", 2, 2);
      await assert.rejects(a.socket.addMatchmaker("*", 2, 2), (e) => e.message === "Error adding to matchmaker");
    } finally {
      a.socket.disconnect(false);
    }
  });
});
