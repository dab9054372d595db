-- Streams from Lua, driven by tests/js/chat_runtime.test.mjs: RPCs over the nk.stream_*
-- functions (on the calling session unless the input names one). Errors go through `lua_try`
-- in outbound.lua.
local nk = require("nakama")

local function rpc(id, fn)
  nk.register_rpc(function(context, payload)
    local input = {}
    if payload ~= nil and payload ~= "" then
      input = nk.json_decode(payload)
    end
    return nk.json_encode(fn(context, input))
  end, id)
end

-- input: { op, stream, user_id?, session_id?, hidden?, persistence?, status?, data?,
-- envelope?, presences?, presence? }; answers what the function returned, with the stream's
-- count and presence list after it.
rpc("lua_stream", function(context, input)
  local stream = input.stream
  local user_id = input.user_id or context.user_id
  local session_id = input.session_id or context.session_id
  local result
  if input.op == "join" then
    result = nk.stream_user_join(user_id, session_id, stream, input.hidden, input.persistence, input.status)
  elseif input.op == "update" then
    nk.stream_user_update(user_id, session_id, stream, input.hidden, input.persistence, input.status)
  elseif input.op == "leave" then
    nk.stream_user_leave(user_id, session_id, stream)
  elseif input.op == "kick" then
    nk.stream_user_kick(input.presence, stream)
  elseif input.op == "get" then
    result = nk.stream_user_get(user_id, session_id, stream)
  elseif input.op == "send" then
    nk.stream_send(stream, input.data, input.presences)
  elseif input.op == "send_raw" then
    nk.stream_send_raw(stream, input.envelope, input.presences)
  elseif input.op == "close" then
    nk.stream_close(stream)
  end
  return {
    result = result,
    count = nk.stream_count(stream),
    list = nk.stream_user_list(stream),
    hidden = nk.stream_user_list(stream, true, false),
    shown = nk.stream_user_list(stream, false, true),
  }
end)

