//! `GET`, `PUT` and `DELETE /v2/account`: the caller's own account; also what `nk` uses to read,
//! update and delete any account.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::{Timestamp, api};
use tavern_runtime::Code;
use tavern_runtime::operation::{DeleteAccount, GetAccount, UpdateAccount};
use uuid::Uuid;

use super::call_info::CallInfo;
use super::error::ApiError;
use super::extract::{Body, Session};
use super::hooks;
use super::user::api_user;
use crate::auth::validate;
use crate::realtime::session::CloseReason;
use crate::runtime::session_caller;
use crate::state::AppState;
use crate::storage::users::{AccountUpdate, WriteError};
use crate::storage::{Db, now_unix};

pub async fn get(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
) -> Result<Json<api::Account>, ApiError> {
    let caller = session_caller(&session);
    hooks::before(&state, &call, caller.clone(), GetAccount, ()).await?;
    let account = load_account(&state, session.user_id).await?;
    hooks::after(&state, &call, caller, GetAccount, (), &account).await;
    Ok(Json(account))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(request): Body<api::UpdateAccountRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), UpdateAccount, request).await?;
    update_account(&state.db, session.user_id, request.clone(), None).await?;
    hooks::after(&state, &call, caller, UpdateAccount, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = session_caller(&session);
    hooks::before(&state, &call, caller.clone(), DeleteAccount, ()).await?;
    delete_account(&state, session.user_id).await?;
    hooks::after(&state, &call, caller, DeleteAccount, (), &()).await;
    Ok(Json(serde_json::json!({})))
}

/// A user's account as the API shows it.
pub async fn load_account(state: &AppState, user_id: Uuid) -> Result<api::Account, ApiError> {
    let user_id = user_id.to_string();
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
    Ok(api::Account {
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
    })
}

/// Applies a profile update: absent fields unchanged, present empty ones cleared.
pub async fn update_account(
    db: &Db,
    user_id: Uuid,
    request: api::UpdateAccountRequest,
    metadata: Option<String>,
) -> Result<(), ApiError> {
    let update = profile_update(request, metadata)?;
    db.update_account(&user_id.to_string(), &update)
        .await
        .map(|_| ())
        .map_err(account_write_error)
}

/// A profile update checked as Nakama checks it: a username of 1-128 bytes without spaces or
/// control characters, at least one field.
pub fn profile_update(
    request: api::UpdateAccountRequest,
    metadata: Option<String>,
) -> Result<AccountUpdate, ApiError> {
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
        metadata,
    };
    if update.is_empty() {
        return Err(ApiError::invalid("No fields to update."));
    }
    Ok(update)
}

/// A failed account update as the client sees it.
pub fn account_write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::UsernameTaken => {
            ApiError::new(Code::AlreadyExists, "Username is already in use.")
        }
        e => ApiError::database("Error while trying to update account.", e),
    }
}

/// Deletes a user and what the user owns.
pub async fn delete_account(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    crate::social::groups::remove_user(state, user_id)
        .await
        .map_err(|e| ApiError::database("Error deleting user account.", e))?;
    state
        .db
        .delete_user(&user_id.to_string())
        .await
        .map_err(|e| ApiError::database("Error deleting user account.", e))?;
    state
        .leaderboards
        .delete_owner(user_id)
        .await
        .map_err(|e| ApiError::database("Error deleting user account.", e))?;
    // As Nakama: every token of the account is logged out and its sockets are closed.
    state.session_cache.revoke_all(user_id, now_unix());
    for socket in state.realtime.sessions.of_user(user_id) {
        socket.close(CloseReason::SERVER_DISCONNECT);
    }
    Ok(())
}
