// Tavern tic-tac-toe web client. Logs in with a per-tab device id, finds an opponent through the
// matchmaker, joins the match the server created for the pair, and draws what the server sends.
// The server decides everything; this page only shows its state and sends the clicked cell.
// Op codes and payloads: docs/TICTACTOE.md.

import { Client } from "./nakama-js.mjs";

const SERVER_KEY = "defaultkey";
const OP = { MOVE: 1, STATE: 2, REJECTED: 3, COUNTDOWN: 4, OPPONENT_LEFT: 5, SHUTDOWN: 6 };
// sessionStorage, not localStorage: each tab keeps its own id (and so is its own player) and
// keeps it across reloads; localStorage would make every tab of the browser the same user.
const DEVICE_KEY = "tavern.tictactoe.device";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const view = {
  game: $("game"),
  status: $("status"),
  myMark: $("my-mark"),
  opponentName: $("opponent-name"),
  opponentMark: $("opponent-mark"),
  score: $("score"),
  cells: [...document.querySelectorAll(".cell")],
  countdown: $("countdown"),
  notice: $("notice"),
  find: $("find"),
  cancel: $("cancel"),
  leave: $("leave"),
  username: $("username"),
};

const useSSL = location.protocol === "https:";
const port = location.port || (useSSL ? "443" : "80");
const client = new Client(SERVER_KEY, location.hostname, port, useSSL, 10_000, false);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Everything the page shows is drawn from this. */
const app = {
  // connecting | idle | searching | joining | playing | ended | offline
  phase: "connecting",
  session: null,
  socket: null,
  ticket: null,
  matchId: null,
  state: null, // the last STATE message
  countdown: null, // the last COUNTDOWN message, until the next game starts
  scored: new Set(), // game numbers already counted in the score
  wins: 0,
  losses: 0,
  ended: "", // why the last match ended, shown in the status line
  notice: "",
};

function deviceId() {
  let id = sessionStorage.getItem(DEVICE_KEY);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = "web-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    sessionStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

async function connect() {
  app.phase = "connecting";
  app.notice = "";
  render();
  try {
    app.session = await client.authenticateDevice(deviceId(), true);
    const socket = client.createSocket(useSSL, false);
    socket.onmatchmakermatched = onMatched;
    socket.onmatchdata = onMatchData;
    socket.ondisconnect = () => {
      if (app.socket === socket) {
        app.socket = null;
        app.matchId = null;
        app.ticket = null;
        app.phase = "offline";
        render();
      }
    };
    await socket.connect(app.session, true);
    app.socket = socket;
    app.phase = "idle";
  } catch (e) {
    app.phase = "offline";
    app.notice = `Could not reach the server (${describe(e)}).`;
  }
  render();
}

async function findOpponent() {
  if (!app.socket) {
    await connect();
    if (!app.socket) {
      return;
    }
  }
  app.phase = "searching";
  app.state = null;
  app.countdown = null;
  app.ended = "";
  app.notice = "";
  app.scored.clear();
  app.wins = 0;
  app.losses = 0;
  render();
  try {
    // The property marks the ticket as tic-tac-toe's: the server's hook puts only such pairs
    // into a tic-tac-toe match.
    const { ticket } = await app.socket.addMatchmaker("+properties.game:tictactoe", 2, 2, { game: "tictactoe" });
    // A match may already have been found while the ticket was on its way back.
    if (app.phase === "searching") {
      app.ticket = ticket;
    }
  } catch (e) {
    app.phase = "idle";
    app.notice = `Could not look for an opponent (${describe(e)}).`;
  }
  render();
}

async function cancelSearch() {
  const ticket = app.ticket;
  app.ticket = null;
  app.phase = "idle";
  render();
  if (ticket && app.socket) {
    await app.socket.removeMatchmaker(ticket).catch(() => {});
  }
}

async function onMatched(matched) {
  app.ticket = null;
  if (!matched.match_id) {
    app.phase = "idle";
    app.notice = "The server paired you but started no game: its tic-tac-toe matchmaker hook is missing.";
    render();
    return;
  }
  app.phase = "joining";
  app.matchId = matched.match_id;
  render();
  try {
    await app.socket.joinMatch(matched.match_id);
  } catch (e) {
    if (app.matchId === matched.match_id) {
      app.matchId = null;
      app.phase = "idle";
      app.notice = `Could not join the game (${describe(e)}).`;
      render();
    }
  }
}

function onMatchData(data) {
  if (data.match_id !== app.matchId) {
    return;
  }
  let message;
  try {
    message = JSON.parse(decoder.decode(data.data));
  } catch {
    return;
  }
  switch (data.op_code) {
    case OP.STATE:
      app.phase = "playing";
      if (!app.state || message.game !== app.state.game) {
        app.countdown = null;
      }
      app.state = message;
      app.notice = "";
      score(message);
      break;
    case OP.COUNTDOWN:
      app.countdown = message;
      break;
    case OP.REJECTED:
      app.notice = message.message;
      break;
    case OP.OPPONENT_LEFT:
      endMatch(message.reason === "never_joined" ? "Your opponent didn't show up" : "Opponent left");
      break;
    case OP.SHUTDOWN:
      endMatch("The server is shutting down");
      break;
    default:
      return;
  }
  render();
}

function endMatch(reason) {
  app.phase = "ended";
  app.ended = reason;
  app.matchId = null;
  app.countdown = null;
}

async function leaveGame() {
  const matchId = app.matchId;
  endMatch("You left the game");
  render();
  if (matchId && app.socket) {
    await app.socket.leaveMatch(matchId).catch(() => {});
  }
}

function score(state) {
  if ((state.status !== "won" && state.status !== "draw") || app.scored.has(state.game)) {
    return;
  }
  app.scored.add(state.game);
  if (state.status === "won") {
    if (state.winner === state.you) {
      app.wins += 1;
    } else {
      app.losses += 1;
    }
  }
}

function play(cell) {
  const state = app.state;
  if (app.phase !== "playing" || !state?.your_turn || state.board[cell] !== "") {
    return;
  }
  app.notice = "";
  app.socket
    .sendMatchState(app.matchId, OP.MOVE, encoder.encode(JSON.stringify({ cell })))
    .catch((e) => {
      app.notice = `Your move did not reach the server (${describe(e)}).`;
      render();
    });
}

function statusLine() {
  const state = app.state;
  switch (app.phase) {
    case "connecting":
      return "Connecting…";
    case "offline":
      return "Not connected to the server";
    case "idle":
      return "Find an opponent to start a game";
    case "searching":
      return "Looking for an opponent…";
    case "joining":
      return "Opponent found, joining…";
    case "ended":
      return app.ended;
  }
  switch (state?.status) {
    case "waiting":
      return "Waiting for your opponent…";
    case "won":
      return state.winner === state.you ? "You win!" : "You lose";
    case "draw":
      return "Draw";
    default:
      return state?.your_turn ? "Your turn" : "Opponent's turn";
  }
}

function render() {
  const state = app.state;
  const inMatch = app.phase === "playing" || app.phase === "joining";
  view.game.dataset.phase = app.phase;
  view.game.dataset.result = resultOf(state);
  view.status.textContent = statusLine();
  view.username.textContent = app.session?.username ?? "…";

  const opponent = state?.players.find((p) => p.user_id !== app.session?.user_id);
  view.myMark.textContent = state?.you ?? "?";
  view.myMark.dataset.mark = state?.you ?? "";
  view.opponentName.textContent = opponent?.username ?? "Opponent";
  view.opponentMark.textContent = opponent?.mark ?? "?";
  view.opponentMark.dataset.mark = opponent?.mark ?? "";
  view.score.textContent = `${app.wins} : ${app.losses}`;

  const line = state?.winning_line ?? [];
  view.cells.forEach((cell, i) => {
    const mark = state?.board[i] ?? "";
    cell.textContent = mark;
    cell.dataset.mark = mark;
    cell.classList.toggle("win", line.includes(i));
    cell.disabled = !(app.phase === "playing" && state?.your_turn && mark === "");
  });
  view.game.classList.toggle("my-turn", app.phase === "playing" && Boolean(state?.your_turn));

  const countdown = app.phase === "playing" ? app.countdown : null;
  view.countdown.hidden = !countdown;
  view.countdown.textContent = countdown
    ? `Rematch in ${countdown.seconds}… you'll play ${countdown.next_mark}`
    : "";
  view.notice.hidden = !app.notice;
  view.notice.textContent = app.notice;

  view.find.hidden = inMatch || app.phase === "searching";
  view.find.disabled = app.phase === "connecting";
  view.find.textContent = app.phase === "ended" ? "Find a new opponent" : "Find opponent";
  view.cancel.hidden = app.phase !== "searching";
  view.leave.hidden = !inMatch;
}

function resultOf(state) {
  if (app.phase !== "playing" || !state) {
    return "";
  }
  if (state.status === "draw") {
    return "draw";
  }
  if (state.status === "won") {
    return state.winner === state.you ? "win" : "lose";
  }
  return "";
}

function describe(e) {
  return e?.message || e?.statusText || (e?.status ? `HTTP ${e.status}` : String(e));
}

view.cells.forEach((cell, i) => cell.addEventListener("click", () => play(i)));
view.find.addEventListener("click", findOpponent);
view.cancel.addEventListener("click", cancelSearch);
view.leave.addEventListener("click", leaveGame);
connect();
