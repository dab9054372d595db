// Flood control: a socket sending more than socket.max_inbound_messages_per_sec is closed
// (1008 "too many messages"), a 60 Hz client is not, and the warnings a flood causes (closed
// sockets, full match input queues) are one line per interval with a count, so a flood cannot
// make the log grow without bound.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { makeClient } from "./lib/client.mjs";
import { sleep, startServer, uniqueName } from "./lib/server.mjs";

const FLOOD_MS = 2_000;
const MAX_LOG_GROWTH = 2 * 1024 * 1024;

/** A player in a new idle match (it ticks and ignores what it gets). */
async function playerInIdleMatch(client) {
  const session = await client.authenticateDevice(uniqueName("flood"), true);
  const rpc = await client.rpc(session, "create_idle_matches", { count: 1, tick_rate: 10 });
  const [matchId] = rpc.payload.match_ids;
  const socket = client.createSocket(false, false);
  const closed = new Promise((resolve) => {
    socket.ondisconnect = (event) => resolve({ code: event.code, reason: event.reason });
  });
  await socket.connect(session, false);
  await socket.joinMatch(matchId);
  return { socket, matchId, closed };
}

/**
 * Sends match data as fast as the client can for `ms` (or until the socket closes).
 * Resolves with the number of messages sent.
 */
async function flood(player, ms) {
  const end = Date.now() + ms;
  let sent = 0;
  let open = true;
  player.closed.then(() => (open = false));
  while (open && Date.now() < end) {
    for (let i = 0; i < 200 && open; i += 1) {
      player.socket.sendMatchState(player.matchId, 1, "x".repeat(32)).catch(() => (open = false));
      sent += 1;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

function countLines(log, text) {
  return log.split("\n").filter((line) => line.includes(text)).length;
}

describe("with the default limit", () => {
  let server;
  let client;
  before(async () => {
    server = await startServer({ label: "flood", bundled: ["idle_match"] });
    client = makeClient(server);
  });
  after(() => server?.stop());

  test("a socket flooding a match for 2 s is closed, and the log stays small", async () => {
    const flooders = [await playerInIdleMatch(client), await playerInIdleMatch(client)];
    const logBefore = server.log().length;
    const sent = await Promise.all(flooders.map((player) => flood(player, FLOOD_MS)));
    for (const player of flooders) {
      const closed = await Promise.race([player.closed, sleep(3_000).then(() => null)]);
      assert.notEqual(closed, null, "the flooder was not disconnected");
      assert.equal(closed.code, 1008);
      assert.equal(closed.reason, "too many messages");
    }
    await sleep(200);
    const log = server.log().slice(logBefore);
    assert.ok(log.length < MAX_LOG_GROWTH, `log grew by ${log.length} bytes after ${sent} messages`);
    assert.ok(countLines(log, "max_inbound_messages_per_sec") <= 1, log.slice(0, 2000));
  });

  test("a client sending 60 messages a second for 2 s stays connected", async () => {
    const player = await playerInIdleMatch(client);
    let open = true;
    player.closed.then(() => (open = false));
    try {
      for (let i = 0; i < 120 && open; i += 1) {
        await player.socket.sendMatchState(player.matchId, 1, "tick");
        await sleep(1000 / 60);
      }
      assert.equal(open, true);
      const status = await player.socket.updateStatus("fine");
      assert.ok(status !== undefined);
    } finally {
      player.socket.disconnect(false);
    }
  });
});

describe("with the limit off", () => {
  let server;
  let client;
  before(async () => {
    server = await startServer({
      label: "flood-unlimited",
      bundled: ["idle_match"],
      args: ["--socket.max_inbound_messages_per_sec", "0"],
    });
    client = makeClient(server);
  });
  after(() => server?.stop());

  test("a 2 s flood filling a match's input queue logs one line per interval, with a count", async () => {
    const player = await playerInIdleMatch(client);
    const logBefore = server.log().length;
    try {
      const sent = await flood(player, FLOOD_MS);
      await sleep(300);
      const log = server.log().slice(logBefore);
      assert.ok(log.length < MAX_LOG_GROWTH, `log grew by ${log.length} bytes after ${sent} messages`);
      const lines = countLines(log, "match input queue full");
      assert.ok(lines >= 1 && lines <= 2, `${lines} lines about the full queue after ${sent} messages`);
      assert.match(log, /"dropped":\d+/);
    } finally {
      player.socket.disconnect(false);
    }
  });
});
