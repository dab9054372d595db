//! `GET /v2/matchmaker/stats`: the pool size, its oldest ticket and the last completions.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::{Timestamp, api};

use super::error::ApiError;
use super::extract::Session;
use crate::state::AppState;

fn timestamp(unix_nanos: i64) -> Timestamp {
    Timestamp::new(
        unix_nanos.div_euclid(1_000_000_000),
        unix_nanos.rem_euclid(1_000_000_000) as i32,
    )
}

pub async fn stats(
    State(state): State<Arc<AppState>>,
    _session: Session,
) -> Result<Json<api::MatchmakerStats>, ApiError> {
    let stats = state.matchmaker.pool().stats();
    Ok(Json(api::MatchmakerStats {
        ticket_count: stats.ticket_count as i32,
        oldest_ticket_create_time: stats.oldest_ticket_create_time.map(timestamp),
        completions: stats
            .completions
            .iter()
            .map(|c| api::MatchmakerCompletionStats {
                create_time: Some(timestamp(c.create_time)),
                complete_time: Some(timestamp(c.complete_time)),
            })
            .collect(),
    }))
}
