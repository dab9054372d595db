local M = {}
function M.greet(name)
  return "hello " .. tostring(name)
end
return M
