// Durability of new accounts: every account the server acknowledged (answered `created: true`)
// is still there after the server is killed with SIGKILL mid-load, on the same data dir or
// database. New accounts are committed in groups (SQLite and PostgreSQL alike), so this checks
// that an answer never goes out before its group's commit.
// tavern-test: postgres

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import { request } from "./lib/client.mjs";
import { startServer, uniqueName } from "./lib/server.mjs";

/** Requests sent at once; the server is killed once KILL_AFTER of them were acknowledged. */
const REQUESTS = 600;
const KILL_AFTER = 150;

const authenticate = (server, id, create) =>
  request(server, `/v2/account/authenticate/device?create=${create}`, {
    method: "POST",
    basic: true,
    body: { id },
  });

describe("new accounts survive kill -9", () => {
  const servers = [];
  after(async () => {
    // The restarted server first (it uses the first one's data), then the first (removes it).
    for (const server of servers.reverse()) {
      await server.stop();
    }
  });

  test("every acknowledged account is there after a restart", async () => {
    const first = await startServer({ label: "durability-a", bundled: [] });
    servers.push(first);
    const prefix = uniqueName("durable");
    const acknowledged = [];
    let killed = false;
    const kill = () => {
      if (!killed) {
        killed = true;
        process.kill(first.pid, "SIGKILL");
      }
    };
    await Promise.all(
      Array.from({ length: REQUESTS }, async (_, n) => {
        const id = `${prefix}-${n}`;
        try {
          const res = await authenticate(first, id, true);
          if (res.status === 200 && res.json?.created === true && !killed) {
            acknowledged.push(id);
            if (acknowledged.length >= KILL_AFTER) {
              kill();
            }
          }
        } catch {
          // Cut off by the kill.
        }
      }),
    );
    kill();
    const { signal } = await first.exited;
    assert.equal(signal, "SIGKILL");
    assert.ok(acknowledged.length >= KILL_AFTER, `only ${acknowledged.length} accounts were acknowledged`);

    const again = ["--data_dir", first.dataDir];
    if (first.databaseUrl) {
      again.push("--database.address", first.databaseUrl);
    }
    const second = await startServer({ label: "durability-b", bundled: [], database: "sqlite", args: again });
    servers.push(second);
    const missing = [];
    for (const id of acknowledged) {
      const res = await authenticate(second, id, false);
      if (res.status !== 200 || res.json?.created === true) {
        missing.push(`${id}: ${res.status} ${res.text}`);
      }
    }
    assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged accounts are gone`);
  });
});
