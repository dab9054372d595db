//! Tic-tac-toe on Tavern: the game's rules ([`game`]), the server-authoritative match handler
//! ([`TicTacToe`]), the match data protocol ([`protocol`]), the matchmaker hook's decision
//! ([`on_matched`]) and the web client the server serves at `/play` ([`web_asset`]).
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

/// The matchmaker-matched hook: for a group of [`PLAYERS`], creates a [`HANDLER_NAME`] match
/// with empty parameters through `create` (the server's match-create function, given the
/// handler name and the parameters) and returns its id for every matched player. Any other
/// group size is not a tic-tac-toe group: `Ok(None)` leaves the matchmaker to its default (a
/// relayed-match token).
///
/// ```
/// let id = tavern_tictactoe::on_matched(2, |name, params| {
///     assert_eq!((name, params), ("tictactoe", &serde_json::json!({})));
///     Ok::<_, String>("6f1c2f0e-3b8a-4a43-9e4c-2f5b1f0f9a11.tavern".to_owned())
/// });
/// assert_eq!(id.unwrap().as_deref(), Some("6f1c2f0e-3b8a-4a43-9e4c-2f5b1f0f9a11.tavern"));
/// assert_eq!(tavern_tictactoe::on_matched(3, |_, _| Ok::<_, String>(String::new())), Ok(None));
/// ```
pub fn on_matched<E>(
    matched: usize,
    create: impl FnOnce(&str, &serde_json::Value) -> Result<String, E>,
) -> Result<Option<String>, E> {
    if matched != PLAYERS {
        return Ok(None);
    }
    create(HANDLER_NAME, &serde_json::json!({})).map(Some)
}
