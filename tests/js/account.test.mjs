// Accounts and users: GET/PUT/DELETE /v2/account and GET /v2/user through nakama-js,
// with shapes compared against the captures 20_get_account, 25_get_account_after_update and
// 26_get_users_by_username.
// tavern-test: postgres

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { startServer, uniqueName } from "./lib/server.mjs";
import {
  BCRYPT_TIMEOUT_MS,
  SERVER_KEY,
  UUID_RE,
  assertError,
  makeClient,
  rejectsWith,
  request,
} from "./lib/client.mjs";

// These suites check the server's own rules, so the bundled custom-id guard hook is off.
const GUARD_OFF = ["--runtime.env", "custom_id_guard=off"];

let server;
let client;
/** For email authentication, which runs bcrypt: see BCRYPT_TIMEOUT_MS. */
let mailClient;

before(async () => {
  server = await startServer({ label: "account", args: GUARD_OFF });
  client = makeClient(server);
  mailClient = makeClient(server, SERVER_KEY, { timeoutMs: BCRYPT_TIMEOUT_MS });
});

after(async () => {
  await server?.stop();
});

const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

async function newUser(username) {
  const id = uniqueName("device");
  const session = await client.authenticateDevice(id, true, username);
  return { id, session };
}

describe("GET /v2/account", () => {
  test("the account of a new device user has Nakama's shape", async () => {
    const { id, session } = await newUser();
    const account = await client.getAccount(session);
    assert.equal(account.user.id, session.user_id);
    assert.match(account.user.id, UUID_RE);
    assert.equal(account.user.username, session.username);
    assert.equal(account.user.lang_tag, "en");
    assert.equal(account.user.metadata, "{}");
    assert.equal(account.wallet, "{}");
    assert.deepEqual(account.devices, [{ id }]);
    assert.match(account.user.create_time, TIMESTAMP_RE);
    assert.match(account.user.update_time, TIMESTAMP_RE);
    assert.ok(Math.abs(Date.parse(account.user.create_time) - Date.now()) < 60_000);
  });

  test("zero values are omitted, as in 20_get_account", async () => {
    const { session } = await newUser();
    const res = await request(server, "/v2/account", { bearer: session.token });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json).sort(), ["devices", "user", "wallet"]);
    assert.deepEqual(Object.keys(res.json.user).sort(), [
      "create_time",
      "id",
      "lang_tag",
      "metadata",
      "update_time",
      "username",
    ]);
    for (const absent of ["display_name", "online", "edge_count", "email", "custom_id", "verify_time", "disable_time"]) {
      assert.ok(!(absent in res.json) && !(absent in res.json.user), `${absent} is omitted`);
    }
  });

  test("custom and email accounts show custom_id and email", async () => {
    const customId = uniqueName("custom");
    const custom = await client.authenticateCustom(customId, true);
    const a = await client.getAccount(custom);
    assert.equal(a.custom_id, customId);
    assert.equal(a.devices, undefined);

    const email = `${uniqueName("Mixed")}@Example.COM`;
    const mail = await mailClient.authenticateEmail(email, "password123", true);
    const b = await client.getAccount(mail);
    assert.equal(b.email, email.toLowerCase(), "emails are stored lower-cased");
  });
});

describe("PUT /v2/account", () => {
  test("updates display name, timezone, location and language", async () => {
    const { session } = await newUser();
    const ok = await client.updateAccount(session, {
      display_name: "Vec Display",
      timezone: "UTC",
      location: "x",
      lang_tag: "de",
      avatar_url: "https://example.test/a.png",
    });
    assert.equal(ok, true);
    const account = await client.getAccount(session);
    assert.equal(account.user.display_name, "Vec Display");
    assert.equal(account.user.timezone, "UTC");
    assert.equal(account.user.location, "x");
    assert.equal(account.user.lang_tag, "de");
    assert.equal(account.user.avatar_url, "https://example.test/a.png");
    assert.equal(account.user.username, session.username, "username unchanged when absent");
  });

  test("an empty string clears a field; absent fields stay", async () => {
    const { session } = await newUser();
    await client.updateAccount(session, { display_name: "Someone", location: "here" });
    await client.updateAccount(session, { display_name: "" });
    const account = await client.getAccount(session);
    assert.equal(account.user.display_name, undefined);
    assert.equal(account.user.location, "here");
  });

  test("username change shows in the account and in GET /v2/user", async () => {
    const { session } = await newUser();
    const renamed = uniqueName("renamed");
    await client.updateAccount(session, { username: renamed });
    const account = await client.getAccount(session);
    assert.equal(account.user.username, renamed);
    const users = await client.getUsers(session, [], [renamed]);
    assert.equal(users.users.length, 1);
    assert.equal(users.users[0].id, session.user_id);
  });

  test("username taken by someone else: 409", async () => {
    const taken = uniqueName("owner");
    await newUser(taken);
    const { session } = await newUser();
    await rejectsWith(client.updateAccount(session, { username: taken }), 409, 6, "Username is already in use.");
  });

  test("nothing to update: 400 No fields to update.", async () => {
    const { session } = await newUser();
    await rejectsWith(client.updateAccount(session, {}), 400, 3, "No fields to update.");
  });

  test("empty or too long username: 400", async () => {
    const { session } = await newUser();
    await rejectsWith(client.updateAccount(session, { username: "" }), 400, 3, "Username invalid, must be 1-128 bytes.");
    await rejectsWith(
      client.updateAccount(session, { username: "u".repeat(129) }),
      400,
      3,
      "Username invalid, must be 1-128 bytes.",
    );
  });

  test(
    "username with a control character: 400, as at authentication",
    async () => {
      const { session } = await newUser();
      for (const username of ["bad\tname", "new\nline"]) {
        await rejectsWith(
          client.updateAccount(session, { username }),
          400,
          3,
          "Username invalid, no spaces or control characters allowed.",
        );
      }
      const account = await client.getAccount(session);
      assert.equal(account.user.username, session.username);
    },
  );

  test("spaces are allowed in a new username", async () => {
    const { session } = await newUser();
    const spaced = `${uniqueName("a")} b`;
    await client.updateAccount(session, { username: spaced });
    assert.equal((await client.getAccount(session)).user.username, spaced);
  });

  test("the raw answer is {} (24_update_account)", async () => {
    const { session } = await newUser();
    const res = await request(server, "/v2/account", {
      method: "PUT",
      bearer: session.token,
      body: '{"display_name":"Vec Display","lang_tag":"en","location":"x","timezone":"UTC"}',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
  });

  test("needs a session token", async () => {
    const res = await request(server, "/v2/account", { method: "PUT", body: { display_name: "x" } });
    assertError(res, 401, 16, "Auth token required");
  });
});

describe("DELETE /v2/account", () => {
  test("deletes the account; the device then needs create again", async () => {
    const { id, session } = await newUser();
    assert.equal(await client.deleteAccount(session), true);
    await rejectsWith(client.authenticateDevice(id, false), 404, 5, "User account not found.");
    const again = await client.authenticateDevice(id, true);
    assert.equal(again.created, true);
    assert.notEqual(again.user_id, session.user_id);
  });

  test(
    "deleting the account logs out all of its tokens",
    async () => {
      const { session } = await newUser();
      // Invalidation compares whole seconds, as Nakama does: delete in a later second.
      const iat = JSON.parse(Buffer.from(session.token.split(".")[1], "base64url")).iat;
      await new Promise((r) => setTimeout(r, Math.max(0, (iat + 1) * 1000 - Date.now() + 50)));
      await client.deleteAccount(session);
      const res = await request(server, "/v2/account", { bearer: session.token });
      assertError(res, 401, 16, "Auth token invalid");
      await rejectsWith(client.sessionRefresh(session), 401, 16, "Refresh token invalid or expired.");
    },
  );

  test("a deleted user's username is free again and no longer listed", async () => {
    const name = uniqueName("gone");
    const { session } = await newUser(name);
    const { session: watcher } = await newUser();
    await client.deleteAccount(session);
    const users = await client.getUsers(watcher, [session.user_id], [name]);
    assert.deepEqual(users.users ?? [], []);
    const reborn = await client.authenticateDevice(uniqueName("device"), true, name);
    assert.equal(reborn.created, true);
  });
});

describe("GET /v2/user", () => {
  test("by ids and by usernames, with Nakama's user shape", async () => {
    const aName = uniqueName("alice");
    const bName = uniqueName("bob");
    const { session: a } = await newUser(aName);
    const { session: b } = await newUser(bName);

    const byId = await client.getUsers(a, [b.user_id]);
    assert.equal(byId.users.length, 1);
    assert.equal(byId.users[0].id, b.user_id);
    assert.equal(byId.users[0].username, bName);

    const byName = await client.getUsers(b, [], [aName]);
    assert.equal(byName.users.length, 1);
    assert.equal(byName.users[0].id, a.user_id);

    const both = await client.getUsers(a, [a.user_id], [bName]);
    assert.deepEqual(both.users.map((u) => u.id).sort(), [a.user_id, b.user_id].sort());

    const same = await client.getUsers(a, [a.user_id], [aName]);
    assert.equal(same.users.length, 1, "one user named twice is listed once");

    const raw = await request(server, `/v2/user?usernames=${encodeURIComponent(aName)}`, { bearer: b.token });
    assert.equal(raw.status, 200);
    const user = raw.json.users[0];
    assert.deepEqual(Object.keys(user).sort(), ["create_time", "id", "lang_tag", "metadata", "update_time", "username"]);
    assert.equal(user.lang_tag, "en");
    assert.equal(user.metadata, "{}");
    assert.match(user.create_time, TIMESTAMP_RE);
  });

  test("unknown ids and usernames are left out; no parameters give {}", async () => {
    const { session } = await newUser();
    const none = await request(server, `/v2/user?ids=${crypto.randomUUID()}&usernames=${uniqueName("nobody")}`, {
      bearer: session.token,
    });
    assert.equal(none.status, 200);
    assert.deepEqual(none.json.users ?? [], []);
    const empty = await request(server, "/v2/user", { bearer: session.token });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json, {});
  });

  test("an id that is not a UUID: 400 ID 'x' is not a valid system ID.", async () => {
    const { session } = await newUser();
    await rejectsWith(client.getUsers(session, ["x"]), 400, 3, "ID 'x' is not a valid system ID.");
  });

  test("needs a session token", async () => {
    const res = await request(server, "/v2/user?ids=x");
    assertError(res, 401, 16, "Auth token required");
  });
});
