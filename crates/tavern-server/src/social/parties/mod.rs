//! Parties: groups of players that queue together, kept in memory on the node that created
//! them, like matches. A party's members are the presences on its stream (mode 7, subject the
//! party's UUID, label the node), so joins, leaves and every fan-out go through the one
//! tracker; the tracker tells the party of joins and leaves before it announces them.
//!
//! `party.rs` is one party (members, leader, join requests), `registry.rs` the node's parties,
//! `realtime.rs` the socket messages and `nk.rs` the `Nk` functions.

mod nk;
mod party;
pub mod realtime;
mod registry;

use std::sync::Arc;

use axum::Router;

pub use registry::PartyRegistry;

use crate::state::AppState;

/// The domain's REST routes: none (Nakama 3.15 has no party route).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
