//! `GET /v2/channel/{channel_id}`: a page of a channel's history, with its hooks and Nakama's
//! checks and messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use tavern_proto::api;
use tavern_runtime::operation::ListChannelMessages;

use super::history::{self, HistoryError};
use crate::api::call_info::CallInfo;
use crate::api::error::ApiError;
use crate::api::extract::{Params, Session};
use crate::api::hooks;
use crate::realtime::stream::Stream;
use crate::runtime::session_caller;
use crate::state::AppState;

pub async fn list(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<api::ChannelMessageList>, ApiError> {
    let Path(channel_id) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::ListChannelMessagesRequest {
        channel_id,
        limit: params.int32(&["limit"])?,
        forward: params.bool(&["forward"])?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
    };
    let caller = session_caller(&session);
    let request =
        hooks::before(&state, &call, caller.clone(), ListChannelMessages, request).await?;
    let invalid_channel = || ApiError::invalid("Invalid channel ID.");
    if request.channel_id.is_empty() {
        return Err(invalid_channel());
    }
    let limit = match request.limit {
        None => 1,
        Some(n @ 1..=100) => n as usize,
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid limit - limit must be between 1 and 100.",
            ));
        }
    };
    let forward = request.forward.unwrap_or(true);
    let stream = Stream::from_channel_id(&request.channel_id).ok_or_else(invalid_channel)?;
    let list = history::list(
        &state,
        session.user_id,
        &stream,
        &request.channel_id,
        limit,
        forward,
        &request.cursor,
    )
    .await
    .map_err(|e| match e {
        HistoryError::CursorInvalid => ApiError::invalid("Cursor is invalid or expired."),
        HistoryError::GroupNotFound => ApiError::invalid("Group not found."),
        HistoryError::NotParticipant => invalid_channel(),
        HistoryError::Database => ApiError::internal("Error listing messages from channel."),
    })?;
    hooks::after(&state, &call, caller, ListChannelMessages, request, &list).await;
    Ok(Json(list))
}
