//! `GET/POST/DELETE /v2/friend` and `POST /v2/friend/block`, with their hooks and Nakama's
//! checks and messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::api;
use tavern_runtime::operation::{AddFriends, BlockFriends, DeleteFriends, ListFriends};
use uuid::Uuid;

use super::graph::{self, ListError};
use super::sql;
use crate::api::call_info::CallInfo;
use crate::api::error::ApiError;
use crate::api::extract::{Params, Session};
use crate::api::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;

/// Most ids and usernames together in one add, delete or block (Nakama has no limit; this
/// bounds the work of one request).
pub const MAX_TARGETS: usize = 1000;

pub async fn list(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<api::FriendList>, ApiError> {
    let request = api::ListFriendsRequest {
        limit: params.int32(&["limit"])?,
        state: params.int32(&["state"])?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), ListFriends, request).await?;
    let limit = match request.limit {
        None => 1000,
        Some(n @ 1..=1000) => n as usize,
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid limit - limit must be between 1 and 1000.",
            ));
        }
    };
    if request.state.is_some_and(|s| !(0..=3).contains(&s)) {
        return Err(ApiError::invalid(
            "Invalid state - state must be between 0 and 3.",
        ));
    }
    let list = graph::list(
        &state,
        session.user_id,
        limit,
        request.state,
        &request.cursor,
    )
    .await
    .map_err(|e| match e {
        ListError::InvalidCursor => ApiError::invalid("Cursor is invalid."),
        ListError::Database(e) => ApiError::database("Error while trying to list friends.", e),
    })?;
    hooks::after(&state, &call, caller, ListFriends, request, &list).await;
    Ok(Json(list))
}

/// What a request does to the users it names; its messages.
#[derive(Clone, Copy)]
enum Change {
    Add,
    Delete,
    Block,
}

impl Change {
    fn self_message(self) -> &'static str {
        match self {
            Change::Add => "Cannot add self as friend.",
            Change::Delete => "Cannot delete self.",
            Change::Block => "Cannot block self.",
        }
    }

    fn failed_message(self) -> &'static str {
        match self {
            Change::Add => "Error while trying to add friends.",
            Change::Delete => "Error while trying to delete friends.",
            Change::Block => "Error while trying to block friends.",
        }
    }
}

/// The user ids a request names (by id and by username), after Nakama's checks; `None` when
/// it names nothing and there is nothing to do.
async fn targets(
    state: &AppState,
    session: &Session,
    change: Change,
    ids: &[String],
    usernames: &[String],
) -> Result<Option<Vec<String>>, ApiError> {
    if ids.is_empty() && usernames.is_empty() {
        return Ok(None);
    }
    if ids.len() + usernames.len() > MAX_TARGETS {
        return Err(ApiError::invalid(format!(
            "Too many IDs and usernames - at most {MAX_TARGETS} in one request."
        )));
    }
    let mut all = Vec::with_capacity(ids.len() + usernames.len());
    for id in ids {
        let parsed = Uuid::parse_str(id).ok().filter(|u| !u.is_nil());
        match parsed {
            Some(u) if u == session.user_id => {
                return Err(ApiError::invalid(change.self_message()));
            }
            Some(u) => all.push(u.to_string()),
            None => return Err(ApiError::invalid(format!("Invalid user ID '{id}'."))),
        }
    }
    for name in usernames {
        if name.is_empty() {
            return Err(ApiError::invalid("Username must not be empty."));
        }
        if *name == session.username {
            return Err(ApiError::invalid(change.self_message()));
        }
    }
    let by_name = sql::ids_of_usernames(&state.db, usernames)
        .await
        .map_err(|e| ApiError::database(change.failed_message(), e))?;
    let me = session.user_id.to_string();
    all.extend(by_name.into_iter().filter(|id| *id != me));
    if all.is_empty() {
        return match change {
            Change::Delete => Ok(None),
            Change::Add | Change::Block => {
                Err(ApiError::invalid("No valid ID or username was provided."))
            }
        };
    }
    Ok(Some(all))
}

fn targets_request(params: &Params) -> (Vec<String>, Vec<String>) {
    (params.all(&["ids"]), params.all(&["usernames"]))
}

pub async fn add(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (ids, usernames) = targets_request(&params);
    let request = api::AddFriendsRequest { ids, usernames };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), AddFriends, request).await?;
    let change = Change::Add;
    if let Some(friends) =
        targets(&state, &session, change, &request.ids, &request.usernames).await?
    {
        graph::add(&state, session.user_id, &session.username, &friends)
            .await
            .map_err(|e| ApiError::database(change.failed_message(), e))?;
        hooks::after(&state, &call, caller, AddFriends, request, &()).await;
    }
    Ok(Json(serde_json::json!({})))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (ids, usernames) = targets_request(&params);
    let request = api::DeleteFriendsRequest { ids, usernames };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), DeleteFriends, request).await?;
    let change = Change::Delete;
    if let Some(friends) =
        targets(&state, &session, change, &request.ids, &request.usernames).await?
    {
        graph::delete(&state, session.user_id, &friends)
            .await
            .map_err(|e| ApiError::database(change.failed_message(), e))?;
        hooks::after(&state, &call, caller, DeleteFriends, request, &()).await;
    }
    Ok(Json(serde_json::json!({})))
}

pub async fn block(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (ids, usernames) = targets_request(&params);
    let request = api::BlockFriendsRequest { ids, usernames };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), BlockFriends, request).await?;
    let change = Change::Block;
    if let Some(friends) =
        targets(&state, &session, change, &request.ids, &request.usernames).await?
    {
        graph::block(&state, session.user_id, &friends)
            .await
            .map_err(|e| ApiError::database(change.failed_message(), e))?;
        hooks::after(&state, &call, caller, BlockFriends, request, &()).await;
    }
    Ok(Json(serde_json::json!({})))
}
