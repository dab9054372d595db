-- Tic-tac-toe in Lua. Op 1: a move {cell = 1..9} from the player whose turn it is;
-- op 2: the state {board, turn, winner} to everyone; op 3: a rejected move.
local nk = require("nakama")
local M = {}

local lines = { {1,2,3}, {4,5,6}, {7,8,9}, {1,4,7}, {2,5,8}, {3,6,9}, {1,5,9}, {3,5,7} }

local function winner(board)
  for _, l in ipairs(lines) do
    local a = board[l[1]]
    if a ~= "" and a == board[l[2]] and a == board[l[3]] then return a end
  end
  return nil
end

local function broadcast(dispatcher, state)
  local marks = {}
  for i = 1, 9 do marks[i] = state.board[i] end
  dispatcher.broadcast_message(2, nk.json_encode({ board = marks, turn = state.turn, winner = state.winner or "" }))
end

function M.match_init(context, params)
  local board = {}
  for i = 1, 9 do board[i] = "" end
  return { board = board, players = {}, turn = "", winner = nil }, 5, nk.json_encode({ game = "tictactoe", open = true })
end

function M.match_join_attempt(context, dispatcher, tick, state, presence, metadata)
  if #state.players >= 2 then return state, false, "match full" end
  return state, true
end

function M.match_join(context, dispatcher, tick, state, presences)
  for _, p in ipairs(presences) do
    table.insert(state.players, { user_id = p.user_id, session_id = p.session_id, mark = (#state.players == 0) and "X" or "O" })
  end
  if #state.players == 2 then
    state.turn = state.players[1].user_id
    dispatcher.match_label_update(nk.json_encode({ game = "tictactoe", open = false }))
    broadcast(dispatcher, state)
  end
  return state
end

function M.match_leave(context, dispatcher, tick, state, presences)
  return nil
end

function M.match_loop(context, dispatcher, tick, state, messages)
  for _, m in ipairs(messages) do
    local player
    for _, p in ipairs(state.players) do
      if p.user_id == m.sender.user_id then player = p end
    end
    local move = nk.json_decode(m.data)
    local cell = move.cell
    if m.op_code ~= 1 or not player or state.winner or state.turn ~= player.user_id or state.board[cell] ~= "" then
      dispatcher.broadcast_message(3, nk.json_encode({ reason = "invalid move" }), { m.sender })
    else
      state.board[cell] = player.mark
      state.winner = winner(state.board)
      for _, p in ipairs(state.players) do
        if p.user_id ~= player.user_id then state.turn = p.user_id end
      end
      broadcast(dispatcher, state)
    end
  end
  return state
end

function M.match_terminate(context, dispatcher, tick, state, grace_seconds)
  return nil
end

function M.match_signal(context, dispatcher, tick, state, data)
  return state, data
end

return M
