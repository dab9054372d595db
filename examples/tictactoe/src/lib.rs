//! Tic-tac-toe on Tavern: the game's rules ([`game`]), the server-authoritative match handler
//! ([`TicTacToe`]), the match data protocol ([`protocol`]), the matchmaker hook that puts two
//! matched players into a new match, and the web client the server serves at `/play`
//! ([`web_asset`]).
//! docs/TICTACTOE.md describes how it plays and what goes over the wire.

pub mod game;
mod handler;
pub mod protocol;
mod web;

pub use handler::{JOIN_TIMEOUT_SECONDS, MatchState, REMATCH_SECONDS, TICK_RATE, TicTacToe};
pub use web::web_asset;

use tavern_runtime::{Initializer, Module, RuntimeError};

/// The tic-tac-toe module: the match handler, and a matchmaker-matched hook that puts every
/// matched pair into a new match of it. When a fleet manager is registered the hook is left
/// out: the matchmaker's groups go to dedicated servers (see `fleet_session` in
/// tavern-examples) and tic-tac-toe matches are created by RPC or `nk` only.
pub const MODULE: Module = Module::new("tictactoe", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_match(HANDLER_NAME, || TicTacToe);
    if init.fleet().is_some() {
        init.logger()
            .info("a fleet manager is registered: matchmaker groups go to dedicated servers");
        return Ok(());
    }
    init.register_matchmaker_matched(|_ctx, nk, entries| async move {
        if entries.len() != PLAYERS {
            return Ok(None);
        }
        nk.match_create(HANDLER_NAME, serde_json::json!({}))
            .await
            .map(Some)
    });
    Ok(())
}

/// The name the match handler is registered under.
pub const HANDLER_NAME: &str = "tictactoe";

/// Players per match; the web client asks the matchmaker for exactly this many.
pub const PLAYERS: usize = 2;
