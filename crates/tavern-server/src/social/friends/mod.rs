//! Friends: the friend graph (friend, invite sent, invite received, blocked).
//!
//! Everything of the domain lives here: the REST routes (`rest.rs`), the operations REST and
//! server code share (`graph.rs`), SQL (`sql.rs`) and the `Nk` functions (`nk.rs`).

mod graph;
mod nk;
mod rest;
mod sql;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use uuid::Uuid;

use crate::state::AppState;

/// The domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/v2/friend",
            get(rest::list).post(rest::add).delete(rest::delete),
        )
        .route("/v2/friend/block", post(rest::block))
}

/// Whether `sender` may open a direct-message channel with `recipient`: the recipient exists
/// and has not blocked the sender (Nakama's `UserExistsAndDoesNotBlock`; a block by the
/// sender alone does not stop it).
pub async fn can_direct_message(
    state: &AppState,
    sender: Uuid,
    recipient: Uuid,
) -> Result<bool, sqlx::Error> {
    sql::exists_and_does_not_block(&state.db, &recipient.to_string(), &sender.to_string()).await
}
