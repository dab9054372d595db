//! The server's side of the domain's `Nk` functions, with the checks and messages of Nakama's
//! runtime.

use tavern_proto::api;
use tavern_runtime::{
    BoxFuture, Code, LeaderboardCreate, LeaderboardRecordWrite, LeaderboardsBackend, RuntimeError,
    TournamentCreate, TournamentListFilter, TournamentsBackend,
};
use uuid::Uuid;

use super::board::{Operator, SortOrder};
use super::service::{LeaderboardError, NewLeaderboard, ScoreWrite};
use super::tournament::{NewTournament, TournamentFilter};
use crate::runtime::nk_backend::ServerNk;

impl LeaderboardsBackend for ServerNk {
    fn leaderboard_create(
        &self,
        create: LeaderboardCreate,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if create.id.is_empty() {
                return Err(invalid("expects a leaderboard ID string"));
            }
            let sort_order = sort_order(&create.sort_order)?;
            let operator = match create.operator.as_str() {
                "" => Operator::Best,
                name => Operator::from_name(name).ok_or_else(|| {
                    invalid("expects operator to be 'best', 'set', 'decr' or 'incr'")
                })?,
            };
            let new = NewLeaderboard {
                id: create.id,
                authoritative: create.authoritative,
                sort_order,
                operator,
                reset_schedule: create.reset_schedule,
                metadata: metadata_object(create.metadata)?,
            };
            self.leaderboards()
                .create(new)
                .await
                .map(|_| ())
                .map_err(|e| failed("error creating leaderboard", e))
        })
    }

    fn leaderboard_delete(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a leaderboard ID string"));
            }
            self.leaderboards()
                .delete(&id)
                .await
                .map_err(|e| failed("error deleting leaderboard", e))
        })
    }

    fn leaderboard_list(
        &self,
        category_start: i64,
        category_end: i64,
        limit: i64,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::LeaderboardList, RuntimeError>> {
        Box::pin(async move {
            if !(0..128).contains(&category_start) {
                return Err(invalid("categoryStart must be 0-127"));
            }
            if !(0..128).contains(&category_end) {
                return Err(invalid("categoryEnd must be 0-127"));
            }
            if category_start > category_end {
                return Err(invalid("categoryEnd must be >= categoryStart"));
            }
            if !(1..=100).contains(&limit) {
                return Err(invalid("limit must be 1-100"));
            }
            self.leaderboards()
                .list(category_start, category_end, limit as usize, &cursor)
                .map_err(|e| match e {
                    LeaderboardError::BadCursor => {
                        invalid("expects cursor to be valid when provided")
                    }
                    other => failed("error listing leaderboards", other),
                })
        })
    }

    fn leaderboards_get_id(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::Leaderboard>, RuntimeError>> {
        Box::pin(async move {
            if ids.iter().any(String::is_empty) {
                return Err(invalid("each leaderboard id must be a string"));
            }
            Ok(self.leaderboards().get_many(&ids))
        })
    }

    fn leaderboard_records_list(
        &self,
        id: String,
        owner_ids: Vec<String>,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecordList, RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a leaderboard ID string"));
            }
            let owners = owner_ids
                .iter()
                .map(|o| {
                    Uuid::parse_str(o)
                        .map(|u| u.to_string())
                        .map_err(|_| invalid("expects each owner ID to be a valid identifier"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if !(0..=10_000).contains(&limit) {
                return Err(invalid("expects limit to be 0-10000"));
            }
            if expiry < 0 {
                return Err(invalid("expects expiry to be 0 or more"));
            }
            let limit = (limit > 0).then_some(limit as usize);
            self.leaderboards()
                .list_records(&id, limit, &cursor, &owners, expiry)
                .await
                .map_err(|e| failed("error listing leaderboard records", e))
        })
    }

    fn leaderboard_record_write(
        &self,
        write: LeaderboardRecordWrite,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecord, RuntimeError>> {
        Box::pin(async move {
            let (id, score) = checked_write(write)?;
            self.leaderboards()
                .write(None, &id, score)
                .await
                .map_err(|e| failed("error writing leaderboard record", e))
        })
    }

    fn leaderboard_record_delete(
        &self,
        id: String,
        owner_id: String,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a leaderboard ID string"));
            }
            let owner = Uuid::parse_str(&owner_id)
                .map_err(|_| invalid("expects owner ID to be a valid identifier"))?;
            self.leaderboards()
                .delete_record(None, &id, owner)
                .await
                .map_err(|e| failed("error deleting leaderboard record", e))
        })
    }

    fn leaderboard_records_haystack(
        &self,
        id: String,
        owner_id: String,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecordList, RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a leaderboard ID string"));
            }
            let owner = Uuid::parse_str(&owner_id)
                .map_err(|_| invalid("expects user ID to be a valid identifier"))?;
            if !(1..=100).contains(&limit) {
                return Err(invalid("limit must be 1-100"));
            }
            if expiry < 0 {
                return Err(invalid(
                    "expiry should be time since epoch in seconds and has to be a positive integer",
                ));
            }
            self.leaderboards()
                .around_owner(&id, owner, limit as usize, &cursor, expiry)
                .await
                .map_err(|e| failed("error listing leaderboard records haystack", e))
        })
    }
}

/// A sort order by Nakama's runtime names ("" is descending).
pub(super) fn sort_order(name: &str) -> Result<SortOrder, RuntimeError> {
    match name {
        "" | "desc" | "descending" => Ok(SortOrder::Descending),
        "asc" | "ascending" => Ok(SortOrder::Ascending),
        _ => Err(invalid("expects sort order to be 'asc' or 'desc'")),
    }
}

/// Metadata as stored: a JSON object's text (`null` is `{}`).
pub(super) fn metadata_object(metadata: serde_json::Value) -> Result<String, RuntimeError> {
    match metadata {
        serde_json::Value::Null => Ok("{}".to_owned()),
        serde_json::Value::Object(map) => Ok(serde_json::Value::Object(map).to_string()),
        _ => Err(invalid("expects metadata to be a JSON object")),
    }
}

/// A runtime score write checked with Nakama's runtime rules: the board id and the score.
pub(super) fn checked_write(
    write: LeaderboardRecordWrite,
) -> Result<(String, ScoreWrite), RuntimeError> {
    if write.id.is_empty() {
        return Err(invalid("expects a leaderboard ID string"));
    }
    let owner = Uuid::parse_str(&write.owner_id)
        .map_err(|_| invalid("expects owner ID to be a valid identifier"))?;
    if write.score < 0 {
        return Err(invalid("expects score to be >= 0"));
    }
    if write.subscore < 0 {
        return Err(invalid("expects subscore to be >= 0"));
    }
    let metadata = match write.metadata {
        None => String::new(),
        Some(value) => metadata_object(value)?,
    };
    let operator = match write.operator.as_deref() {
        None | Some("") => None,
        Some(name) => Some(Operator::from_name(name).ok_or_else(|| invalid("invalid operator"))?),
    };
    Ok((
        write.id,
        ScoreWrite {
            owner,
            username: write.username,
            score: write.score,
            subscore: write.subscore,
            metadata,
            operator,
        },
    ))
}

fn invalid(message: &str) -> RuntimeError {
    RuntimeError::invalid_argument(message)
}

/// A failure with the message Nakama's runtime gives it.
pub(super) fn failed(context: &str, e: LeaderboardError) -> RuntimeError {
    match e {
        LeaderboardError::NotFound | LeaderboardError::TournamentNotFound => {
            RuntimeError::not_found(format!("{context}: {e}"))
        }
        LeaderboardError::Invalid(_) | LeaderboardError::BadCursor => {
            RuntimeError::invalid_argument(format!("{context}: {e}"))
        }
        LeaderboardError::Authoritative | LeaderboardError::TournamentAuthoritative => {
            RuntimeError::new(format!("{context}: {e}"), Code::PermissionDenied)
        }
        LeaderboardError::OutsideDuration
        | LeaderboardError::MaxSizeReached
        | LeaderboardError::MaxNumScoreReached
        | LeaderboardError::JoinRequired => {
            RuntimeError::new(format!("{context}: {e}"), Code::FailedPrecondition)
        }
        LeaderboardError::Sql(_) => {
            tracing::error!(error = %e, "{context}");
            RuntimeError::internal(context.to_owned())
        }
    }
}

impl TournamentsBackend for ServerNk {
    fn tournament_create(
        &self,
        create: TournamentCreate,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if create.id.is_empty() {
                return Err(invalid("expects a tournament ID string"));
            }
            let sort_order = sort_order(&create.sort_order)?;
            let operator = match create.operator.as_str() {
                "" => Operator::Best,
                name => Operator::from_name(name).ok_or_else(|| {
                    invalid("expects sort order to be 'best', 'set', 'decr' or 'incr'")
                })?,
            };
            if create.duration <= 0 {
                return Err(invalid("duration must be > 0"));
            }
            if !(0..128).contains(&create.category) {
                return Err(invalid("category must be 0-127"));
            }
            if create.start_time < 0 {
                return Err(invalid("startTime must be >= 0."));
            }
            if create.end_time != 0 && create.end_time <= create.start_time {
                return Err(invalid(
                    "endTime must be > startTime. Use 0 to indicate a tournament that never ends.",
                ));
            }
            if create.max_size < 0 {
                return Err(invalid("maxSize must be >= 0"));
            }
            if create.max_num_score < 0 {
                return Err(invalid("maxNumScore must be >= 0"));
            }
            let new = NewTournament {
                id: create.id,
                authoritative: create.authoritative,
                sort_order,
                operator,
                reset_schedule: create.reset_schedule,
                metadata: metadata_object(create.metadata)?,
                title: create.title,
                description: create.description,
                category: create.category,
                start_time: create.start_time,
                end_time: create.end_time,
                duration: create.duration,
                max_size: create.max_size,
                max_num_score: create.max_num_score,
                join_required: create.join_required,
            };
            self.leaderboards()
                .create_tournament(new)
                .await
                .map(|_| ())
                .map_err(|e| failed("error creating tournament", e))
        })
    }

    fn tournament_delete(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a tournament ID string"));
            }
            self.leaderboards()
                .delete(&id)
                .await
                .map_err(|e| failed("error deleting tournament", e))
        })
    }

    fn tournament_add_attempt(
        &self,
        id: String,
        owner_id: String,
        count: i64,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a tournament ID string"));
            }
            let owner = Uuid::parse_str(&owner_id)
                .map_err(|_| invalid("expects owner ID to be a valid identifier"))?;
            if count == 0 {
                return Err(invalid("expects an attempt count number != 0"));
            }
            self.leaderboards()
                .add_attempt(&id, owner, count)
                .await
                .map_err(|e| failed("error adding tournament attempts", e))
        })
    }

    fn tournament_join(
        &self,
        id: String,
        user_id: String,
        username: String,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a tournament ID string"));
            }
            let owner = Uuid::parse_str(&user_id)
                .map_err(|_| invalid("expects user ID to be a valid identifier"))?;
            if username.is_empty() {
                return Err(invalid("expects a username string"));
            }
            self.leaderboards()
                .join(&id, owner, &username)
                .await
                .map_err(|e| failed("error joining tournament", e))
        })
    }

    fn tournaments_get_id(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::Tournament>, RuntimeError>> {
        Box::pin(async move {
            if ids.iter().any(String::is_empty) {
                return Err(invalid("each tournament id must be a string"));
            }
            self.leaderboards()
                .tournaments_get(&ids)
                .await
                .map_err(|e| failed("failed to get tournaments", e))
        })
    }

    fn tournament_list(
        &self,
        filter: TournamentListFilter,
    ) -> BoxFuture<'_, Result<api::TournamentList, RuntimeError>> {
        Box::pin(async move {
            if !(0..128).contains(&filter.category_start) {
                return Err(invalid("categoryStart must be 0-127"));
            }
            if !(0..128).contains(&filter.category_end) {
                return Err(invalid("categoryEnd must be 0-127"));
            }
            if filter.category_start > filter.category_end {
                return Err(invalid("categoryEnd must be >= categoryStart"));
            }
            if filter.start_time < 0 {
                return Err(invalid("startTime must be >= 0"));
            }
            if filter.end_time > 0 && filter.end_time < filter.start_time {
                return Err(invalid("endTime must be >= startTime"));
            }
            if !(1..=100).contains(&filter.limit) {
                return Err(invalid("limit must be 1-100"));
            }
            let list_filter = TournamentFilter {
                category_start: filter.category_start,
                category_end: filter.category_end,
                start_time: filter.start_time,
                end_time: filter.end_time,
                limit: filter.limit as usize,
            };
            self.leaderboards()
                .list_tournaments(list_filter, &filter.cursor)
                .await
                .map_err(|e| match e {
                    LeaderboardError::BadCursor => {
                        invalid("expects cursor to be valid when provided")
                    }
                    other => failed("error listing tournaments", other),
                })
        })
    }

    fn tournament_records_list(
        &self,
        id: String,
        owner_ids: Vec<String>,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::TournamentRecordList, RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a tournament ID string"));
            }
            let owners = checked_owners(&owner_ids)?;
            if !(0..=10_000).contains(&limit) {
                return Err(invalid("expects limit to be 0-10000"));
            }
            let limit = (limit > 0).then_some(limit as usize);
            self.leaderboards()
                .list_tournament_records(&id, limit, &cursor, &owners, expiry)
                .await
                .map_err(|e| failed("error listing tournament records", e))
        })
    }

    fn tournament_record_write(
        &self,
        write: LeaderboardRecordWrite,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecord, RuntimeError>> {
        Box::pin(async move {
            if write.id.is_empty() {
                return Err(invalid("expects a tournament ID string"));
            }
            let (id, score) = checked_write(write)?;
            self.leaderboards()
                .write_tournament(None, &id, score)
                .await
                .map_err(|e| failed("error writing tournament record", e))
        })
    }

    fn tournament_records_haystack(
        &self,
        id: String,
        owner_id: String,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::TournamentRecordList, RuntimeError>> {
        Box::pin(async move {
            if id.is_empty() {
                return Err(invalid("expects a tournament ID string"));
            }
            let owner = Uuid::parse_str(&owner_id)
                .map_err(|_| invalid("expects user ID to be a valid identifier"))?;
            if !(1..=100).contains(&limit) {
                return Err(invalid("limit must be 1-100"));
            }
            if expiry < 0 {
                return Err(invalid(
                    "expiry should be time since epoch in seconds and has to be a positive integer",
                ));
            }
            self.leaderboards()
                .tournament_around_owner(&id, owner, limit as usize, &cursor, expiry)
                .await
                .map_err(|e| failed("error listing tournament records haystack", e))
        })
    }
}

/// Owner ids that must each be a UUID, in their canonical text.
fn checked_owners(ids: &[String]) -> Result<Vec<String>, RuntimeError> {
    ids.iter()
        .map(|o| {
            Uuid::parse_str(o)
                .map(|u| u.to_string())
                .map_err(|_| invalid("expects each owner ID to be a valid identifier"))
        })
        .collect()
}
