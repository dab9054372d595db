-- Tavern's own Lua test module: RPCs, errors with codes, require across files, run_once.
local nk = require("nakama")
local util = require("lib.util")

local once_count = 0

nk.run_once(function(ctx)
  once_count = once_count + 1
  nk.logger_info("run_once in " .. ctx.execution_mode)
  nk.register_rpc(function(context, payload)
    return nk.json_encode({ once = once_count })
  end, "lua_once")
end)

nk.register_rpc(function(context, payload)
  local input = nk.json_decode(payload)
  return nk.json_encode({ echo = input, user_id = context.user_id, mode = context.execution_mode, greeting = util.greet(context.username) })
end, "lua_echo")

nk.register_rpc(function(context, payload)
  error({ "not your turn", 9 })
end, "lua_fail_code")

nk.register_rpc(function(context, payload)
  error("plain failure")
end, "lua_fail_plain")

nk.register_rpc(function(context, payload)
  local n = 0
  for i = 1, 10 do
    if i % 2 == 0 then goto continue end
    n = n + i
    ::continue::
  end
  return nk.json_encode({
    goto_sum = n,
    band = bit32.band(0xff, 0x0f),
    sha = nk.sha256_hash("abc"),
    md5 = nk.md5_hash("abc"),
    b64 = nk.base64_encode("hi!"),
    hex = nk.base16_encode("hi"),
    uuid_len = #nk.uuid_v4(),
    io = type(io), debug = type(debug), dofile = type(dofile),
    os_exit = type(os.exit), os_time = type(os.time()),
  })
end, "lua_stdlib")

nk.register_rpc(function(context, payload)
  local id = nk.match_create("pingpong", { from = "rpc" })
  local m = nk.match_get(id)
  local list = nk.match_list(10, true, nil, nil, nil, "+label.game:pingpong")
  local reply = nk.match_signal(id, "hello")
  return nk.json_encode({ match_id = id, handler = m.handler_name, listed = #list, signal = reply })
end, "lua_match_create")

nk.register_rpc(function(context, payload)
  local p = nk.json_decode(payload)
  return nk.match_create(p.module, p.params or {})
end, "lua_create")

nk.register_rpc(function(context, payload)
  while true do end
end, "lua_runaway")

nk.register_rpc(function(context, payload)
  local t = {}
  for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end
end, "lua_hog")

nk.register_rpc(function(context, payload)
  local account = nk.account_get_id(context.user_id)
  local users = nk.users_get_id({ context.user_id })
  return nk.json_encode({ username = account.user.username, found = #users })
end, "lua_account")

nk.register_rpc(function(context, payload)
  local input = nk.json_decode(payload)
  -- Empty strings and nil leave a field as it is; metadata replaces the old one.
  nk.account_update_id(context.user_id, { level = input.level, tags = { "a", "b" } }, nil, input.display_name, "", nil, "fr")
  local account = nk.account_get_id(context.user_id)
  local accounts = nk.accounts_get_id({ context.user_id, "00000000-0000-4000-8000-000000000000" })
  local users = nk.users_get_id({ context.user_id })
  return nk.json_encode({
    top_level = account.username == account.user.username and account.user_id == context.user_id,
    display_name = account.display_name,
    lang_tag = account.lang_tag,
    level = account.metadata.level,
    tags = account.user.metadata.tags,
    device = account.devices[1].id,
    create_time_is_number = type(account.create_time) == "number" and account.create_time > 0,
    accounts = #accounts,
    accounts_level = accounts[1].metadata.level,
    user_level = users[1].metadata.level,
    user_has_id_key = users[1].id ~= nil,
  })
end, "lua_account_update")

nk.register_req_before(function(context, payload)
  if payload.account and payload.account.id == "lua-blocked-id" then
    error({ "blocked by lua", 7 })
  end
  return payload
end, "AuthenticateCustom")

nk.register_rt_before(function(context, message)
  if message.name == "forbidden" then
    return nil
  end
  return message
end, "MatchCreate")

nk.register_matchmaker_matched(function(context, entries)
  for _, e in ipairs(entries) do
    if e.properties.mode ~= "lua" then return nil end
  end
  return nk.match_create("tictactoe_lua", { players = #entries })
end)
