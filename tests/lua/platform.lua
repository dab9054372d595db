-- The node, crypto and utility functions of the nakama module behind RPCs, driven by
-- tests/js/platform.test.mjs (errors go through `lua_try` in outbound.lua).
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

rpc("lua_platform_context", function(context, input)
  local c = nk.get_context()
  return { execution_mode = c.execution_mode, node = c.node, env = c.env }
end)

rpc("lua_platform_localcache", function(context, input)
  if input.op == "put" then
    nk.localcache_put(input.key, input.value, input.ttl)
    return {}
  elseif input.op == "get" then
    return { value = nk.localcache_get(input.key, input.default) }
  elseif input.op == "delete" then
    nk.localcache_delete(input.key)
    return {}
  end
  nk.localcache_clear()
  return {}
end)

rpc("lua_platform_event", function(context, input)
  nk.event(input.name, input.properties, input.timestamp, input.external)
  return {}
end)

rpc("lua_platform_metrics", function(context, input)
  nk.metrics_counter_add(input.name, input.tags, 2)
  nk.metrics_gauge_set(input.name, input.tags, 7.5)
  nk.metrics_timer_record(input.name, input.tags, 1500000)
  nk.metricsCounterAdd(input.name, input.tags, 1)
  return {}
end)

rpc("lua_platform_uuid", function(context, input)
  local bytes = nk.uuid_string_to_bytes(input.id)
  return { length = #bytes, back = nk.uuid_bytes_to_string(bytes) }
end)

rpc("lua_platform_crypto", function(context, input)
  local sealed128 = nk.aes128_encrypt(input.text, input.key16)
  local sealed256 = nk.aes256_encrypt(input.text, input.key32)
  local hash = nk.bcrypt_hash(input.text)
  return {
    sealed_length = #sealed128,
    opened128 = nk.aes128_decrypt(sealed128, input.key16),
    opened256 = nk.aes256_decrypt(sealed256, input.key32),
    bcrypt_same = nk.bcrypt_compare(hash, input.text),
    bcrypt_other = nk.bcrypt_compare(hash, input.text .. "x"),
    jwt = nk.jwt_generate("HS256", input.key16, { sub = input.text, n = 1 }),
    random_length = #nk.secure_random_bytes(24),
    signature = input.rsa_key and nk.base64_encode(nk.rsa_sha256_hash(input.text, input.rsa_key)) or nil,
  }
end)

rpc("lua_platform_file_read", function(context, input)
  return { content = nk.file_read(input.path) }
end)
