//! Storage objects: collections of JSON objects per user (or the system user), with read and
//! write permissions and versions for optimistic concurrency.
//!
//! `rest.rs` holds the routes, `sql.rs` the table and Nakama's write rules, `writer.rs` the
//! group commit of writes on SQLite, `cursor.rs` the listing cursor and `nk.rs` the server's
//! side of the `Nk` storage functions.

pub mod cursor;
pub(crate) mod nk;
pub mod rest;
pub mod sql;
pub mod writer;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, put};

use crate::state::AppState;

/// The domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v2/storage", put(rest::write).post(rest::read))
        .route(
            "/v2/storage/delete",
            put(rest::delete).get(rest::list_delete_collection),
        )
        .route("/v2/storage/{collection}", get(rest::list_collection))
        .route("/v2/storage/{collection}/{user_id}", get(rest::list_user))
}
