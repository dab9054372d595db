//! The social layer: one folder per domain, each holding all of it (REST and realtime
//! handlers, SQL, and the domain's `Nk` functions). What they share stays shared: the one error
//! type and extractors of `api/`, one migration sequence per database in `storage/`, and the
//! one stream/presence layer of `realtime/` for every fan-out.

pub mod channels;
pub mod friends;
pub mod gob;
pub mod groups;
pub mod leaderboards;
pub mod notifications;
pub mod parties;
pub mod storage_objects;
pub mod wallet;

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

/// Every social domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .merge(storage_objects::routes())
        .merge(wallet::routes())
        .merge(friends::routes())
        .merge(groups::routes())
        .merge(channels::routes())
        .merge(notifications::routes())
        .merge(leaderboards::routes())
        .merge(parties::routes())
}
