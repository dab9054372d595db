// Authentication: device, custom and email accounts through nakama-js, Nakama's validation
// rules and messages (compared with the captures in shared/protocol/vectors/), and the tokens.
// tavern-test: postgres

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { startServer, uniqueName } from "./lib/server.mjs";
import {
  BCRYPT_TIMEOUT_MS,
  SERVER_KEY,
  UUID_RE,
  assertError,
  decodeJwt,
  makeClient,
  rejectsWith,
  request,
  verifyJwt,
} from "./lib/client.mjs";

// These suites check the server's own rules, so the bundled custom-id guard hook is off.
const GUARD_OFF = ["--runtime.env", "custom_id_guard=off"];

let server;
let client;
/** For email authentication, which runs bcrypt: see BCRYPT_TIMEOUT_MS. */
let mailClient;

before(async () => {
  server = await startServer({ label: "auth", args: GUARD_OFF });
  client = makeClient(server);
  mailClient = makeClient(server, SERVER_KEY, { timeoutMs: BCRYPT_TIMEOUT_MS });
});

after(async () => {
  await server?.stop();
});

const deviceId = () => uniqueName("device");
const POST = "POST";

describe("device authentication", () => {
  test("creates an account, then logs into the same one", async () => {
    const id = deviceId();
    const first = await client.authenticateDevice(id, true);
    assert.equal(first.created, true);
    assert.match(first.user_id, UUID_RE);
    assert.match(first.username, /^[a-zA-Z]{10}$/, "generated usernames are ten ASCII letters");

    const again = await client.authenticateDevice(id, true);
    assert.equal(again.created, false);
    assert.equal(again.user_id, first.user_id);
    assert.equal(again.username, first.username);
    assert.notEqual(again.token, first.token);
  });

  test("the session shape: created only when true, as the captures show", async () => {
    const id = deviceId();
    const fresh = await request(server, "/v2/account/authenticate/device?create=true", {
      method: POST,
      basic: true,
      body: { id },
    });
    assert.equal(fresh.status, 200);
    assert.match(fresh.headers.get("content-type"), /^application\/json/);
    assert.deepEqual(Object.keys(fresh.json).sort(), ["created", "refresh_token", "token"]);
    assert.equal(fresh.json.created, true);

    const again = await request(server, "/v2/account/authenticate/device?create=true", {
      method: POST,
      basic: true,
      body: { id },
    });
    assert.equal(again.status, 200);
    assert.deepEqual(Object.keys(again.json).sort(), ["refresh_token", "token"], "created:false is omitted");
  });

  test("create defaults to true when the query leaves it out", async () => {
    const res = await request(server, "/v2/account/authenticate/device", {
      method: POST,
      basic: true,
      body: { id: deviceId() },
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.created, true);
  });

  test("username from the query on creation, ignored on later logins", async () => {
    const id = deviceId();
    const username = uniqueName("user");
    const first = await client.authenticateDevice(id, true, username);
    assert.equal(first.username, username);
    const again = await client.authenticateDevice(id, true, uniqueName("other"));
    assert.equal(again.created, false);
    assert.equal(again.username, username);
  });

  test("the same new device from many clients at once: one account, created once", async () => {
    const id = deviceId();
    const sessions = await Promise.all(Array.from({ length: 8 }, () => client.authenticateDevice(id, true)));
    assert.equal(new Set(sessions.map((s) => s.user_id)).size, 1, "one user id");
    assert.equal(sessions.filter((s) => s.created).length, 1, "created once");
  });

  test("unknown device with create=false: 404 User account not found.", async () => {
    await rejectsWith(client.authenticateDevice(deviceId(), false), 404, 5, "User account not found.");
  });

  test("short device id: 400 with Nakama's message", async () => {
    await rejectsWith(client.authenticateDevice("short", true), 400, 3, "Device ID invalid, must be 10-128 bytes.");
    await rejectsWith(
      client.authenticateDevice("x".repeat(129), true),
      400,
      3,
      "Device ID invalid, must be 10-128 bytes.",
    );
  });

  test("device id with a space or control character: 400", async () => {
    await rejectsWith(
      client.authenticateDevice("has a space 0123", true),
      400,
      3,
      "Device ID invalid, no spaces or control characters allowed.",
    );
    await rejectsWith(
      client.authenticateDevice("tab\tinside-0123", true),
      400,
      3,
      "Device ID invalid, no spaces or control characters allowed.",
    );
  });

  test("empty object, empty body and missing id: 400 Device ID is required.", async () => {
    for (const body of ["{}", "", '{"vars":{"a":"b"}}']) {
      const res = await request(server, "/v2/account/authenticate/device?create=true", {
        method: POST,
        basic: true,
        body,
      });
      assertError(res, 400, 3, "Device ID is required.");
    }
  });

  test("malformed JSON: 400 with code 3", async () => {
    const res = await request(server, "/v2/account/authenticate/device?create=true", {
      method: POST,
      basic: true,
      body: '{"id":',
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 3);
    assert.equal(typeof res.json.message, "string");
    assert.ok(res.json.message.length > 0);
    assert.deepEqual(Object.keys(res.json).sort(), ["code", "message"]);
  });

  test("JSON of the wrong type is a 400, not a crash", async () => {
    for (const body of ['{"id":123456789012}', "[]", '"just a string"', '{"vars":"x","id":"0123456789ab"}']) {
      const res = await request(server, "/v2/account/authenticate/device?create=true", {
        method: POST,
        basic: true,
        body,
      });
      assert.equal(res.status, 400, `body ${body} -> ${res.text}`);
      assert.equal(res.json.code, 3);
    }
  });

  test("unknown body fields are ignored", async () => {
    const res = await request(server, "/v2/account/authenticate/device?create=true", {
      method: POST,
      basic: true,
      body: { id: deviceId(), something_else: 1 },
    });
    assert.equal(res.status, 200, res.text);
  });

  test("bad create value: 400", async () => {
    const res = await request(server, "/v2/account/authenticate/device?create=maybe", {
      method: POST,
      basic: true,
      body: { id: deviceId() },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 3);
  });

  test("username with a control character or over 128 bytes: 400", async () => {
    await rejectsWith(
      client.authenticateDevice(deviceId(), true, "new\nline"),
      400,
      3,
      "Username invalid, no spaces or control characters allowed.",
    );
    await rejectsWith(
      client.authenticateDevice(deviceId(), true, "u".repeat(129)),
      400,
      3,
      "Username invalid, must be 1-128 bytes.",
    );
  });
});

describe("server key", () => {
  test("wrong server key: 401 Server key invalid", async () => {
    const wrong = makeClient(server, "wrongkey");
    await rejectsWith(wrong.authenticateDevice(deviceId(), true), 401, 16, "Server key invalid");
  });

  test("missing server key: 401 Server key required", async () => {
    // nakama-js leaves the Authorization header out when the server key is empty.
    const none = makeClient(server, "");
    await rejectsWith(none.authenticateDevice(deviceId(), true), 401, 16, "Server key required");
    const res = await request(server, "/v2/account/authenticate/device?create=true", {
      method: POST,
      body: { id: deviceId() },
    });
    assertError(res, 401, 16, "Server key required");
    assert.equal(res.headers.get("www-authenticate"), "Server key required");
  });

  test("only the username part of Basic is compared; a password is ignored", async () => {
    const res = await request(server, "/v2/account/authenticate/device?create=true", {
      method: POST,
      headers: { Authorization: `Basic ${Buffer.from("defaultkey:whatever").toString("base64")}` },
      body: { id: deviceId() },
    });
    assert.equal(res.status, 200, res.text);
  });

  test("Bearer, bad base64 or no colon instead of Basic: 401 Server key invalid", async () => {
    for (const value of ["Bearer defaultkey", "Basic !!!notbase64", `Basic ${Buffer.from("defaultkey").toString("base64")}`]) {
      const res = await request(server, "/v2/account/authenticate/device?create=true", {
        method: POST,
        headers: { Authorization: value },
        body: { id: deviceId() },
      });
      assertError(res, 401, 16, "Server key invalid");
      assert.equal(res.headers.get("www-authenticate"), "Server key invalid");
    }
  });
});

describe("custom authentication", () => {
  test("creates with a username, logs in again, same user", async () => {
    const id = uniqueName("custom");
    const username = uniqueName("cu");
    const first = await client.authenticateCustom(id, true, username);
    assert.equal(first.created, true);
    assert.equal(first.username, username);
    const again = await client.authenticateCustom(id, false);
    assert.equal(again.created, false);
    assert.equal(again.user_id, first.user_id);
  });

  test("username taken by another account: 409 Username is already in use.", async () => {
    const username = uniqueName("taken");
    await client.authenticateCustom(uniqueName("custom"), true, username);
    await rejectsWith(
      client.authenticateCustom(uniqueName("custom"), true, username),
      409,
      6,
      "Username is already in use.",
    );
    // A username taken by a custom account is taken for device accounts too.
    await rejectsWith(client.authenticateDevice(deviceId(), true, username), 409, 6, "Username is already in use.");
  });

  test("id rules: required, 6-128 bytes, no spaces", async () => {
    const res = await request(server, "/v2/account/authenticate/custom?create=true", {
      method: POST,
      basic: true,
      body: {},
    });
    assertError(res, 400, 3, "Custom ID is required.");
    await rejectsWith(client.authenticateCustom("abc", true), 400, 3, "Custom ID invalid, must be 6-128 bytes.");
    await rejectsWith(
      client.authenticateCustom("with space", true),
      400,
      3,
      "Custom ID invalid, no spaces or control characters allowed.",
    );
    const six = await client.authenticateCustom(uniqueName("c").slice(0, 6).padEnd(6, "x"), true);
    assert.match(six.user_id, UUID_RE);
  });

  test("unknown custom id with create=false: 404", async () => {
    await rejectsWith(client.authenticateCustom(uniqueName("nobody"), false), 404, 5, "User account not found.");
  });

  test("device and custom ids are separate identities", async () => {
    const id = uniqueName("shared");
    const device = await client.authenticateDevice(id, true);
    const custom = await client.authenticateCustom(id, true);
    assert.equal(custom.created, true);
    assert.notEqual(custom.user_id, device.user_id);
  });
});

describe("email authentication", () => {
  const email = () => `${uniqueName("mail")}@example.com`;

  test("creates, logs in again, and email is case-insensitive", async () => {
    const address = email();
    const username = uniqueName("eu");
    const first = await mailClient.authenticateEmail(address, "password123", true, username);
    assert.equal(first.created, true);
    assert.equal(first.username, username);
    const again = await mailClient.authenticateEmail(address, "password123", false);
    assert.equal(again.created, false);
    assert.equal(again.user_id, first.user_id);
    const upper = await mailClient.authenticateEmail(address.toUpperCase(), "password123", true);
    assert.equal(upper.created, false);
    assert.equal(upper.user_id, first.user_id);
  });

  test("wrong password: 401 Invalid credentials.", async () => {
    const address = email();
    await mailClient.authenticateEmail(address, "password123", true);
    await rejectsWith(mailClient.authenticateEmail(address, "wrongpassword", false), 401, 16, "Invalid credentials.");
    await rejectsWith(mailClient.authenticateEmail(address, "wrongpassword", true), 401, 16, "Invalid credentials.");
  });

  test("unknown email with create=false: 404", async () => {
    await rejectsWith(mailClient.authenticateEmail(email(), "password123", false), 404, 5, "User account not found.");
  });

  test("short email, bad format, spaces, short password: 400 with Nakama's messages", async () => {
    // 13_auth_email_short_email: the length rule answers for a well-formed short address.
    await rejectsWith(
      mailClient.authenticateEmail("a@b.com", "short", true),
      400,
      3,
      "Invalid email address, must be 10-255 bytes.",
    );
    await rejectsWith(
      mailClient.authenticateEmail("no-at-sign.example.com", "password123", true),
      400,
      3,
      "Invalid email address format.",
    );
    await rejectsWith(
      mailClient.authenticateEmail("user@nodotcom", "password123", true),
      400,
      3,
      "Invalid email address format.",
    );
    await rejectsWith(
      mailClient.authenticateEmail("with space@example.com", "password123", true),
      400,
      3,
      "Invalid email address, no spaces or control characters allowed.",
    );
    await rejectsWith(
      mailClient.authenticateEmail(`${"x".repeat(250)}@example.com`, "password123", true),
      400,
      3,
      "Invalid email address, must be 10-255 bytes.",
    );
    // 14_auth_email_short_password
    await rejectsWith(
      mailClient.authenticateEmail(email(), "short", true),
      400,
      3,
      "Password must be at least 8 characters long.",
    );
  });

  test("username and password without email: a login, never a creation", async () => {
    const username = uniqueName("pw");
    const first = await mailClient.authenticateEmail(email(), "password123", true, username);
    const login = await mailClient.authenticateEmail("", "password123", true, username);
    assert.equal(login.created, false);
    assert.equal(login.user_id, first.user_id);
    await rejectsWith(mailClient.authenticateEmail("", "badpassword", false, username), 401, 16, "Invalid credentials.");
    await rejectsWith(
      mailClient.authenticateEmail("", "password123", true, uniqueName("ghost")),
      404,
      5,
      "User account not found.",
    );
    await rejectsWith(
      mailClient.authenticateEmail("", "password123", true),
      400,
      3,
      "Username is required when email address is not supplied.",
    );
  });

  test("a device account has no password: username login is refused", async () => {
    const username = uniqueName("nopw");
    await client.authenticateDevice(deviceId(), true, username);
    await rejectsWith(mailClient.authenticateEmail("", "password123", false, username), 401, 16, "Invalid credentials.");
  });
});

describe("session tokens", () => {
  test("HS256 JWTs with tid uid usn exp iat, signed with the configured keys", async () => {
    const username = uniqueName("jwt");
    const session = await client.authenticateDevice(deviceId(), true, username);
    const { header, claims } = decodeJwt(session.token);
    assert.equal(header.alg, "HS256");
    for (const claim of ["tid", "uid", "usn", "exp", "iat"]) {
      assert.ok(claim in claims, `claim ${claim} in ${JSON.stringify(claims)}`);
    }
    assert.match(claims.tid, UUID_RE);
    assert.equal(claims.uid, session.user_id);
    assert.equal(claims.usn, username);
    assert.equal(typeof claims.exp, "number");
    assert.equal(typeof claims.iat, "number");
    assert.equal(claims.exp - claims.iat, 60, "Nakama's default token life is 60 s");
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 30, "iat is now");
    assert.ok(!("vrs" in claims), "no vars, no vrs claim");

    const refresh = decodeJwt(session.refresh_token);
    assert.equal(refresh.header.alg, "HS256");
    assert.equal(refresh.claims.tid, claims.tid, "session and refresh token share tid");
    assert.equal(refresh.claims.uid, claims.uid);
    assert.equal(refresh.claims.exp - refresh.claims.iat, 3600);

    assert.ok(verifyJwt(session.token, "defaultencryptionkey"));
    assert.ok(verifyJwt(session.refresh_token, "defaultrefreshencryptionkey"));
    assert.ok(!verifyJwt(session.refresh_token, "defaultencryptionkey"));
  });

  test("vars end up in the token's vrs and in session.vars", async () => {
    const vars = { level: "7", "with space": "ok" };
    const device = await client.authenticateDevice(deviceId(), true, undefined, vars);
    assert.deepEqual(device.vars, vars);
    assert.deepEqual(decodeJwt(device.token).claims.vrs, vars);
    assert.deepEqual(decodeJwt(device.refresh_token).claims.vrs, vars);

    // Non-ASCII values travel as UTF-8 in the token. (nakama-js decodes the payload with atob
    // and so shows them mangled in session.vars; that is the client's doing, not the server's.)
    const unicode = await client.authenticateDevice(deviceId(), true, undefined, { name: "héllo ✓" });
    assert.deepEqual(decodeJwt(unicode.token).claims.vrs, { name: "héllo ✓" });

    const custom = await client.authenticateCustom(uniqueName("cv"), true, undefined, { a: "b" });
    assert.deepEqual(custom.vars, { a: "b" });
    const mail = await mailClient.authenticateEmail(`${uniqueName("ev")}@example.com`, "password123", true, undefined, {
      x: "y",
    });
    assert.deepEqual(mail.vars, { x: "y" });
  });

  test("a token from authentication opens GET /v2/account", async () => {
    const session = await client.authenticateDevice(deviceId(), true);
    const account = await client.getAccount(session);
    assert.equal(account.user.id, session.user_id);
  });
});
