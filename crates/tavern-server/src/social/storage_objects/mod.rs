//! Storage objects: collections of JSON objects per user, with permissions and versions.
//!
//! Everything of the domain lives here: REST handlers, realtime handlers, SQL and the `Nk`
//! functions (`nk.rs`).

mod nk;

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

/// The domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
