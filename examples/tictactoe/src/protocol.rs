//! What travels between the tic-tac-toe match and its clients: op codes and the JSON shapes of
//! the payloads (UTF-8). docs/TICTACTOE.md describes the same protocol for client writers.

use serde::{Deserialize, Serialize};

/// Op codes of match data, in both directions.
pub mod op {
    /// Client to server: place your mark, `{"cell": 0..=8}`.
    pub const MOVE: i64 = 1;
    /// Server to each player: the whole game as that player sees it ([`super::StateMessage`]).
    pub const STATE: i64 = 2;
    /// Server to the sender only: a message was refused ([`super::RejectedMessage`]).
    pub const REJECTED: i64 = 3;
    /// Server to each player: seconds until the rematch ([`super::CountdownMessage`]).
    pub const COUNTDOWN: i64 = 4;
    /// Server to the remaining player: the opponent is gone and the match has ended
    /// ([`super::OpponentLeftMessage`]).
    pub const OPPONENT_LEFT: i64 = 5;
    /// Server to everyone: the server is shutting down and the match has ended
    /// ([`super::ShutdownMessage`]).
    pub const SHUTDOWN: i64 = 6;
}

/// A move, as a client sends it with [`op::MOVE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MoveMessage {
    /// 0..=8, row by row from the top left; anything else is refused as `out_of_bounds`.
    pub cell: i64,
}

/// Where the current game stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// One player is in the match; the other has not joined yet.
    Waiting,
    /// Moves are being made.
    Playing,
    /// Three in a line: see `winner` and `winning_line`.
    Won,
    /// A full board without a line.
    Draw,
}

/// A player in the match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlayerInfo {
    pub user_id: String,
    pub username: String,
    /// `"X"` or `"O"` in the current game.
    pub mark: &'static str,
}

/// [`op::STATE`]: everything a client needs to draw the game, for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateMessage {
    /// Game number within this match, from 1; a rematch increments it.
    pub game: u32,
    pub status: Status,
    /// Nine cells row by row: `"X"`, `"O"` or `""`.
    pub board: Vec<&'static str>,
    /// The players in join order.
    pub players: Vec<PlayerInfo>,
    /// The recipient's mark in this game.
    pub you: &'static str,
    /// The mark to move next; `null` unless playing.
    pub turn: Option<&'static str>,
    /// Whether the recipient moves next.
    pub your_turn: bool,
    /// The winning mark when `status` is `won`.
    pub winner: Option<&'static str>,
    /// The three cells of the winning line when `status` is `won`, ascending.
    pub winning_line: Option<[usize; 3]>,
}

/// [`op::REJECTED`]: why a message from this player was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedMessage {
    /// `not_your_turn`, `occupied`, `out_of_bounds`, `game_over`, `waiting_for_opponent`,
    /// `bad_message` (payload not `{"cell": <integer>}`) or `unknown_op_code`.
    pub reason: &'static str,
    /// A sentence to show the player.
    pub message: String,
}

/// [`op::COUNTDOWN`]: a rematch starts in `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountdownMessage {
    /// Seconds left, from the configured length down to 1; the next game's state follows 0.
    pub seconds: u32,
    /// The recipient's mark in the next game (marks swap every game; X moves first).
    pub next_mark: &'static str,
}

/// [`op::OPPONENT_LEFT`]: why the match ended for the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpponentLeftMessage {
    /// `left`: the opponent left or lost their connection; `never_joined`: the matched
    /// opponent did not join in time.
    pub reason: &'static str,
}

/// [`op::SHUTDOWN`]: the server is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShutdownMessage {
    pub grace_seconds: u32,
}

/// The match label, for listings: `{"open":true,"game":"tictactoe"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Label {
    /// Whether a seat is free.
    pub open: bool,
    pub game: &'static str,
}
