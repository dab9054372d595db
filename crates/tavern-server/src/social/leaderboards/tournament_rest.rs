//! The tournament routes: list (`GET /v2/tournament`), join (`POST /v2/tournament/{id}/join`),
//! write (`POST`/`PUT /v2/tournament/{id}`, the body is the record), list records (`GET`) and
//! the window around an owner (`GET /v2/tournament/{id}/owner/{owner_id}`), with their hooks
//! and Nakama's messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use tavern_proto::api;
use tavern_runtime::Code;
use tavern_runtime::operation::{
    JoinTournament, ListTournamentRecords, ListTournamentRecordsAroundOwner, ListTournaments,
    WriteTournamentRecord,
};

use super::board::Operator;
use super::rest::{BAD_LIMIT, around_owner_id, int64, is_json_object, owner_ids, uint32};
use super::service::{LeaderboardError, ScoreWrite};
use super::tournament::TournamentFilter;
use crate::api::call_info::CallInfo;
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params, Session};
use crate::api::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;

const NOT_FOUND: &str = "Tournament not found.";

type RecordWrite = api::write_tournament_record_request::TournamentRecordWrite;

pub async fn list(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<api::TournamentList>, ApiError> {
    let request = api::ListTournamentsRequest {
        category_start: uint32(&params, "category_start")?,
        category_end: uint32(&params, "category_end")?,
        start_time: uint32(&params, "start_time")?,
        end_time: uint32(&params, "end_time")?,
        limit: params.int32(&["limit"])?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), ListTournaments, request).await?;
    let category_start = i64::from(request.category_start.unwrap_or(0));
    let mut category_end = 127;
    if let Some(end) = request.category_end {
        if end >= 128 {
            return Err(ApiError::invalid(
                "Tournament category end must be >=0 and <128.",
            ));
        }
        category_end = i64::from(end);
        if category_end < category_start {
            return Err(ApiError::invalid(
                "Tournament category end must be greater than category start.",
            ));
        }
    }
    let start_time = request.start_time.map_or(-1, i64::from);
    let end_time = match request.end_time {
        None => -1,
        Some(end) => {
            let end = i64::from(end);
            if end != 0 && end < start_time {
                return Err(ApiError::invalid(
                    "Tournament end time must be greater than start time.",
                ));
            }
            end
        }
    };
    let limit = match request.limit {
        None => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(_) => return Err(ApiError::invalid("Limit must be between 1 and 100.")),
    };
    let filter = TournamentFilter {
        category_start,
        category_end,
        start_time,
        end_time,
        limit,
    };
    let list = state
        .leaderboards
        .list_tournaments(filter, &request.cursor)
        .await
        .map_err(|e| match e {
            // Nakama answers a bad cursor with its bare error (gRPC Unknown).
            LeaderboardError::BadCursor => ApiError::new(Code::Unknown, e.to_string()),
            other => ApiError::database("Error listing tournaments.", other),
        })?;
    hooks::after(&state, &call, caller, ListTournaments, request, &list).await;
    Ok(Json(list))
}

pub async fn join(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(tournament_id) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::JoinTournamentRequest { tournament_id };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), JoinTournament, request).await?;
    state
        .leaderboards
        .join(&request.tournament_id, session.user_id, &session.username)
        .await
        .map_err(|e| match e {
            LeaderboardError::TournamentNotFound => ApiError::not_found(NOT_FOUND),
            LeaderboardError::MaxSizeReached => {
                ApiError::invalid("Tournament cannot be joined as it has reached its max size.")
            }
            LeaderboardError::OutsideDuration => {
                ApiError::invalid("Tournament is not active and cannot accept new joins.")
            }
            other => ApiError::database("Error while trying to join tournament.", other),
        })?;
    hooks::after(&state, &call, caller, JoinTournament, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

pub async fn write(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
    Body(record): Body<RecordWrite>,
) -> Result<Json<api::LeaderboardRecord>, ApiError> {
    let Path(tournament_id) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::WriteTournamentRecordRequest {
        tournament_id,
        record: Some(record),
    };
    let caller = session_caller(&session);
    let request = hooks::before(
        &state,
        &call,
        caller.clone(),
        WriteTournamentRecord,
        request,
    )
    .await?;
    if request.tournament_id.is_empty() {
        return Err(ApiError::invalid("Tournament ID must be provided."));
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
        .map_err(|()| ApiError::internal("Error writing score to tournament."))?;
    let write = ScoreWrite {
        owner: session.user_id,
        username: session.username.clone(),
        score: record.score,
        subscore: record.subscore,
        metadata: record.metadata,
        operator,
    };
    let precondition = |m: &str| ApiError::new(Code::FailedPrecondition, m);
    let written = state
        .leaderboards
        .write_tournament(Some(session.user_id), &request.tournament_id, write)
        .await
        .map_err(|e| match e {
            LeaderboardError::TournamentNotFound => ApiError::not_found(NOT_FOUND),
            LeaderboardError::MaxSizeReached => precondition("Tournament has reached max size."),
            LeaderboardError::TournamentAuthoritative => ApiError::new(
                Code::PermissionDenied,
                "Tournament only allows authoritative score submissions.",
            ),
            LeaderboardError::MaxNumScoreReached => {
                precondition("Reached allowed max number of score attempts.")
            }
            LeaderboardError::JoinRequired => {
                precondition("Must join tournament before attempting to write value.")
            }
            LeaderboardError::OutsideDuration => {
                precondition("Tournament is not active and cannot accept new scores.")
            }
            other => ApiError::database("Error writing score to tournament.", other),
        })?;
    hooks::after(
        &state,
        &call,
        caller,
        WriteTournamentRecord,
        request,
        &written,
    )
    .await;
    Ok(Json(written))
}

pub async fn list_records(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
    params: Params,
) -> Result<Json<api::TournamentRecordList>, ApiError> {
    let Path(tournament_id) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::ListTournamentRecordsRequest {
        tournament_id,
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
        ListTournamentRecords,
        request,
    )
    .await?;
    if request.tournament_id.is_empty() {
        return Err(ApiError::invalid("Tournament ID must be provided"));
    }
    let owners = owner_ids(&request.owner_ids)?;
    let limit = match request.limit {
        Some(n) if (1..=100).contains(&n) => Some(n as usize),
        Some(_) => return Err(ApiError::invalid(BAD_LIMIT)),
        None if owners.is_empty() || request.cursor.is_empty() => Some(10),
        None => None,
    };
    let list = state
        .leaderboards
        .list_tournament_records(
            &request.tournament_id,
            limit,
            &request.cursor,
            &owners,
            request.expiry.unwrap_or_default(),
        )
        .await
        .map_err(|e| match e {
            LeaderboardError::TournamentNotFound => ApiError::not_found(NOT_FOUND),
            LeaderboardError::OutsideDuration => ApiError::not_found("Tournament has ended."),
            LeaderboardError::BadCursor => ApiError::invalid("Cursor is invalid or expired."),
            other => ApiError::database("Error listing records from tournament.", other),
        })?;
    hooks::after(&state, &call, caller, ListTournamentRecords, request, &list).await;
    Ok(Json(list))
}

pub async fn around_owner(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<(String, String)>, PathRejection>,
    params: Params,
) -> Result<Json<api::TournamentRecordList>, ApiError> {
    let Path((tournament_id, owner_id)) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    let request = api::ListTournamentRecordsAroundOwnerRequest {
        tournament_id,
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
        ListTournamentRecordsAroundOwner,
        request,
    )
    .await?;
    if request.tournament_id.is_empty() {
        return Err(ApiError::invalid("Invalid tournament ID."));
    }
    let limit = match request.limit {
        None => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(_) => return Err(ApiError::invalid(BAD_LIMIT)),
    };
    let owner = around_owner_id(&request.owner_id)?;
    let list = state
        .leaderboards
        .tournament_around_owner(
            &request.tournament_id,
            owner,
            limit,
            &request.cursor,
            request.expiry.unwrap_or_default(),
        )
        .await
        .map_err(|e| match e {
            LeaderboardError::TournamentNotFound => ApiError::not_found(NOT_FOUND),
            other => ApiError::database("Error querying records from leaderboard.", other),
        })?;
    hooks::after(
        &state,
        &call,
        caller,
        ListTournamentRecordsAroundOwner,
        request,
        &list,
    )
    .await;
    Ok(Json(list))
}
