// RPCs of the test module: echo, Nakama's error conventions, and scripts that misbehave.

function rpcEcho(ctx: nkruntime.Context, logger: nkruntime.Logger, nk: nkruntime.Nakama, payload: string): string {
  logger.info("echo from %s", ctx.userId);
  return JSON.stringify({
    echo: payload ? JSON.parse(payload) : null,
    userId: ctx.userId,
    username: ctx.username,
    mode: ctx.executionMode,
    env: ctx.env["GREETING"],
    hasSession: ctx.sessionId !== undefined,
  });
}

/** Throws what the payload describes: {kind: "code", code, message} | "string" | "error" | "message". */
function rpcFail(ctx: nkruntime.Context, logger: nkruntime.Logger, nk: nkruntime.Nakama, payload: string): string {
  const want = JSON.parse(payload);
  switch (want.kind) {
    case "code":
      throw { message: want.message, code: want.code };
    case "string":
      throw "a plain string";
    case "error":
      throw new Error("boom");
    default:
      throw { message: "message only" };
  }
}

function rpcNotAString(ctx: nkruntime.Context, logger: nkruntime.Logger, nk: nkruntime.Nakama, payload: string): any {
  return { not: "a string" };
}

function rpcNothing(ctx: nkruntime.Context, logger: nkruntime.Logger, nk: nkruntime.Nakama, payload: string): void {}

function rpcSpin(ctx: nkruntime.Context, logger: nkruntime.Logger, nk: nkruntime.Nakama, payload: string): string {
  let n = 0;
  for (;;) {
    n += 1;
  }
}

function rpcHog(ctx: nkruntime.Context, logger: nkruntime.Logger, nk: nkruntime.Nakama, payload: string): string {
  const all: string[] = [];
  for (;;) {
    all.push("x".repeat(1024) + all.length);
  }
}

/** Counts calls in this VM's globals: each pooled VM has its own. */
let calls = 0;
function rpcCount(ctx: nkruntime.Context, logger: nkruntime.Logger, nk: nkruntime.Nakama, payload: string): string {
  calls += 1;
  return JSON.stringify({ calls });
}
