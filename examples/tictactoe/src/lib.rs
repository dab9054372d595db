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

use tavern_runtime::{Initializer, MatchmakerEntry, Module, RuntimeError};

/// The tic-tac-toe module: the match handler, and a matchmaker-matched hook that puts every
/// matched pair of tic-tac-toe tickets (string property `game` = `tictactoe`, see
/// [`is_tictactoe_ticket`]) into a new match of it. Any other group gets what it gets without
/// the module, a relayed-match token, so the module changes nothing for other clients. When a
/// fleet manager is registered the hook is left out: the matchmaker's groups go to dedicated
/// servers (see `fleet_session` in tavern-examples) and tic-tac-toe matches are created by RPC
/// or `nk` only.
pub const MODULE: Module = Module::new("tictactoe", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_match(HANDLER_NAME, || TicTacToe);
    if init.fleet().is_some() {
        init.logger()
            .info("a fleet manager is registered: matchmaker groups go to dedicated servers");
        return Ok(());
    }
    init.register_matchmaker_matched(|_ctx, nk, entries| async move {
        if entries.len() != PLAYERS || !entries.iter().all(is_tictactoe_ticket) {
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

/// The string property (name, value) that marks a matchmaker ticket as a tic-tac-toe player's:
/// the web client adds its tickets with it and the query `+properties.game:tictactoe`.
pub const TICKET_PROPERTY: (&str, &str) = ("game", "tictactoe");

/// Whether a matched entry's ticket asked for tic-tac-toe ([`TICKET_PROPERTY`]).
pub fn is_tictactoe_ticket(entry: &MatchmakerEntry) -> bool {
    let (name, value) = TICKET_PROPERTY;
    entry.properties.get(name).and_then(|v| v.as_str()) == Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tavern_runtime::Presence;

    fn entry(properties: serde_json::Value) -> MatchmakerEntry {
        MatchmakerEntry {
            presence: Presence {
                user_id: "u".into(),
                session_id: "s".into(),
                username: "n".into(),
                node: "nakama".into(),
            },
            ticket: "t".into(),
            properties: serde_json::from_value(properties).unwrap(),
            party_id: None,
        }
    }

    #[test]
    fn only_tickets_asking_for_tictactoe_are_its_own() {
        assert!(is_tictactoe_ticket(&entry(
            serde_json::json!({"game": "tictactoe", "skill": 3.0})
        )));
        assert!(!is_tictactoe_ticket(&entry(serde_json::json!({}))));
        assert!(!is_tictactoe_ticket(&entry(
            serde_json::json!({"game": "chess"})
        )));
    }
}
