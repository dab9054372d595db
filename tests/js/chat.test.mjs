// Chat channels with the official client over JSON and protobuf sockets: rooms, direct
// messages and group channels, presence events, messages with acknowledgements, edits and
// removals, history over REST, and Nakama's errors.
// tavern-test: postgres

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebSocketAdapterPb } from "@heroiclabs/nakama-js-protobuf";

import { UUID_RE, makeClient, nextEvent, rejectsWith } from "./lib/client.mjs";
import { sleep, startServer, uniqueName } from "./lib/server.mjs";

const ROOM = 1;
const DM = 2;
const GROUP = 3;

/** Awaits a socket request that must fail with this error code and message. */
async function socketRejects(promise, code, message) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error, "the request should have failed");
  assert.equal(error.code, code, JSON.stringify(error));
  assert.equal(error.message, message);
}

/** Collects the events a socket handler receives. */
function collect(socket, handler) {
  const got = [];
  socket[handler] = (e) => got.push(e);
  return got;
}

async function until(check, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) {
      return;
    }
    await sleep(20);
  }
  assert.fail(`timed out waiting for ${what}`);
}

let server;
let client;

before(async () => {
  server = await startServer({ label: "chat", args: ["--session.token_expiry_sec", "7200"] });
  client = makeClient(server);
});
after(async () => {
  await server?.stop();
});

for (const format of ["json", "protobuf"]) {
  describe(`chat (${format})`, () => {
    const sockets = [];
    after(() => {
      for (const s of sockets) {
        s.disconnect(false);
      }
    });

    /** A new user with a connected socket in this suite's format. */
    async function player() {
      const username = uniqueName("u");
      const session = await client.authenticateDevice(uniqueName("dev"), true, username);
      const adapter = format === "protobuf" ? new WebSocketAdapterPb() : undefined;
      const socket = client.createSocket(false, false, adapter);
      await socket.connect(session, false);
      sockets.push(socket);
      return { session, socket, username };
    }

    test("room: join, presence events, messages to every member and the sender", async () => {
      const room = uniqueName("room");
      const a = await player();
      const b = await player();
      const joinedA = await a.socket.joinChat(room, ROOM, true, false);
      assert.equal(joinedA.id, `2...${room}`);
      assert.equal(joinedA.room_name, room);
      assert.deepEqual(joinedA.presences ?? [], []);
      assert.equal(joinedA.self.user_id, a.session.user_id);
      assert.equal(joinedA.self.username, a.username);
      assert.equal(joinedA.self.persistence, true);

      const aSeesB = nextEvent(a.socket, "onchannelpresence", (e) => e.joins?.find((p) => p.user_id === b.session.user_id) && e);
      const joinedB = await b.socket.joinChat(room, ROOM, false, false);
      assert.deepEqual(
        joinedB.presences.map((p) => p.user_id),
        [a.session.user_id],
      );
      assert.ok(!joinedB.self.persistence);
      const event = await aSeesB;
      assert.equal(event.channel_id, joinedA.id);
      assert.equal(event.room_name, room);

      const aGets = nextEvent(a.socket, "onchannelmessage");
      const bGets = nextEvent(b.socket, "onchannelmessage");
      const ack = await a.socket.writeChatMessage(joinedA.id, { text: "hello" });
      assert.equal(ack.channel_id, joinedA.id);
      assert.match(ack.message_id, UUID_RE);
      assert.equal(ack.code, 0);
      assert.equal(ack.username, a.username);
      assert.equal(ack.persistent, true);
      assert.equal(ack.room_name, room);
      assert.ok(ack.create_time && ack.update_time);
      for (const m of [await aGets, await bGets]) {
        assert.equal(m.message_id, ack.message_id);
        assert.equal(m.sender_id, a.session.user_id);
        assert.equal(m.username, a.username);
        assert.deepEqual(m.content, { text: "hello" });
        assert.equal(m.code, 0);
        assert.equal(m.channel_id, joinedA.id);
        assert.equal(m.room_name, room);
      }

      // Leaving is announced to those who stay.
      const aSeesLeave = nextEvent(a.socket, "onchannelpresence", (e) => e.leaves?.find((p) => p.user_id === b.session.user_id) && e);
      await b.socket.leaveChat(joinedA.id);
      await aSeesLeave;
      await socketRejects(
        b.socket.writeChatMessage(joinedA.id, { text: "gone" }),
        3,
        "Must join channel before sending messages",
      );
    });

    test("edits and removals reach members with codes 1 and 2; only the sender's own", async () => {
      const room = uniqueName("room");
      const a = await player();
      const b = await player();
      const { id } = await a.socket.joinChat(room, ROOM, true, false);
      await b.socket.joinChat(room, ROOM, true, false);
      const sent = await a.socket.writeChatMessage(id, { v: 1 });

      const bGetsEdit = nextEvent(b.socket, "onchannelmessage", (m) => m.code === 1 && m);
      const edited = await a.socket.updateChatMessage(id, sent.message_id, { v: 2 });
      assert.equal(edited.message_id, sent.message_id);
      assert.equal(edited.code, 1);
      const edit = await bGetsEdit;
      assert.deepEqual(edit.content, { v: 2 });
      assert.equal(String(edit.create_time), String(sent.create_time), "an edit keeps the message's creation time");

      await socketRejects(
        b.socket.updateChatMessage(id, sent.message_id, { v: 3 }),
        3,
        "Could not find message to update in channel history",
      );
      await socketRejects(
        b.socket.removeChatMessage(id, sent.message_id),
        3,
        "Could not find message to remove in channel history",
      );

      const bGetsRemoval = nextEvent(b.socket, "onchannelmessage", (m) => m.code === 2 && m);
      const removed = await a.socket.removeChatMessage(id, sent.message_id);
      assert.equal(removed.code, 2);
      const removal = await bGetsRemoval;
      assert.deepEqual(removal.content, {});
      assert.equal(removal.message_id, sent.message_id);
      await socketRejects(
        a.socket.removeChatMessage(id, sent.message_id),
        3,
        "Could not find message to remove in channel history",
      );
    });

    test("hidden members get messages but are not announced nor listed", async () => {
      const room = uniqueName("room");
      const a = await player();
      const ghost = await player();
      const { id } = await a.socket.joinChat(room, ROOM, true, false);
      const presences = collect(a.socket, "onchannelpresence");
      const joined = await ghost.socket.joinChat(room, ROOM, true, true);
      assert.deepEqual(joined.presences.map((p) => p.user_id), [a.session.user_id]);
      const ghostGets = nextEvent(ghost.socket, "onchannelmessage");
      await a.socket.writeChatMessage(id, { to: "all" });
      assert.deepEqual((await ghostGets).content, { to: "all" });
      const c = await player();
      const seen = await c.socket.joinChat(room, ROOM, true, false);
      assert.deepEqual(seen.presences.map((p) => p.user_id), [a.session.user_id]);
      await until(() => presences.length >= 1, "c's join");
      assert.ok(presences.every((e) => !(e.joins ?? []).some((p) => p.user_id === ghost.session.user_id)));
    });

    test("direct messages: a fixed channel id, notification -1 to the other user", async () => {
      const a = await player();
      const b = await player();
      const [one, two] = [a.session.user_id, b.session.user_id].sort();
      const invited = nextEvent(b.socket, "onnotification", (n) => n.code === -1 && n);
      const joinedA = await a.socket.joinChat(b.session.user_id, DM, true, false);
      assert.equal(joinedA.id, `4.${one}.${two}.`);
      assert.equal(joinedA.user_id_one, one);
      assert.equal(joinedA.user_id_two, two);
      const note = await invited;
      assert.equal(note.subject, `${a.username} wants to chat`);
      assert.deepEqual(note.content, { username: a.username });
      assert.equal(note.sender_id, a.session.user_id);
      assert.equal(note.persistent, true);

      const joinedB = await b.socket.joinChat(a.session.user_id, DM, true, false);
      assert.equal(joinedB.id, joinedA.id);
      const aGets = nextEvent(a.socket, "onchannelmessage");
      const ack = await b.socket.writeChatMessage(joinedB.id, { hi: "a" });
      assert.equal(ack.user_id_one, one);
      assert.equal(ack.user_id_two, two);
      const m = await aGets;
      assert.equal(m.user_id_one, one);
      assert.equal(m.user_id_two, two);
      assert.deepEqual(m.content, { hi: "a" });
    });

    test("history: (time, id) order both ways, paging with next and previous cursors, cacheable cursor", async () => {
      const room = uniqueName("room");
      const a = await player();
      const b = await player();
      const { id } = await a.socket.joinChat(room, ROOM, true, false);
      await b.socket.joinChat(room, ROOM, false, false);
      const sent = [];
      for (let i = 0; i < 5; i++) {
        sent.push(await a.socket.writeChatMessage(id, { i }));
      }
      // b joined without persistence: its message is delivered, not kept.
      await b.socket.writeChatMessage(id, { live: true });
      const edited = await a.socket.updateChatMessage(id, sent[1].message_id, { i: 1, edited: true });
      assert.equal(edited.code, 1);
      await a.socket.removeChatMessage(id, sent[3].message_id);
      const kept = [sent[0], sent[1], sent[2], sent[4]];
      const byTimeAndId = (x, y) =>
        Date.parse(x.create_time) - Date.parse(y.create_time) || (x.message_id < y.message_id ? -1 : 1);
      const expected = [...kept].sort(byTimeAndId).map((m) => m.message_id);

      const all = await client.listChannelMessages(b.session, id, 100, true);
      assert.deepEqual(all.messages.map((m) => m.message_id), expected);
      assert.ok(!all.next_cursor && !all.prev_cursor);
      assert.ok(all.cacheable_cursor);
      for (const m of all.messages) {
        assert.equal(m.channel_id, id);
        assert.equal(m.room_name, room);
        assert.equal(m.code, 0, "edits keep code 0 in history");
        assert.equal(m.persistent, true);
        assert.equal(m.sender_id, a.session.user_id);
        assert.equal(m.username, a.username);
        assert.match(m.create_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "one-second resolution");
      }
      assert.deepEqual(all.messages.find((m) => m.message_id === sent[1].message_id).content, { i: 1, edited: true });
      const backward = await client.listChannelMessages(b.session, id, 100, false);
      assert.deepEqual(backward.messages.map((m) => m.message_id), [...expected].reverse());
      // Without a limit: one message; without forward: oldest first.
      const one = await client.listChannelMessages(b.session, id);
      assert.deepEqual(one.messages.map((m) => m.message_id), expected.slice(0, 1));
      assert.ok(one.next_cursor);

      for (const forward of [true, false]) {
        const order = forward ? expected : [...expected].reverse();
        const pages = [];
        let page = await client.listChannelMessages(b.session, id, 3, forward);
        assert.ok(!page.prev_cursor, "a first page has no previous page");
        pages.push(page);
        page = await client.listChannelMessages(b.session, id, 3, forward, page.next_cursor);
        pages.push(page);
        assert.deepEqual(pages.flatMap((p) => p.messages.map((m) => m.message_id)), order);
        assert.ok(!page.next_cursor, "the last page has no next page");
        assert.ok(page.prev_cursor);
        const back = await client.listChannelMessages(b.session, id, 3, forward, page.prev_cursor);
        assert.deepEqual(back.messages.map((m) => m.message_id), order.slice(0, 3));
        assert.ok(back.next_cursor);
        await rejectsWith(
          client.listChannelMessages(b.session, id, 3, !forward, pages[0].next_cursor),
          400, 3, "Cursor is invalid or expired.",
        );
      }

      // The cacheable cursor reads what came after the listing.
      const later = await a.socket.writeChatMessage(id, { later: true });
      const news = await client.listChannelMessages(b.session, id, 100, true, all.cacheable_cursor);
      assert.deepEqual(news.messages.map((m) => m.message_id), [later.message_id]);
      const none = await client.listChannelMessages(b.session, id, 100, true, news.cacheable_cursor);
      assert.deepEqual(none.messages, []);
      assert.equal(none.cacheable_cursor, news.cacheable_cursor);

      // A cursor belongs to its channel.
      const other = await a.socket.joinChat(uniqueName("room"), ROOM, true, false);
      await a.socket.writeChatMessage(other.id, {});
      await rejectsWith(client.listChannelMessages(b.session, other.id, 1, true, one.next_cursor), 400, 3, "Cursor is invalid or expired.");
      // A channel nobody wrote in is an empty page.
      const empty = await client.listChannelMessages(b.session, `2...${uniqueName("quiet")}`, 10, true);
      assert.deepEqual(empty.messages, []);
      assert.ok(!empty.next_cursor && !empty.prev_cursor && !empty.cacheable_cursor);
    });

    test("history: direct messages for their two users; Nakama's errors", async () => {
      const a = await player();
      const b = await player();
      const c = await player();
      const { id } = await a.socket.joinChat(b.session.user_id, DM, true, false);
      const ack = await a.socket.writeChatMessage(id, { to: "b" });
      const seen = await client.listChannelMessages(b.session, id, 10, false);
      assert.deepEqual(seen.messages.map((m) => m.message_id), [ack.message_id]);
      const [one, two] = [a.session.user_id, b.session.user_id].sort();
      assert.equal(seen.messages[0].user_id_one, one);
      assert.equal(seen.messages[0].user_id_two, two);
      await rejectsWith(client.listChannelMessages(c.session, id, 10), 400, 3, "Invalid channel ID.");
      const bad = [
        [() => client.listChannelMessages(a.session, id, 0), "Invalid limit - limit must be between 1 and 100."],
        [() => client.listChannelMessages(a.session, id, 101), "Invalid limit - limit must be between 1 and 100."],
        [() => client.listChannelMessages(a.session, "nope", 10), "Invalid channel ID."],
        [() => client.listChannelMessages(a.session, "2...", 10), "Invalid channel ID."],
        [() => client.listChannelMessages(a.session, `2...${"x".repeat(65)}`, 10), "Invalid channel ID."],
        [() => client.listChannelMessages(a.session, id, 10, true, "not a cursor"), "Cursor is invalid or expired."],
        [() => client.listChannelMessages(a.session, id, 10, true, "AAAA"), "Cursor is invalid or expired."],
        [() => client.listChannelMessages(a.session, "3.8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11..", 10), "Group not found."],
      ];
      // Thunks: each request starts when it is awaited.
      for (const [call, message] of bad) {
        await rejectsWith(call(), 400, 3, message);
      }
    });

    test("group channels: members join, write and read the history; others are refused", async () => {
      const a = await player();
      const outsider = await player();
      const group = await client.createGroup(a.session, { name: uniqueName("g"), open: true });
      const { id } = await a.socket.joinChat(group.id, GROUP, true, false);
      assert.equal(id, `3.${group.id}..`);
      const ack = await a.socket.writeChatMessage(id, { to: "group" });
      assert.equal(ack.group_id, group.id);
      const history = await client.listChannelMessages(a.session, id, 100, true);
      const mine = history.messages.find((m) => m.message_id === ack.message_id);
      assert.equal(mine.group_id, group.id);
      assert.deepEqual(mine.content, { to: "group" });
      await socketRejects(outsider.socket.joinChat(group.id, GROUP, true, false), 3, "Group not found: Invalid channel target");
      await rejectsWith(client.listChannelMessages(outsider.session, id, 10), 400, 3, "Group not found.");
    });

    test("bad input gets Nakama's errors and the socket stays open", async () => {
      const a = await player();
      const { id } = await a.socket.joinChat(uniqueName("room"), ROOM, true, false);
      const bad = [
        [a.socket.joinChat("", ROOM, true, false), "Invalid channel target"],
        [a.socket.joinChat("x".repeat(65), ROOM, true, false), "Channel name is required and must be 1-64 chars: Invalid channel target"],
        [a.socket.joinChat("bad\nname", ROOM, true, false), "Channel name must not contain control chars: Invalid channel target"],
        [a.socket.joinChat("room", 9, true, false), "Invalid channel type"],
        [a.socket.joinChat("not-a-uuid", DM, true, false), "Invalid user ID in direct message join: Invalid channel target"],
        [a.socket.joinChat("00000000-0000-0000-0000-000000000000", DM, true, false), "Invalid user ID in direct message join: Invalid channel target"],
        [a.socket.joinChat("8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11", DM, true, false), "User ID not found: Invalid channel target"],
        [a.socket.joinChat("not-a-uuid", GROUP, true, false), "Invalid group ID in group channel join: Invalid channel target"],
        [a.socket.joinChat("8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11", GROUP, true, false), "Group not found: Invalid channel target"],
        [a.socket.leaveChat("nope"), "Invalid channel identifier"],
        [a.socket.writeChatMessage("nope", {}), "Invalid channel identifier"],
        [a.socket.writeChatMessage(id, "just text"), "Message content must be a valid JSON object"],
        [a.socket.writeChatMessage(id, [1, 2]), "Message content must be a valid JSON object"],
        [a.socket.writeChatMessage("2...elsewhere", {}), "Must join channel before sending messages"],
        [a.socket.updateChatMessage(id, "nope", {}), "Invalid message identifier"],
        [a.socket.updateChatMessage(id, "8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11", 7), "Message content must be a valid JSON object"],
        [a.socket.updateChatMessage("2...elsewhere", "8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11", {}), "Must join channel before updating messages"],
        [a.socket.removeChatMessage(id, "nope"), "Invalid message identifier"],
        [a.socket.removeChatMessage("2...elsewhere", "8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11"), "Must join channel before removing messages"],
      ];
      for (const [promise, message] of bad) {
        await socketRejects(promise, 3, message);
      }
      // Still open and working.
      const ack = await a.socket.writeChatMessage(id, { ok: true });
      assert.match(ack.message_id, UUID_RE);
    });
  });
}
