// Dedicated game servers through ODIN Fleet, end to end: the fake ODIN API (tests/fake-odin),
// two example game servers (examples/odin-gameserver) and a tavern server with the ODIN
// adapter on, whose bundled fleet_session module claims an idle game server for each
// matchmaker group and hands its address to the players through the session match.
//
// The fake-odin and odin-gameserver binaries are taken from the directory of TAVERN_BIN.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { makeClient } from "./lib/client.mjs";
import { runTavern, startServer, tavernBin, uniqueName } from "./lib/server.mjs";

const binDir = path.dirname(tavernBin);
const fakeOdinBin = path.join(binDir, "fake-odin");
const gameServerBin = path.join(binDir, "odin-gameserver");
const APP = "7";
const TOKEN = "fleet-test-token";
const WAIT_MS = 15_000;

const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Starts a binary that prints `listening on http://ADDR`; resolves with its URL. */
function launch(bin, args, env = {}) {
  assert.ok(existsSync(bin), `${bin} not found: build the workspace (cargo build --workspace)`);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`${bin} did not start: ${out}${err}`)), 10_000);
    timer.unref();
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const found = /listening on (http:\/\/\S+)/.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve({
          url: found[1],
          stderr: () => err,
          stop: () => {
            children.delete(child);
            child.kill("SIGTERM");
          },
        });
      }
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.once("close", (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${bin} exited with ${code}: ${out}${err}`));
    });
  });
}

async function http(url, { method = "GET", body, raw } = {}) {
  const res = await fetch(url, {
    method,
    headers: body !== undefined || raw !== undefined ? { "Content-Type": "application/json" } : {},
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

async function waitFor(what, check, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("fleet: ODIN Fleet dedicated servers", () => {
  let fake;
  let server;
  let client;
  const gameServers = {};

  const fakeServer = async (id) => (await http(`${fake.url}/_fake/servers`)).json.find((s) => s.id === id);

  async function startGameServer(id) {
    gameServers[id] = await launch(gameServerBin, [], {
      ODIN_API_TOKEN: TOKEN,
      ODIN_SERVICE_ID: String(id),
      ODIN_GAME_PORT: "7777",
      LISTEN_ADDR: "127.0.0.1:0",
      ODIN_API_URL: `${fake.url}/api`,
    });
    return gameServers[id];
  }

  before(async () => {
    fake = await launch(fakeOdinBin, ["--app", APP, "--token", TOKEN]);
    for (const id of [1, 2]) {
      const added = await http(`${fake.url}/_fake/servers`, {
        method: "POST",
        body: {
          id,
          address: "127.0.0.1",
          ports: [{ name: "game_port", protocol: "udp", targetPort: 7777, publishedPort: 30000 + id }],
          city: "Frankfurt",
          country: "DE",
          continent: "EU",
        },
      });
      assert.equal(added.status, 200, added.text);
    }
    server = await startServer({
      label: "fleet",
      args: [
        "--matchmaker.interval_sec", "1",
        "--fleet.odin.app_id", APP,
        "--fleet.odin.api_token", TOKEN,
        "--fleet.odin.api_url", `${fake.url}/api`,
      ],
    });
    client = makeClient(server);
  });

  after(async () => {
    await server?.stop();
    for (const gs of Object.values(gameServers)) gs.stop();
    fake?.stop();
  });

  async function player() {
    const session = await client.authenticateDevice(uniqueName("dev"), true, uniqueName("u"));
    const socket = client.createSocket(false, false);
    await socket.connect(session, false);
    return { session, socket };
  }

  /** Matchmakes a pair with its own mode; resolves with both players' match ids. */
  async function pair(mode) {
    const players = [await player(), await player()];
    const matched = players.map(
      (p) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("not matched")), WAIT_MS);
          timer.unref();
          p.socket.onmatchmakermatched = (m) => {
            clearTimeout(timer);
            resolve(m);
          };
        }),
    );
    for (const p of players) {
      await p.socket.addMatchmaker(`+properties.mode:${mode}`, 2, 2, { mode, game_mode: "duel" });
    }
    return { players, matched };
  }

  /** Joins the session match and resolves with the fleet answer once it is not "allocating". */
  async function fleetAnswer(p, matchId, ms = WAIT_MS) {
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no fleet answer")), ms);
      timer.unref();
      p.socket.onmatchdata = (data) => {
        if (data.op_code === 1) {
          clearTimeout(timer);
          resolve(JSON.parse(new TextDecoder().decode(data.data)));
        }
      };
    });
    const joined = await p.socket.joinMatch(matchId);
    const label = JSON.parse(joined.label);
    if (label.fleet.state !== "allocating") return label.fleet;
    return answer;
  }

  const close = (...players) => players.forEach((p) => p.socket.disconnect(false));

  test("the example game server marks itself idle and answers its control API", async () => {
    const gs = await startGameServer(1);
    const record = await fakeServer(1);
    assert.equal(record.metadata.instance_state, "idle");
    assert.equal(record.metadata.game_port, 7777);
    assert.ok(record.metadata.control_port > 0);
    const health = await http(`${gs.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.json.instance_state, "idle");
    const badJson = await http(`${gs.url}/match/start`, { method: "POST", raw: "{nope" });
    assert.equal(badJson.status, 400);
    assert.match(badJson.json.error, /invalid JSON/);
    const noId = await http(`${gs.url}/match/start`, { method: "POST", body: { game_mode: "x" } });
    assert.equal(noId.status, 400);
    assert.equal(noId.json.error, "match_id is required");
    assert.equal((await http(`${gs.url}/match/start`)).status, 405);
    // ODIN failing (after the client's retries) is a 502.
    await http(`${fake.url}/_fake/faults`, { method: "POST", body: { status: 500, count: 10, path: "metadata" } });
    const down = await http(`${gs.url}/match/start`, { method: "POST", body: { match_id: "m0" } });
    assert.equal(down.status, 502, down.text);
    await http(`${fake.url}/_fake/faults`, { method: "DELETE" });
    assert.equal((await fakeServer(1)).metadata.instance_state, "idle");
  });

  test("two matches race for one idle server: one gets it, the other waits until it is idle again", async () => {
    // Only server 1 runs a game server; server 2 has no idle metadata and is never chosen.
    const first = await pair(uniqueName("race"));
    const second = await pair(uniqueName("race"));
    const [m1, m2] = [await Promise.all(first.matched), await Promise.all(second.matched)];
    assert.equal(m1[0].match_id, m1[1].match_id);
    assert.equal(m2[0].match_id, m2[1].match_id);
    assert.notEqual(m1[0].match_id, m2[0].match_id);
    const answers = [fleetAnswer(first.players[0], m1[0].match_id), fleetAnswer(second.players[0], m2[0].match_id)];
    const winner = await Promise.race(answers.map((a, i) => a.then((fleet) => ({ fleet, i }))));
    assert.equal(winner.fleet.state, "ready", JSON.stringify(winner.fleet));
    assert.equal(winner.fleet.instance_id, "1");
    assert.equal(winner.fleet.ip_address, "127.0.0.1");
    assert.equal(winner.fleet.port, 30001);
    const winnerMatch = [m1, m2][winner.i][0].match_id;
    const occupied = await fakeServer(1);
    assert.equal(occupied.metadata.instance_state, "occupied");
    assert.equal(occupied.metadata.match_id, winnerMatch);
    assert.equal(occupied.metadata.user_ids.length, 2);
    // The loser is still waiting: nothing gave it the same server.
    const loser = 1 - winner.i;
    const early = await Promise.race([answers[loser], new Promise((r) => setTimeout(() => r(null), 2000).unref())]);
    assert.equal(early, null, `the second match got a server while the first held it: ${JSON.stringify(early)}`);
    // The game ends; the server is idle again and the waiting match claims it.
    const finished = await http(`${gameServers[1].url}/match/finish`, { method: "POST" });
    assert.equal(finished.status, 200);
    const later = await answers[loser];
    assert.equal(later.state, "ready", JSON.stringify(later));
    assert.equal(later.instance_id, "1");
    const reused = await fakeServer(1);
    assert.equal(reused.metadata.match_id, [m1, m2][loser][0].match_id);
    // The second player of each pair sees the same answer through the label.
    const other = await fleetAnswer(first.players[1], m1[0].match_id);
    assert.equal(other.state, "ready");
    close(...first.players, ...second.players);
    await http(`${gameServers[1].url}/match/finish`, { method: "POST" });
  });

  test("two idle servers serve two matches at once", async () => {
    await startGameServer(2);
    await waitFor("both servers idle", async () => {
      const all = (await http(`${fake.url}/_fake/servers`)).json;
      return all.every((s) => s.metadata.instance_state === "idle");
    });
    const first = await pair(uniqueName("two"));
    const second = await pair(uniqueName("two"));
    const [m1, m2] = [await Promise.all(first.matched), await Promise.all(second.matched)];
    const [a, b] = await Promise.all([
      fleetAnswer(first.players[0], m1[0].match_id),
      fleetAnswer(second.players[0], m2[0].match_id),
    ]);
    assert.equal(a.state, "ready", JSON.stringify(a));
    assert.equal(b.state, "ready", JSON.stringify(b));
    assert.deepEqual([a.instance_id, b.instance_id].sort(), ["1", "2"]);
    const ports = { 1: 30001, 2: 30002 };
    assert.equal(a.port, ports[a.instance_id]);
    close(...first.players, ...second.players);
  });

  test("an app id without a token stops the start with a clear message", async () => {
    const result = await runTavern(["--fleet.odin.app_id", APP], { env: { ODIN_API_TOKEN: "" } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr + result.stdout, /fleet\.odin\.api_token/);
  });
});
