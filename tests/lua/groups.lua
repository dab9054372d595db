-- nk.group_* behind RPCs, and Lua hooks on the group REST operations, driven by
-- tests/js/groups.test.mjs. The RPCs take their arguments in Nakama's order, as a JSON list
-- `args` (nil holes as JSON null).
-- The hooks act only on groups named for them: creating `lua_hook_denied...` is refused, and
-- creating `lua_hook_rewrite...` gets the description `rewritten by lua`.
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

-- JSON null arrives as nil; unpack up to the count given.
local function args(input)
  local list = input.args or {}
  return list, input.n or #list
end

rpc("groups_create", function(context, input)
  local a, n = args(input)
  return nk.group_create(unpack(a, 1, n))
end)

rpc("groups_update", function(context, input)
  local a, n = args(input)
  nk.group_update(unpack(a, 1, n))
  return {}
end)

rpc("groups_delete", function(context, input)
  nk.group_delete(input.group_id)
  return {}
end)

rpc("groups_join", function(context, input)
  nk.group_user_join(input.group_id, input.user_id, input.username)
  return {}
end)

rpc("groups_leave", function(context, input)
  nk.group_user_leave(input.group_id, input.user_id, input.username)
  return {}
end)

local changes = {
  add = nk.group_users_add,
  kick = nk.group_users_kick,
  ban = nk.group_users_ban,
  promote = nk.group_users_promote,
  demote = nk.group_users_demote,
}

rpc("groups_users", function(context, input)
  changes[input.change](input.group_id, input.user_ids, input.caller_id)
  return {}
end)

rpc("groups_users_list", function(context, input)
  local users, cursor = nk.group_users_list(input.group_id, input.limit, input.state, input.cursor)
  return { group_users = users, cursor = cursor }
end)

rpc("groups_user_groups", function(context, input)
  local groups, cursor = nk.user_groups_list(input.user_id, input.limit, input.state, input.cursor)
  return { user_groups = groups, cursor = cursor }
end)

rpc("groups_get", function(context, input)
  return { groups = nk.groups_get_id(input.ids) }
end)

rpc("groups_list", function(context, input)
  local groups, cursor = nk.groups_list(input.name, input.lang_tag, input.open, input.members, input.limit, input.cursor)
  return { groups = groups, cursor = cursor }
end)

rpc("groups_random", function(context, input)
  return { groups = nk.groups_get_random(input.count) }
end)

nk.register_req_before(function(context, payload)
  local name = payload.name or ""
  if string.sub(name, 1, 15) == "lua_hook_denied" then
    error({ "denied by a lua hook", 3 })
  end
  if string.sub(name, 1, 16) == "lua_hook_rewrite" then
    payload.description = "rewritten by lua"
  end
  return payload
end, "CreateGroup")
