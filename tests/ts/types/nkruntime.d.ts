// The part of Nakama's server-side JavaScript API these test modules use, declared here from
// Nakama's documented API (the real typings come from the nakama-common repository, which a game
// installs with npm from GitHub; the tests need only what they call).

declare namespace nkruntime {
  interface Context {
    env: { [key: string]: string };
    executionMode: string;
    node: string;
    version: string;
    headers: { [key: string]: string[] };
    queryParams: { [key: string]: string[] };
    userId?: string;
    username?: string;
    vars?: { [key: string]: string };
    userSessionExp?: number;
    sessionId?: string;
    lang?: string;
    clientIp?: string;
    clientPort?: string;
    matchId?: string;
    matchNode?: string;
    matchLabel?: string;
    matchTickRate?: number;
  }

  interface Logger {
    debug(format: string, ...params: any[]): string;
    info(format: string, ...params: any[]): string;
    warn(format: string, ...params: any[]): string;
    error(format: string, ...params: any[]): string;
  }

  interface Nakama {
    [name: string]: any;
  }

  type RpcFunction = (ctx: Context, logger: Logger, nk: Nakama, payload: string) => string | void;

  interface Initializer {
    registerRpc(id: string, fn: RpcFunction): void;
    [name: string]: any;
  }

  type InitModule = (ctx: Context, logger: Logger, nk: Nakama, initializer: Initializer) => void;
}
