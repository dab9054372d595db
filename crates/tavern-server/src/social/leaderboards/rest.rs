//! The leaderboard routes: write (`POST /v2/leaderboard/{id}`, the body is the record), delete
//! the caller's record (`DELETE`), list (`GET`) and the window around an owner
//! (`GET /v2/leaderboard/{id}/owner/{owner_id}`), with their hooks and Nakama's messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use tavern_proto::api;
use tavern_runtime::operation::{
    DeleteLeaderboardRecord, ListLeaderboardRecords, ListLeaderboardRecordsAroundOwner,
    WriteLeaderboardRecord,
};
use uuid::Uuid;

use super::board::Operator;
use super::service::{LeaderboardError, ScoreWrite};
use crate::api::call_info::CallInfo;
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params, Session};
use crate::api::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;

const BAD_ID: &str = "Invalid leaderboard ID.";
const NOT_FOUND: &str = "Leaderboard not found.";
pub(super) const BAD_LIMIT: &str = "Invalid limit - limit must be between 1 and 100.";

type RecordWrite = api::write_leaderboard_record_request::LeaderboardRecordWrite;

pub async fn write(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
    Body(record): Body<RecordWrite>,
) -> Result<Json<api::LeaderboardRecord>, ApiError> {
    let Path(leaderboard_id) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::WriteLeaderboardRecordRequest {
        leaderboard_id,
        record: Some(record),
    };
    let caller = session_caller(&session);
    let request = hooks::before(
        &state,
        &call,
        caller.clone(),
        WriteLeaderboardRecord,
        request,
    )
    .await?;
    if request.leaderboard_id.is_empty() {
        return Err(ApiError::invalid(BAD_ID));
    }
    let Some(record) = request.record.clone() else {
        return Err(ApiError::invalid(
            "Invalid input, record score value is required.",
        ));
    };
    if !record.metadata.is_empty() && !is_json_object(&record.metadata) {
        return Err(ApiError::invalid(
            "Metadata value must be JSON, if provided.",
        ));
    }
    let operator = Operator::from_wire(record.operator)
        .map_err(|()| ApiError::internal("Error writing score to leaderboard."))?;
    let write = ScoreWrite {
        owner: session.user_id,
        username: session.username.clone(),
        score: record.score,
        subscore: record.subscore,
        metadata: record.metadata,
        operator,
    };
    let written = state
        .leaderboards
        .write(Some(session.user_id), &request.leaderboard_id, write)
        .await
        .map_err(|e| match e {
            LeaderboardError::NotFound => ApiError::not_found(NOT_FOUND),
            LeaderboardError::Authoritative => ApiError::new(
                tavern_runtime::Code::PermissionDenied,
                "Leaderboard only allows authoritative score submissions.",
            ),
            other => ApiError::database("Error writing score to leaderboard.", other),
        })?;
    hooks::after(
        &state,
        &call,
        caller,
        WriteLeaderboardRecord,
        request,
        &written,
    )
    .await;
    Ok(Json(written))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(leaderboard_id) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::DeleteLeaderboardRecordRequest { leaderboard_id };
    let caller = session_caller(&session);
    let request = hooks::before(
        &state,
        &call,
        caller.clone(),
        DeleteLeaderboardRecord,
        request,
    )
    .await?;
    if request.leaderboard_id.is_empty() {
        return Err(ApiError::invalid(BAD_ID));
    }
    state
        .leaderboards
        .delete_record(
            Some(session.user_id),
            &request.leaderboard_id,
            session.user_id,
        )
        .await
        .map_err(|e| match e {
            LeaderboardError::NotFound => ApiError::not_found(NOT_FOUND),
            LeaderboardError::Authoritative => ApiError::new(
                tavern_runtime::Code::PermissionDenied,
                "Leaderboard only allows authoritative score deletions.",
            ),
            other => ApiError::database("Error deleting score from leaderboard.", other),
        })?;
    hooks::after(&state, &call, caller, DeleteLeaderboardRecord, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
    params: Params,
) -> Result<Json<api::LeaderboardRecordList>, ApiError> {
    let Path(leaderboard_id) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::ListLeaderboardRecordsRequest {
        leaderboard_id,
        owner_ids: params.all(&["owner_ids", "ownerIds"]),
        limit: params.int32(&["limit"])?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
        expiry: int64(&params, "expiry")?,
    };
    let caller = session_caller(&session);
    let request = hooks::before(
        &state,
        &call,
        caller.clone(),
        ListLeaderboardRecords,
        request,
    )
    .await?;
    if request.leaderboard_id.is_empty() {
        return Err(ApiError::invalid(BAD_ID));
    }
    let limit = match request.limit {
        None => 1,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(_) => return Err(ApiError::invalid(BAD_LIMIT)),
    };
    let owners = owner_ids(&request.owner_ids)?;
    let list = state
        .leaderboards
        .list_records(
            &request.leaderboard_id,
            Some(limit),
            &request.cursor,
            &owners,
            request.expiry.unwrap_or_default(),
        )
        .await
        .map_err(list_error)?;
    hooks::after(
        &state,
        &call,
        caller,
        ListLeaderboardRecords,
        request,
        &list,
    )
    .await;
    Ok(Json(list))
}

pub async fn around_owner(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<(String, String)>, PathRejection>,
    params: Params,
) -> Result<Json<api::LeaderboardRecordList>, ApiError> {
    let Path((leaderboard_id, owner_id)) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::ListLeaderboardRecordsAroundOwnerRequest {
        leaderboard_id,
        limit: uint32(&params, "limit")?,
        owner_id,
        expiry: int64(&params, "expiry")?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
    };
    let caller = session_caller(&session);
    let request = hooks::before(
        &state,
        &call,
        caller.clone(),
        ListLeaderboardRecordsAroundOwner,
        request,
    )
    .await?;
    if request.leaderboard_id.is_empty() {
        return Err(ApiError::invalid(BAD_ID));
    }
    let limit = around_owner_limit(request.limit)?;
    let owner = around_owner_id(&request.owner_id)?;
    let list = state
        .leaderboards
        .around_owner(
            &request.leaderboard_id,
            owner,
            limit,
            &request.cursor,
            request.expiry.unwrap_or_default(),
        )
        .await
        .map_err(|e| match e {
            LeaderboardError::NotFound => ApiError::not_found(NOT_FOUND),
            other => ApiError::database("Error querying records from leaderboard.", other),
        })?;
    hooks::after(
        &state,
        &call,
        caller,
        ListLeaderboardRecordsAroundOwner,
        request,
        &list,
    )
    .await;
    Ok(Json(list))
}

/// The limit of an around-owner query: 1 when absent, else 1..=100.
pub(super) fn around_owner_limit(limit: Option<u32>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(1),
        Some(n) if (1..=100).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::invalid(BAD_LIMIT)),
    }
}

/// The owner of an around-owner query, which must be given and be a UUID.
pub(super) fn around_owner_id(owner: &str) -> Result<Uuid, ApiError> {
    if owner.is_empty() {
        return Err(ApiError::invalid(
            "Owner ID must be provided for a haystack query.",
        ));
    }
    Uuid::parse_str(owner).map_err(|_| ApiError::invalid("Invalid owner ID provided."))
}

/// Owner ids to look up, each a UUID.
pub(super) fn owner_ids(ids: &[String]) -> Result<Vec<String>, ApiError> {
    ids.iter()
        .map(|id| {
            Uuid::parse_str(id)
                .map(|u| u.to_string())
                .map_err(|_| ApiError::invalid("One or more owner IDs are invalid."))
        })
        .collect()
}

/// A listing's failure as REST reports it.
pub(super) fn list_error(e: LeaderboardError) -> ApiError {
    match e {
        LeaderboardError::NotFound => ApiError::not_found(NOT_FOUND),
        LeaderboardError::BadCursor => ApiError::invalid("Cursor is invalid or expired."),
        other => ApiError::database("Error listing records from leaderboard.", other),
    }
}

/// Whether text is a JSON object (Nakama's metadata check).
pub(super) fn is_json_object(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.is_object())
}

/// An int64 query field, with grpc-gateway's message when it does not parse.
pub(super) fn int64(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    params
        .get(&[name])
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                ApiError::invalid(format!(
                    "parsing field \"{name}\": strconv.ParseInt: parsing {v:?}: invalid syntax"
                ))
            })
        })
        .transpose()
}

/// A uint32 query field, with grpc-gateway's message when it does not parse.
pub(super) fn uint32(params: &Params, name: &str) -> Result<Option<u32>, ApiError> {
    params
        .get(&[name])
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                ApiError::invalid(format!(
                    "parsing field \"{name}\": strconv.ParseUint: parsing {v:?}: invalid syntax"
                ))
            })
        })
        .transpose()
}
