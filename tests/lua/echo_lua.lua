-- The echo match in Lua (handler `echo_lua`), the twin of the Rust `echo` match (crates/tavern-examples/src/echo_match.rs)
-- for the benchmark: op code 1 goes back to every player with the sender shown, any other op code
-- goes back to its sender only, with the same op code and data.
-- Params: { tick_rate = 1..60, label = "..." } (defaults 10 and {"mode":"echo"}). A join attempt
-- with metadata { reject = "<reason>" } is refused with that reason. At shutdown, op 99 with
-- { grace_seconds = n } goes to every player.
-- RPCs: create_lua_echo_match (payload: the params) answers { match_id = "..." };
-- create_lua_idle_matches ({ count = n, tick_rate = r }) creates n echo matches, which only tick
-- while nobody joins (for `tavern-bench idle --rpc create_lua_idle_matches`); echo_lua_spawn
-- creates a match whose signal "spawn" creates another from inside its callback.
local nk = require("nakama")
local M = {}

local function params_of(payload)
  if payload == nil or payload == "" then return {} end
  return nk.json_decode(payload)
end

nk.register_rpc(function(context, payload)
  return nk.json_encode({ match_id = nk.match_create("echo_lua", params_of(payload)) })
end, "create_lua_echo_match")

nk.register_rpc(function(context, payload)
  local id = nk.match_create("echo_lua", {})
  return nk.json_encode({ match_id = id, spawned = nk.match_signal(id, "spawn") })
end, "echo_lua_spawn")

nk.register_rpc(function(context, payload)
  local p = params_of(payload)
  for _ = 1, p.count or 1 do
    nk.match_create("echo_lua", { tick_rate = p.tick_rate })
  end
  return nk.json_encode({ created = p.count or 1 })
end, "create_lua_idle_matches")

function M.match_init(context, params)
  local label = params.label
  if label == nil then
    label = '{"mode":"echo"}'
  elseif type(label) ~= "string" then
    label = nk.json_encode(label)
  end
  return {}, params.tick_rate or 10, label
end

function M.match_join_attempt(context, dispatcher, tick, state, presence, metadata)
  if metadata and metadata.reject then
    return state, false, metadata.reject
  end
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
      dispatcher.broadcast_message(1, m.data, nil, m.sender)
    else
      dispatcher.broadcast_message(m.op_code, m.data, { m.sender })
    end
  end
  return state
end

function M.match_terminate(context, dispatcher, tick, state, grace_seconds)
  dispatcher.broadcast_message(99, nk.json_encode({ grace_seconds = grace_seconds }))
  return nil
end

function M.match_signal(context, dispatcher, tick, state, data)
  if data == "spawn" then
    return state, nk.match_create("echo_lua", {})
  end
  return state, data
end

return M
