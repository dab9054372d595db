//! Notifications: persisted and live messages to users, the one path every domain sends them
//! through ([`send`]).
//!
//! Everything of the domain lives here: the send path (`send.rs`), the REST routes
//! (`rest.rs`), SQL (`sql.rs`) and the `Nk` functions (`nk.rs`).

mod nk;
mod rest;
mod send;
mod sql;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use send::{NewNotification, code, send, send_all};

use crate::state::AppState;

/// The domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v2/notification", get(rest::list).delete(rest::delete))
}
