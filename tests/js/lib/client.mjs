// Client-side helpers: the official nakama-js client pointed at a test server, a raw HTTP
// helper for requests the client cannot express, JWT decoding, error assertions, and waiting
// for socket events.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Client, Session } from "@heroiclabs/nakama-js";
import WebSocket from "ws";

import { HOST, uniqueName } from "./server.mjs";

// Node 20 has fetch but no WebSocket; nakama-js sockets need the global one.
if (typeof globalThis.WebSocket === "undefined") {
  globalThis.WebSocket = WebSocket;
}

export { Client, Session };

// nakama-js warns on every refresh of a session shorter than it likes; tests use short ones on
// purpose, so those two warnings are dropped and everything else is printed.
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === "string" && /^Session (refresh )?lifetime too short/.test(args[0])) {
    return;
  }
  warn(...args);
};

export const SERVER_KEY = "defaultkey";
export const REQUEST_TIMEOUT_MS = 7000;
/**
 * Email authentication hashes or checks a bcrypt password at Nakama's cost (13): about half a
 * second of CPU, many seconds on a loaded two-core machine. Calls that do it get more time.
 */
export const BCRYPT_TIMEOUT_MS = 30_000;

/** A nakama-js client for `server` (a harness handle), without automatic session refresh. */
export function makeClient(server, serverKey = SERVER_KEY, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  return new Client(serverKey, HOST, String(server.port), false, timeoutMs, false);
}

/** Base64 of `user:` for HTTP Basic, as clients send the server key. */
export function basic(key = SERVER_KEY) {
  return `Basic ${Buffer.from(`${key}:`).toString("base64")}`;
}

/**
 * A raw HTTP request to the server. Options: method, headers, body (string sent as is,
 * anything else JSON-encoded), basic (server key, or true for the default), bearer (token).
 * Resolves with { status, headers, text, json } (json is undefined when the body is not JSON).
 */
export async function request(server, urlPath, { method = "GET", headers = {}, body, basic: key, bearer } = {}) {
  const h = { ...headers };
  if (key !== undefined) {
    h.Authorization = basic(key === true ? SERVER_KEY : key);
  }
  if (bearer !== undefined) {
    h.Authorization = `Bearer ${bearer}`;
  }
  let payload;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(`${server.baseUrl}${urlPath}`, {
    method,
    headers: h,
    body: payload,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Asserts a raw response is Nakama's error shape with this status, gRPC code and message. */
export function assertError(res, status, code, message) {
  assert.equal(res.status, status, `status of ${res.text}`);
  assert.deepEqual(res.json, { code, message });
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
}

/**
 * Awaits a nakama-js call that must fail, and checks the rejected fetch Response carries
 * this status and `{code, message}` body. Returns the parsed body.
 */
export async function rejectsWith(promise, status, code, message) {
  let failure;
  try {
    await promise;
  } catch (e) {
    failure = e;
  }
  assert.ok(failure !== undefined, "the call should have failed");
  assert.ok(
    failure instanceof Response,
    `expected the client to reject with the HTTP response, got ${failure?.stack ?? failure}`,
  );
  const body = await failure.json();
  assert.equal(failure.status, status, `status of ${JSON.stringify(body)}`);
  if (code !== undefined) {
    assert.equal(body.code, code, `code of ${JSON.stringify(body)}`);
  }
  if (message !== undefined) {
    assert.equal(body.message, message);
  }
  return body;
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/** The header and claims of a compact JWT, unchecked. */
export function decodeJwt(token) {
  const parts = token.split(".");
  assert.equal(parts.length, 3, `a JWT has three parts: ${token}`);
  return { header: b64urlJson(parts[0]), claims: b64urlJson(parts[1]), signature: parts[2] };
}

/** Signs claims as an HS256 JWT with `key` (for forged or hand-made tokens). */
export function signJwt(claims, key) {
  const enc = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const head = `${enc({ alg: "HS256", typ: "JWT" })}.${enc(claims)}`;
  const sig = createHmac("sha256", key).update(head).digest("base64url");
  return `${head}.${sig}`;
}

/** Whether `signature` is the HS256 signature of the token's first two parts under `key`. */
export function verifyJwt(token, key) {
  const [h, c, s] = token.split(".");
  return createHmac("sha256", key).update(`${h}.${c}`).digest("base64url") === s;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** How long a test waits for a socket event by default. */
export const EVENT_WAIT_MS = 5000;

/** Resolves with the first value `pick` returns for an event, or rejects after `ms`. */
export function nextEvent(socket, handler, pick = (e) => e, ms = EVENT_WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${handler} within ${ms} ms`)), ms);
    const previous = socket[handler];
    socket[handler] = (event) => {
      const value = pick(event);
      if (value !== undefined && value !== false) {
        clearTimeout(timer);
        socket[handler] = previous;
        resolve(value);
      }
    };
  });
}

/**
 * Labels the match frames a nakama-js socket receives from now on, in arrival order: "answer"
 * (the reply to a match create or join: a `match` with a cid) or "presence" (a match presence
 * event); other frames (pongs, ...) are left out. Works on JSON and protobuf sockets. Use it to
 * check order on the wire: under Node, `ws` may deliver two frames of one TCP read before any
 * promise continuation runs, so callbacks alone cannot tell the order.
 */
export function frameOrder(socket) {
  const order = [];
  socket.adapter._socket.addEventListener("message", (evt) => {
    let label;
    if (typeof evt.data === "string") {
      const m = JSON.parse(evt.data);
      label = m.cid && m.match ? "answer" : m.match_presence_event ? "presence" : undefined;
    } else {
      // Envelope field 1 is the cid, field 12 (tag 0x62) the match, field 18 (tag bytes 0x92
      // 0x01) the match presence event.
      const b = new Uint8Array(evt.data);
      if (b[0] === 0x0a && b[2 + b[1]] === 0x62) {
        label = "answer";
      } else if (b[0] === 0x92 && b[1] === 0x01) {
        label = "presence";
      }
    }
    if (label) {
      order.push(label);
    }
  });
  return order;
}

/** A match-data payload as text. */
export const text = (data) => new TextDecoder().decode(data);

/**
 * Joins one player to the match the RPC `rpc` creates (its payload answers `match_id`), stops
 * the server with SIGTERM, and returns the JSON of the op code 99 message the match's terminate
 * broadcast, and how the server exited.
 */
export async function shutdownDuringMatch(server, rpc) {
  const client = makeClient(server);
  const session = await client.authenticateDevice(uniqueName("dev"), true);
  const socket = client.createSocket(false, false);
  await socket.connect(session, false);
  const res = await client.rpc(session, rpc, {});
  await socket.joinMatch(res.payload.match_id);
  const notice = nextEvent(socket, "onmatchdata", (e) => Number(e.op_code) === 99 && e);
  const stopped = server.stop();
  const got = await notice;
  const exit = await server.exited;
  await stopped;
  return { notice: JSON.parse(text(got.data)), exit };
}
