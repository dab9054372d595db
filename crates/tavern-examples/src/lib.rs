//! The example modules the `tavern` binary ships with, each a small lesson in the runtime API:
//!
//! * [`echo`] — RPC `echo`, returning its payload.
//! * [`errors`] — RPC `rpc_error`, failing with the gRPC code its payload asks for, and RPC
//!   `panic`, showing that a panicking RPC fails alone.
//! * [`custom_id_guard`] — a before hook admitting only custom ids shaped like `cid-000000`.
//! * [`login_counter`] — after hooks counting each user's logins, and RPC `login_count`.
//! * [`pingpong`] — the authoritative-multiplayer guide's match, with RPC `create_match_rpc`.
//! * [`echo_match`] — a match echoing through its loop that also shows kicks, label updates and
//!   contained faults, with RPC `create_echo_match`.
//! * [`idle_match`] — a match that only ticks, with RPC `create_idle_matches` creating many
//!   (for measuring the cost of a running match).
//! * [`lobby`] — a match with a JSON label and the find-or-create RPC `find_or_create_match`.
//! * [`storage_api`] — the storage and wallet `Nk` functions behind `rust_storage_*` and
//!   `rust_wallet_*` RPCs, and hooks on every storage REST operation (for the integration tests).
//! * [`groups_api`] — the group `Nk` functions behind `rust_groups_*` RPCs, and hooks on every
//!   group REST operation (for the integration tests).
//! * [`chat_api`] — RPCs `rust_notification_*` and `rust_channel_*` over the notification and
//!   channel functions, for server-to-server calls and tests, and `rust_stream` (a player's
//!   own session on custom streams).
//! * [`leaderboards_api`] — RPCs `rust_leaderboard_*` over the leaderboard functions, for
//!   server-to-server calls and tests.
//! * [`friends_api`] — the friends, link and ban `Nk` functions behind `rust_friends_*` RPCs (for
//!   the integration tests).
//! * [`platform_api`] — RPCs `rust_platform_*` over events (with an event handler), the local
//!   cache, custom metrics and the crypto helpers, for the tests.
//! * [`parties_api`] — realtime hooks on every party message (one refusing, one rewriting)
//!   and RPC `rust_party_hook_counts`, for the tests.
//! * [`fleet_session`] — dedicated game servers from the fleet manager for matchmaker groups
//!   (active only when a fleet manager is registered).

pub mod chat_api;
pub mod custom_id_guard;
pub mod echo;
pub mod echo_match;
pub mod errors;
pub mod fleet_session;
pub mod friends_api;
pub mod groups_api;
pub mod idle_match;
pub mod leaderboards_api;
pub mod lobby;
pub mod login_counter;
pub mod parties_api;
pub mod pingpong;
pub mod platform_api;
pub mod storage_api;

use tavern_runtime::{Module, RuntimeError};

/// Every bundled module, in load order.
pub const MODULES: &[Module] = &[
    echo::MODULE,
    errors::MODULE,
    custom_id_guard::MODULE,
    login_counter::MODULE,
    pingpong::MODULE,
    echo_match::MODULE,
    lobby::MODULE,
    idle_match::MODULE,
    fleet_session::MODULE,
    storage_api::MODULE,
    groups_api::MODULE,
    chat_api::MODULE,
    leaderboards_api::MODULE,
    friends_api::MODULE,
    platform_api::MODULE,
    parties_api::MODULE,
];

/// Parses an RPC payload as JSON parameters (an empty payload is `{}`).
pub(crate) fn params(payload: &str) -> Result<serde_json::Value, RuntimeError> {
    if payload.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_str(payload)
        .map_err(|e| RuntimeError::invalid_argument(format!("payload must be JSON: {e}")))
}

/// The RPC answer naming a match: `{"match_id": "..."}`.
pub(crate) fn match_id_reply(match_id: &str) -> String {
    serde_json::json!({ "match_id": match_id }).to_string()
}
