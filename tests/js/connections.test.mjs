// HTTP connections as Nakama's Go server treats them: socket.read_timeout_ms bounds a whole
// request from its first byte, idle_timeout_ms the wait between requests, write_timeout_ms the
// handling of one; a WebSocket leaves them behind. SIGTERM ends within shutdown_grace_sec plus
// a small bound whatever clients hold open. Short timers here; Nakama's defaults are 10 s, 10 s
// and 60 s.

import assert from "node:assert/strict";
import net from "node:net";
import { after, before, test } from "node:test";
import { HOST, startServer, sleep, uniqueName } from "./lib/server.mjs";
import { makeClient } from "./lib/client.mjs";

const READ_MS = 600;
const WRITE_MS = 1_000;
const IDLE_MS = 1_500;

let server;
before(async () => {
  server = await startServer({
    label: "connections",
    bundled: [],
    args: [
      "--socket.read_timeout_ms", String(READ_MS),
      "--socket.write_timeout_ms", String(WRITE_MS),
      "--socket.idle_timeout_ms", String(IDLE_MS),
    ],
  });
});
after(() => server?.stop());

/**
 * Opens a raw TCP connection to `port`, writes `data`, and resolves with
 * { ms: time until the server closed it (or null after `waitMs`), received }.
 */
function holdConnection(port, data, waitMs) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = "";
    const socket = net.connect({ host: HOST, port }, () => socket.write(data));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ms: null, received });
    }, waitMs);
    socket.on("data", (chunk) => (received += chunk));
    socket.once("error", (e) => {
      clearTimeout(timer);
      if (e.code === "ECONNRESET") {
        resolve({ ms: Date.now() - started, received });
      } else {
        reject(e);
      }
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ ms: Date.now() - started, received });
    });
  });
}

test("a request whose head is never finished is closed after the read timeout", async () => {
  const { ms, received } = await holdConnection(
    server.port,
    "POST /v2/account/authenticate/device HTTP/1.1\r\nHost: x\r\n",
    READ_MS + 4_000,
  );
  assert.notEqual(ms, null, "the connection stayed open");
  assert.ok(ms >= READ_MS - 50 && ms < READ_MS + 1_500, `closed after ${ms} ms`);
  assert.equal(received, "");
});

test("a request whose body is never finished is closed after the read timeout", async () => {
  const head =
    "POST /v2/account/authenticate/device HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
    "Authorization: Basic ZGVmYXVsdGtleTo=\r\nContent-Length: 200\r\n\r\n{\"id\":";
  const { ms } = await holdConnection(server.port, head, READ_MS + 4_000);
  assert.notEqual(ms, null, "the connection stayed open");
  assert.ok(ms >= READ_MS - 50 && ms < READ_MS + 1_500, `closed after ${ms} ms`);
});

test("a kept-alive connection lasts the idle timeout between requests, then closes", async () => {
  const { ms, received } = await holdConnection(
    server.port,
    "GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n",
    IDLE_MS + 4_000,
  );
  assert.match(received, /^HTTP\/1\.1 200/);
  assert.notEqual(ms, null, "the connection stayed open");
  assert.ok(ms >= IDLE_MS - 50 && ms < IDLE_MS + 1_500, `closed after ${ms} ms`);
});

test("requests on one connection each get their own read timeout", async () => {
  const started = Date.now();
  const answers = await new Promise((resolve, reject) => {
    let received = "";
    let sent = 0;
    const socket = net.connect({ host: HOST, port: server.port });
    const send = () => {
      sent += 1;
      socket.write("GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n");
    };
    socket.once("connect", send);
    socket.on("data", async (chunk) => {
      received += chunk;
      const count = received.split("HTTP/1.1 200").length - 1;
      if (count === sent && sent < 4) {
        // Longer than the read timeout in all, shorter than the idle timeout each time.
        await sleep(READ_MS / 2);
        send();
      } else if (count === 4) {
        socket.destroy();
        resolve(count);
      }
    });
    socket.once("error", reject);
    socket.once("close", () => resolve(received.split("HTTP/1.1 200").length - 1));
  });
  assert.equal(answers, 4);
  assert.ok(Date.now() - started > READ_MS);
});

test("a WebSocket outlives the HTTP timeouts", async () => {
  const client = makeClient(server);
  const session = await client.authenticateDevice(uniqueName("conn"), true);
  const socket = client.createSocket(false, false);
  let disconnected = false;
  socket.ondisconnect = () => (disconnected = true);
  await socket.connect(session, false);
  try {
    await sleep(IDLE_MS + 500);
    assert.equal(disconnected, false);
    const status = await socket.updateStatus("still here");
    assert.ok(status !== undefined);
  } finally {
    socket.disconnect(false);
  }
});

test("SIGTERM ends within shutdown_grace_sec and the drain bound while a request is held half-sent", async () => {
  const held = await startServer({
    label: "connections-shutdown",
    bundled: [],
    args: ["--shutdown_grace_sec", "1"],
  });
  const sockets = [];
  try {
    for (let i = 0; i < 3; i += 1) {
      const socket = net.connect({ host: HOST, port: held.port });
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write("POST /v2/account/authenticate/device HTTP/1.1\r\nHost: x\r\nContent-Len");
      sockets.push(socket);
    }
    // And one idle keep-alive connection.
    const idle = net.connect({ host: HOST, port: held.port });
    idle.on("error", () => {});
    idle.write("GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n");
    sockets.push(idle);
    await sleep(200);
    const started = Date.now();
    await held.stop();
    const exit = await held.exited;
    const ms = Date.now() - started;
    assert.equal(exit.signal, null, `ended by ${exit.signal} after ${ms} ms`);
    assert.equal(exit.code, 0);
    // Grace 1 s + drain 2 s + a little.
    assert.ok(ms < 4_000, `exit took ${ms} ms`);
  } finally {
    for (const socket of sockets) {
      socket.destroy();
    }
    await held.stop();
  }
});
