-- The Lua match of tavern-bench's `lua-idle` and `lua-echo` scenarios (handler `bench_match`),
-- written against Nakama's Lua API only, so the same file runs on Tavern
-- (`tavern --runtime.path crates/tavern-bench/lua`) and on Nakama (copy it into its modules
-- folder) and both servers are measured on the same handler.
--
-- The match ticks at `tick_rate` (default 10). Its loop sends each op code 1 message back to
-- its sender only, with the same data, and ignores every other op code; a match nobody sends
-- to broadcasts nothing. Joins are always accepted; the state is never touched.
--
-- RPCs:
--   bench_match_create      { tick_rate = r }             -> { match_id = "..." }
--   bench_match_create_many { count = n, tick_rate = r }  -> { created = n }  (n at most 1000)
local nk = require("nakama")

local MAX_PER_CALL = 1000

local function params_of(payload)
  if payload == nil or payload == "" then
    return {}
  end
  return nk.json_decode(payload)
end

nk.register_rpc(function(context, payload)
  local p = params_of(payload)
  return nk.json_encode({ match_id = nk.match_create("bench_match", { tick_rate = p.tick_rate }) })
end, "bench_match_create")

nk.register_rpc(function(context, payload)
  local p = params_of(payload)
  local count = math.min(math.max(math.floor(tonumber(p.count) or 1), 0), MAX_PER_CALL)
  for _ = 1, count do
    nk.match_create("bench_match", { tick_rate = p.tick_rate })
  end
  return nk.json_encode({ created = count })
end, "bench_match_create_many")

local M = {}

function M.match_init(context, params)
  return {}, params.tick_rate or 10, ""
end

function M.match_join_attempt(context, dispatcher, tick, state, presence, metadata)
  return state, true
end

function M.match_join(context, dispatcher, tick, state, presences)
  return state
end

function M.match_leave(context, dispatcher, tick, state, presences)
  return state
end

function M.match_loop(context, dispatcher, tick, state, messages)
  for _, m in ipairs(messages) do
    if m.op_code == 1 then
      dispatcher.broadcast_message(1, m.data, { m.sender })
    end
  end
  return state
end

function M.match_terminate(context, dispatcher, tick, state, grace_seconds)
  return nil
end

function M.match_signal(context, dispatcher, tick, state, data)
  return state, data
end

return M
