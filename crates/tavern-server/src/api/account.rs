//! `GET`, `PUT` and `DELETE /v2/account`: the caller's own account.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::{Timestamp, api};
use tavern_runtime::Code;

use super::error::ApiError;
use super::extract::{Body, Session};
use super::user::api_user;
use crate::auth::validate;
use crate::realtime::session::CloseReason;
use crate::state::AppState;
use crate::storage::now_unix;
use crate::storage::users::{AccountUpdate, WriteError};

pub async fn get(
    State(state): State<Arc<AppState>>,
    session: Session,
) -> Result<Json<api::Account>, ApiError> {
    let user_id = session.user_id.to_string();
    let user = state
        .db
        .get_user(&user_id)
        .await
        .map_err(|e| ApiError::database("Error retrieving user account.", e))?
        .ok_or_else(|| ApiError::not_found("Account not found."))?;
    let devices = state
        .db
        .get_devices(&user_id)
        .await
        .map_err(|e| ApiError::database("Error retrieving user account.", e))?;
    let optional_time = |t: i64| (t != 0).then(|| Timestamp::from_unix_seconds(t));
    Ok(Json(api::Account {
        wallet: user.wallet.clone(),
        email: user.email.clone().unwrap_or_default(),
        devices: devices
            .into_iter()
            .map(|id| api::AccountDevice {
                id,
                ..Default::default()
            })
            .collect(),
        custom_id: user.custom_id.clone().unwrap_or_default(),
        verify_time: optional_time(user.verify_time),
        disable_time: optional_time(user.disable_time),
        user: Some(api_user(&user, state.is_online(&user.id))),
    }))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    session: Session,
    Body(request): Body<api::UpdateAccountRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Some(username) = &request.username
        && (username.is_empty() || username.len() > 128)
    {
        return Err(ApiError::invalid("Username invalid, must be 1-128 bytes."));
    }
    if let Some(username) = &request.username {
        validate::username(username)?;
    }
    // A present but empty value clears the field.
    let clearable = |v: Option<String>| v.map(|s| (!s.is_empty()).then_some(s));
    let update = AccountUpdate {
        username: request.username,
        display_name: clearable(request.display_name),
        avatar_url: clearable(request.avatar_url),
        lang_tag: clearable(request.lang_tag),
        location: clearable(request.location),
        timezone: clearable(request.timezone),
    };
    if update.is_empty() {
        return Err(ApiError::invalid("No fields to update."));
    }
    match state
        .db
        .update_account(&session.user_id.to_string(), &update)
        .await
    {
        Ok(_) => Ok(Json(serde_json::json!({}))),
        Err(WriteError::UsernameTaken) => Err(ApiError::new(
            Code::AlreadyExists,
            "Username is already in use.",
        )),
        Err(e) => Err(ApiError::database(
            "Error while trying to update account.",
            e,
        )),
    }
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    session: Session,
) -> Result<Json<serde_json::Value>, ApiError> {
    state
        .db
        .delete_user(&session.user_id.to_string())
        .await
        .map_err(|e| ApiError::database("Error deleting user account.", e))?;
    // As Nakama: every token of the account is logged out and its sockets are closed.
    state.session_cache.revoke_all(session.user_id, now_unix());
    for socket in state.realtime.sessions.of_user(session.user_id) {
        socket.close(CloseReason::SERVER_DISCONNECT);
    }
    Ok(Json(serde_json::json!({})))
}
