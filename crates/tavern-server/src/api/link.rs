//! `POST /v2/account/link/{device,custom,email}` and `/v2/account/unlink/...`: the caller's
//! other ways to log in, with their hooks, Nakama's checks and messages (409 when another
//! account has the identity, 403 when unlinking would leave no way to log in).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::api;
use tavern_runtime::Code;
use tavern_runtime::operation::{
    LinkCustom, LinkDevice, LinkEmail, UnlinkCustom, UnlinkDevice, UnlinkEmail,
};
use uuid::Uuid;

use super::call_info::CallInfo;
use super::error::ApiError;
use super::extract::{Body, Session};
use super::hooks;
use crate::auth::{password, validate};
use crate::runtime::session_caller;
use crate::state::AppState;
use crate::storage::links::{LinkColumn, Linked};

const LAST_IDENTITY: &str =
    "Cannot unlink last account identifier. Check profile exists and is not last link.";

fn taken(message: &str) -> ApiError {
    ApiError::new(Code::AlreadyExists, message)
}

fn last_identity() -> ApiError {
    ApiError::new(Code::PermissionDenied, LAST_IDENTITY)
}

/// Does Nakama's characters check of a link's custom id (its messages differ from those of
/// authentication).
fn has_invalid_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_ascii_control() || c.is_ascii_whitespace() || c == '\x0b')
}

/// Links a custom id to an account.
pub async fn link_custom(state: &AppState, user_id: Uuid, id: &str) -> Result<(), ApiError> {
    if id.is_empty() {
        return Err(ApiError::invalid("Custom ID is required."));
    }
    if has_invalid_chars(id) {
        return Err(ApiError::invalid(
            "Invalid custom ID, no spaces or control characters allowed.",
        ));
    }
    if id.len() < 6 || id.len() > 128 {
        return Err(ApiError::invalid("Invalid custom ID, must be 6-128 bytes."));
    }
    match state
        .db
        .link_column(&user_id.to_string(), LinkColumn::Custom, id, None)
        .await
        .map_err(|e| ApiError::database("Error while trying to link Custom ID.", e))?
    {
        Linked::Done => Ok(()),
        Linked::Taken => Err(taken("Custom ID is already in use.")),
    }
}

/// Links a device id to an account.
pub async fn link_device(state: &AppState, user_id: Uuid, id: &str) -> Result<(), ApiError> {
    validate::device_id(id)?;
    match state
        .db
        .link_device(&user_id.to_string(), id)
        .await
        .map_err(|e| ApiError::database("Error linking Device ID.", e))?
    {
        Linked::Done => Ok(()),
        Linked::Taken => Err(taken("Device ID already in use.")),
    }
}

/// Links an email address and password to an account; the address is stored lowercase.
pub async fn link_email(
    state: &AppState,
    user_id: Uuid,
    email: &str,
    secret: &str,
) -> Result<(), ApiError> {
    if email.is_empty() || secret.is_empty() {
        return Err(ApiError::invalid("Email address and password is required."));
    }
    if has_invalid_chars(email) {
        return Err(ApiError::invalid(
            "Invalid email address, no spaces or control characters allowed.",
        ));
    }
    validate::password(secret)?;
    validate::email(email)?;
    let hash = password::hash(secret.to_owned())
        .await
        .ok_or_else(|| ApiError::internal("Error while trying to link email."))?;
    match state
        .db
        .link_column(
            &user_id.to_string(),
            LinkColumn::Email,
            &email.to_lowercase(),
            Some(&hash),
        )
        .await
        .map_err(|e| ApiError::database("Error while trying to link email.", e))?
    {
        Linked::Done => Ok(()),
        Linked::Taken => Err(taken("Email is already in use.")),
    }
}

/// Unlinks the custom id (only if it is `id`, when given).
pub async fn unlink_custom(state: &AppState, user_id: Uuid, id: &str) -> Result<(), ApiError> {
    let done = state
        .db
        .unlink_column(&user_id.to_string(), LinkColumn::Custom, id)
        .await
        .map_err(|e| ApiError::database("Error while trying to unlink custom ID.", e))?;
    if done { Ok(()) } else { Err(last_identity()) }
}

/// Unlinks a device id.
pub async fn unlink_device(state: &AppState, user_id: Uuid, id: &str) -> Result<(), ApiError> {
    if id.is_empty() {
        return Err(ApiError::invalid("A device ID must be supplied."));
    }
    let done = state
        .db
        .unlink_device(&user_id.to_string(), id)
        .await
        .map_err(|e| ApiError::database("Could not unlink device ID.", e))?;
    if done { Ok(()) } else { Err(last_identity()) }
}

/// Unlinks the email address and password (only if the address is `email`, when given).
pub async fn unlink_email(state: &AppState, user_id: Uuid, email: &str) -> Result<(), ApiError> {
    let done = state
        .db
        .unlink_column(
            &user_id.to_string(),
            LinkColumn::Email,
            &email.to_lowercase(),
        )
        .await
        .map_err(|e| ApiError::database("Error while trying to unlink email.", e))?;
    if done { Ok(()) } else { Err(last_identity()) }
}

/// Clears the account's id for a provider (whether it had one or not) unless that would leave
/// no way to log in.
pub async fn unlink_provider(
    state: &AppState,
    user_id: Uuid,
    column: LinkColumn,
) -> Result<(), ApiError> {
    let failed = match column {
        LinkColumn::Apple => "Error while trying to unlink Apple ID.",
        LinkColumn::Facebook => "Error while trying to unlink Facebook ID.",
        LinkColumn::FacebookInstantGame => "Error while trying to unlink Facebook Instant Game ID.",
        LinkColumn::GameCenter => "Error while trying to unlink GameCenter ID.",
        LinkColumn::Google => "Error while trying to unlink Google ID.",
        LinkColumn::Steam => "Error while trying to unlink Steam ID.",
        LinkColumn::Custom => "Error while trying to unlink custom ID.",
        LinkColumn::Email => "Error while trying to unlink email.",
    };
    let done = state
        .db
        .unlink_column(&user_id.to_string(), column, "")
        .await
        .map_err(|e| ApiError::database(failed, e))?;
    if done { Ok(()) } else { Err(last_identity()) }
}

type Empty = Result<Json<serde_json::Value>, ApiError>;

fn empty() -> Empty {
    Ok(Json(serde_json::json!({})))
}

pub async fn custom(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountCustom>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller.clone(), LinkCustom, account).await?;
    link_custom(&state, session.user_id, &account.id).await?;
    hooks::after(&state, &call, caller, LinkCustom, account, &()).await;
    empty()
}

pub async fn device(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountDevice>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller.clone(), LinkDevice, account).await?;
    link_device(&state, session.user_id, &account.id).await?;
    hooks::after(&state, &call, caller, LinkDevice, account, &()).await;
    empty()
}

pub async fn email(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountEmail>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller.clone(), LinkEmail, account).await?;
    link_email(&state, session.user_id, &account.email, &account.password).await?;
    hooks::after(&state, &call, caller, LinkEmail, account, &()).await;
    empty()
}

pub async fn unlink_custom_route(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountCustom>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller.clone(), UnlinkCustom, account).await?;
    unlink_custom(&state, session.user_id, &account.id).await?;
    hooks::after(&state, &call, caller, UnlinkCustom, account, &()).await;
    empty()
}

pub async fn unlink_device_route(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountDevice>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller.clone(), UnlinkDevice, account).await?;
    unlink_device(&state, session.user_id, &account.id).await?;
    hooks::after(&state, &call, caller, UnlinkDevice, account, &()).await;
    empty()
}

pub async fn unlink_email_route(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(account): Body<api::AccountEmail>,
) -> Empty {
    let caller = session_caller(&session);
    let account = hooks::before(&state, &call, caller.clone(), UnlinkEmail, account).await?;
    unlink_email(&state, session.user_id, &account.email).await?;
    hooks::after(&state, &call, caller, UnlinkEmail, account, &()).await;
    empty()
}
