// Notifications with the official client: sent by server code (the bundled Rust module
// `chat_api`, called with the HTTP key), delivered live to every socket of the user (JSON and
// protobuf), stored when persistent, listed with a cacheable cursor and deleted over REST.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebSocketAdapterPb } from "@heroiclabs/nakama-js-protobuf";

import { UUID_RE, makeClient, nextEvent, rejectsWith, request } from "./lib/client.mjs";
import { sleep, startServer, uniqueName } from "./lib/server.mjs";

const HTTP_KEY = "defaulthttpkey";
const SYSTEM = "00000000-0000-0000-0000-000000000000";

let server;
let client;

before(async () => {
  server = await startServer({ label: "notifications", args: ["--session.token_expiry_sec", "7200"] });
  client = makeClient(server);
});
after(async () => {
  await server?.stop();
});

/** Calls a `chat_api` RPC server to server. */
const rpc = (id, input) => client.rpcHttpKey(HTTP_KEY, id, input);

async function user() {
  return client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
}

async function socketOf(session, format = "json") {
  const adapter = format === "protobuf" ? new WebSocketAdapterPb() : undefined;
  const socket = client.createSocket(false, false, adapter);
  await socket.connect(session, false);
  return socket;
}

/** Collects the notifications a socket receives. */
function collect(socket) {
  const got = [];
  socket.onnotification = (n) => got.push(n);
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

describe("notifications", () => {
  test("a persistent notification reaches every socket of the user and is listed", async () => {
    const alice = await user();
    const json = await socketOf(alice, "json");
    const pb = await socketOf(alice, "protobuf");
    try {
      const a = nextEvent(json, "onnotification");
      const b = nextEvent(pb, "onnotification");
      await rpc("rust_notification_send", {
        user_id: alice.user_id,
        subject: "You won",
        content: { reward: "gold", amount: 100 },
        code: 101,
        persistent: true,
      });
      for (const live of [await a, await b]) {
        assert.equal(live.subject, "You won");
        assert.deepEqual(live.content, { reward: "gold", amount: 100 });
        assert.equal(live.code, 101);
        assert.equal(live.sender_id, SYSTEM, "the system sender is the nil UUID on the socket");
        assert.equal(live.persistent, true);
        assert.match(live.id, UUID_RE);
      }
      assert.equal((await a).id, (await b).id);

      const list = await client.listNotifications(alice, 10);
      assert.equal(list.notifications.length, 1);
      const [stored] = list.notifications;
      assert.equal(stored.id, (await a).id);
      assert.equal(stored.subject, "You won");
      assert.deepEqual(stored.content, { reward: "gold", amount: 100 });
      assert.equal(stored.code, 101);
      assert.equal(stored.persistent, true);
      assert.ok(!stored.sender_id, "the system sender is blank over REST");
      assert.match(stored.create_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(list.cacheable_cursor);
    } finally {
      json.disconnect(false);
      pb.disconnect(false);
    }
  });

  test("a live notification is delivered but not stored; a user sender shows as is", async () => {
    const alice = await user();
    const bob = await user();
    const socket = await socketOf(alice);
    try {
      const live = nextEvent(socket, "onnotification");
      await rpc("rust_notification_send", {
        user_id: alice.user_id,
        subject: "ping",
        content: {},
        code: 5,
        sender: bob.user_id,
        persistent: false,
      });
      const got = await live;
      assert.equal(got.sender_id, bob.user_id);
      assert.ok(!got.persistent);
      const raw = await request(server, "/v2/notification?limit=10", { bearer: alice.token });
      assert.equal(raw.status, 200);
      assert.equal(raw.json.notifications, undefined);
      assert.ok(raw.json.cacheable_cursor);
    } finally {
      socket.disconnect(false);
    }
  });

  test("listing pages in send order and the cacheable cursor picks up new ones", async () => {
    const alice = await user();
    const notifications = [1, 2, 3, 4, 5].map((n) => ({
      user_id: alice.user_id,
      subject: `n${n}`,
      content: { n },
      code: n,
      persistent: true,
    }));
    await rpc("rust_notifications_send", { notifications });
    const subjects = [];
    let cursor = "";
    for (let page = 0; page < 3; page++) {
      const list = await client.listNotifications(alice, 2, cursor);
      subjects.push(...list.notifications.map((n) => n.subject));
      assert.ok(list.cacheable_cursor);
      cursor = list.cacheable_cursor;
    }
    assert.deepEqual(subjects, ["n1", "n2", "n3", "n4", "n5"]);
    // At the end the cursor stays, and later notifications come after it.
    const empty = await client.listNotifications(alice, 2, cursor);
    assert.deepEqual(empty.notifications, []);
    assert.equal(empty.cacheable_cursor, cursor);
    await rpc("rust_notification_send", { ...notifications[0], subject: "n6" });
    const fresh = await client.listNotifications(alice, 10, cursor);
    assert.deepEqual(fresh.notifications.map((n) => n.subject), ["n6"]);
    // Without a limit, one at a time (Nakama's default).
    const first = await client.listNotifications(alice);
    assert.deepEqual(first.notifications.map((n) => n.subject), ["n1"]);
  });

  test("several notifications for one user arrive together, in order", async () => {
    const alice = await user();
    const socket = await socketOf(alice, "protobuf");
    try {
      const got = collect(socket);
      await rpc("rust_notifications_send", {
        notifications: ["a", "b", "c"].map((subject) => ({
          user_id: alice.user_id,
          subject,
          content: {},
          code: 1,
        })),
      });
      await until(() => got.length === 3, "three notifications");
      assert.deepEqual(got.map((n) => n.subject), ["a", "b", "c"]);
    } finally {
      socket.disconnect(false);
    }
  });

  test("deleting removes only the caller's notifications", async () => {
    const alice = await user();
    const bob = await user();
    await rpc("rust_notifications_send", {
      notifications: [alice, alice, bob].map((u, i) => ({
        user_id: u.user_id,
        subject: `d${i}`,
        content: {},
        code: 1,
        persistent: true,
      })),
    });
    const mine = (await client.listNotifications(alice, 10)).notifications;
    const bobs = (await client.listNotifications(bob, 10)).notifications;
    assert.equal(mine.length, 2);
    // Bob's id in Alice's delete does nothing to Bob's.
    assert.equal(await client.deleteNotifications(alice, [mine[0].id, bobs[0].id]), true);
    assert.deepEqual(
      (await client.listNotifications(alice, 10)).notifications.map((n) => n.id),
      [mine[1].id],
    );
    assert.equal((await client.listNotifications(bob, 10)).notifications.length, 1);
    // Server code deletes by user and id.
    await rpc("rust_notifications_delete", {
      notifications: [{ user_id: alice.user_id, notification_id: mine[1].id }],
    });
    assert.deepEqual((await client.listNotifications(alice, 10)).notifications, []);
    // No ids: nothing to do.
    const none = await request(server, "/v2/notification", { method: "DELETE", bearer: alice.token });
    assert.equal(none.status, 200);
    assert.deepEqual(none.json, {});
  });

  test("send to all: live ones reach everyone online, persistent ones every account", async () => {
    const alice = await user();
    const bob = await user();
    const a = await socketOf(alice);
    const b = await socketOf(bob, "protobuf");
    try {
      const seen = [a, b].map((s) => nextEvent(s, "onnotification", (n) => n.subject === "hello all" && n));
      await rpc("rust_notification_send_all", { subject: "hello all", content: { x: 1 }, code: 7 });
      for (const n of await Promise.all(seen)) {
        assert.equal(n.sender_id, SYSTEM);
        assert.deepEqual(n.content, { x: 1 });
      }
      assert.deepEqual((await client.listNotifications(alice, 10)).notifications, []);

      const stored = [a, b].map((s) => nextEvent(s, "onnotification", (n) => n.subject === "saved" && n));
      await rpc("rust_notification_send_all", { subject: "saved", content: {}, code: 8, persistent: true });
      const [na, nb] = await Promise.all(stored);
      assert.notEqual(na.id, nb.id, "each user gets a notification of their own");
      const offline = await user();
      // Accounts made before the send got it; ones made after did not.
      for (const [who, want] of [
        [alice, 1],
        [bob, 1],
        [offline, 0],
      ]) {
        const list = await client.listNotifications(who, 10);
        assert.equal(list.notifications.filter((n) => n.subject === "saved").length, want);
      }
    } finally {
      a.disconnect(false);
      b.disconnect(false);
    }
  });

  test("bad input gets Nakama's errors", async () => {
    const alice = await user();
    await rejectsWith(client.listNotifications(alice, 0), 400, 3, "Invalid limit - limit must be between 1 and 100.");
    await rejectsWith(client.listNotifications(alice, 101), 400, 3, "Invalid limit - limit must be between 1 and 100.");
    await rejectsWith(client.listNotifications(alice, 1, "not-a-cursor"), 400, 3, "Malformed cursor was used.");
    await rejectsWith(client.listNotifications(alice, 1, "AAAA"), 400, 3, "Malformed cursor was used.");
    await rejectsWith(client.deleteNotifications(alice, ["nope"]), 500, 13, "Error while deleting notifications.");
    const base = { user_id: alice.user_id, subject: "s", content: {}, code: 1 };
    for (const [change, message] of [
      [{ user_id: "x" }, "expects userID to be a valid UUID"],
      [{ subject: "" }, "expects subject to be a non-empty string"],
      [{ code: 0 }, "expects code to number above 0"],
      [{ sender: "bob" }, "expects sender to either be an empty string or a valid UUID"],
      [{ content: [1] }, "expects content to be a JSON object"],
    ]) {
      await rejectsWith(rpc("rust_notification_send", { ...base, ...change }), 400, 3, message);
    }
    // A player's session may not use the server-to-server RPCs.
    await rejectsWith(client.rpc(alice, "rust_notification_send", base), 403, 7);
    assert.deepEqual((await client.listNotifications(alice, 10)).notifications, []);
  });
});
