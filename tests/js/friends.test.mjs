// Friends with the official client: adding by id and by username, accepting by adding back,
// deleting and blocking each way, the request (-2) and accept (-3) notifications, edge counts,
// listing by state with cursors, bad input, and blocks closing direct messages; the same through
// server code (Rust friends_api, Lua tests/lua/friends.lua).
// tavern-test: postgres

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { makeClient, nextEvent, rejectsWith, request } from "./lib/client.mjs";
import { repoRoot, startServer, uniqueName } from "./lib/server.mjs";

const FRIEND = 0;
const INVITE_SENT = 1;
const INVITE_RECEIVED = 2;
const BLOCKED = 3;

let server;
let client;

before(async () => {
  server = await startServer({ label: "friends", args: ["--session.token_expiry_sec", "7200"] });
  client = makeClient(server);
});
after(async () => {
  await server?.stop();
});

async function user() {
  return client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
}

/** The caller's friends as [user id, state] pairs, in listing order. */
async function edges(session, state) {
  const list = await client.listFriends(session, state, 1000);
  return list.friends.map((f) => [f.user.id, f.state ?? 0]);
}

async function edgeCount(session, id) {
  const users = await client.getUsers(session, [id]);
  return users.users[0].edge_count ?? 0;
}

async function notifications(session) {
  const list = await client.listNotifications(session, 100);
  return list.notifications ?? [];
}

describe("friends", () => {
  test("an invite is sent, received and accepted by adding back, with notifications", async () => {
    const alice = await user();
    const bob = await user();
    const socket = client.createSocket(false, false);
    await socket.connect(bob, false);
    try {
      const live = nextEvent(socket, "onnotification");
      assert.equal(await client.addFriends(alice, [bob.user_id]), true);
      const request = await live;
      assert.equal(request.code, -2);
      assert.equal(request.sender_id, alice.user_id);
      assert.equal(request.subject, `${alice.username} wants to add you as a friend`);
      assert.deepEqual(request.content, { username: alice.username });
      assert.equal(request.persistent, true);
    } finally {
      socket.disconnect(false);
    }
    assert.deepEqual(await edges(alice), [[bob.user_id, INVITE_SENT]]);
    assert.deepEqual(await edges(bob), [[alice.user_id, INVITE_RECEIVED]]);
    assert.equal(await edgeCount(alice, alice.user_id), 1);
    assert.equal(await edgeCount(alice, bob.user_id), 1);
    const stored = await notifications(bob);
    assert.deepEqual(stored.map((n) => [n.code, n.sender_id]), [[-2, alice.user_id]]);

    // Adding again changes nothing and sends nothing.
    await client.addFriends(alice, [bob.user_id]);
    assert.equal((await notifications(bob)).length, 1);

    // Bob adds back by username: accepted.
    await client.addFriends(bob, [], [alice.username]);
    assert.deepEqual(await edges(alice), [[bob.user_id, FRIEND]]);
    assert.deepEqual(await edges(bob), [[alice.user_id, FRIEND]]);
    const accepted = await notifications(alice);
    assert.deepEqual(
      accepted.map((n) => [n.code, n.sender_id, n.subject]),
      [[-3, bob.user_id, `${bob.username} accepted your friend request`]],
    );
    assert.equal(await edgeCount(alice, alice.user_id), 1);
    assert.equal(await edgeCount(bob, bob.user_id), 1);
    const listed = (await client.listFriends(alice)).friends[0];
    assert.equal(listed.user.username, bob.username);
    assert.ok(!listed.user.online, "offline: online is false (omitted)");
  });

  test("the friend list shows who is online", async () => {
    const alice = await user();
    const bob = await user();
    await client.addFriends(alice, [bob.user_id]);
    const socket = client.createSocket(false, false);
    await socket.connect(bob, true);
    try {
      const [friend] = (await client.listFriends(alice)).friends;
      assert.equal(friend.user.online, true);
    } finally {
      socket.disconnect(false);
    }
  });

  test("deleting removes both sides, from either side and in any state", async () => {
    for (const who of ["sender", "receiver", "friend"]) {
      const alice = await user();
      const bob = await user();
      await client.addFriends(alice, [bob.user_id]);
      if (who === "friend") {
        await client.addFriends(bob, [alice.user_id]);
      }
      const [deleter, other] = who === "receiver" ? [bob, alice] : [alice, bob];
      await client.deleteFriends(deleter, [other.user_id]);
      assert.deepEqual(await edges(alice), [], who);
      assert.deepEqual(await edges(bob), [], who);
      assert.equal(await edgeCount(alice, alice.user_id), 0, who);
      assert.equal(await edgeCount(alice, bob.user_id), 0, who);
    }
    // Deleting someone who is no friend, or by an unknown username, is fine.
    const carol = await user();
    const dave = await user();
    await client.deleteFriends(carol, [dave.user_id], [uniqueName("nobody")]);
  });

  test("blocking drops the other side's edge; the blocked user's adds do nothing", async () => {
    for (const before of ["none", "sent", "received", "friend"]) {
      const alice = await user();
      const bob = await user();
      if (before === "sent" || before === "friend") {
        await client.addFriends(alice, [bob.user_id]);
      }
      if (before === "received" || before === "friend") {
        await client.addFriends(bob, [alice.user_id]);
      }
      await client.blockFriends(alice, [bob.user_id]);
      assert.deepEqual(await edges(alice), [[bob.user_id, BLOCKED]], before);
      assert.deepEqual(await edges(bob), [], before);
      assert.equal(await edgeCount(alice, alice.user_id), 1, before);
      assert.equal(await edgeCount(alice, bob.user_id), 0, before);

      const seen = (await notifications(alice)).length;
      assert.equal(await client.addFriends(bob, [alice.user_id]), true, "answers 200");
      assert.deepEqual(await edges(alice), [[bob.user_id, BLOCKED]], before);
      assert.deepEqual(await edges(bob), [], before);
      assert.equal((await notifications(alice)).length, seen, "no request reaches the blocker");

      // The blocker adding the blocked user does not lift the block.
      await client.addFriends(alice, [bob.user_id]);
      assert.deepEqual(await edges(alice), [[bob.user_id, BLOCKED]], before);

      // Deleting lifts it; then they can be friends again.
      await client.deleteFriends(alice, [bob.user_id]);
      assert.deepEqual(await edges(alice), [], before);
      assert.equal(await edgeCount(alice, alice.user_id), 0, before);
      await client.addFriends(bob, [alice.user_id]);
      assert.deepEqual(await edges(alice), [[bob.user_id, INVITE_RECEIVED]], before);
    }
  });

  test("two users blocking each other keep both blocks; one deleting keeps the other's", async () => {
    const alice = await user();
    const bob = await user();
    await client.blockFriends(alice, [bob.user_id]);
    await client.blockFriends(bob, [], [alice.username]);
    assert.deepEqual(await edges(alice), [[bob.user_id, BLOCKED]]);
    assert.deepEqual(await edges(bob), [[alice.user_id, BLOCKED]]);
    await client.deleteFriends(alice, [bob.user_id]);
    assert.deepEqual(await edges(alice), []);
    assert.deepEqual(await edges(bob), [[alice.user_id, BLOCKED]]);
    assert.equal(await edgeCount(alice, alice.user_id), 0);
    assert.equal(await edgeCount(alice, bob.user_id), 1);
  });

  test("a blocked user cannot open a direct message with the blocker; the blocker can", async () => {
    const alice = await user();
    const bob = await user();
    await client.blockFriends(alice, [bob.user_id]);
    const socket = client.createSocket(false, false);
    await socket.connect(bob, false);
    try {
      await assert.rejects(socket.joinChat(alice.user_id, 2, false, false), (e) => {
        assert.match(e.message, /User ID not found/);
        return true;
      });
    } finally {
      socket.disconnect(false);
    }
    const aliceSocket = client.createSocket(false, false);
    await aliceSocket.connect(alice, false);
    try {
      const channel = await aliceSocket.joinChat(bob.user_id, 2, false, false);
      assert.ok(channel.id);
    } finally {
      aliceSocket.disconnect(false);
    }
  });

  test("listing orders by state then time, filters by state and pages with cursors", async () => {
    const me = await user();
    const others = [];
    for (let i = 0; i < 7; i += 1) {
      others.push(await user());
    }
    // 0, 1: invites sent; 2, 3: invites received; 4: friend; 5, 6: blocked.
    await client.addFriends(me, [others[0].user_id]);
    await client.addFriends(me, [others[1].user_id]);
    await client.addFriends(others[2], [me.user_id]);
    await client.addFriends(others[3], [me.user_id]);
    await client.addFriends(others[4], [me.user_id]);
    await client.addFriends(me, [others[4].user_id]);
    await client.blockFriends(me, [others[5].user_id]);
    await client.blockFriends(me, [others[6].user_id]);
    const want = [
      [others[4].user_id, FRIEND],
      [others[0].user_id, INVITE_SENT],
      [others[1].user_id, INVITE_SENT],
      [others[2].user_id, INVITE_RECEIVED],
      [others[3].user_id, INVITE_RECEIVED],
      [others[5].user_id, BLOCKED],
      [others[6].user_id, BLOCKED],
    ];
    assert.deepEqual(await edges(me), want);
    const all = await client.listFriends(me);
    assert.equal(all.cursor, undefined, "no cursor after the last page");

    const paged = [];
    let cursor;
    let pages = 0;
    do {
      const page = await client.listFriends(me, undefined, 2, cursor);
      paged.push(...page.friends.map((f) => [f.user.id, f.state ?? 0]));
      cursor = page.cursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.deepEqual(paged, want);
    assert.equal(pages, 4);

    assert.deepEqual(await edges(me, INVITE_RECEIVED), want.slice(3, 5));
    const first = await client.listFriends(me, BLOCKED, 1);
    assert.deepEqual(first.friends.map((f) => f.user.id), [others[5].user_id]);
    const second = await client.listFriends(me, BLOCKED, 1, first.cursor);
    assert.deepEqual(second.friends.map((f) => f.user.id), [others[6].user_id]);
    assert.equal(second.cursor, undefined);

    // A cursor of one state with another state's filter, and garbage cursors, are refused.
    await rejectsWith(client.listFriends(me, FRIEND, 1, first.cursor), 400, 3, "Cursor is invalid.");
    for (const bad of ["bad", "!!!!", "AAAA"]) {
      await rejectsWith(client.listFriends(me, undefined, 1, bad), 400, 3, "Cursor is invalid.");
    }
  });

  test("bad input is refused and changes nothing", async () => {
    const alice = await user();
    const bob = await user();
    const self = "Cannot add self as friend.";
    await rejectsWith(client.addFriends(alice, [alice.user_id]), 400, 3, self);
    await rejectsWith(client.addFriends(alice, [], [alice.username]), 400, 3, self);
    await rejectsWith(client.addFriends(alice, [bob.user_id, alice.user_id]), 400, 3, self);
    await rejectsWith(client.blockFriends(alice, [alice.user_id]), 400, 3, "Cannot block self.");
    await rejectsWith(client.deleteFriends(alice, [alice.user_id]), 400, 3, "Cannot delete self.");
    await rejectsWith(client.addFriends(alice, ["not-a-uuid"]), 400, 3, "Invalid user ID 'not-a-uuid'.");
    await rejectsWith(
      client.addFriends(alice, ["00000000-0000-0000-0000-000000000000"]),
      400,
      3,
      "Invalid user ID '00000000-0000-0000-0000-000000000000'.",
    );
    await rejectsWith(client.addFriends(alice, [], [""]), 400, 3, "Username must not be empty.");
    await rejectsWith(
      client.addFriends(alice, [], [uniqueName("nobody")]),
      400,
      3,
      "No valid ID or username was provided.",
    );
    await rejectsWith(
      client.blockFriends(alice, [], [uniqueName("nobody")]),
      400,
      3,
      "No valid ID or username was provided.",
    );
    await rejectsWith(client.listFriends(alice, 4), 400, 3, "Invalid state - state must be between 0 and 3.");
    await rejectsWith(client.listFriends(alice, undefined, 0), 400, 3, "Invalid limit - limit must be between 1 and 1000.");
    await rejectsWith(client.listFriends(alice, undefined, 1001), 400, 3, "Invalid limit - limit must be between 1 and 1000.");
    const many = Array.from({ length: 1001 }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`);
    await rejectsWith(client.addFriends(alice, many), 400, 3);
    assert.deepEqual(await edges(alice), []);
    assert.deepEqual(await edges(bob), []);

    // An unknown but well-formed id is skipped; nothing is made.
    await client.addFriends(alice, ["4f7d8b2e-0000-4000-8000-000000000001"]);
    await client.blockFriends(alice, ["4f7d8b2e-0000-4000-8000-000000000001"]);
    assert.deepEqual(await edges(alice), []);
    assert.equal(await edgeCount(alice, alice.user_id), 0);

    // No ids and no usernames: nothing to do.
    const res = await request(server, "/v2/friend", { method: "POST", bearer: alice.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
    const noAuth = await request(server, "/v2/friend");
    assert.equal(noAuth.status, 401);
  });

  test("deleting an account removes its edges from the other users' lists", async () => {
    const alice = await user();
    const bob = await user();
    await client.addFriends(alice, [bob.user_id]);
    await client.addFriends(bob, [alice.user_id]);
    const res = await request(server, "/v2/account", { method: "DELETE", bearer: bob.token });
    assert.equal(res.status, 200);
    assert.deepEqual(await edges(alice), []);
  });
});

describe("friends from server code (Rust friends_api, Lua tests/lua/friends.lua)", () => {
  let rpcServer;
  let rpcClient;

  before(async () => {
    rpcServer = await startServer({
      label: "friends-rpc",
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
    });
    rpcClient = makeClient(rpcServer);
  });
  after(async () => {
    await rpcServer?.stop();
  });

  const rpc = async (session, id, input) => (await rpcClient.rpc(session, id, input)).payload;
  const listed = (payload) => (Array.isArray(payload.friends) ? payload.friends : []).map((f) => [f.user.id, f.state ?? 0]);

  for (const [runtime, prefix] of [["Rust", "rust_friends_"], ["Lua", "lua_friends_"]]) {
    test(`${runtime}: add, accept, list with cursors, block and delete for a user`, async () => {
      const alice = await rpcClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
      const bob = await rpcClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
      const carol = await rpcClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
      const as = (who) => ({ user_id: who.user_id, username: who.username });

      await rpc(alice, `${prefix}add`, { ...as(alice), ids: [bob.user_id], usernames: [carol.username] });
      let page = await rpc(alice, `${prefix}list`, { user_id: alice.user_id, limit: 10 });
      assert.deepEqual(listed(page).map(([, s]) => s), [INVITE_SENT, INVITE_SENT]);
      assert.ok(!page.cursor);
      const requests = await rpcClient.listNotifications(bob, 10);
      assert.deepEqual(requests.notifications.map((n) => [n.code, n.sender_id]), [[-2, alice.user_id]]);

      await rpc(bob, `${prefix}add`, { ...as(bob), ids: [alice.user_id] });
      const first = await rpc(alice, `${prefix}list`, { user_id: alice.user_id, limit: 1 });
      assert.deepEqual(listed(first), [[bob.user_id, FRIEND]]);
      assert.ok(first.cursor);
      const second = await rpc(alice, `${prefix}list`, { user_id: alice.user_id, limit: 1, cursor: first.cursor });
      assert.deepEqual(listed(second), [[carol.user_id, INVITE_SENT]]);
      const received = await rpc(carol, `${prefix}list`, { user_id: carol.user_id, state: INVITE_RECEIVED });
      assert.deepEqual(listed(received), [[alice.user_id, INVITE_RECEIVED]]);

      await rpc(carol, `${prefix}block`, { ...as(carol), usernames: [alice.username] });
      assert.deepEqual(listed(await rpc(alice, `${prefix}list`, { user_id: alice.user_id })), [[bob.user_id, FRIEND]]);
      await rpc(alice, `${prefix}delete`, { ...as(alice), ids: [bob.user_id] });
      assert.deepEqual(listed(await rpc(bob, `${prefix}list`, { user_id: bob.user_id })), []);
      assert.deepEqual(
        (await rpcClient.listFriends(carol)).friends.map((f) => [f.user.id, f.state]),
        [[alice.user_id, BLOCKED]],
      );
    });

    test(`${runtime}: users_get_random picks distinct users, at most count, never the system user`, async () => {
      const caller = await rpcClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
      for (let i = 0; i < 3; i += 1) {
        await rpcClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
      }
      const users = (payload) => (Array.isArray(payload.users) ? payload.users : []);
      const three = users(await rpc(caller, `${prefix}random`, { count: 3 }));
      assert.equal(three.length, 3);
      assert.equal(new Set(three.map((u) => u.id)).size, 3);
      assert.ok(three.every((u) => u.id && u.id !== "00000000-0000-0000-0000-000000000000" && u.username));
      assert.deepEqual(users(await rpc(caller, `${prefix}random`, { count: 0 })), []);
      let failed;
      try {
        await rpc(caller, `${prefix}random`, { count: 1001 });
      } catch (e) {
        failed = (await e.json()).message;
      }
      assert.match(failed ?? "", /count must be 0-1000/);
    });

    test(`${runtime}: bad arguments fail with Nakama's messages`, async () => {
      const alice = await rpcClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
      const message = async (id, input) => {
        try {
          await rpc(alice, id, input);
        } catch (e) {
          return (await e.json()).message;
        }
        assert.fail(`${id} should have failed`);
      };
      assert.match(await message(`${prefix}list`, { user_id: "nope" }), /expects user ID to be a valid identifier/);
      assert.match(await message(`${prefix}list`, { user_id: alice.user_id, limit: 101 }), /expects limit to be 1-100/);
      assert.match(await message(`${prefix}list`, { user_id: alice.user_id, state: 4 }), /expects state to be 0-3/);
      assert.match(await message(`${prefix}list`, { user_id: alice.user_id, cursor: "garbage" }), /cursor/i);
      const as = { user_id: alice.user_id, username: alice.username };
      assert.match(await message(`${prefix}add`, { ...as, ids: [alice.user_id] }), /cannot add self as friend/);
      assert.match(await message(`${prefix}block`, { ...as, usernames: [alice.username] }), /cannot block self/);
      assert.match(await message(`${prefix}add`, { ...as, ids: ["x"] }), /invalid user ID 'x'/);
      assert.match(await message(`${prefix}delete`, { ...as, usernames: [uniqueName("nobody")] }), /no valid ID or username was provided/);
    });
  }
});
