// The Prometheus endpoint: with metrics.prometheus_port set, /metrics on its own port reports sockets, messages, matches and their ticks, and REST latency by route.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { makeClient } from "./lib/client.mjs";
import { HOST, freePort, repoRoot, sleep, startServer, uniqueName } from "./lib/server.mjs";

/** Sample values by series text, e.g. `tavern_sessions` or `x_bucket{le="0.1"}`. */
function parse(text) {
  const samples = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

describe("prometheus metrics", () => {
  let server;
  let metricsPort;

  before(async () => {
    metricsPort = await freePort();
    server = await startServer({
      label: "metrics",
      args: ["--metrics.prometheus_port", String(metricsPort)],
    });
  });
  after(async () => {
    await server?.stop();
  });

  async function scrape() {
    const response = await fetch(`http://${HOST}:${metricsPort}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type"), /^text\/plain/);
    return parse(await response.text());
  }

  test("the API port does not serve /metrics", async () => {
    const response = await fetch(`${server.baseUrl}/metrics`);
    assert.equal(response.status, 404);
  });

  test("sockets, messages, matches, ticks and REST latency are reported", async () => {
    const client = makeClient(server);
    const session = await client.authenticateDevice(uniqueName("dev"), true);
    const socket = client.createSocket(false, false);
    await socket.connect(session, false);
    const reply = await socket.rpc("create_idle_matches", JSON.stringify({ count: 3, tick_rate: 10 }));
    assert.equal(JSON.parse(reply.payload).match_ids.length, 3);
    await sleep(600);

    const m = await scrape();
    assert.equal(m.get("tavern_sessions"), 1);
    assert.equal(m.get("tavern_sockets"), 1);
    assert.equal(m.get("tavern_matches_running"), 3);
    assert.equal(m.get("tavern_lua_vms"), 0);
    assert.equal(m.get("tavern_matchmaker_tickets"), 0);
    assert.ok(m.get("tavern_socket_messages_received_total") >= 1);
    assert.ok(m.get("tavern_socket_messages_sent_total") >= 1);
    const ticks = m.get("tavern_match_tick_lateness_seconds_count");
    assert.ok(ticks >= 3, `ticks ${ticks}`);
    assert.equal(m.get('tavern_match_tick_lateness_seconds_bucket{le="+Inf"}'), ticks);
    assert.equal(m.get("tavern_match_tick_duration_seconds_count"), ticks);
    const route = 'route="/v2/account/authenticate/device",method="POST"';
    assert.equal(m.get(`tavern_api_request_duration_seconds_count{${route}}`), 1);
    assert.ok(m.has(`tavern_api_request_duration_seconds_bucket{${route},le="0.005"}`));

    socket.disconnect(false);
    await sleep(300);
    const later = await scrape();
    assert.equal(later.get("tavern_sessions"), 0);
    assert.equal(later.get("tavern_sockets"), 0);
    assert.ok(later.get("tavern_match_tick_lateness_seconds_count") > ticks);
  });
});

describe("prometheus metrics with Lua modules", () => {
  let server;
  let metricsPort;

  before(async () => {
    metricsPort = await freePort();
    server = await startServer({
      label: "metrics-lua",
      args: [
        "--metrics.prometheus_port",
        String(metricsPort),
        "--runtime.path",
        `${repoRoot}/tests/lua`,
        "--runtime.lua_min_count",
        "4",
      ],
    });
  });
  after(async () => {
    await server?.stop();
  });

  test("tavern_lua_vms counts the live Lua VMs, pooled ones included", async () => {
    const response = await fetch(`http://${HOST}:${metricsPort}/metrics`);
    const vms = parse(await response.text()).get("tavern_lua_vms");
    assert.ok(vms >= 4, `tavern_lua_vms is ${vms}`);
  });
});
