// Linking and unlinking device ids, custom ids and emails on the caller's account with the
// official client: logging in with each linked identity, the 409 when another account has the
// identity, the 403 when unlinking would leave no way to log in, emails stored lowercase, and
// Nakama's input checks; links, unlinks and bans from server code (Rust friends_api, Lua
// tests/lua/friends.lua): a banned user cannot log in, refresh or use a token, and the sockets close.
// tavern-test: postgres

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { BCRYPT_TIMEOUT_MS, makeClient, rejectsWith, request } from "./lib/client.mjs";
import { repoRoot, sleep, startServer, uniqueName } from "./lib/server.mjs";

const LAST = "Cannot unlink last account identifier. Check profile exists and is not last link.";

let server;
let client;
let slowClient;

before(async () => {
  // A plain start: the bundled custom_id_guard would refuse these custom ids at login.
  server = await startServer({ label: "link", bundled: [], args: ["--session.token_expiry_sec", "7200"] });
  client = makeClient(server);
  slowClient = makeClient(server, undefined, { timeoutMs: BCRYPT_TIMEOUT_MS });
});
after(async () => {
  await server?.stop();
});

const device = () => uniqueName("device-id");
const custom = () => uniqueName("custom");
const email = () => `${uniqueName("Mail")}@Example.COM`;

describe("account linking", () => {
  test("a device account links a custom id, another device and an email; each logs in", async () => {
    const session = await client.authenticateDevice(device(), true);
    const customId = custom();
    const secondDevice = device();
    const address = email();
    assert.equal(await client.linkCustom(session, { id: customId }), true);
    assert.equal(await client.linkDevice(session, { id: secondDevice }), true);
    assert.equal(await slowClient.linkEmail(session, { email: address, password: "password1" }), true);

    const account = await client.getAccount(session);
    assert.equal(account.custom_id, customId);
    assert.equal(account.email, address.toLowerCase(), "emails are stored lowercase");
    assert.equal(account.devices.length, 2);
    assert.ok(account.devices.some((d) => d.id === secondDevice));

    for (const other of [
      await client.authenticateCustom(customId, false),
      await client.authenticateDevice(secondDevice, false),
      await slowClient.authenticateEmail(address.toUpperCase(), "password1", false),
    ]) {
      assert.equal(other.user_id, session.user_id);
      assert.ok(!other.created);
    }

    // Linking again what the account already has is fine.
    await client.linkCustom(session, { id: customId });
    await client.linkDevice(session, { id: secondDevice });
  });

  test("an identity another account has is a 409 and changes nothing", async () => {
    const alice = await client.authenticateDevice(device(), true);
    const bobDevice = device();
    const bob = await client.authenticateDevice(bobDevice, true);
    const customId = custom();
    const address = email();
    await client.linkCustom(alice, { id: customId });
    await slowClient.linkEmail(alice, { email: address, password: "password1" });

    await rejectsWith(client.linkCustom(bob, { id: customId }), 409, 6, "Custom ID is already in use.");
    await rejectsWith(
      slowClient.linkEmail(bob, { email: address.toUpperCase(), password: "password2" }),
      409,
      6,
      "Email is already in use.",
    );
    await rejectsWith(client.linkDevice(alice, { id: bobDevice }), 409, 6, "Device ID already in use.");

    const account = await client.getAccount(bob);
    assert.equal(account.custom_id, undefined);
    assert.equal(account.email, undefined);
    assert.deepEqual(account.devices.map((d) => d.id), [bobDevice]);
  });

  test("unlinking keeps the last way to log in (403) and frees the identity", async () => {
    const firstDevice = device();
    const session = await client.authenticateDevice(firstDevice, true);
    await rejectsWith(client.unlinkDevice(session, { id: firstDevice }), 403, 7, LAST);

    const customId = custom();
    await client.linkCustom(session, { id: customId });
    await client.unlinkDevice(session, { id: firstDevice });
    let account = await client.getAccount(session);
    assert.equal(account.devices?.length ?? 0, 0);
    await rejectsWith(client.unlinkCustom(session, { id: customId }), 403, 7, LAST);

    // The device id is free again: another account takes it.
    const other = await client.authenticateDevice(firstDevice, true);
    assert.notEqual(other.user_id, session.user_id);

    const address = email();
    await slowClient.linkEmail(session, { email: address, password: "password1" });
    await client.unlinkCustom(session, { id: customId });
    await rejectsWith(client.unlinkEmail(session, { email: address }), 403, 7, LAST);
    account = await client.getAccount(session);
    assert.equal(account.custom_id, undefined);
    assert.equal(account.email, address.toLowerCase());

    // A custom id that is not the account's is not unlinked.
    await client.linkCustom(session, { id: customId });
    await rejectsWith(client.unlinkCustom(session, { id: custom() }), 403, 7, LAST);
    // The email by another spelling is.
    await client.unlinkEmail(session, { email: address.toUpperCase() });
    account = await client.getAccount(session);
    assert.equal(account.email, undefined);
    await rejectsWith(slowClient.authenticateEmail(address, "password1", false), 404);
    const again = await client.authenticateCustom(customId, false);
    assert.equal(again.user_id, session.user_id);
  });

  test("bad input is refused with Nakama's messages", async () => {
    const session = await client.authenticateDevice(device(), true);
    await rejectsWith(client.linkCustom(session, { id: "" }), 400, 3, "Custom ID is required.");
    await rejectsWith(client.linkCustom(session, { id: "short" }), 400, 3, "Invalid custom ID, must be 6-128 bytes.");
    await rejectsWith(
      client.linkCustom(session, { id: "has space" }),
      400,
      3,
      "Invalid custom ID, no spaces or control characters allowed.",
    );
    await rejectsWith(client.linkDevice(session, { id: "" }), 400, 3, "Device ID is required.");
    await rejectsWith(client.linkDevice(session, { id: "short" }), 400, 3, "Device ID invalid, must be 10-128 bytes.");
    await rejectsWith(
      client.linkEmail(session, { email: "", password: "" }),
      400,
      3,
      "Email address and password is required.",
    );
    await rejectsWith(
      client.linkEmail(session, { email: "someone@example.com", password: "short" }),
      400,
      3,
      "Password must be at least 8 characters long.",
    );
    await rejectsWith(
      client.linkEmail(session, { email: "not-an-address", password: "password1" }),
      400,
      3,
      "Invalid email address format.",
    );
    await rejectsWith(client.unlinkDevice(session, { id: "" }), 400, 3, "A device ID must be supplied.");
    const account = await client.getAccount(session);
    assert.equal(account.custom_id, undefined);
    assert.equal(account.email, undefined);
    assert.equal(account.devices.length, 1);
  });
});

describe("links and bans from server code (Rust friends_api, Lua tests/lua/friends.lua)", () => {
  let rpcServer;
  let rpcClient;

  before(async () => {
    rpcServer = await startServer({
      label: "link-rpc",
      args: ["--runtime.path", path.join(repoRoot, "tests", "lua"), "--session.token_expiry_sec", "7200"],
    });
    rpcClient = makeClient(rpcServer, undefined, { timeoutMs: BCRYPT_TIMEOUT_MS });
  });
  after(async () => {
    await rpcServer?.stop();
  });

  const rpc = async (session, id, input) => (await rpcClient.rpc(session, id, input)).payload;
  const message = async (promise) => {
    try {
      await promise;
    } catch (e) {
      return (await e.json()).message;
    }
    assert.fail("the call should have failed");
  };

  for (const [runtime, prefix] of [["Rust", "rust_friends_"], ["Lua", "lua_friends_"]]) {
    test(`${runtime}: link and unlink a user's custom id, device and email`, async () => {
      const caller = await rpcClient.authenticateDevice(device(), true);
      const firstDevice = device();
      const user = await rpcClient.authenticateDevice(firstDevice, true);
      const customId = custom();
      const secondDevice = device();
      const address = email();
      await rpc(caller, `${prefix}link`, { user_id: user.user_id, kind: "custom", id: customId });
      await rpc(caller, `${prefix}link`, { user_id: user.user_id, kind: "device", id: secondDevice });
      await rpc(caller, `${prefix}link`, { user_id: user.user_id, kind: "email", email: address, password: "password1" });
      let account = await rpcClient.getAccount(user);
      assert.equal(account.custom_id, customId);
      assert.equal(account.email, address.toLowerCase());
      assert.equal(account.devices.length, 2);

      assert.match(
        await message(rpc(caller, `${prefix}link`, { user_id: caller.user_id, kind: "custom", id: customId })),
        /Custom ID is already in use/,
      );
      await rpc(caller, `${prefix}unlink`, { user_id: user.user_id, kind: "device", id: firstDevice });
      await rpc(caller, `${prefix}unlink`, { user_id: user.user_id, kind: "device", id: secondDevice });
      await rpc(caller, `${prefix}unlink`, { user_id: user.user_id, kind: "email", email: address });
      assert.match(
        await message(rpc(caller, `${prefix}unlink`, { user_id: user.user_id, kind: "custom", id: customId })),
        /Cannot unlink last account identifier/,
      );
      account = await rpcClient.getAccount(user);
      assert.equal(account.custom_id, customId);
      assert.equal(account.email, undefined);
      assert.equal(account.devices?.length ?? 0, 0);
      assert.match(
        await message(rpc(caller, `${prefix}link`, { user_id: "nope", kind: "custom", id: custom() })),
        /user ID must be a valid identifier/,
      );
    });

    test(`${runtime}: a banned user cannot log in, refresh or use a token; unbanned, can log in again`, async () => {
      const caller = await rpcClient.authenticateDevice(device(), true);
      const userDevice = device();
      const user = await rpcClient.authenticateDevice(userDevice, true);
      const socket = rpcClient.createSocket(false, false);
      await socket.connect(user, false);
      const closed = new Promise((resolve) => {
        socket.ondisconnect = () => resolve(true);
      });

      await rpc(caller, `${prefix}ban`, { ids: [user.user_id] });
      assert.equal(await Promise.race([closed, sleep(5000).then(() => false)]), true, "the socket closes");
      await rejectsWith(rpcClient.authenticateDevice(userDevice, false), 403, 7, "User account banned.");
      await rejectsWith(rpcClient.getAccount(user), 401);
      const refresh = await request(rpcServer, "/v2/account/session/refresh", {
        method: "POST",
        basic: "defaultkey",
        body: JSON.stringify({ token: user.refresh_token }),
      });
      assert.ok([401, 403].includes(refresh.status), `refresh refused: ${refresh.text}`);
      const banned = (await rpcClient.getUsers(caller, [user.user_id])).users[0];
      assert.equal(banned.id, user.user_id);

      // Tokens carry whole seconds: every token of the ban's second is refused, so log in again
      // in a later second.
      await sleep(1100);
      await rpc(caller, `${prefix}unban`, { ids: [user.user_id] });
      const again = await rpcClient.authenticateDevice(userDevice, false);
      assert.equal(again.user_id, user.user_id);
      await rpcClient.getAccount(again);

      assert.match(await message(rpc(caller, `${prefix}ban`, { ids: ["nope"] })), /each user id must be a valid id string/);
    });
  }
});

describe("providers that need outside services (not configured in Tavern)", () => {
  let server;
  let client;

  before(async () => {
    server = await startServer({ label: "link-providers", bundled: [], args: ["--session.token_expiry_sec", "7200"] });
    client = makeClient(server);
  });
  after(async () => {
    await server?.stop();
  });

  test("links answer as Nakama without the provider's configuration or service", async () => {
    const session = await client.authenticateDevice(device(), true);
    await rejectsWith(client.linkApple(session, { token: "x" }), 400, 9, "Apple authentication is not configured.");
    await rejectsWith(client.linkFacebook(session, { token: "" }), 400, 3, "Facebook access token is required.");
    await rejectsWith(client.linkFacebook(session, { token: "x" }), 401, 16, "Could not authenticate Facebook profile.");
    await rejectsWith(
      client.linkFacebookInstantGame(session, { signed_player_info: "" }),
      400,
      3,
      "Signed Player Info for a Facebook Instant Game is required.",
    );
    await rejectsWith(
      client.linkFacebookInstantGame(session, { signed_player_info: "x.y" }),
      401,
      16,
      "Could not authenticate Facebook Instant Game profile.",
    );
    await rejectsWith(client.linkGameCenter(session, { player_id: "p" }), 400, 3, "GameCenter bundle ID is required.");
    const gameCenter = {
      bundle_id: "b",
      player_id: "p",
      public_key_url: "https://example.com/key",
      salt: "s",
      signature: "sig",
      timestamp_seconds: "1700000000",
    };
    await rejectsWith(client.linkGameCenter(session, gameCenter), 401, 16, "Could not authenticate GameCenter profile.");
    await rejectsWith(client.linkGoogle(session, { token: "" }), 400, 3, "Google access token is required.");
    await rejectsWith(client.linkGoogle(session, { token: "x" }), 401, 16, "Could not authenticate Google profile.");
    await rejectsWith(client.linkSteam(session, { account: { token: "" } }), 400, 3, "Steam access token is required.");
    await rejectsWith(client.linkSteam(session, { account: { token: "x" } }), 400, 9, "Steam authentication is not configured.");
  });

  test("unlinks without a token need no provider; with one, the provider's check fails", async () => {
    // As Nakama: the account's id for the provider is cleared whether or not it had one, as long
    // as another way to log in stays (here the device).
    const deviceId = device();
    const session = await client.authenticateDevice(deviceId, true);
    for (const call of [
      () => client.unlinkApple(session, {}),
      () => client.unlinkFacebook(session, {}),
      () => client.unlinkFacebookInstantGame(session, {}),
      () => client.unlinkGameCenter(session, {}),
      () => client.unlinkGoogle(session, {}),
      () => client.unlinkSteam(session, {}),
    ]) {
      assert.equal(await call(), true);
    }
    assert.deepEqual((await client.getAccount(session)).devices.map((d) => d.id), [deviceId]);
    await rejectsWith(client.unlinkGoogle(session, { token: "x" }), 401, 16, "Could not authenticate Google profile.");
    await rejectsWith(client.unlinkSteam(session, { token: "x" }), 401, 16, "Could not authenticate Steam profile.");
    await rejectsWith(client.unlinkApple(session, { token: "x" }), 401, 16, "Could not authenticate Apple profile.");
  });
});
