//! Leaderboards and tournaments: boards, records, ranks and resets.
//!
//! Everything of the domain lives here: the board settings and reset schedules (`board.rs`),
//! the ranks kept in memory (`rank.rs`), the operations REST and server code share
//! (`service.rs`), SQL (`sql.rs`), Nakama's cursors (`cursor.rs`), the REST routes
//! (`rest.rs`), the `Nk` functions (`nk.rs`), the resets and tournament ends
//! (`scheduler.rs`), and tournaments (`tournament.rs`, `tournament_rest.rs`).

mod board;
mod cursor;
mod nk;
mod rank;
mod rest;
mod scheduler;
mod service;
mod sql;
mod tournament;
mod tournament_rest;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use scheduler::start as start_scheduler;
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
        .route("/v2/tournament", get(tournament_rest::list))
        .route(
            "/v2/tournament/{tournament_id}",
            get(tournament_rest::list_records)
                .post(tournament_rest::write)
                .put(tournament_rest::write),
        )
        .route(
            "/v2/tournament/{tournament_id}/join",
            post(tournament_rest::join),
        )
        .route(
            "/v2/tournament/{tournament_id}/owner/{owner_id}",
            get(tournament_rest::around_owner),
        )
}
