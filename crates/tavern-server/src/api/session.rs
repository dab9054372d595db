//! `POST /v2/account/session/refresh` and `POST /v2/session/logout`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tavern_proto::api;
use tavern_runtime::operation::{SessionLogout, SessionRefresh};
use tavern_runtime::{Caller, Code, UserSession};

use super::call_info::CallInfo;
use super::error::ApiError;
use super::extract::{Body, ServerKey, Session};
use super::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;
use crate::storage::now_unix;

/// The refresh body. `vars` present (even `{}`) replaces the token's vars; absent keeps them,
/// which a generated message type could not tell apart.
#[derive(Default, Deserialize)]
pub struct RefreshBody {
    #[serde(default)]
    token: String,
    #[serde(default)]
    vars: Option<HashMap<String, String>>,
}

pub async fn refresh(
    State(state): State<Arc<AppState>>,
    _key: ServerKey,
    call: CallInfo,
    Body(body): Body<RefreshBody>,
) -> Result<Json<api::Session>, ApiError> {
    let had_vars = body.vars.is_some();
    let request = api::SessionRefreshRequest {
        token: body.token,
        vars: body.vars.unwrap_or_default(),
    };
    let request = hooks::before(&state, &call, Caller::ServerKey, SessionRefresh, request).await?;
    // Vars a hook added count as given; untouched absent vars still mean "keep the token's".
    let body = RefreshBody {
        token: request.token.clone(),
        vars: (had_vars || !request.vars.is_empty()).then(|| request.vars.clone()),
    };
    if body.token.is_empty() {
        return Err(ApiError::invalid("Refresh token is required."));
    }
    let claims = state
        .verify_refresh(&body.token)
        .ok_or_else(|| ApiError::unauthenticated("Refresh token invalid or expired."))?;
    let user = state
        .db
        .get_user(&claims.uid)
        .await
        .map_err(|e| ApiError::database("Error finding user account.", e))?
        .ok_or_else(|| ApiError::not_found("User account not found."))?;
    if user.disable_time != 0 {
        return Err(ApiError::new(
            Code::PermissionDenied,
            "User account banned.",
        ));
    }
    let vars = body.vars.unwrap_or(claims.vrs);
    let pair = state.tokens.issue(
        &claims.tid,
        &claims.uid,
        &user.username,
        vars,
        claims.iat,
        now_unix(),
    );
    let session = api::Session {
        created: false,
        token: pair.token,
        refresh_token: pair.refresh_token,
    };
    let caller = Caller::User(UserSession {
        user_id: pair.claims.uid,
        username: pair.claims.usn,
        vars: pair.claims.vrs,
        expiry: pair.claims.exp,
        session_id: None,
    });
    hooks::after(&state, &call, caller, SessionRefresh, request, &session).await;
    Ok(Json(session))
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(body): Body<api::SessionLogoutRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), SessionLogout, body).await?;
    let body = request.clone();
    let mut revoke = Vec::new();
    if !body.token.is_empty() {
        match state.tokens.verify_session(&body.token) {
            Some(c) if c.user_id() == Some(session.user_id) => revoke.push(c),
            _ => return Err(ApiError::invalid("Session token invalid.")),
        }
    }
    if !body.refresh_token.is_empty() {
        match state.tokens.verify_refresh(&body.refresh_token) {
            Some(c) if c.user_id() == Some(session.user_id) => revoke.push(c),
            _ => return Err(ApiError::invalid("Refresh token invalid.")),
        }
    }
    let now = now_unix();
    revoke.retain(|c| !c.tid.is_empty());
    if revoke.is_empty() {
        state.session_cache.revoke_all(session.user_id, now);
    }
    for claims in revoke {
        state
            .session_cache
            .revoke(session.user_id, &claims.tid, claims.exp, now);
    }
    hooks::after(&state, &call, caller, SessionLogout, request, &()).await;
    Ok(Json(serde_json::json!({})))
}
