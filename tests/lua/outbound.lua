-- nk.http_request and the nk.fleet_* functions, driven by tests/js/lua.test.mjs.
local nk = require("nakama")

nk.register_rpc(function(context, payload)
  local req = nk.json_decode(payload)
  local code, headers, body = nk.http_request(req.url, req.method, req.headers or {}, req.body, req.timeout)
  return nk.json_encode({ code = code, headers = headers, body = body })
end, "lua_http")

-- Calls `nk[name](...)` and returns the Lua error message, or "ok".
nk.register_rpc(function(context, payload)
  local req = nk.json_decode(payload)
  local args = req.args or {}
  local ok, err = pcall(nk[req.name], unpack(args))
  return nk.json_encode({ ok = ok, error = (not ok) and tostring(err) or nil })
end, "lua_try")
