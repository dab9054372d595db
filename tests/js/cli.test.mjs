// The `tavern` command line: flags and config files, exit codes, healthcheck, migrations.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  HOST,
  createPostgresDatabase,
  freePort,
  postgresUrl,
  runTavern,
  startServer,
  uniqueName,
} from "./lib/server.mjs";
import { decodeJwt, makeClient, rejectsWith, request } from "./lib/client.mjs";

let tmp;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tavern-cli-"));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("flags", () => {
  test("--help lists the dotted keys and exits 0", async () => {
    const r = await runTavern(["--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const key of ["--socket.port", "--socket.server_key", "--session.token_expiry_sec", "--database.address", "--config"]) {
      assert.ok(r.stdout.includes(key), `help mentions ${key}`);
    }
  });

  test("an unknown flag exits 2 naming the key", async () => {
    const r = await runTavern(["--socket.nonexistent_key", "1"]);
    assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`);
    assert.match(r.stderr, /socket\.nonexistent_key/);
  });

  test("a bad value exits 2 naming the key", async () => {
    for (const [key, value] of [
      ["--socket.port", "not-a-number"],
      ["--session.token_expiry_sec", "soon"],
      ["--logger.level", "loudest"],
    ]) {
      const r = await runTavern([key, value]);
      assert.equal(r.code, 2, `${key} ${value}: exit code; stderr: ${r.stderr}`);
      assert.ok(r.stderr.includes(key.slice(2)), `${key} named in: ${r.stderr}`);
    }
  });

  test("an unknown command exits 2", async () => {
    const r = await runTavern(["frobnicate"]);
    assert.equal(r.code, 2, r.stderr);
  });

  test("an unknown key in a config file exits 2 naming it", async () => {
    const file = path.join(tmp, "unknown.yml");
    await writeFile(file, "socket:\n  no_such_key: 1\n");
    const r = await runTavern(["--config", file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no_such_key/);
  });

  test("a missing config file is an error, not a silent default", async () => {
    const r = await runTavern(["--config", path.join(tmp, "does-not-exist.yml"), "--socket.port", "1"]);
    assert.notEqual(r.code, 0);
    assert.ok(!r.timedOut);
  });
});

describe("--config file", () => {
  let server;

  before(async () => {
    const file = path.join(tmp, "test.yml");
    await writeFile(
      file,
      ["socket:", "  server_key: filekey", "session:", "  token_expiry_sec: 100", "  refresh_token_expiry_sec: 5000", ""].join(
        "\n",
      ),
    );
    server = await startServer({ label: "cli-config", args: ["--config", file, "--session.token_expiry_sec", "200"] });
  });

  after(async () => {
    await server?.stop();
  });

  test("keys from the file apply", async () => {
    await rejectsWith(makeClient(server).authenticateDevice(uniqueName("device"), true), 401, 16, "Server key invalid");
    const session = await makeClient(server, "filekey").authenticateDevice(uniqueName("device"), true);
    const refresh = decodeJwt(session.refresh_token).claims;
    assert.equal(refresh.exp - refresh.iat, 5000, "refresh_token_expiry_sec from the file");
  });

  test("a flag beats the file", async () => {
    const session = await makeClient(server, "filekey").authenticateDevice(uniqueName("device"), true);
    const { claims } = decodeJwt(session.token);
    assert.equal(claims.exp - claims.iat, 200);
  });
});

describe("healthcheck", () => {
  let server;

  before(async () => {
    server = await startServer({ label: "cli-healthcheck" });
  });

  after(async () => {
    await server?.stop();
  });

  test("exits 0 against a running server", async () => {
    const r = await runTavern(["healthcheck", String(server.port)]);
    assert.equal(r.code, 0, r.stderr);
  });

  test("exits non-zero when nothing listens", async () => {
    const port = await freePort();
    const r = await runTavern(["healthcheck", String(port)], { timeoutMs: 15_000 });
    assert.ok(!r.timedOut, "healthcheck gave up by itself");
    assert.notEqual(r.code, 0);
  });

  test("exits non-zero for a port that is not a number", async () => {
    const r = await runTavern(["healthcheck", "seventy"]);
    assert.notEqual(r.code, 0);
  });

  test("the server logs its listener and database at start", async () => {
    const lines = server
      .log()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    assert.ok(lines.length > 0, "JSON log lines");
    const text = JSON.stringify(lines);
    assert.ok(text.includes(String(server.port)), "the port is logged");
    assert.ok(/sqlite|postgres/i.test(text), "the database is logged");
  });
});

describe("stopping", () => {
  test("SIGTERM stops the server cleanly", async () => {
    const server = await startServer({ label: "cli-sigterm" });
    const started = Date.now();
    await server.stop();
    const { code, signal } = await server.exited;
    assert.equal(signal, null, "not killed");
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 5_000);
  });
});

describe("migrate up on SQLite", () => {
  test("migrates a fresh data_dir and can run twice", async () => {
    const dir = path.join(tmp, "sqlite-migrate");
    for (let i = 0; i < 2; i += 1) {
      const r = await runTavern(["migrate", "up", "--data_dir", dir]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
    }
  });
});

describe("PostgreSQL", { skip: postgresUrl ? false : "TAVERN_TEST_POSTGRES is not set" }, () => {
  test("a server on an unmigrated database exits non-zero and says to run tavern migrate up", async () => {
    const db = await createPostgresDatabase("tavern_unmigrated");
    try {
      const port = await freePort();
      const r = await runTavern(
        ["--database.address", db.url, "--socket.address", HOST, "--socket.port", String(port), "--data_dir", path.join(tmp, "pg1")],
        { timeoutMs: 20_000 },
      );
      assert.ok(!r.timedOut, "the server gave up by itself");
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /tavern migrate up/);
    } finally {
      await db.drop();
    }
  });

  test("migrate up twice, then a server with Nakama's address form and a password never logged", async () => {
    const db = await createPostgresDatabase("tavern_forms");
    try {
      for (let i = 0; i < 2; i += 1) {
        const r = await runTavern(["migrate", "up", "--database.address", db.url]);
        assert.equal(r.code, 0, r.stderr + r.stdout);
      }
      // user:pass@host:port/db; the local server trusts loopback, so the password is ignored.
      const url = new URL(db.url);
      const secret = "s3cretpw-never-logged";
      const nakamaForm = `${decodeURIComponent(url.username || "root")}:${secret}@${url.hostname}:${url.port || 5432}${url.pathname}`;
      const server = await startServer({ label: "cli-pg-form", database: "sqlite", args: ["--database.address", nakamaForm] });
      try {
        const session = await makeClient(server).authenticateDevice(uniqueName("device"), true);
        assert.equal(session.created, true);
        const res = await request(server, "/v2/account", { bearer: session.token });
        assert.equal(res.status, 200);
        assert.ok(!server.log().includes(secret), "the database password is not in the log");
        assert.match(server.log(), /postgres/i);
      } finally {
        await server.stop();
      }
    } finally {
      await db.drop();
    }
  });
});
