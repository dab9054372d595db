// Sessions: refresh, logout (one token or all), and every way a bearer token is refused
// (captures 21-23, 70-73).
// tavern-test: postgres

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { HOST, sleep, startServer, uniqueName } from "./lib/server.mjs";
import {
  Client,
  Session,
  assertError,
  basic,
  decodeJwt,
  makeClient,
  rejectsWith,
  request,
  signJwt,
} from "./lib/client.mjs";

// These suites check the server's own rules, so the bundled custom-id guard hook is off.
const GUARD_OFF = ["--runtime.env", "custom_id_guard=off"];

const SESSION_KEY = "defaultencryptionkey";
const REFRESH_KEY = "defaultrefreshencryptionkey";

let server;
let client;

before(async () => {
  server = await startServer({ label: "session", args: GUARD_OFF });
  client = makeClient(server);
});

after(async () => {
  await server?.stop();
});

const login = (id = uniqueName("device"), vars) => client.authenticateDevice(id, true, undefined, vars);

/** Waits until the clock is in a later whole second than `unixSeconds`. */
async function nextSecondAfter(unixSeconds) {
  const wait = (unixSeconds + 1) * 1000 - Date.now() + 50;
  if (wait > 0) {
    await sleep(Math.min(wait, 2_000));
  }
}

describe("session refresh", () => {
  test("client.sessionRefresh: same user and tid, new token that works", async () => {
    const session = await login();
    const before = decodeJwt(session.token).claims;
    const oldToken = session.token;
    await nextSecondAfter(before.iat);
    const refreshed = await client.sessionRefresh(session);
    assert.equal(refreshed, session, "nakama-js updates the session in place");
    assert.notEqual(session.token, oldToken);
    const after = decodeJwt(session.token).claims;
    assert.equal(after.uid, before.uid);
    assert.equal(after.tid, before.tid, "tid is kept across refreshes");
    assert.equal(after.iat, before.iat, "iat is kept across refreshes");
    assert.ok(after.exp > before.exp, "a fresh expiry");
    const account = await client.getAccount(session);
    assert.equal(account.user.id, before.uid);
  });

  test("the raw answer is a session without created", async () => {
    const session = await login();
    const res = await request(server, "/v2/account/session/refresh", {
      method: "POST",
      basic: true,
      body: { token: session.refresh_token },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json).sort(), ["refresh_token", "token"]);
  });

  test("vars: kept when absent, replaced when given", async () => {
    const session = await login(uniqueName("device"), { a: "1" });
    const kept = await request(server, "/v2/account/session/refresh", {
      method: "POST",
      basic: true,
      body: { token: session.refresh_token },
    });
    assert.deepEqual(decodeJwt(kept.json.token).claims.vrs, { a: "1" });
    await client.sessionRefresh(session, { b: "2" });
    assert.deepEqual(session.vars, { b: "2" });
  });

  test("the refresh picks up a changed username", async () => {
    const session = await login();
    const renamed = uniqueName("renamed");
    await client.updateAccount(session, { username: renamed });
    await client.sessionRefresh(session);
    assert.equal(session.username, renamed);
  });

  test("bad refresh token: 401 Refresh token invalid or expired.", async () => {
    const res = await request(server, "/v2/account/session/refresh", {
      method: "POST",
      basic: true,
      body: { token: "bad" },
    });
    assertError(res, 401, 16, "Refresh token invalid or expired.");

    const session = await login();
    // A session token is not a refresh token (different key).
    const swapped = await request(server, "/v2/account/session/refresh", {
      method: "POST",
      basic: true,
      body: { token: session.token },
    });
    assertError(swapped, 401, 16, "Refresh token invalid or expired.");

    const forged = Session.restore(
      session.token,
      signJwt(decodeJwt(session.refresh_token).claims, "not-the-refresh-key"),
    );
    await rejectsWith(client.sessionRefresh(forged), 401, 16, "Refresh token invalid or expired.");
  });

  test("missing refresh token: 400, wrong server key: 401", async () => {
    const res = await request(server, "/v2/account/session/refresh", { method: "POST", basic: true, body: {} });
    assertError(res, 400, 3, "Refresh token is required.");
    const session = await login();
    const wrongKey = await request(server, "/v2/account/session/refresh", {
      method: "POST",
      basic: "wrongkey",
      body: { token: session.refresh_token },
    });
    assertError(wrongKey, 401, 16, "Server key invalid");
  });

  test("refresh of a deleted account fails", async () => {
    const session = await login();
    await client.deleteAccount(session);
    // 404 when the account is simply gone; 401 once the deletion also logged the tokens out
    // (Nakama does, for tokens issued before the current second).
    let failure;
    try {
      await client.sessionRefresh(session);
    } catch (e) {
      failure = e;
    }
    assert.ok(failure instanceof Response, "the refresh must fail");
    const body = await failure.json();
    assert.ok(
      (failure.status === 404 && body.message === "User account not found.") ||
        (failure.status === 401 && body.message === "Refresh token invalid or expired."),
      `${failure.status} ${JSON.stringify(body)}`,
    );
  });
});

describe("session logout", () => {
  test("logout of one session: its token gets 401 and its refresh fails; other sessions live", async () => {
    const id = uniqueName("device");
    const session = await login(id);
    const other = await login(id);
    assert.equal(await client.sessionLogout(session, session.token, session.refresh_token), true);
    await rejectsWith(client.getAccount(session), 401, 16, "Auth token invalid");
    await rejectsWith(client.sessionRefresh(session), 401, 16, "Refresh token invalid or expired.");
    const account = await client.getAccount(other);
    assert.equal(account.user.id, other.user_id);
  });

  test("logout with the session token only: that session cannot be revived by a refresh", async () => {
    const session = await login();
    await client.sessionLogout(session, session.token, undefined);
    await rejectsWith(client.getAccount(session), 401, 16, "Auth token invalid");
    // Nakama keeps separate black-lists for session and refresh token ids: its refresh still
    // answers 200, but the new token carries the same (black-listed) tid. Tavern refuses the
    // refresh itself. Either way the session stays dead; see docs/COMPATIBILITY.md.
    const refreshed = await request(server, "/v2/account/session/refresh", {
      method: "POST",
      basic: true,
      body: { token: session.refresh_token },
    });
    if (refreshed.status === 200) {
      const again = await request(server, "/v2/account", { bearer: refreshed.json.token });
      assertError(again, 401, 16, "Auth token invalid");
    } else {
      assertError(refreshed, 401, 16, "Refresh token invalid or expired.");
    }
  });

  test("the raw answer is {} (72_session_logout_with_tokens)", async () => {
    const session = await login();
    const res = await request(server, "/v2/session/logout", {
      method: "POST",
      bearer: session.token,
      body: { token: session.token, refresh_token: session.refresh_token },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
    const after = await request(server, "/v2/account", { bearer: session.token });
    assertError(after, 401, 16, "Auth token invalid");
  });

  test("logout with no tokens invalidates all of the user's tokens", async () => {
    const id = uniqueName("device");
    const first = await login(id);
    const second = await login(id);
    // Invalidation compares whole seconds, as Nakama does: log out in a later second.
    await nextSecondAfter(decodeJwt(second.token).claims.iat);
    assert.equal(await client.sessionLogout(first, undefined, undefined), true);
    for (const s of [first, second]) {
      await rejectsWith(client.getAccount(s), 401, 16, "Auth token invalid");
      await rejectsWith(client.sessionRefresh(s), 401, 16, "Refresh token invalid or expired.");
    }
    const fresh = await login(id);
    assert.equal(fresh.created, false);
    const account = await client.getAccount(fresh);
    assert.equal(account.user.id, first.user_id, "a login after the logout works");
  });

  test("tokens of another user: 400", async () => {
    const mine = await login();
    const theirs = await login();
    await rejectsWith(client.sessionLogout(mine, theirs.token, undefined), 400, 3, "Session token invalid.");
    await rejectsWith(client.sessionLogout(mine, undefined, theirs.refresh_token), 400, 3, "Refresh token invalid.");
    // Nothing was logged out.
    assert.ok(await client.getAccount(theirs));
    assert.ok(await client.getAccount(mine));
  });

  test("needs a session token", async () => {
    const res = await request(server, "/v2/session/logout", { method: "POST", body: {} });
    assertError(res, 401, 16, "Auth token required");
  });
});

describe("bearer token checks", () => {
  test("missing token: 401 Auth token required (21_get_account_no_auth)", async () => {
    const res = await request(server, "/v2/account");
    assertError(res, 401, 16, "Auth token required");
    assert.equal(res.headers.get("www-authenticate"), "Auth token required");
  });

  test("garbage token: 401 Auth token invalid (22_get_account_bad_token)", async () => {
    const res = await request(server, "/v2/account", { bearer: "not.a.token" });
    assertError(res, 401, 16, "Auth token invalid");
    assert.equal(res.headers.get("www-authenticate"), "Auth token invalid");
  });

  test("Basic instead of Bearer: 401 Auth token invalid (23_get_account_basic_instead_of_bearer)", async () => {
    const res = await request(server, "/v2/account", { headers: { Authorization: basic() } });
    assertError(res, 401, 16, "Auth token invalid");
  });

  test("token signed with another key: 401 Auth token invalid", async () => {
    const session = await login();
    const forged = signJwt(decodeJwt(session.token).claims, "someoneelseskey");
    const res = await request(server, "/v2/account", { bearer: forged });
    assertError(res, 401, 16, "Auth token invalid");
    await rejectsWith(client.getAccount(Session.restore(forged, session.refresh_token)), 401, 16, "Auth token invalid");
  });

  test("hand-made tokens: valid with the server's key, refused when bent", async () => {
    const session = await login();
    const now = Math.floor(Date.now() / 1000);
    const claims = { tid: crypto.randomUUID(), uid: session.user_id, usn: session.username, exp: now + 120, iat: now };
    const good = await request(server, "/v2/account", { bearer: signJwt(claims, SESSION_KEY) });
    assert.equal(good.status, 200, "the server checks the HS256 signature with session.encryption_key");

    const cases = {
      "signed with the refresh key": signJwt(claims, REFRESH_KEY),
      expired: signJwt({ ...claims, exp: now - 5 }, SESSION_KEY),
      "no exp": signJwt({ tid: claims.tid, uid: claims.uid, usn: claims.usn, iat: now }, SESSION_KEY),
      "uid not a UUID": signJwt({ ...claims, uid: "not-a-uuid" }, SESSION_KEY),
      "alg none": `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(
        JSON.stringify(claims),
      ).toString("base64url")}.`,
      "refresh token as session token": session.refresh_token,
    };
    for (const [what, token] of Object.entries(cases)) {
      const res = await request(server, "/v2/account", { bearer: token });
      assert.equal(res.status, 401, `${what}: ${res.text}`);
      assert.deepEqual(res.json, { code: 16, message: "Auth token invalid" }, what);
    }
  });
});

describe("token expiry", () => {
  let short;
  let shortClient;

  before(async () => {
    short = await startServer({ label: "session-expiry", args: [...GUARD_OFF, "--session.token_expiry_sec", "2"] });
    shortClient = makeClient(short);
  });

  after(async () => {
    await short?.stop();
  });

  test("an expired token is refused; its refresh token still works", async () => {
    const session = await shortClient.authenticateDevice(uniqueName("device"), true);
    const { claims } = decodeJwt(session.token);
    assert.equal(claims.exp - claims.iat, 2);
    assert.ok(await shortClient.getAccount(session));
    // No leeway: one second past exp is enough.
    await sleep(Math.max(0, (claims.exp + 1) * 1000 - Date.now() + 100));
    await rejectsWith(shortClient.getAccount(session), 401, 16, "Auth token invalid");
    await shortClient.sessionRefresh(session);
    const account = await shortClient.getAccount(session);
    assert.equal(account.user.id, session.user_id);
  });

  test("nakama-js with automatic refresh recovers an expired session by itself", async () => {
    const auto = new Client("defaultkey", HOST, String(short.port), false, 7000, true);
    const session = await auto.authenticateDevice(uniqueName("device"), true);
    const { claims } = decodeJwt(session.token);
    await sleep(Math.max(0, (claims.exp + 1) * 1000 - Date.now() + 100));
    const account = await auto.getAccount(session);
    assert.equal(account.user.id, session.user_id);
    assert.ok(decodeJwt(session.token).claims.exp > claims.exp);
  });
});
