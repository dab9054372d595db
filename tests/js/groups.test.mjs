// Groups with the official client: create (the creator is superadmin), update, delete, join
// (open: member at once; closed: a join request), leave (not the last superadmin), add, kick,
// ban, promote and demote with Nakama's role rules, max_count under concurrent joins, the
// notifications (-5, -4) and group-channel messages (codes 3-9) of membership changes, the
// three listings with their filters and cursors, and Nakama's errors for bad input; the group
// functions of Rust `Nk` (bundled groups_api, `rust_groups_*`) and Lua `nk` (tests/lua/groups.lua)
// through RPCs, and Rust and Lua hooks on the group routes.
// tavern-test: postgres

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { UUID_RE, makeClient, rejectsWith, request } from "./lib/client.mjs";
import { repoRoot, sleep, startServer, uniqueName } from "./lib/server.mjs";

const SUPERADMIN = 0;
const ADMIN = 1;
const MEMBER = 2;
const JOIN_REQUEST = 3;
const BANNED = 4;
const UNKNOWN = "8a3a1f3e-7f6c-4a36-9d43-2a6f6b1a0c11";
const SYSTEM = "00000000-0000-0000-0000-000000000000";
const GROUP_CHANNEL = 3;
// Group channel message codes: join, add, leave, kick, promote, ban, demote.
const CODE = { join: 3, add: 4, leave: 5, kick: 6, promote: 7, ban: 8, demote: 9 };

let server;
let client;

before(async () => {
  server = await startServer({ label: "groups", args: ["--session.token_expiry_sec", "7200"] });
  client = makeClient(server);
});
after(async () => {
  await server?.stop();
});

const user = () => client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
const newGroup = (session, fields = {}) =>
  client.createGroup(session, { name: uniqueName("group"), open: true, ...fields });
/** A raw call, for the routes and parameters nakama-js does not expose. */
const raw = (session, urlPath, init = {}) => request(server, urlPath, { bearer: session.token, ...init });
/** The states of a group's users by user id (nakama-js swaps listUserGroups' arguments, not this one's). */
async function states(session, groupId, c = client) {
  const list = await c.listGroupUsers(session, groupId, undefined, 100);
  return Object.fromEntries(list.group_users.map((gu) => [gu.user.id, gu.state]));
}

describe("groups", () => {
  test("create: the creator is the superadmin and the only member; names are unique", async () => {
    const alice = await user();
    const name = uniqueName("Knights");
    const group = await client.createGroup(alice, {
      name,
      description: "we joust",
      lang_tag: "fr",
      avatar_url: "https://example.com/a.png",
      open: true,
      max_count: 10,
    });
    assert.match(group.id, UUID_RE);
    assert.equal(group.creator_id, alice.user_id);
    assert.equal(group.name, name);
    assert.equal(group.description, "we joust");
    assert.equal(group.lang_tag, "fr");
    assert.equal(group.open, true);
    assert.equal(group.edge_count, 1);
    assert.equal(group.max_count, 10);
    assert.deepEqual(await states(alice, group.id), { [alice.user_id]: SUPERADMIN });

    // Defaults: closed, 100 places, language en.
    const plain = await client.createGroup(alice, { name: uniqueName("plain") });
    assert.equal(plain.open, false);
    assert.equal(plain.max_count, 100);
    assert.equal(plain.lang_tag, "en");

    await rejectsWith(client.createGroup(alice, { name }), 409, 6, "Group name is in use.");
    await rejectsWith(client.createGroup(alice, { name: "" }), 400, 3, "Group name must be set.");
    await rejectsWith(
      client.createGroup(alice, { name: uniqueName("neg"), max_count: -1 }),
      400,
      3,
      "Group max count must be >= 1 when set.",
    );
  });

  test("update: admins and superadmins only; fields change, empty ones are refused", async () => {
    const alice = await user();
    const bob = await user();
    const group = await newGroup(alice);
    const renamed = uniqueName("renamed");
    assert.equal(await client.updateGroup(alice, group.id, { name: renamed, description: "new", open: false }), true);
    const [listed] = (await client.listGroups(alice, renamed, undefined, 1)).groups;
    assert.equal(listed.name, renamed);
    assert.equal(listed.description, "new");
    assert.equal(listed.open, false);

    await rejectsWith(
      client.updateGroup(bob, group.id, { description: "mine now" }),
      404,
      5,
      "Group not found or you're not allowed to update.",
    );
    await rejectsWith(
      client.updateGroup(alice, UNKNOWN, { description: "x" }),
      404,
      5,
      "Group not found or you're not allowed to update.",
    );
    await rejectsWith(client.updateGroup(alice, group.id, { name: "" }), 400, 3, "Group name cannot be empty.");
    await rejectsWith(client.updateGroup(alice, group.id, { lang_tag: "" }), 400, 3, "Group language cannot be empty.");
    await rejectsWith(client.updateGroup(alice, group.id, {}), 400, 3, "Specify at least one field to update.");
    await rejectsWith(client.updateGroup(alice, "nope", { description: "x" }), 400, 3, "Group ID must be a valid ID.");
    const other = await newGroup(alice);
    await rejectsWith(client.updateGroup(alice, other.id, { name: renamed }), 400, 3, "Group name is in use.");
  });

  test("join an open group: a member at once; a closed one: a join request", async () => {
    const alice = await user();
    const bob = await user();
    const open = await newGroup(alice);
    assert.equal(await client.joinGroup(bob, open.id), true);
    // Joining again changes nothing.
    assert.equal(await client.joinGroup(bob, open.id), true);
    assert.deepEqual(await states(alice, open.id), { [alice.user_id]: SUPERADMIN, [bob.user_id]: MEMBER });
    const [joined] = (await client.listGroups(bob, open.name, undefined, 1)).groups;
    assert.equal(joined.edge_count, 2);

    const closed = await newGroup(alice, { open: false });
    await client.joinGroup(bob, closed.id);
    assert.deepEqual(await states(alice, closed.id), { [alice.user_id]: SUPERADMIN, [bob.user_id]: JOIN_REQUEST });
    const [requested] = (await client.listGroups(bob, closed.name, undefined, 1)).groups;
    assert.equal(requested.edge_count, 1, "a join request is not a member");

    await rejectsWith(client.joinGroup(bob, UNKNOWN), 404, 5, "Group not found.");
    await rejectsWith(client.joinGroup(bob, "nope"), 400, 3, "Group ID must be a valid ID.");
  });

  test("a full group refuses joins", async () => {
    const alice = await user();
    const group = await newGroup(alice, { max_count: 2 });
    await client.joinGroup(await user(), group.id);
    await rejectsWith(client.joinGroup(await user(), group.id), 400, 3, "Group is full.");
    const closed = await newGroup(alice, { open: false, max_count: 1 });
    await rejectsWith(client.joinGroup(await user(), closed.id), 400, 3, "Group is full.");
  });

  test("leave: members and requests go; the last superadmin cannot", async () => {
    const alice = await user();
    const bob = await user();
    const group = await newGroup(alice);
    await client.joinGroup(bob, group.id);
    assert.equal(await client.leaveGroup(bob, group.id), true);
    assert.deepEqual(await states(alice, group.id), { [alice.user_id]: SUPERADMIN });
    const [left] = (await client.listGroups(alice, group.name, undefined, 1)).groups;
    assert.equal(left.edge_count, 1);
    // Leaving a group one is not in, or an unknown group, is fine.
    assert.equal(await client.leaveGroup(bob, group.id), true);
    assert.equal(await client.leaveGroup(bob, UNKNOWN), true);

    await rejectsWith(
      client.leaveGroup(alice, group.id),
      400,
      3,
      "Cannot leave group when you are the last superadmin.",
    );

    const closed = await newGroup(alice, { open: false });
    await client.joinGroup(bob, closed.id);
    await client.leaveGroup(bob, closed.id);
    assert.deepEqual(await states(alice, closed.id), { [alice.user_id]: SUPERADMIN });
  });

  test("delete: superadmins only (others 400, as Nakama)", async () => {
    const alice = await user();
    const bob = await user();
    const group = await newGroup(alice);
    await client.joinGroup(bob, group.id);
    await rejectsWith(client.deleteGroup(bob, group.id), 400, 3, "Group not found or you're not allowed to delete.");
    await rejectsWith(client.deleteGroup(bob, UNKNOWN), 400, 3, "Group not found or you're not allowed to delete.");
    assert.equal(await client.deleteGroup(alice, group.id), true);
    assert.deepEqual((await client.listGroups(alice, group.name, undefined, 1)).groups, []);
    assert.deepEqual((await client.listUserGroups(bob, bob.user_id, 100, undefined)).user_groups, []);
    await rejectsWith(client.joinGroup(bob, group.id), 404, 5, "Group not found.");
  });

  test("a user's groups, with states, a state filter and cursors", async () => {
    const alice = await user();
    const bob = await user();
    const mine = await newGroup(bob);
    const joined = [];
    for (let i = 0; i < 3; i++) {
      const group = await newGroup(alice);
      await client.joinGroup(bob, group.id);
      joined.push(group.id);
    }
    const requested = await newGroup(alice, { open: false });
    await client.joinGroup(bob, requested.id);

    // nakama-js 2.8 sends listUserGroups' state as the limit and the limit as the state.
    const all = await client.listUserGroups(bob, bob.user_id, 100, undefined);
    assert.deepEqual(
      all.user_groups.map((ug) => [ug.group.id, ug.state]),
      [[mine.id, SUPERADMIN], ...joined.map((id) => [id, MEMBER]), [requested.id, JOIN_REQUEST]],
    );
    assert.equal(all.cursor, undefined);

    const members = await raw(bob, `/v2/user/${bob.user_id}/group?state=${MEMBER}&limit=2`);
    assert.equal(members.status, 200, members.text);
    assert.deepEqual(members.json.user_groups.map((ug) => ug.group.id), joined.slice(0, 2));
    assert.ok(members.json.cursor);
    const rest = await raw(bob, `/v2/user/${bob.user_id}/group?state=${MEMBER}&limit=2&cursor=${encodeURIComponent(members.json.cursor)}`);
    assert.deepEqual(rest.json.user_groups.map((ug) => ug.group.id), joined.slice(2));
    assert.equal(rest.json.cursor, undefined);

    // A cursor of another state filter, bad limits and states.
    const mismatch = await raw(bob, `/v2/user/${bob.user_id}/group?state=${ADMIN}&cursor=${encodeURIComponent(members.json.cursor)}`);
    assert.deepEqual(mismatch.json, { code: 3, message: "Cursor is invalid." });
    const garbage = await raw(bob, `/v2/user/${bob.user_id}/group?cursor=xyz`);
    assert.deepEqual(garbage.json, { code: 3, message: "Cursor is invalid." });
    const limit = await raw(bob, `/v2/user/${bob.user_id}/group?limit=101`);
    assert.deepEqual(limit.json, { code: 3, message: "Invalid limit - limit must be between 1 and 100." });
    const badState = await raw(bob, `/v2/user/${bob.user_id}/group?state=5`);
    assert.deepEqual(badState.json, { code: 3, message: "Invalid state - state must be between 0 and 4." });
    const badUser = await raw(bob, `/v2/user/nope/group`);
    assert.deepEqual(badUser.json, { code: 3, message: "Group ID must be a valid ID." });
    const nobody = await raw(bob, `/v2/user/${UNKNOWN}/group`);
    assert.deepEqual(nobody.json, {});
  });

  test("a group's users, pages in (state, join order) with online flags", async () => {
    const alice = await user();
    const group = await newGroup(alice);
    const members = [];
    for (let i = 0; i < 4; i++) {
      const member = await user();
      await client.joinGroup(member, group.id);
      members.push(member.user_id);
    }
    const socket = client.createSocket(false, false);
    await socket.connect(alice, true);
    try {
      const first = await client.listGroupUsers(alice, group.id, undefined, 3);
      assert.deepEqual(first.group_users.map((gu) => gu.user.id), [alice.user_id, ...members.slice(0, 2)]);
      assert.deepEqual(first.group_users.map((gu) => gu.state), [SUPERADMIN, MEMBER, MEMBER]);
      assert.equal(first.group_users[0].user.online, true);
      assert.ok(!first.group_users[1].user.online, "offline is omitted");
      const second = await client.listGroupUsers(alice, group.id, undefined, 3, first.cursor);
      assert.deepEqual(second.group_users.map((gu) => gu.user.id), members.slice(2));
      assert.equal(second.cursor, undefined);
      const supers = await client.listGroupUsers(alice, group.id, SUPERADMIN, 10);
      assert.deepEqual(supers.group_users.map((gu) => gu.user.id), [alice.user_id]);
    } finally {
      socket.disconnect(false);
    }
    const unknown = await client.listGroupUsers(alice, UNKNOWN, undefined, 10);
    assert.deepEqual(unknown.group_users, []);
    await rejectsWith(client.listGroupUsers(alice, group.id, undefined, 0), 400, 3, "Invalid limit - limit must be between 1 and 100.");
    await rejectsWith(client.listGroupUsers(alice, group.id, 9, 10), 400, 3, "Invalid state - state must be between 0 and 4.");
    await rejectsWith(client.listGroupUsers(alice, "nope", undefined, 10), 400, 3, "Group ID must be a valid ID.");
  });

  test("listing groups: name (case-insensitive, % wildcard), language, members, open, cursors", async () => {
    const alice = await user();
    const tag = uniqueName("Guild").toLowerCase();
    const langTag = uniqueName("l").slice(0, 12);
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(await newGroup(alice, { name: `${tag}-${i}`, lang_tag: langTag, open: i % 2 === 0 }));
    }
    // Name: case-insensitive, % trailing wildcard, pages in name order.
    const exact = await client.listGroups(alice, `${tag.toUpperCase()}-3`, undefined, 10);
    assert.deepEqual(exact.groups.map((g) => g.name), [`${tag}-3`]);
    const page1 = await client.listGroups(alice, `${tag.toUpperCase()}%`, undefined, 3);
    assert.deepEqual(page1.groups.map((g) => g.name), [0, 1, 2].map((i) => `${tag}-${i}`));
    assert.ok(page1.cursor);
    const page2 = await client.listGroups(alice, `${tag}%`, page1.cursor, 3);
    assert.deepEqual(page2.groups.map((g) => g.name), [3, 4].map((i) => `${tag}-${i}`));
    assert.equal(page2.cursor, undefined);
    // The default limit is 1.
    assert.equal((await client.listGroups(alice, `${tag}%`)).groups.length, 1);

    // Language, open, members.
    const byLang = await raw(alice, `/v2/group?lang_tag=${langTag}&limit=100`);
    assert.equal(byLang.json.groups.length, 5);
    const openOnes = await raw(alice, `/v2/group?lang_tag=${langTag}&open=true&limit=100`);
    assert.deepEqual(openOnes.json.groups.map((g) => g.name).sort(), [0, 2, 4].map((i) => `${tag}-${i}`));
    await client.joinGroup(await user(), made[2].id);
    const bigger = await raw(alice, `/v2/group?lang_tag=${langTag}&limit=100`);
    assert.equal(bigger.json.groups[0].id, made[2].id, "largest first");
    const small = await raw(alice, `/v2/group?lang_tag=${langTag}&members=1&limit=100`);
    assert.equal(small.json.groups.length, 4);
    // Pages of a filtered listing cover every group once.
    const seen = [];
    let cursor = "";
    for (let i = 0; i < 10; i++) {
      const page = await raw(alice, `/v2/group?lang_tag=${langTag}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.json.groups.map((g) => g.id));
      if (!page.json.cursor) {
        break;
      }
      cursor = page.json.cursor;
    }
    assert.deepEqual(seen.sort(), made.map((g) => g.id).sort());

    const combined = await raw(alice, `/v2/group?name=${tag}&open=true`);
    assert.deepEqual(combined.json, { code: 3, message: "name filter cannot be combined with any other filter" });
    const badCursor = await raw(alice, `/v2/group?cursor=nope`);
    assert.deepEqual(badCursor.json, { code: 3, message: "Malformed cursor was used." });
    const badLimit = await raw(alice, `/v2/group?limit=0`);
    assert.deepEqual(badLimit.json, { code: 3, message: "Invalid limit - limit must be between 1 and 100." });
  });
});

/** Lua encodes an empty table as `{}`. */
const list = (items) => (Array.isArray(items) ? items : []);

/** The group's edge_count as listings show it. */
async function edgeCount(session, group) {
  const [listed] = (await client.listGroups(session, group.name, undefined, 1)).groups;
  return listed.edge_count;
}

describe("group members", () => {
  test("add: admins add users and accept join requests; members cannot; unknown users fail the call", async () => {
    const alice = await user();
    const bob = await user();
    const carol = await user();
    const dave = await user();
    const group = await newGroup(alice, { open: false });
    await client.joinGroup(carol, group.id);
    assert.equal(await client.addGroupUsers(alice, group.id, [bob.user_id, carol.user_id]), true);
    assert.deepEqual(await states(alice, group.id), {
      [alice.user_id]: SUPERADMIN,
      [bob.user_id]: MEMBER,
      [carol.user_id]: MEMBER,
    });
    assert.equal(await edgeCount(alice, group), 3);
    // Adding members again changes nothing.
    await client.addGroupUsers(alice, group.id, [bob.user_id]);
    assert.equal(await edgeCount(alice, group), 3);

    await rejectsWith(client.addGroupUsers(bob, group.id, [dave.user_id]), 404, 5, "Group not found or permission denied.");
    await rejectsWith(client.addGroupUsers(alice, UNKNOWN, [dave.user_id]), 404, 5, "Group not found or permission denied.");
    await rejectsWith(client.addGroupUsers(alice, group.id, [dave.user_id, UNKNOWN]), 400, 3, "One or more users not found.");
    assert.equal((await states(alice, group.id))[dave.user_id], undefined, "nothing added");
    await rejectsWith(client.addGroupUsers(alice, group.id, ["nope"]), 400, 3, "User ID must be a valid ID.");
    assert.equal(await client.addGroupUsers(alice, group.id, []), true);
  });

  test("max_count holds for adds, and a full add changes nothing", async () => {
    const alice = await user();
    const [b, c, d] = [await user(), await user(), await user()];
    const group = await newGroup(alice, { max_count: 3 });
    await rejectsWith(client.addGroupUsers(alice, group.id, [b.user_id, c.user_id, d.user_id]), 400, 3, "Group is full.");
    assert.equal(await edgeCount(alice, group), 1);
    await client.addGroupUsers(alice, group.id, [b.user_id, c.user_id]);
    assert.equal(await edgeCount(alice, group), 3);
    await rejectsWith(client.joinGroup(d, group.id), 400, 3, "Group is full.");
  });

  test("promote and demote step one rank at a time within the caller's rank", async () => {
    const alice = await user();
    const bob = await user();
    const carol = await user();
    const group = await newGroup(alice);
    await client.joinGroup(bob, group.id);
    await client.joinGroup(carol, group.id);
    // A member cannot promote.
    await rejectsWith(client.promoteGroupUsers(bob, group.id, [carol.user_id]), 404, 5, "Group not found or permission denied.");
    await client.promoteGroupUsers(alice, group.id, [bob.user_id]);
    assert.equal((await states(alice, group.id))[bob.user_id], ADMIN);
    // An admin makes admins, not superadmins.
    await client.promoteGroupUsers(bob, group.id, [carol.user_id]);
    assert.equal((await states(alice, group.id))[carol.user_id], ADMIN);
    await client.promoteGroupUsers(bob, group.id, [carol.user_id]);
    assert.equal((await states(alice, group.id))[carol.user_id], ADMIN);
    // A superadmin makes superadmins; then the first may leave.
    await client.promoteGroupUsers(alice, group.id, [bob.user_id]);
    assert.equal((await states(alice, group.id))[bob.user_id], SUPERADMIN);
    await client.demoteGroupUsers(alice, group.id, [bob.user_id, carol.user_id]);
    assert.deepEqual(await states(alice, group.id), {
      [alice.user_id]: SUPERADMIN,
      [bob.user_id]: ADMIN,
      [carol.user_id]: MEMBER,
    });
    // Demoting a member does nothing; demoting with no ids is refused.
    await client.demoteGroupUsers(alice, group.id, [carol.user_id]);
    assert.equal((await states(alice, group.id))[carol.user_id], MEMBER);
    await rejectsWith(client.demoteGroupUsers(alice, group.id, []), 400, 3, "User IDs must be set.");
    // An admin cannot demote the superadmin.
    await client.demoteGroupUsers(bob, group.id, [alice.user_id]);
    assert.equal((await states(alice, group.id))[alice.user_id], SUPERADMIN);
  });

  test("kick and ban: admins remove members and requests, never superadmins; banned users stay out", async () => {
    const alice = await user();
    const admin = await user();
    const bob = await user();
    const carol = await user();
    const group = await newGroup(alice);
    for (const u of [admin, bob, carol]) {
      await client.joinGroup(u, group.id);
    }
    await client.promoteGroupUsers(alice, group.id, [admin.user_id]);
    assert.equal(await edgeCount(alice, group), 4);

    await rejectsWith(client.kickGroupUsers(bob, group.id, [carol.user_id]), 404, 5, "Group not found or permission denied.");
    await client.kickGroupUsers(admin, group.id, [alice.user_id, bob.user_id]);
    let now = await states(alice, group.id);
    assert.equal(now[alice.user_id], SUPERADMIN, "an admin cannot kick a superadmin");
    assert.equal(now[bob.user_id], undefined);
    assert.equal(await edgeCount(alice, group), 3);
    // Kicked users may join again.
    await client.joinGroup(bob, group.id);
    assert.equal((await states(alice, group.id))[bob.user_id], MEMBER);

    await client.banGroupUsers(admin, group.id, [bob.user_id]);
    now = await states(alice, group.id);
    assert.equal(now[bob.user_id], undefined, "banned users are not listed");
    const banned = await client.listGroupUsers(alice, group.id, BANNED, 10);
    assert.deepEqual(banned.group_users.map((gu) => gu.user.id), [bob.user_id]);
    assert.equal(await edgeCount(alice, group), 3);
    // A banned user's join and leave change nothing, and the user shows in no listing of the user's groups.
    await client.joinGroup(bob, group.id);
    await client.leaveGroup(bob, group.id);
    assert.deepEqual((await client.listGroupUsers(alice, group.id, BANNED, 10)).group_users.length, 1);
    // Kicking the ban lifts it.
    await client.kickGroupUsers(alice, group.id, [bob.user_id]);
    await client.joinGroup(bob, group.id);
    assert.equal((await states(alice, group.id))[bob.user_id], MEMBER);

    // Rejecting a join request: kick it.
    const closed = await newGroup(alice, { open: false });
    await client.joinGroup(carol, closed.id);
    await client.kickGroupUsers(alice, closed.id, [carol.user_id]);
    assert.deepEqual(await states(alice, closed.id), { [alice.user_id]: SUPERADMIN });
    assert.equal(await edgeCount(alice, closed), 1);
  });

  test("concurrent joins of a group with one free place admit exactly one", async () => {
    const alice = await user();
    const group = await newGroup(alice, { max_count: 2 });
    const joiners = await Promise.all(Array.from({ length: 12 }, () => user()));
    const results = await Promise.allSettled(joiners.map((j) => client.joinGroup(j, group.id)));
    const admitted = results.filter((r) => r.status === "fulfilled");
    assert.equal(admitted.length, 1, "exactly one join succeeds");
    for (const r of results.filter((r) => r.status === "rejected")) {
      assert.equal(r.reason.status, 400);
      assert.deepEqual(await r.reason.json(), { code: 3, message: "Group is full." });
    }
    assert.equal(await edgeCount(alice, group), 2);
    assert.equal(Object.keys(await states(alice, group.id)).length, 2);

    // Concurrent adds by two admins of more users than places: the count never passes the limit.
    const big = await newGroup(alice, { max_count: 5 });
    const admin = await user();
    await client.joinGroup(admin, big.id);
    await client.promoteGroupUsers(alice, big.id, [admin.user_id]);
    const more = await Promise.all(Array.from({ length: 8 }, () => user()));
    await Promise.allSettled([
      ...more.slice(0, 4).map((u) => client.addGroupUsers(alice, big.id, [u.user_id])),
      ...more.slice(4).map((u) => client.addGroupUsers(admin, big.id, [u.user_id])),
      ...more.map((u) => client.leaveGroup(u, big.id)),
    ]);
    const count = await edgeCount(alice, big);
    assert.ok(count <= 5, `edge_count ${count} within max_count`);
    assert.equal(Object.keys(await states(alice, big.id)).length, count, "edge_count matches the members");
  });
});

describe("group notifications and channel", () => {
  /** A socket of the session that collects notifications and channel messages. */
  async function listener(session) {
    const socket = client.createSocket(false, false);
    const notifications = [];
    const messages = [];
    socket.onnotification = (n) => notifications.push(n);
    socket.onchannelmessage = (m) => messages.push(m);
    await socket.connect(session, false);
    return { socket, notifications, messages };
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

  test("a join request notifies the admins and superadmins (-5); an add notifies the user (-4)", async () => {
    const alice = await user();
    const admin = await user();
    const bob = await user();
    const group = await newGroup(alice, { open: false });
    await client.addGroupUsers(alice, group.id, [admin.user_id]);
    await client.promoteGroupUsers(alice, group.id, [admin.user_id]);
    const a = await listener(alice);
    const b = await listener(bob);
    try {
      await client.joinGroup(bob, group.id);
      await until(() => a.notifications.length > 0, "the join request notification");
      const [request] = a.notifications;
      assert.equal(request.code, -5);
      assert.equal(request.sender_id, bob.user_id);
      assert.deepEqual(request.content, { group_id: group.id, username: bob.username });
      assert.equal(request.subject, `User ${bob.username} wants to join your group`);
      const stored = await client.listNotifications(admin, 10);
      assert.deepEqual(stored.notifications.map((n) => n.code), [-4, -5], "the admin's add, then the request");

      await client.addGroupUsers(alice, group.id, [bob.user_id]);
      await until(() => b.notifications.length > 0, "the add notification");
      const [added] = b.notifications;
      assert.equal(added.code, -4);
      assert.equal(added.sender_id, alice.user_id);
      assert.deepEqual(added.content, { group_id: group.id, name: group.name });
      assert.equal(added.subject, `You've been added to group ${group.name}`);
    } finally {
      a.socket.disconnect(false);
      b.socket.disconnect(false);
    }
  });

  test("members join the group channel; every membership change writes its code there; removed users leave it", async () => {
    const alice = await user();
    const bob = await user();
    const carol = await user();
    const group = await newGroup(alice);
    const a = await listener(alice);
    const c = await listener(carol);
    try {
      // Not a member yet: refused as Nakama refuses it.
      const refused = await c.socket.joinChat(group.id, GROUP_CHANNEL, true, false).then(
        () => undefined,
        (e) => e,
      );
      assert.equal(refused?.code, 3, JSON.stringify(refused));
      assert.equal(refused.message, "Group not found: Invalid channel target");
      const channel = await a.socket.joinChat(group.id, GROUP_CHANNEL, true, false);
      assert.equal(channel.group_id, group.id);

      const expected = [];
      const step = async (what, code, who) => {
        await what();
        expected.push([code, who.user_id, who.username]);
        await until(() => a.messages.length >= expected.length, `message ${code}`);
      };
      await step(() => client.joinGroup(bob, group.id), CODE.join, bob);
      await step(() => client.addGroupUsers(alice, group.id, [carol.user_id]), CODE.add, carol);
      await step(() => client.promoteGroupUsers(alice, group.id, [bob.user_id]), CODE.promote, bob);
      await step(() => client.demoteGroupUsers(alice, group.id, [bob.user_id]), CODE.demote, bob);
      // Carol, now a member, joins the channel; a kick takes her off it.
      await c.socket.joinChat(group.id, GROUP_CHANNEL, true, false);
      await step(() => client.kickGroupUsers(alice, group.id, [carol.user_id]), CODE.kick, carol);
      await step(() => client.leaveGroup(bob, group.id), CODE.leave, bob);
      await client.joinGroup(bob, group.id);
      expected.push([CODE.join, bob.user_id, bob.username]);
      await step(() => client.banGroupUsers(alice, group.id, [bob.user_id]), CODE.ban, bob);
      assert.deepEqual(
        a.messages.map((m) => [m.code, m.sender_id, m.username]),
        expected,
      );
      for (const m of a.messages) {
        assert.equal(m.channel_id, channel.id);
        assert.equal(m.group_id, group.id);
        assert.deepEqual(m.content, {});
        assert.equal(m.persistent, true);
      }
      // Carol saw the kick (and nothing after it).
      await until(() => c.messages.some((m) => m.code === CODE.kick), "carol's kick");
      const beforeLeave = c.messages.length;
      await client.joinGroup(carol, group.id);
      await sleep(200);
      assert.equal(c.messages.length, beforeLeave, "a kicked user is off the channel");
    } finally {
      a.socket.disconnect(false);
      c.socket.disconnect(false);
    }
  });
});

describe("groups from server code", () => {
  let luaServer;
  let luaClient;
  let plainLua;
  let plainClient;

  before(async () => {
    luaServer = await startServer({
      label: "groups-runtime",
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
    });
    luaClient = makeClient(luaServer);
    // Lua hooks apply where no Rust module hooks the same operation.
    plainLua = await startServer({
      label: "groups-lua-hooks",
      bundled: [],
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
    });
    plainClient = makeClient(plainLua);
  });
  after(async () => {
    await luaServer?.stop();
    await plainLua?.stop();
  });

  const luaUser = () => luaClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
  const call = async (session, id, input) => (await luaClient.rpc(session, id, input)).payload;
  /** The message of an RPC that must fail with this status. */
  async function failure(promise, status) {
    let response;
    try {
      await promise;
    } catch (e) {
      response = e;
    }
    assert.ok(response instanceof Response, "the call should have failed with an HTTP error");
    assert.equal(response.status, status);
    return (await response.json()).message;
  }

  // The same story in both runtimes. Rust takes named fields; Lua Nakama's positional arguments.
  const runtimes = {
    Rust: {
      prefix: "rust_groups_",
      create: (userId, name) => ({
        user_id: userId,
        name,
        lang_tag: "de",
        description: "first",
        open: true,
        metadata: { level: 1 },
        max_count: 3,
      }),
      update: (groupId) => ({
        group_id: groupId,
        update: { description: "updated", open: false, metadata: { level: 2 }, max_count: 5 },
      }),
      metadata: (g) => JSON.parse(g.metadata),
      list: (name) => ({ name, limit: 10 }),
    },
    Lua: {
      prefix: "groups_",
      create: (userId, name) => ({ args: [userId, name, null, "de", "first", null, true, { level: 1 }, 3], n: 9 }),
      update: (groupId) => ({ args: [groupId, null, null, null, null, "updated", null, false, { level: 2 }, 5], n: 10 }),
      metadata: (g) => g.metadata,
      list: (name) => ({ name, limit: 10 }),
    },
  };

  for (const [runtime, r] of Object.entries(runtimes)) {
    test(`${runtime}: create, update, join, add, promote, demote, kick, ban, the listings and delete`, async () => {
      const p = r.prefix;
      const alice = await luaUser();
      const bob = await luaUser();
      const carol = await luaUser();
      const name = uniqueName(`${runtime}group`);
      const group = await call(alice, `${p}create`, r.create(alice.user_id, name));
      assert.match(group.id, UUID_RE);
      assert.equal(group.name, name);
      assert.equal(group.creator_id, SYSTEM, "no creator given: the system user, as Nakama");
      assert.equal(group.lang_tag, "de");
      assert.equal(group.open, true);
      assert.equal(group.edge_count, 1);
      assert.equal(group.max_count, 3);
      assert.deepEqual(r.metadata(group), { level: 1 });

      // A user's REST view agrees: alice is the superadmin.
      assert.deepEqual(await states(alice, group.id, luaClient), { [alice.user_id]: SUPERADMIN });

      await call(alice, `${p}update`, r.update(group.id));
      const [updated] = (await call(alice, `${p}get`, { ids: [group.id] })).groups;
      assert.equal(updated.description, "updated");
      assert.equal(updated.open, false);
      assert.equal(updated.max_count, 5);
      assert.deepEqual(r.metadata(updated), { level: 2 });

      // Closed now: a join is a request, which an add by the superadmin accepts.
      await call(alice, `${p}join`, { group_id: group.id, user_id: bob.user_id, username: bob.username });
      assert.equal((await states(alice, group.id, luaClient))[bob.user_id], JOIN_REQUEST);
      await call(alice, `${p}users`, { change: "add", group_id: group.id, user_ids: [bob.user_id, carol.user_id], caller_id: alice.user_id });
      await call(alice, `${p}users`, { change: "promote", group_id: group.id, user_ids: [bob.user_id] });
      await call(alice, `${p}users`, { change: "promote", group_id: group.id, user_ids: [bob.user_id] });
      assert.equal((await states(alice, group.id, luaClient))[bob.user_id], SUPERADMIN, "the system promotes to superadmin");
      await call(alice, `${p}users`, { change: "demote", group_id: group.id, user_ids: [bob.user_id] });
      // A member caller may not kick.
      const refused = await failure(
        luaClient.rpc(alice, `${p}users`, { change: "kick", group_id: group.id, user_ids: [bob.user_id], caller_id: carol.user_id }),
        runtime === "Rust" ? 404 : 500,
      );
      assert.ok(refused.includes("group permission denied"), refused);

      const page = await call(alice, `${p}users_list`, { group_id: group.id, limit: 2 });
      assert.equal(page.group_users.length, 2);
      assert.ok(page.cursor);
      const rest = await call(alice, `${p}users_list`, { group_id: group.id, limit: 2, cursor: page.cursor });
      const everyone = [...page.group_users, ...rest.group_users];
      const userId = (gu) => gu.user.id ?? gu.user.user_id;
      assert.deepEqual(
        Object.fromEntries(everyone.map((gu) => [userId(gu), gu.state ?? 0])),
        { [alice.user_id]: SUPERADMIN, [bob.user_id]: ADMIN, [carol.user_id]: MEMBER },
      );
      const bobs = await call(bob, `${p}user_groups`, { user_id: bob.user_id, limit: 10 });
      assert.deepEqual(bobs.user_groups.map((ug) => [ug.group.id, ug.state]), [[group.id, ADMIN]]);

      await call(alice, `${p}users`, { change: "kick", group_id: group.id, user_ids: [carol.user_id] });
      await call(alice, `${p}users`, { change: "ban", group_id: group.id, user_ids: [bob.user_id] });
      assert.deepEqual(await states(alice, group.id, luaClient), { [alice.user_id]: SUPERADMIN });
      await call(alice, `${p}leave`, { group_id: group.id, user_id: alice.user_id, username: alice.username }).then(
        () => assert.fail("the last superadmin left"),
        () => {},
      );

      const listed = await call(alice, `${p}list`, r.list(name));
      assert.deepEqual(listed.groups.map((g) => g.id), [group.id]);
      const random = await call(alice, `${p}random`, { count: 1 });
      assert.equal(random.groups.length, 1);

      await call(alice, `${p}delete`, { group_id: group.id });
      assert.deepEqual(list((await call(alice, `${p}get`, { ids: [group.id] })).groups), []);

      // Bad input.
      const badUser = await failure(luaClient.rpc(alice, `${p}create`, r.create("nope", uniqueName("bad"))), runtime === "Rust" ? 400 : 500);
      assert.ok(badUser.includes("user ID") || badUser.includes("user id"), badUser);
      const taken = uniqueName("taken");
      await call(alice, `${p}create`, r.create(alice.user_id, taken));
      const dup = await failure(luaClient.rpc(alice, `${p}create`, r.create(alice.user_id, taken)), runtime === "Rust" ? 409 : 500);
      assert.ok(dup.includes("group name in use"), dup);
    });
  }

  test("Rust hooks: every group route runs its after hook; before hooks refuse, disable or rewrite", async () => {
    // On the server without Lua: Lua hooks replace the bundled modules' hooks of the same operation.
    const call = async (session, id, input) => (await client.rpc(session, id, input)).payload;
    const alice = await user();
    const bob = await user();
    const denied = await client.createGroup(alice, { name: uniqueName("rust_hook_denied") }).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(denied?.status, 400);
    assert.deepEqual(await denied.json(), { code: 3, message: "denied by a before hook" });
    await rejectsWith(client.createGroup(alice, { name: uniqueName("rust_hook_disabled") }), 404, 5, "Requested resource was not found.");
    const rewritten = await client.createGroup(alice, { name: uniqueName("rust_hook_rewrite"), description: "mine" });
    assert.equal(rewritten.description, "rewritten");
    // A group server code made with a refused name: the hooks of the id routes refuse it too.
    const gated = await call(alice, "rust_groups_create", { user_id: alice.user_id, name: uniqueName("rust_hook_denied"), open: true });
    await rejectsWith(client.joinGroup(bob, gated.id), 400, 3, "denied by a before hook");

    const g = await client.createGroup(alice, { name: uniqueName("hooked"), open: true });
    await client.updateGroup(alice, g.id, { description: "x" });
    await client.joinGroup(bob, g.id);
    await client.leaveGroup(bob, g.id);
    await client.addGroupUsers(alice, g.id, [bob.user_id]);
    await client.promoteGroupUsers(alice, g.id, [bob.user_id]);
    await client.demoteGroupUsers(alice, g.id, [bob.user_id]);
    await client.kickGroupUsers(alice, g.id, [bob.user_id]);
    await client.banGroupUsers(alice, g.id, [bob.user_id]);
    await client.listGroupUsers(alice, g.id, undefined, 10);
    await client.listUserGroups(alice, alice.user_id, 10, undefined);
    await client.listGroups(alice, g.name, undefined, 1);
    await client.deleteGroup(alice, g.id);
    const counts = await call(alice, "rust_groups_hooks", {});
    for (const op of [
      "CreateGroup", "UpdateGroup", "AddGroupUsers", "PromoteGroupUsers", "DemoteGroupUsers", "KickGroupUsers",
      "BanGroupUsers", "ListGroupUsers", "ListUserGroups", "ListGroups", "DeleteGroup",
    ]) {
      assert.ok(counts[op] >= 1, `${op} after hook ran: ${JSON.stringify(counts)}`);
    }
    const bobCounts = await call(bob, "rust_groups_hooks", {});
    assert.equal(bobCounts.JoinGroup, 1);
    assert.equal(bobCounts.LeaveGroup, 1);
  });

  test("Lua hooks on a group route refuse and rewrite", async () => {
    const alice = await plainClient.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
    const denied = await plainClient.createGroup(alice, { name: uniqueName("lua_hook_denied") }).then(
      () => undefined,
      (e) => e,
    );
    assert.equal(denied?.status, 400);
    assert.equal((await denied.json()).message, "denied by a lua hook");
    const rewritten = await plainClient.createGroup(alice, { name: uniqueName("lua_hook_rewrite"), description: "mine" });
    assert.equal(rewritten.description, "rewritten by lua");
  });
});
