// Times a large leaderboard through the real client: a write (its answer has the rank),
// around-owner windows, a first page, and writes from 32 clients (300 each). Not a test: run it by
// hand against a server with the bundled leaderboards_api module and a seeded board (see
// docs/PERFORMANCE.md, "Leaderboards with 1,000,000 records"); start the server with
// --session.token_expiry_sec 7200 or the client warns at every call.
// Usage: node bench/leaderboards.mjs <port> [board id, default "big"]
import { Client } from "@heroiclabs/nakama-js";

const port = process.argv[2];
const id = process.argv[3] || "big";
const client = new Client("defaultkey", "127.0.0.1", port, false, 10000);
client.autoRefreshSession = false;

function stats(ms) {
  ms.sort((a, b) => a - b);
  const p = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(2);
  return `n=${ms.length} p50=${p(0.5)} ms p90=${p(0.9)} ms p99=${p(0.99)} ms`;
}

async function timed(n, fn) {
  const ms = [];
  for (let i = 0; i < n; i += 1) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return stats(ms);
}

const me = await client.authenticateDevice(`perf-${Date.now()}`, true);
await client.writeLeaderboardRecord(me, id, { score: 500000 });
console.log("write (rank in the answer):", await timed(200, (i) => client.writeLeaderboardRecord(me, id, { score: 500000 + i })));
console.log("around owner, limit 10:", await timed(200, () => client.listLeaderboardRecordsAroundOwner(me, id, me.user_id, 10)));
console.log("around owner, limit 100:", await timed(100, () => client.listLeaderboardRecordsAroundOwner(me, id, me.user_id, 100)));
console.log("first page, limit 100, with the caller's record:", await timed(100, () => client.listLeaderboardRecords(me, id, [me.user_id], 100)));
const r = await client.listLeaderboardRecordsAroundOwner(me, id, me.user_id, 1);
console.log("caller's rank:", r.records[0].rank);

// Writes from 32 clients, 300 each (9,600 writes), each a new owner's record or a better score.
const sessions = [];
for (let c = 0; c < 32; c += 1) {
  sessions.push(await client.authenticateDevice(`perf-${Date.now()}-${c}`, true));
}
const started = performance.now();
const lat = [];
await Promise.all(sessions.map(async (s, c) => {
  for (let i = 0; i < 300; i += 1) {
    const t = performance.now();
    await client.writeLeaderboardRecord(s, id, { score: c * 1000 + i });
    lat.push(performance.now() - t);
  }
}));
const secs = (performance.now() - started) / 1000;
console.log(`32 clients, ${lat.length} writes: ${(lat.length / secs).toFixed(0)}/s, ${stats(lat)}`);
