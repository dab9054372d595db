//! Wallets: a JSON map of integer balances per account (`users.wallet`, shown in
//! `GET /v2/account`), the ledger of changes, and `multi_update` (accounts, storage objects and
//! wallets in one transaction). Server code only: clients have no wallet routes.
//!
//! `sql.rs` holds the wallet updates and the ledger, `multi_update.rs` the transaction across
//! domains, and `nk.rs` the server's side of the `Nk` wallet functions.

mod multi_update;
mod nk;
pub mod sql;

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

/// The domain's REST routes: none (Nakama has none either).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
