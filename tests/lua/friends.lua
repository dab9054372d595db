-- nk.friends_*, nk.link_*/unlink_* and nk.users_ban_id/users_unban_id behind RPCs, driven by
-- tests/js/friends.test.mjs and link.test.mjs (the same calls as the Rust module friends_api's
-- rust_friends_*).
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

rpc("lua_friends_list", function(context, input)
  local friends, cursor = nk.friends_list(input.user_id, input.limit, input.state, input.cursor)
  local out = {}
  for i, f in ipairs(friends) do
    out[i] = { user = { id = f.user.user_id, username = f.user.username }, state = f.state, update_time = f.update_time }
  end
  return { friends = out, cursor = cursor }
end)

rpc("lua_friends_add", function(context, input)
  nk.friends_add(input.user_id, input.username, input.ids, input.usernames)
  return {}
end)

rpc("lua_friends_delete", function(context, input)
  nk.friends_delete(input.user_id, input.username, input.ids, input.usernames)
  return {}
end)

rpc("lua_friends_block", function(context, input)
  nk.friends_block(input.user_id, input.username, input.ids, input.usernames)
  return {}
end)

rpc("lua_friends_link", function(context, input)
  if input.kind == "device" then
    nk.link_device(input.user_id, input.id)
  elseif input.kind == "custom" then
    nk.link_custom(input.user_id, input.id)
  else
    nk.link_email(input.user_id, input.email, input.password)
  end
  return {}
end)

rpc("lua_friends_unlink", function(context, input)
  if input.kind == "device" then
    nk.unlink_device(input.user_id, input.id)
  elseif input.kind == "custom" then
    nk.unlink_custom(input.user_id, input.id)
  else
    nk.unlink_email(input.user_id, input.email)
  end
  return {}
end)

rpc("lua_friends_ban", function(context, input)
  nk.users_ban_id(input.ids)
  return {}
end)

rpc("lua_friends_unban", function(context, input)
  nk.users_unban_id(input.ids)
  return {}
end)

rpc("lua_friends_random", function(context, input)
  local users = nk.users_get_random(input.count)
  local out = {}
  for i, u in ipairs(users) do
    out[i] = { id = u.user_id, username = u.username }
  end
  return { users = out }
end)
