// Streams from server code: Lua's nk.stream_* (tests/lua/chat.lua) put sessions on custom
// streams, list and count them, send them stream_data (to all or to some) and raw envelopes,
// kick them and close the stream; members see stream_presence_event for visible joins and
// leaves. Over JSON and protobuf sockets.

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocketAdapterPb } from "@heroiclabs/nakama-js-protobuf";

import { makeClient, nextEvent } from "./lib/client.mjs";
import { repoRoot, startServer, uniqueName } from "./lib/server.mjs";

let server;
let client;

before(async () => {
  server = await startServer({
    label: "streams",
    args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
  });
  client = makeClient(server);
});
after(async () => {
  await server?.stop();
});

for (const format of ["json", "protobuf"]) {
  describe(`streams from Lua (${format})`, () => {
    const sockets = [];
    after(() => {
      for (const s of sockets) {
        s.disconnect(false);
      }
    });

    async function player() {
      const username = uniqueName("u");
      const session = await client.authenticateDevice(uniqueName("dev"), true, username);
      const adapter = format === "protobuf" ? new WebSocketAdapterPb() : undefined;
      const socket = client.createSocket(false, false, adapter);
      await socket.connect(session, false);
      sockets.push(socket);
      return { session, socket, username };
    }

    const call = async (socket, input) => JSON.parse((await socket.rpc("lua_stream", JSON.stringify(input))).payload);
    const list = (r) => Object.values(r.list ?? {});

    test("join, list, get, update, send to all and to some, raw envelopes, kick, leave, close", async () => {
      const stream = { mode: 123, label: uniqueName("s") };
      const wire = { mode: 123, label: stream.label };
      const a = await player();
      const b = await player();

      const joined = await call(a.socket, { op: "join", stream });
      assert.equal(joined.result, true);
      assert.equal(joined.count, 1);
      const [mine] = list(joined);
      assert.equal(mine.user_id, a.session.user_id);
      assert.equal(mine.username, a.username);
      assert.equal(mine.hidden, false);
      assert.equal(mine.persistence, true);
      assert.equal(mine.status, "");
      assert.ok(mine.node);
      const aSession = mine.session_id;
      assert.equal((await call(a.socket, { op: "join", stream })).result, false, "already there");

      const aSeesB = nextEvent(a.socket, "onstreampresence", (e) => e.joins?.length && e);
      const bJoined = await call(b.socket, { op: "join", stream, status: "ready" });
      assert.equal(bJoined.count, 2);
      const event = await aSeesB;
      assert.deepEqual({ mode: Number(event.stream.mode), label: event.stream.label }, wire);
      assert.deepEqual(event.joins.map((p) => p.user_id), [b.session.user_id]);
      const bSession = event.joins[0].session_id;
      const got = await call(a.socket, { op: "get", stream, user_id: b.session.user_id, session_id: bSession });
      assert.deepEqual(got.result, { hidden: false, persistence: true, username: b.username, status: "ready" });

      // An update is a leave and a join of the new presence.
      const aSeesUpdate = nextEvent(a.socket, "onstreampresence", (e) => e.leaves?.length && e.joins?.length && e);
      await call(b.socket, { op: "update", stream, status: "busy", persistence: false });
      await aSeesUpdate;
      const updated = await call(a.socket, { op: "get", stream, user_id: b.session.user_id, session_id: bSession });
      assert.equal(updated.result.status, "busy");
      assert.equal(updated.result.persistence, false);

      // To everyone; no sender.
      const aGets = nextEvent(a.socket, "onstreamdata");
      const bGets = nextEvent(b.socket, "onstreamdata");
      await call(a.socket, { op: "send", stream, data: "hello" });
      for (const data of [await aGets, await bGets]) {
        assert.equal(data.data, "hello");
        assert.deepEqual({ mode: Number(data.stream.mode), label: data.stream.label }, wire);
        assert.ok(!data.sender);
      }
      // To some: only b; then everyone again, so a's next message shows it skipped the first.
      const aNext = nextEvent(a.socket, "onstreamdata");
      const bNext = nextEvent(b.socket, "onstreamdata");
      await call(a.socket, { op: "send", stream, data: "for b", presences: [{ session_id: bSession }] });
      assert.equal((await bNext).data, "for b");
      await call(a.socket, { op: "send_raw", stream, envelope: { stream_data: { stream: { mode: 123, label: stream.label }, data: "raw" } } });
      assert.equal((await aNext).data, "raw");

      // Hidden presences are listed to server code, never announced.
      const c = await player();
      const events = [];
      a.socket.onstreampresence = (e) => events.push(e);
      const hidden = await call(c.socket, { op: "join", stream, hidden: true });
      assert.equal(hidden.count, 3);
      assert.equal(Object.values(hidden.hidden ?? {}).length, 1);
      assert.equal(Object.values(hidden.shown ?? {}).length, 2);

      // A kick is a leave.
      const aSeesKick = nextEvent(a.socket, "onstreampresence", (e) => e.leaves?.length && e);
      const kicked = await call(a.socket, { op: "kick", stream, presence: { user_id: b.session.user_id, session_id: bSession, node: mine.node } });
      assert.equal(kicked.count, 2);
      assert.deepEqual((await aSeesKick).leaves.map((p) => p.user_id), [b.session.user_id]);
      assert.ok(events.every((e) => !(e.joins ?? []).some((p) => p.user_id === c.session.user_id)), "c's hidden join was not announced");

      const left = await call(c.socket, { op: "leave", stream });
      assert.equal(left.count, 1);
      const closed = await call(a.socket, { op: "close", stream });
      assert.equal(closed.count, 0);
      assert.equal((await call(a.socket, { op: "get", stream, user_id: a.session.user_id, session_id: aSession })).result, undefined);
    });

    test("bad arguments get Nakama's messages", async () => {
      const a = await player();
      const tryCall = async (name, args) => JSON.parse((await a.socket.rpc("lua_try", JSON.stringify({ name, args }))).payload);
      const uuid = "8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11";
      const stream = { mode: 123, label: "x" };
      const cases = [
        ["stream_user_join", ["nope", uuid, stream], "bad argument #1 to stream_user_join (expects valid user id)"],
        ["stream_user_join", [uuid, "", stream], "bad argument #2 to stream_user_join (expects session id)"],
        ["stream_user_join", [uuid, uuid, stream], "bad argument #2 to stream_user_join (session id does not exist)"],
        ["stream_user_join", [uuid, uuid, { mode: "x" }], "bad argument #3 to stream_user_join (stream mode must be a number)"],
        ["stream_user_join", [uuid, uuid, { mode: 1, subject: "nope" }], "bad argument #3 to stream_user_join (stream subject must be a valid identifier)"],
        ["stream_user_get", [uuid, uuid, "x"], "bad argument #3 to stream_user_get (expects a valid stream)"],
        ["stream_user_kick", [{ user_id: uuid }, stream], "bad argument #1 to stream_user_kick (expects each presence to have a valid user_id, session_id, and node)"],
        ["stream_count", [{ label: 7 }], "bad argument #3 to stream_count (stream label must be a string)"],
        ["stream_send", [stream, "d", [{ session_id: "nope" }]], "bad argument #3 to stream_send (presence session id must be a valid identifier)"],
        ["stream_send_raw", [stream, { nonsense: 1 }], "bad argument #2 to stream_send_raw (not a valid envelope"],
      ];
      for (const [name, args, message] of cases) {
        const res = await tryCall(name, args);
        assert.equal(res.ok, false, `${name} ${JSON.stringify(args)}`);
        assert.ok(res.error.includes(message), `${name}: ${res.error}`);
      }
    });
  });
}
