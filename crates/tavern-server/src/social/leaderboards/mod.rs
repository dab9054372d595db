//! Leaderboards and tournaments: boards, records, ranks and resets.
//!
//! Everything of the domain lives here: the board settings and reset schedules (`board.rs`),
//! the ranks kept in memory (`rank.rs`), the operations REST and server code share
//! (`service.rs`), SQL (`sql.rs`), Nakama's cursors (`cursor.rs`), the REST routes
//! (`rest.rs`) and the `Nk` functions (`nk.rs`).

mod board;
mod cursor;
mod nk;
mod rank;
mod rest;
mod service;
mod sql;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use service::Leaderboards;

use crate::state::AppState;

/// The domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/v2/leaderboard/{leaderboard_id}",
            get(rest::list).post(rest::write).delete(rest::delete),
        )
        .route(
            "/v2/leaderboard/{leaderboard_id}/owner/{owner_id}",
            get(rest::around_owner),
        )
}
