// The entry point Nakama calls once at start: registers everything by name.

let InitModule: nkruntime.InitModule = function (ctx, logger, nk, initializer) {
  initializer.registerRpc("js_echo", rpcEcho);
  initializer.registerRpc("js_fail", rpcFail);
  initializer.registerRpc("js_not_a_string", rpcNotAString);
  initializer.registerRpc("js_nothing", rpcNothing);
  initializer.registerRpc("js_spin", rpcSpin);
  initializer.registerRpc("js_hog", rpcHog);
  initializer.registerRpc("js_count", rpcCount);
  logger.info("JavaScript test module loaded in %s mode", ctx.executionMode);
};
