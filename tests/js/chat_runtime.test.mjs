// Streams, chat channels and notifications from server code, and hooks on chat: Lua's nk.*
// (tests/lua/chat.lua) and Rust's Nk (the bundled `chat_api` module) put sessions on custom
// streams, list and count them, send them stream_data (to all or to some) and raw envelopes,
// kick them and close the stream; members see stream_presence_event for visible joins and
// leaves. Channel messages sent, edited and removed by server code reach members and the
// history; Lua sends and deletes notifications; Lua hooks rewrite or refuse channel messages,
// act after joins and guard the history route. Over JSON and protobuf sockets.
// tavern-test: postgres

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { WebSocketAdapterPb } from "@heroiclabs/nakama-js-protobuf";

import { UUID_RE, makeClient, nextEvent, rejectsWith } from "./lib/client.mjs";
import { repoRoot, startServer, uniqueName } from "./lib/server.mjs";

const HTTP_KEY = "defaulthttpkey";
const SYSTEM = "00000000-0000-0000-0000-000000000000";
const ROOM = 1;

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

    test("Rust: a player's own session on a custom stream (rust_stream)", async () => {
      const a = await player();
      const b = await player();
      const label = uniqueName("rs");
      const call = async (p, input) => JSON.parse((await p.socket.rpc("rust_stream", JSON.stringify({ mode: 150, label, ...input }))).payload);
      const first = await call(a, { op: "join", status: "here" });
      assert.equal(first.joined, true);
      assert.equal(first.count, 1);
      assert.equal(first.presences[0].status, "here");
      assert.equal((await call(a, { op: "join" })).joined, false);
      const aSeesB = nextEvent(a.socket, "onstreampresence", (e) => e.joins?.length && e);
      await call(b, { op: "join" });
      const event = await aSeesB;
      assert.equal(Number(event.stream.mode), 150);
      assert.equal(event.stream.label, label);
      const bSession = event.joins[0].session_id;

      const aGets = nextEvent(a.socket, "onstreamdata");
      const bGets = nextEvent(b.socket, "onstreamdata");
      await call(a, { op: "send", data: "to all" });
      assert.equal((await aGets).data, "to all");
      assert.equal((await bGets).data, "to all");
      const aNext = nextEvent(a.socket, "onstreamdata");
      const bNext = nextEvent(b.socket, "onstreamdata");
      await call(a, { op: "send", data: "to b", session_ids: [bSession] });
      assert.equal((await bNext).data, "to b");
      await call(b, { op: "send", data: "again" });
      assert.equal((await aNext).data, "again", "a skipped the message for b");

      const aSeesLeave = nextEvent(a.socket, "onstreampresence", (e) => e.leaves?.length && e);
      assert.equal((await call(b, { op: "leave" })).count, 1);
      assert.equal((await aSeesLeave).leaves[0].user_id, b.session.user_id);
      assert.equal((await call(a, { op: "close" })).count, 0);
      // Chat, match and other streams of Nakama's own modes are not for players.
      await assert.rejects(a.socket.rpc("rust_stream", JSON.stringify({ op: "join", mode: 2, label: "x" })));
    });

    test("Lua hooks on channel messages and joins; a refused message is not sent", async () => {
      const a = await player();
      const b = await player();
      const room = uniqueName("lua-hooked");
      const noted = nextEvent(a.socket, "onnotification", (n) => n.code === 101 && n);
      const { id } = await a.socket.joinChat(room, ROOM, true, false);
      assert.deepEqual((await noted).content, { channel_id: id });
      await b.socket.joinChat(room, ROOM, true, false);
      const bGets = nextEvent(b.socket, "onchannelmessage");
      await a.socket.writeChatMessage(id, { lua_censor: true, text: "rude" });
      assert.deepEqual((await bGets).content, { text: "***" });
      let refused;
      try {
        await a.socket.writeChatMessage(id, { lua_refuse: true });
      } catch (e) {
        refused = e;
      }
      assert.ok(refused?.message?.includes("refused by lua"), JSON.stringify(refused));
      const ok = await a.socket.writeChatMessage(id, { fine: true });
      assert.match(ok.message_id, UUID_RE);
      const history = await client.listChannelMessages(b.session, id, 100, true);
      assert.deepEqual(history.messages.map((m) => m.content), [{ text: "***" }, { fine: true }]);
    });
  });
}

describe("chat and notifications from server code", () => {
  const sockets = [];
  after(() => {
    for (const s of sockets) {
      s.disconnect(false);
    }
  });
  async function player() {
    const username = uniqueName("u");
    const session = await client.authenticateDevice(uniqueName("dev"), true, username);
    const socket = client.createSocket(false, false);
    await socket.connect(session, false);
    sockets.push(socket);
    return { session, socket, username };
  }
  const rust = async (id, input) => (await client.rpcHttpKey(HTTP_KEY, id, input)).payload;
  const lua = async (p, id, input) => JSON.parse((await p.socket.rpc(id, JSON.stringify(input))).payload);

  test("channel messages from Rust and Lua reach members and the history", async () => {
    const a = await player();
    const b = await player();
    const room = uniqueName("room");
    const { channel_id } = await rust("rust_channel_id_build", { target: room, type: 1 });
    assert.equal(channel_id, `2...${room}`);
    const joined = await a.socket.joinChat(room, ROOM, true, false);
    assert.equal(joined.id, channel_id);

    // From the system, persisted.
    let aGets = nextEvent(a.socket, "onchannelmessage");
    const sysAck = await rust("rust_channel_message_send", { channel_id, content: { from: "rust" }, persist: true });
    assert.equal(sysAck.channel_id, channel_id);
    assert.equal(sysAck.code, 0);
    assert.equal(sysAck.persistent, true);
    let m = await aGets;
    assert.equal(m.sender_id, SYSTEM);
    assert.deepEqual(m.content, { from: "rust" });

    // From a user, through Lua (camelCase ack keys, as Nakama's Lua runtime).
    aGets = nextEvent(a.socket, "onchannelmessage");
    const luaAck = await lua(b, "lua_channel", { op: "send", channel_id, content: { from: "lua" }, sender_id: b.session.user_id, username: b.username, persist: true });
    assert.match(luaAck.messageId, UUID_RE);
    assert.equal(luaAck.channelId, channel_id);
    assert.equal(luaAck.username, b.username);
    assert.equal(luaAck.persistent, true);
    m = await aGets;
    assert.equal(m.sender_id, b.session.user_id);

    // Not persisted: delivered, not kept.
    aGets = nextEvent(a.socket, "onchannelmessage");
    await rust("rust_channel_message_send", { channel_id, content: { live: true } });
    assert.deepEqual((await aGets).content, { live: true });

    // Edit the system's message; the history keeps code 0 with the new content.
    aGets = nextEvent(a.socket, "onchannelmessage", (x) => x.code === 1 && x);
    await rust("rust_channel_message_update", { channel_id, message_id: sysAck.message_id, content: { from: "rust", edited: true }, persist: true });
    assert.deepEqual((await aGets).content, { from: "rust", edited: true });
    await rejectsWith(
      client.rpcHttpKey(HTTP_KEY, "rust_channel_message_update", { channel_id, message_id: luaAck.messageId, content: {}, persist: true }),
      404, 5, "channel message not found",
    );

    const page = await rust("rust_channel_messages_list", { channel_id, limit: 1, forward: true });
    assert.equal(page.messages.length, 1);
    assert.equal(page.messages[0].message_id, sysAck.message_id);
    const next = await rust("rust_channel_messages_list", { channel_id, limit: 1, forward: true, cursor: page.next_cursor });
    assert.equal(next.messages[0].message_id, luaAck.messageId);
    const listed = await lua(a, "lua_channel", { op: "list", channel_id, limit: 10, forward: false });
    assert.equal(listed.n, 2);
    const newest = listed.messages[0] ?? listed.messages["1"];
    assert.equal(newest.messageId, luaAck.messageId);
    assert.equal(newest.roomName, room);
    assert.deepEqual(JSON.parse(newest.content), { from: "lua" });

    aGets = nextEvent(a.socket, "onchannelmessage", (x) => x.code === 2 && x);
    const removed = await lua(b, "lua_channel", { op: "remove", channel_id, message_id: luaAck.messageId, sender_id: b.session.user_id, persist: true });
    assert.equal(removed.code, 2);
    assert.equal((await aGets).message_id, luaAck.messageId);
    const rest = await client.listChannelMessages(a.session, channel_id, 100, true);
    assert.deepEqual(rest.messages.map((x) => [x.message_id, x.code]), [[sysAck.message_id, 0]]);
    assert.deepEqual(rest.messages[0].content, { from: "rust", edited: true });

    // Direct-message ids; errors with Nakama's messages.
    const dm = await lua(a, "lua_channel", { op: "build", sender_id: a.session.user_id, target: b.session.user_id, type: 2 });
    const [one, two] = [a.session.user_id, b.session.user_id].sort();
    assert.equal(dm.channel_id, `4.${one}.${two}.`);
    await rejectsWith(client.rpcHttpKey(HTTP_KEY, "rust_channel_message_send", { channel_id: "nope", content: {} }), 400, 3, "invalid channel id");
    await rejectsWith(client.rpcHttpKey(HTTP_KEY, "rust_channel_message_send", { channel_id, content: [1] }), 400, 3, "expects message content to be a valid JSON object");
    await rejectsWith(client.rpcHttpKey(HTTP_KEY, "rust_channel_messages_list", { channel_id, limit: 0 }), 400, 3, "limit must be 1-100");
    await rejectsWith(client.rpcHttpKey(HTTP_KEY, "rust_channel_id_build", { target: "x".repeat(65), type: 1 }), 400, 3, "Channel name is required and must be 1-64 chars: Invalid channel target");
    // A REST hook keeps some histories to itself.
    await rejectsWith(client.listChannelMessages(a.session, `2...${uniqueName("lua-hidden")}`, 1), 404, 5, "Requested resource was not found.");
  });

  test("notifications from Lua: send, send many, send to all, delete", async () => {
    const a = await player();
    const b = await player();
    const got = [];
    b.socket.onnotification = (n) => got.push(n);
    await lua(a, "lua_notification", { op: "send", user_id: b.session.user_id, subject: "hi", content: { n: 1 }, code: 7, sender_id: a.session.user_id, persistent: true });
    await lua(a, "lua_notification", {
      op: "send_many",
      notifications: [
        { user_id: b.session.user_id, subject: "two", content: { n: 2 }, code: 8, persistent: true },
        { user_id: b.session.user_id, subject: "live", content: { n: 3 }, code: 9 },
      ],
    });
    const deadline = Date.now() + 5000;
    while (got.length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(got.map((n) => [n.subject, n.code]), [["hi", 7], ["two", 8], ["live", 9]]);
    assert.equal(got[0].sender_id, a.session.user_id);
    assert.equal(got[1].sender_id, SYSTEM);
    const stored = await client.listNotifications(b.session, 10);
    assert.deepEqual(stored.notifications.map((n) => n.subject), ["hi", "two"]);
    await lua(a, "lua_notification", { op: "delete", notifications: [{ user_id: b.session.user_id, notification_id: stored.notifications[0].id }] });
    const left = await client.listNotifications(b.session, 10);
    assert.deepEqual(left.notifications.map((n) => n.subject), ["two"]);
    const everyone = nextEvent(a.socket, "onnotification", (n) => n.code === 10 && n);
    await lua(a, "lua_notification", { op: "send_all", subject: "all", content: {}, code: 10 });
    assert.equal((await everyone).subject, "all");

    const tryCall = async (name, args) => JSON.parse((await a.socket.rpc("lua_try", JSON.stringify({ name, args }))).payload);
    const uuid = b.session.user_id;
    const cases = [
      ["notification_send", ["nope", "s", {}, 1], "bad argument #1 to notification_send (expects user_id to be a valid UUID)"],
      ["notification_send", [uuid, "", {}, 1], "bad argument #2 to notification_send (expects subject to be a non-empty string)"],
      ["notification_send", [uuid, "s", {}, 0], "bad argument #4 to notification_send (expects code number to be a positive integer)"],
      ["notifications_send", [[{ user_id: uuid, subject: "s", content: {} }]], "bad argument #1 to notifications_send (expects code to be provided and be a number above 0)"],
      ["notifications_delete", [[{ user_id: uuid, notification_id: "x" }]], "bad argument #1 to notifications_delete (expects notification_id to be a valid UUID)"],
      ["channel_message_send", ["nope", {}], "invalid channel id"],
      ["channel_id_build", ["", "room", 9], "invalid channel type: expects value 1-3"],
      ["channel_message_update", ["2...r", "nope", {}], "bad argument #2 to channel_message_update (Invalid message identifier)"],
    ];
    for (const [name, args, message] of cases) {
      const res = await tryCall(name, args);
      assert.equal(res.ok, false, `${name} ${JSON.stringify(args)}`);
      assert.ok(res.error.includes(message), `${name}: ${res.error}`);
    }
  });
});
