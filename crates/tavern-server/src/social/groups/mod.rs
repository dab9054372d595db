//! Groups: clans and guilds, their members and roles.
//!
//! Everything of the domain lives here: the REST routes (`rest.rs`), the operations REST and
//! server code share (`ops.rs`: the change, then its channel messages and notifications), the
//! listings (`list.rs`) and their cursors (`cursor.rs`), SQL (`sql.rs`) and the `Nk`
//! functions (`nk.rs`).

mod cursor;
mod list;
mod nk;
mod ops;
mod rest;
mod sql;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};
use uuid::Uuid;

use crate::state::AppState;

/// The domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v2/group", post(rest::create).get(rest::list_groups))
        .route(
            "/v2/group/{group_id}",
            put(rest::update).delete(rest::delete),
        )
        .route("/v2/group/{group_id}/join", post(rest::join))
        .route("/v2/group/{group_id}/leave", post(rest::leave))
        .route("/v2/group/{group_id}/add", post(rest::add))
        .route("/v2/group/{group_id}/kick", post(rest::kick))
        .route("/v2/group/{group_id}/ban", post(rest::ban))
        .route("/v2/group/{group_id}/promote", post(rest::promote))
        .route("/v2/group/{group_id}/demote", post(rest::demote))
        .route("/v2/group/{group_id}/user", get(rest::list_group_users))
        .route("/v2/user/{user_id}/group", get(rest::list_user_groups))
}

/// Whether a user is a superadmin, admin or member of a group (join requests and bans are
/// not): who may use the group's channel.
pub async fn is_member(
    state: &AppState,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sql::is_member(&state.db, group_id, user_id).await
}

/// Takes a user out of every group, before the account is deleted: the groups whose last
/// superadmin the user is go too.
pub async fn remove_user(state: &AppState, user_id: Uuid) -> Result<(), sqlx::Error> {
    sql::remove_user(&state.db, user_id).await
}
