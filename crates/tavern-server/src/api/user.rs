//! `GET /v2/user`: public profiles by id, username or Facebook id.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Params, Session};
use crate::state::AppState;
use crate::storage::users::UserRow;

pub async fn get_users(
    State(state): State<Arc<AppState>>,
    _session: Session,
    params: Params,
) -> Result<Json<api::Users>, ApiError> {
    let ids = params.all(&["ids"]);
    let usernames = params.all(&["usernames"]);
    let facebook_ids = params.all(&["facebook_ids", "facebookIds"]);
    if let Some(bad) = ids.iter().find(|id| Uuid::parse_str(id).is_err()) {
        return Err(ApiError::invalid(format!(
            "ID '{bad}' is not a valid system ID."
        )));
    }
    let rows = state
        .db
        .get_users(&ids, &usernames, &facebook_ids)
        .await
        .map_err(|e| ApiError::database("Error retrieving user accounts.", e))?;
    Ok(Json(api::Users {
        users: rows
            .iter()
            .map(|row| api_user(row, state.is_online(&row.id)))
            .collect(),
    }))
}

/// A user row as the API shows it.
pub fn api_user(row: &UserRow, online: bool) -> api::User {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    api::User {
        id: row.id.clone(),
        username: row.username.clone(),
        display_name: text(&row.display_name),
        avatar_url: text(&row.avatar_url),
        lang_tag: row.lang_tag.clone(),
        location: text(&row.location),
        timezone: text(&row.timezone),
        metadata: row.metadata.clone(),
        facebook_id: text(&row.facebook_id),
        google_id: text(&row.google_id),
        gamecenter_id: text(&row.gamecenter_id),
        steam_id: text(&row.steam_id),
        online,
        edge_count: row.edge_count as i32,
        create_time: Some(Timestamp::from_unix_seconds(row.create_time)),
        update_time: Some(Timestamp::from_unix_seconds(row.update_time)),
        facebook_instant_game_id: text(&row.facebook_instant_game_id),
        apple_id: text(&row.apple_id),
    }
}
