//! `GET /v2/match`: list running matches by label or query, with Nakama's validation.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::api;

use super::error::ApiError;
use super::extract::{Params, Session};
use crate::matches::ListRequest;
use crate::realtime::stream::StreamMode;
use crate::state::AppState;
use tokio::sync::Semaphore;

pub async fn list(
    State(state): State<Arc<AppState>>,
    _session: Session,
    params: Params,
) -> Result<Json<api::MatchList>, ApiError> {
    let request = list_request(&params)?;
    Ok(Json(api::MatchList {
        matches: list_matches(state, request).await?,
    }))
}

/// Reads and checks the listing parameters.
fn list_request(params: &Params) -> Result<ListRequest, ApiError> {
    let limit = params.int32(&["limit"])?.unwrap_or(10);
    let authoritative = params.bool(&["authoritative"])?;
    let label = params.get(&["label"]).map(str::to_owned);
    let query = params.get(&["query"]).map(str::to_owned);
    let min_size = params.int32(&["min_size", "minSize"])?;
    let max_size = params.int32(&["max_size", "maxSize"])?;
    validate(
        limit,
        authoritative,
        label.is_some(),
        query.is_some(),
        min_size,
        max_size,
    )?;
    Ok(ListRequest {
        limit: limit as usize,
        authoritative,
        label,
        min_size: min_size.map(|n| n as usize),
        max_size: max_size.map(|n| n as usize),
        query,
    })
}

/// Nakama's listing rules, shared by REST and the runtime's match list.
pub fn validate(
    limit: i32,
    authoritative: Option<bool>,
    has_label: bool,
    has_query: bool,
    min_size: Option<i32>,
    max_size: Option<i32>,
) -> Result<(), ApiError> {
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "Invalid limit - limit must be between 1 and 100.",
        ));
    }
    if authoritative == Some(false) && has_label {
        return Err(ApiError::invalid(
            "Label filtering is not supported for non-authoritative matches.",
        ));
    }
    if authoritative == Some(false) && has_query {
        return Err(ApiError::invalid(
            "Query filtering is not supported for non-authoritative matches.",
        ));
    }
    if min_size.is_some_and(|n| n < 0) {
        return Err(ApiError::invalid("Minimum size must be 0 or above."));
    }
    if max_size.is_some_and(|n| n < 0) {
        return Err(ApiError::invalid("Maximum size must be 0 or above."));
    }
    if let (Some(min), Some(max)) = (min_size, max_size)
        && min > max
    {
        return Err(ApiError::invalid(
            "Maximum size must be greater than or equal to minimum size when both are specified.",
        ));
    }
    Ok(())
}

/// Listings (query parse and evaluation) running at once; more wait their turn.
static LISTINGS: Semaphore = Semaphore::const_new(2);

/// Lists authoritative and relayed matches for a validated request, on the blocking pool and
/// at most [`LISTINGS`] at once, so an expensive query never holds up the async workers (other
/// requests, sockets, match ticks).
pub async fn list_matches(
    state: Arc<AppState>,
    request: ListRequest,
) -> Result<Vec<api::Match>, ApiError> {
    let _turn = LISTINGS
        .acquire()
        .await
        .map_err(|_| ApiError::internal("match listing unavailable"))?;
    tokio::task::spawn_blocking(move || list_now(&state, &request))
        .await
        .map_err(|_| ApiError::internal("match listing failed"))?
}

fn list_now(state: &AppState, request: &ListRequest) -> Result<Vec<api::Match>, ApiError> {
    state
        .matches
        .list(request, || {
            state
                .realtime
                .tracker
                .streams_of_mode(StreamMode::MatchRelayed)
                .into_iter()
                .map(|(stream, size)| (format!("{}.", stream.subject), size))
                .collect()
        })
        .map_err(|e| ApiError::invalid(e.0))
}
