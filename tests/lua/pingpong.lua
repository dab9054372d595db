-- A ping-pong match: every message is echoed to its sender with op code + 1.
local nk = require("nakama")
local M = {}

function M.match_init(context, params)
  return { joined = 0, ticks = 0, params = params }, 10, nk.json_encode({ game = "pingpong" })
end

function M.match_join_attempt(context, dispatcher, tick, state, presence, metadata)
  if metadata and metadata.deny == "yes" then
    return state, false, "denied by lua"
  end
  return state, true
end

function M.match_join(context, dispatcher, tick, state, presences)
  state.joined = state.joined + #presences
  return state
end

function M.match_leave(context, dispatcher, tick, state, presences)
  return state
end

function M.match_loop(context, dispatcher, tick, state, messages)
  state.ticks = state.ticks + 1
  for _, m in ipairs(messages) do
    if m.data == "crash" then
      error("crash requested")
    elseif m.data == "spin" then
      while true do end
    elseif m.data == "label" then
      dispatcher.match_label_update(nk.json_encode({ game = "pingpong", ticked = true }))
    end
    dispatcher.broadcast_message(m.op_code + 1, nk.json_encode({ pong = m.data, from = m.sender.username, node = m.sender.node, tick = tick, match_id = context.match_id }), { m.sender })
  end
  return state
end

function M.match_terminate(context, dispatcher, tick, state, grace_seconds)
  return nil
end

function M.match_signal(context, dispatcher, tick, state, data)
  return state, "pong:" .. data
end

return M
