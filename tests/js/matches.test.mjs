// Authoritative matches with the official client: matches created by RPC, join attempts and
// rejections, the loop echoing, kicks, label updates seen by listing queries, matches ending,
// a failing handler isolated to its own match, and shutdown calling terminate.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { frameOrder, makeClient, nextEvent, request, shutdownDuringMatch, text } from "./lib/client.mjs";
import { sleep, startServer, uniqueName } from "./lib/server.mjs";

describe("authoritative matches", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({ label: "matches" });
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

  async function echoMatch(session, params = {}) {
    const res = await client.rpc(session, "create_echo_match", params);
    assert.match(res.payload.match_id, /^[0-9a-f-]{36}\.nakama$/);
    return res.payload.match_id;
  }

  test("the join answer comes before the joiner's own presence event (Nakama's order)", async () => {
    const a = await player();
    try {
      const matchId = await echoMatch(a.session);
      const frames = frameOrder(a.socket);
      await a.socket.joinMatch(matchId);
      await sleep(300);
      assert.deepEqual(frames.slice(0, 2), ["answer", "presence"]);
    } finally {
      a.socket.disconnect(false);
    }
  });

  test("two players join a match created by an RPC and the loop echoes their messages", async () => {
    const a = await player();
    const b = await player();
    try {
      const matchId = await echoMatch(a.session, { label: '{"mode":"echo"}' });
      const ja = await a.socket.joinMatch(matchId);
      assert.equal(ja.match_id, matchId);
      assert.equal(ja.authoritative, true);
      assert.equal(ja.label, '{"mode":"echo"}');
      assert.equal(ja.size ?? 0, 0);
      assert.equal(ja.self.user_id, a.session.user_id);

      const aSeesB = nextEvent(a.socket, "onmatchpresence", (e) =>
        e.joins?.find((p) => p.user_id === b.session.user_id),
      );
      const jb = await b.socket.joinMatch(matchId);
      assert.equal(jb.size, 1);
      assert.equal(jb.presences[0].user_id, a.session.user_id);
      await aSeesB;

      const bGets = nextEvent(b.socket, "onmatchdata");
      const aGets = nextEvent(a.socket, "onmatchdata");
      await a.socket.sendMatchState(matchId, 1, "hello all");
      for (const got of [await aGets, await bGets]) {
        assert.equal(got.match_id, matchId);
        assert.equal(Number(got.op_code), 1);
        assert.equal(text(got.data), "hello all");
        assert.equal(got.presence.user_id, a.session.user_id);
      }

      let aGotPrivate = false;
      a.socket.onmatchdata = () => (aGotPrivate = true);
      const bPrivate = nextEvent(b.socket, "onmatchdata");
      await b.socket.sendMatchState(matchId, 2, "just me");
      assert.equal(text((await bPrivate).data), "just me");
      await sleep(300);
      assert.equal(aGotPrivate, false);

      const deferred = nextEvent(b.socket, "onmatchdata");
      await a.socket.sendMatchState(matchId, 8, "later");
      assert.equal(text((await deferred).data), "later");

      const aSeesLeave = nextEvent(a.socket, "onmatchpresence", (e) =>
        e.leaves?.find((p) => p.user_id === b.session.user_id),
      );
      await b.socket.leaveMatch(matchId);
      await aSeesLeave;
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("the handler's rejection reason reaches the client", async () => {
    const a = await player();
    try {
      const matchId = await echoMatch(a.session);
      await assert.rejects(a.socket.joinMatch(matchId, undefined, { reject: "no seats left" }), (e) => {
        assert.equal(e.code, 5);
        assert.equal(e.message, "no seats left");
        return true;
      });
      await assert.rejects(a.socket.joinMatch(`${matchId.split(".")[0]}.othernode`), (e) => {
        assert.equal(e.code, 4);
        assert.equal(e.message, "Match not found");
        return true;
      });
    } finally {
      a.socket.disconnect(false);
    }
  });

  test("a kicked player leaves the match and the others see it", async () => {
    const a = await player();
    const b = await player();
    try {
      const matchId = await echoMatch(a.session);
      await a.socket.joinMatch(matchId);
      await b.socket.joinMatch(matchId);
      const aSeesLeave = nextEvent(a.socket, "onmatchpresence", (e) =>
        e.leaves?.find((p) => p.user_id === b.session.user_id),
      );
      await b.socket.sendMatchState(matchId, 4, "kick me");
      await aSeesLeave;
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("a label update is found by a listing query within a second", async () => {
    const a = await player();
    try {
      const level = 10 + Math.floor(Math.random() * 1000);
      const mode = uniqueName("mode");
      const matchId = await echoMatch(a.session);
      await a.socket.joinMatch(matchId);
      await a.socket.sendMatchState(matchId, 3, JSON.stringify({ mode, level, open: true }));
      await sleep(1200);
      const found = await client.listMatches(a.session, 10, true, undefined, 0, 10, `+label.mode:${mode} +label.level:>=10 +label.open:T`);
      assert.equal(found.matches?.length, 1, JSON.stringify(found));
      assert.equal(found.matches[0].match_id, matchId);
      assert.equal(found.matches[0].size, 1);
      assert.equal(found.matches[0].handler_name, "echo");
      assert.equal(found.matches[0].tick_rate, 10);
      const none = await client.listMatches(a.session, 10, true, undefined, 0, 10, `+label.mode:${mode} -label.open:T`);
      assert.equal(none.matches, undefined);
      const exact = await client.listMatches(a.session, 10, true, JSON.stringify({ mode, level, open: true }));
      assert.equal(exact.matches?.[0]?.match_id, matchId);
    } finally {
      a.socket.disconnect(false);
    }
  });

  test("listing validation uses Nakama's messages", async () => {
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    const limit = await request(server, "/v2/match?limit=1000", { bearer: session.token });
    assert.equal(limit.status, 400);
    assert.deepEqual(limit.json, { code: 3, message: "Invalid limit - limit must be between 1 and 100." });
    const query = await request(server, "/v2/match?authoritative=false&query=x", { bearer: session.token });
    assert.equal(query.json.message, "Query filtering is not supported for non-authoritative matches.");
    const sizes = await request(server, "/v2/match?min_size=3&max_size=1", { bearer: session.token });
    assert.equal(sizes.json.message, "Maximum size must be greater than or equal to minimum size when both are specified.");
  });

  test("a match that ends itself disappears", async () => {
    const a = await player();
    try {
      const matchId = await echoMatch(a.session);
      await a.socket.joinMatch(matchId);
      await a.socket.sendMatchState(matchId, 5, "end");
      await sleep(500);
      await assert.rejects(a.socket.joinMatch(matchId), (e) => e.code === 4);
    } finally {
      a.socket.disconnect(false);
    }
  });

  test("a failing handler ends its own match only; other matches keep ticking", async () => {
    const a = await player();
    const b = await player();
    try {
      const broken = await echoMatch(a.session);
      const healthy = await echoMatch(b.session);
      await a.socket.joinMatch(broken);
      await b.socket.joinMatch(healthy);
      const aDisconnected = new Promise((resolve) => (a.socket.ondisconnect = resolve));
      await a.socket.sendMatchState(broken, 7, "panic");
      await aDisconnected;
      for (let i = 0; i < 3; i++) {
        const echoed = nextEvent(b.socket, "onmatchdata");
        await b.socket.sendMatchState(healthy, 1, `still here ${i}`);
        assert.equal(text((await echoed).data), `still here ${i}`);
      }
      const erroring = await echoMatch(b.session);
      const c = await player();
      await c.socket.joinMatch(erroring);
      const cDisconnected = new Promise((resolve) => (c.socket.ondisconnect = resolve));
      await c.socket.sendMatchState(erroring, 6, "error");
      await cDisconnected;
      const echoed = nextEvent(b.socket, "onmatchdata");
      await b.socket.sendMatchState(healthy, 1, "after the error");
      assert.equal(text((await echoed).data), "after the error");
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("the documentation's ping-pong match answers the sender", async () => {
    const a = await player();
    try {
      const res = await client.rpc(a.session, "create_match_rpc", {});
      const matchId = res.payload.match_id;
      await a.socket.joinMatch(matchId);
      const pong = nextEvent(a.socket, "onmatchdata");
      await a.socket.sendMatchState(matchId, 1, "ping");
      assert.equal(text((await pong).data), "ping");
    } finally {
      a.socket.disconnect(false);
    }
  });

  test("find_or_create_match reuses an open lobby of the same mode", async () => {
    const a = await player();
    try {
      const mode = uniqueName("duel");
      const first = await client.rpc(a.session, "find_or_create_match", { mode });
      await a.socket.joinMatch(first.payload.match_id);
      await sleep(1100);
      const second = await client.rpc(a.session, "find_or_create_match", { mode });
      assert.equal(second.payload.match_id, first.payload.match_id);
      const other = await client.rpc(a.session, "find_or_create_match", { mode: `${mode}x` });
      assert.notEqual(other.payload.match_id, first.payload.match_id);
    } finally {
      a.socket.disconnect(false);
    }
  });
});

describe("graceful shutdown", () => {
  test("SIGTERM calls terminate; players receive its broadcast; the server exits 0", async () => {
    const server = await startServer({ label: "shutdown", args: ["--shutdown_grace_sec", "2"] });
    const { notice, exit } = await shutdownDuringMatch(server, "create_echo_match");
    assert.deepEqual(notice, { grace_seconds: 2 });
    assert.equal(exit.code, 0, JSON.stringify(exit));
  });
});
