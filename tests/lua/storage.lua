-- nk.storage_*, nk.wallet_* and nk.multi_update behind RPCs, and Lua hooks on the storage REST
-- operations, driven by tests/js/storage.test.mjs and wallet.test.mjs (errors go through
-- `lua_try` in outbound.lua).
-- The hooks act only on collections named for them: `lua_hook_denied` is refused,
-- `lua_hook_rewrite` is rewritten (values become {rewritten = true}), and every write to it is
-- recorded by the after hook as the system object lua_hook_seen/<user id>.
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

rpc("storage_write", function(context, input)
  return { acks = nk.storage_write(input.writes) }
end)

rpc("storage_read", function(context, input)
  return { objects = nk.storage_read(input.reads) }
end)

rpc("storage_delete", function(context, input)
  nk.storage_delete(input.deletes)
  return {}
end)

rpc("storage_list", function(context, input)
  local objects, cursor = nk.storage_list(input.user_id, input.collection, input.limit, input.cursor)
  return { objects = objects, cursor = cursor }
end)

-- Writes three objects of the caller, reads them back, pages through them two at a time and
-- deletes them: the shapes Lua code sees at each step.
rpc("storage_round_trip", function(context, input)
  local me = context.user_id
  local collection = input.collection
  local acks = nk.storage_write({
    { collection = collection, key = "a", user_id = me, value = { n = 1, list = { 1, 2 } } },
    { collection = collection, key = "b", user_id = me, value = { n = 2 }, permission_read = 2, permission_write = 0 },
    { collection = collection, key = "c", user_id = me, value = {} },
  })
  local read = nk.storage_read({
    { collection = collection, key = "b", user_id = me },
    { collection = collection, key = "missing", user_id = me },
  })
  local first, cursor = nk.storage_list(me, collection, 2)
  local second, last = nk.storage_list(me, collection, 2, cursor)
  nk.storage_delete({
    { collection = collection, key = "a", user_id = me, version = acks[1].version },
    { collection = collection, key = "b", user_id = me },
  })
  local left = nk.storage_list(me, collection, 10)
  return {
    acks = acks,
    read = read,
    first = first,
    cursor_is_string = type(cursor) == "string",
    second = second,
    last_is_nil = last == nil,
    left = left,
  }
end)

local function named(list, field, name)
  for _, item in ipairs(list or {}) do
    if item[field] == name then
      return true
    end
  end
  return false
end

nk.register_req_before(function(context, payload)
  if named(payload.objects, "collection", "lua_hook_denied") then
    error({ "denied by a Lua hook", 3 })
  end
  for _, object in ipairs(payload.objects or {}) do
    if object.collection == "lua_hook_rewrite" then
      object.value = nk.json_encode({ rewritten = true })
    end
  end
  return payload
end, "WriteStorageObjects")

nk.register_req_after(function(context, payload, input)
  if named(input.objects, "collection", "lua_hook_rewrite") then
    nk.storage_write({
      { collection = "lua_hook_seen", key = context.user_id, value = { acks = #payload.acks } },
    })
  end
end, "WriteStorageObjects")

nk.register_req_before(function(context, payload)
  if named(payload.object_ids, "collection", "lua_hook_denied") then
    error({ "denied by a Lua hook", 3 })
  end
  return payload
end, "ReadStorageObjects")

nk.register_req_before(function(context, payload)
  if named(payload.object_ids, "collection", "lua_hook_denied") then
    return nil
  end
  return payload
end, "DeleteStorageObjects")

nk.register_req_before(function(context, payload)
  if payload.collection == "lua_hook_denied" then
    error({ "denied by a Lua hook", 3 })
  end
  return payload
end, "ListStorageObjects")

-- Wallets and multi_update, driven by tests/js/wallet.test.mjs.
rpc("wallet_update", function(context, input)
  local updated, previous = nk.wallet_update(input.user_id, input.changeset, input.metadata, input.update_ledger)
  return { updated = updated, previous = previous }
end)

rpc("wallets_update", function(context, input)
  return { results = nk.wallets_update(input.updates, input.update_ledger) }
end)

rpc("wallet_ledger_list", function(context, input)
  local items, cursor = nk.wallet_ledger_list(input.user_id, input.limit, input.cursor)
  return { items = items, cursor = cursor }
end)

rpc("wallet_ledger_update", function(context, input)
  return nk.wallet_ledger_update(input.id, input.metadata)
end)

rpc("wallet_multi_update", function(context, input)
  local acks, results = nk.multi_update(input.accounts, input.writes, input.wallets, input.update_ledger)
  return { acks = acks, results = results }
end)
