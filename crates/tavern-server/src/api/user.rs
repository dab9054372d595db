//! `GET /v2/user`: public profiles by id, username or Facebook id.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use tavern_runtime::operation::GetUsers;

use super::call_info::CallInfo;
use super::error::ApiError;
use super::extract::{Params, Session};
use super::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;
use crate::storage::users::UserRow;

pub async fn get_users(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<api::Users>, ApiError> {
    let request = api::GetUsersRequest {
        ids: params.all(&["ids"]),
        usernames: params.all(&["usernames"]),
        facebook_ids: params.all(&["facebook_ids", "facebookIds"]),
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), GetUsers, request).await?;
    if let Some(bad) = request.ids.iter().find(|id| Uuid::parse_str(id).is_err()) {
        return Err(ApiError::invalid(format!(
            "ID '{bad}' is not a valid system ID."
        )));
    }
    let users = api::Users {
        users: load_users(
            &state,
            &request.ids,
            &request.usernames,
            &request.facebook_ids,
        )
        .await?,
    };
    hooks::after(&state, &call, caller, GetUsers, request, &users).await;
    Ok(Json(users))
}

/// Public profiles by ids, usernames and Facebook ids together.
pub async fn load_users(
    state: &AppState,
    ids: &[String],
    usernames: &[String],
    facebook_ids: &[String],
) -> Result<Vec<api::User>, ApiError> {
    let rows = state
        .db
        .get_users(ids, usernames, facebook_ids)
        .await
        .map_err(|e| ApiError::database("Error retrieving user accounts.", e))?;
    Ok(rows
        .iter()
        .map(|row| api_user(row, state.is_online(&row.id)))
        .collect())
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
