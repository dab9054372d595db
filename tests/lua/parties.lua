-- Realtime hooks on party messages, for tests/js/parties.test.mjs: a party of 13 is refused,
-- party data with op code 13 arrives as 14.
local nk = require("nakama")

nk.register_rt_before(function(context, message)
  if message.max_size == 13 then
    error({ "thirteen is unlucky (lua)", 3 })
  end
  return message
end, "PartyCreate")

nk.register_rt_before(function(context, message)
  if tonumber(message.op_code) == 13 then
    message.op_code = 14
  end
  return message
end, "PartyDataSend")
