-- Streams, chat channels and notifications from Lua, driven by tests/js/chat_runtime.test.mjs:
-- RPCs over the nk.stream_* functions (on the calling session unless the input names one).
-- Errors go through `lua_try` in outbound.lua.
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

-- nk.channel_* from Lua: input { op, channel_id, message_id?, content?, sender_id?, username?,
-- persist?, limit?, forward?, cursor?, target?, type? }.
rpc("lua_channel", function(context, input)
  if input.op == "build" then
    return { channel_id = nk.channel_id_build(input.sender_id or "", input.target, input.type) }
  elseif input.op == "send" then
    return nk.channel_message_send(input.channel_id, input.content, input.sender_id, input.username, input.persist)
  elseif input.op == "update" then
    return nk.channel_message_update(input.channel_id, input.message_id, input.content, input.sender_id, input.username, input.persist)
  elseif input.op == "remove" then
    return nk.channel_message_remove(input.channel_id, input.message_id, input.sender_id, input.username, input.persist)
  elseif input.op == "list" then
    local messages, next_cursor, prev_cursor = nk.channel_messages_list(input.channel_id, input.limit, input.forward, input.cursor)
    return { messages = messages, next_cursor = next_cursor, prev_cursor = prev_cursor, n = #messages }
  end
  return {}
end)

-- nk.notification* from Lua: input { op, user_id?, subject?, content?, code?, sender_id?,
-- persistent?, notifications? }.
rpc("lua_notification", function(context, input)
  if input.op == "send" then
    nk.notification_send(input.user_id, input.subject, input.content, input.code, input.sender_id, input.persistent)
  elseif input.op == "send_many" then
    nk.notifications_send(input.notifications)
  elseif input.op == "send_all" then
    nk.notification_send_all(input.subject, input.content, input.code, input.persistent)
  elseif input.op == "delete" then
    nk.notifications_delete(input.notifications)
  end
  return {}
end)

-- Realtime hooks on channel messages: a message whose content has `lua_censor` is rewritten,
-- one with `lua_refuse` is refused with code 3; after a join of a room whose name starts with
-- `lua-hooked`, the joiner gets notification 101 naming the channel.
nk.register_rt_before(function(context, message)
  local ok, content = pcall(nk.json_decode, message.content)
  if not ok or type(content) ~= "table" then
    return message
  end
  if content.lua_refuse then
    error({ "refused by lua", 3 })
  end
  if content.lua_censor then
    message.content = nk.json_encode({ text = "***" })
  end
  return message
end, "ChannelMessageSend")

nk.register_rt_after(function(context, out, input)
  if string.sub(input.target, 1, 10) == "lua-hooked" then
    local channel = out.channel or out
    nk.notification_send(context.user_id, "joined", { channel_id = channel.id }, 101, "", false)
  end
end, "ChannelJoin")

-- A REST hook on channel history: channels of rooms named `lua-hidden...` are not listed.
nk.register_req_before(function(context, payload)
  if string.find(payload.channel_id, "lua-hidden", 1, true) then
    return nil
  end
  return payload
end, "ListChannelMessages")
