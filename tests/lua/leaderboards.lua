-- nk.leaderboard_* and nk.tournament_* behind RPCs, and the three callbacks of the domain
-- (register_leaderboard_reset, register_tournament_end, register_tournament_reset), driven by
-- tests/js/tournaments.test.mjs. The callbacks record what they saw as system storage objects
-- (collection lua_lb_events), since a later RPC may run in another VM.
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

local function remember(kind, id, first, second)
  nk.storage_write({
    {
      collection = "lua_lb_events",
      key = kind .. ":" .. id,
      value = { kind = kind, id = id, reset = first, next = second },
      permission_read = 0,
      permission_write = 0,
    },
  })
end

nk.register_leaderboard_reset(function(context, leaderboard, reset)
  if string.sub(leaderboard.id, 1, 7) == "lua_lb_" then
    remember("reset", leaderboard.id, reset, leaderboard.next_reset)
  end
end)

nk.register_tournament_end(function(context, tournament, session_end, expiry)
  if string.sub(tournament.id, 1, 7) == "lua_lb_" then
    remember("end", tournament.id, session_end, expiry)
  end
end)

nk.register_tournament_reset(function(context, tournament, session_end, expiry)
  if string.sub(tournament.id, 1, 7) == "lua_lb_" then
    remember("treset", tournament.id, session_end, expiry)
  end
end)

-- Creates a leaderboard and a tournament, writes to both, lists them back: the shapes Lua
-- code sees at each step. Wrong shapes are collected in `errors`.
rpc("lua_leaderboards_roundtrip", function(context, input)
  local errors = {}
  local function check(ok, what)
    if not ok then
      table.insert(errors, what)
    end
  end
  local owner = nk.uuid_v4()
  local board = "lua_lb_" .. nk.uuid_v4()
  nk.leaderboard_create(board, false, "desc", "incr", "", { kind = "lua" })
  nk.leaderboard_create(board, true, "asc", "set")
  nk.leaderboard_record_write(board, owner, "luan", 10, 1, { at = "first" })
  local record = nk.leaderboard_record_write(board, owner, nil, 5)
  local boards = nk.leaderboards_get_id({ board })
  local leaderboard = boards[1]
  check(leaderboard.metadata.kind == "lua", "leaderboard metadata")
  check(leaderboard.sort_order == "1", "sort order")
  local records, owner_records, next_cursor, prev_cursor = nk.leaderboard_records_list(board, { owner }, 10)
  check(#records == 1 and #owner_records == 1, "records and owner records")
  check(records[1].username == "luan", "username kept")
  check(records[1].metadata.at == "first", "metadata kept")
  check(next_cursor == nil and prev_cursor == nil, "no cursors")
  local around = nk.leaderboard_records_haystack(board, owner, 5)
  check(#around == 1 and around[1].rank == 1, "haystack")
  local list = nk.leaderboard_list(0, 0, 100)
  local found = false
  for _, b in ipairs(list) do
    if b.id == board then
      found = true
    end
  end
  check(found, "leaderboard_list")

  local cup = "lua_lb_" .. nk.uuid_v4()
  nk.tournament_create(cup, false, "desc", "best", 3600, "", nil, "lua cup", "a test", 3, 0, 0, 0, 5, true)
  -- Creating again is fine.
  nk.tournament_create(cup, false, "desc", "best", 3600, "", nil, "lua cup", "a test", 3, 0, 0, 0, 5, true)
  local ok = pcall(nk.tournament_record_write, cup, owner, "luan", 1)
  check(not ok, "writing before joining fails")
  nk.tournament_join(cup, owner, "luan")
  local tournament_record = nk.tournament_record_write(cup, owner, "luan", 42)
  nk.tournament_add_attempt(cup, owner, 2)
  local tournaments = nk.tournaments_get_id({ cup })
  local t = tournaments[1]
  check(t.max_num_score == 5 and t.category == 3 and t.can_enter == true, "tournament fields")
  local listed = nk.tournament_list(3, 3, nil, nil, 100)
  local count = 0
  for _, x in ipairs(listed) do
    if x.id == cup then
      count = count + 1
    end
  end
  local t_records = nk.tournament_records_list(cup, nil, 10)
  check(#t_records == 1 and t_records[1].max_num_score == 7, "tournament records and attempts")
  local t_around = nk.tournament_records_haystack(cup, owner, 3)
  check(#t_around == 1, "tournament haystack")
  nk.leaderboard_record_delete(board, owner)
  local emptied = nk.leaderboard_records_list(board, nil, 10)
  check(#emptied == 0, "record deleted")
  nk.tournament_delete(cup)
  check(#nk.tournaments_get_id({ cup }) == 0, "tournament deleted")

  -- A board resetting every two seconds, for the reset callback.
  nk.leaderboard_create("lua_lb_resets", false, "desc", "best", "*/2 * * * * * *")
  return {
    errors = errors,
    leaderboard = leaderboard,
    record = record,
    tournament = t,
    tournament_record = tournament_record,
    listed = count,
  }
end)

rpc("lua_leaderboard_resets", function(context, input)
  local objects = nk.storage_read({ { collection = "lua_lb_events", key = "reset:lua_lb_resets" } })
  local resets = {}
  for _, o in ipairs(objects) do
    table.insert(resets, o.value)
  end
  return { resets = resets }
end)
