// Test harness: runs the real `tavern` binary on a free loopback port with a fresh data
// directory (and, in PostgreSQL mode, a fresh database), waits until it answers, keeps its
// log, and stops it. Every wait here is bounded.
//
//   import { startServer } from "./lib/server.mjs";
//   const server = await startServer({ args: ["--session.token_expiry_sec", "2"] });
//   ... server.port, server.baseUrl, server.log() ...
//   await server.stop();
//
// Environment:
//   TAVERN_BIN            path of the binary (default <repo>/target/release/tavern)
//   TAVERN_TEST_DB        sqlite (default) or postgres
//   TAVERN_TEST_POSTGRES  PostgreSQL server URL, e.g. postgres://root@127.0.0.1:5432/postgres
//   TAVERN_TEST_ARTIFACTS folder for server logs (default tests/js/artifacts)

import { spawn, execFile } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "..", "..", "..");
export const jsRoot = path.resolve(here, "..");
export const HOST = "127.0.0.1";

export const tavernBin = process.env.TAVERN_BIN
  ? path.resolve(process.env.TAVERN_BIN)
  : path.join(repoRoot, "target", "release", "tavern");

export const dbMode = (process.env.TAVERN_TEST_DB || "sqlite").toLowerCase();
if (dbMode !== "sqlite" && dbMode !== "postgres") {
  throw new Error(`TAVERN_TEST_DB must be sqlite or postgres, not ${JSON.stringify(dbMode)}`);
}
export const postgresUrl = process.env.TAVERN_TEST_POSTGRES || "";
if (dbMode === "postgres" && !postgresUrl) {
  throw new Error("TAVERN_TEST_DB=postgres needs TAVERN_TEST_POSTGRES, e.g. postgres://root@127.0.0.1:5432/postgres");
}

const artifactsDir = process.env.TAVERN_TEST_ARTIFACTS
  ? path.resolve(process.env.TAVERN_TEST_ARTIFACTS)
  : path.join(jsRoot, "artifacts");

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;
const COMMAND_TIMEOUT_MS = 30_000;

/** Children still running, killed hard if the test process goes away first. */
const running = new Set();
function killAll() {
  for (const child of running) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    killAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let counter = 0;
/** A name unique across parallel test processes: usable in ids, usernames and database names. */
export function uniqueName(prefix = "t") {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 8);
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}_${random}`;
}

/** A TCP port on 127.0.0.1 that nothing listens on at the moment of asking. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Runs `tavern` with arguments to completion (or kills it after `timeoutMs`).
 * Resolves with { code, signal, stdout, stderr, timedOut }; never rejects on a non-zero exit.
 */
export function runTavern(args, { timeoutMs = COMMAND_TIMEOUT_MS, cwd, env } = {}) {
  ensureBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(tavernBin, args, {
      cwd: cwd ?? os.tmpdir(),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.add(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      running.delete(child);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function ensureBinary() {
  if (!existsSync(tavernBin)) {
    throw new Error(
      `tavern binary not found at ${tavernBin}: build it with \`cargo build --release -p tavern\` or set TAVERN_BIN`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: one fresh database per server, through the psql client.

function psql(sql, { url = postgresUrl, timeoutMs = COMMAND_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      "psql",
      [url, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-c", sql],
      { timeout: timeoutMs, env: { ...process.env, PGCONNECT_TIMEOUT: "10" } },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`psql ${JSON.stringify(sql)} failed: ${stderr || error.message}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** The URL of database `name` on the TAVERN_TEST_POSTGRES server. */
export function postgresDatabaseUrl(name) {
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates an empty, uniquely named database; resolves with { name, url, drop() }. */
export async function createPostgresDatabase(prefix = "tavern_test") {
  if (!postgresUrl) {
    throw new Error("TAVERN_TEST_POSTGRES is not set");
  }
  const name = uniqueName(prefix).toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 63);
  await psql(`CREATE DATABASE "${name}"`);
  return {
    name,
    url: postgresDatabaseUrl(name),
    drop: () => psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers.

async function waitUntilHealthy(baseUrl, child, deadline) {
  let lastError = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`tavern exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    try {
      const res = await fetch(`${baseUrl}/healthcheck`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) {
        return;
      }
      lastError = `status ${res.status}`;
    } catch (e) {
      lastError = e.cause?.code || e.message;
    }
    await sleep(50);
  }
  throw new Error(`tavern did not answer GET /healthcheck in time (${lastError})`);
}

/**
 * Starts a server. Options:
 *   args      extra flags, e.g. ["--session.token_expiry_sec", "2"]
 *   label     name used for the log file
 *   database  "sqlite" | "postgres" (default from TAVERN_TEST_DB)
 *   bundled   the bundled example/test modules to load (runtime.bundled_modules): ["*"] (all,
 *             the default), a list of names, or [] for a plain start as a user gets it
 * Resolves with a handle: { port, host, baseUrl, dataDir, databaseUrl, pid, log(), stop(), exited }.
 */
export async function startServer({ args = [], label = "server", database = dbMode, bundled = ["*"] } = {}) {
  ensureBinary();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "tavern-test-"));
  let pg = null;
  const dbArgs = [];
  try {
    if (database === "postgres") {
      pg = await createPostgresDatabase();
      const migrated = await runTavern(["migrate", "up", "--database.address", pg.url, "--data_dir", dataDir]);
      if (migrated.code !== 0) {
        throw new Error(`tavern migrate up failed (${migrated.code}): ${migrated.stderr}${migrated.stdout}`);
      }
      dbArgs.push("--database.address", pg.url);
    }
    // A port found free may be taken by someone else before the server binds it: retry.
    let lastError;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        const bundledArgs = bundled.flatMap((name) => ["--runtime.bundled_modules", name]);
        return await launch({ args: [...bundledArgs, ...args], label, dataDir, dbArgs, pg });
      } catch (e) {
        lastError = e;
        if (!/address already in use|Address in use|os error 98/i.test(e.message)) {
          break;
        }
      }
    }
    throw lastError;
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    if (pg) {
      await pg.drop().catch(() => {});
    }
    throw e;
  }
}

async function launch({ args, label, dataDir, dbArgs, pg }) {
  const port = await freePort();
  const baseUrl = `http://${HOST}:${port}`;
  const fullArgs = [
    "--socket.address", HOST,
    "--socket.port", String(port),
    "--data_dir", dataDir,
    "--logger.level", "debug",
    ...dbArgs,
    ...args,
  ];
  mkdirSync(artifactsDir, { recursive: true });
  const logPath = path.join(artifactsDir, `${label}-${process.pid}-${port}.log`);
  const logFile = createWriteStream(logPath);
  logFile.write(`$ ${tavernBin} ${fullArgs.join(" ")}\n`);
  let log = "";
  const child = spawn(tavernBin, fullArgs, { cwd: dataDir, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const keep = (chunk) => {
    log += chunk;
    logFile.write(chunk);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => {
    child.once("close", (code, signal) => {
      running.delete(child);
      logFile.end();
      resolve({ code, signal });
    });
  });
  child.once("error", (e) => keep(`spawn error: ${e.message}\n`));

  let stopped = null;
  const stop = () => {
    if (!stopped) {
      stopped = (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(timer);
        }
        await exited;
        await rm(dataDir, { recursive: true, force: true });
        if (pg) {
          await pg.drop().catch((e) => console.error(`could not drop ${pg.name}: ${e.message}`));
        }
      })();
    }
    return stopped;
  };

  try {
    await waitUntilHealthy(baseUrl, child, Date.now() + START_TIMEOUT_MS);
  } catch (e) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`${e.message}\n--- tavern log (${logPath}) ---\n${log}`);
  }
  return {
    host: HOST,
    port,
    baseUrl,
    dataDir,
    databaseUrl: pg?.url ?? null,
    pid: child.pid,
    logPath,
    args: fullArgs,
    /** Everything the server printed so far. */
    log: () => log,
    /** Resolves with { code, signal } once the process has ended. */
    exited,
    /** SIGTERM, then SIGKILL after a few seconds; removes the data dir and database. */
    stop,
  };
}
