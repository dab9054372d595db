//! Wallets: a JSON map of balances per account, and the ledger of changes.
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
