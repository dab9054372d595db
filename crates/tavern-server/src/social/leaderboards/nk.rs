//! The server's side of the domain's `Nk` functions, with the checks and messages of Nakama's
//! runtime.

use tavern_proto::api;
use tavern_runtime::{
    BoxFuture, Code, LeaderboardCreate, LeaderboardRecordWrite, LeaderboardsBackend, RuntimeError,
};
use uuid::Uuid;

use super::board::{Operator, SortOrder};
use super::service::{LeaderboardError, NewLeaderboard, ScoreWrite};
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
        LeaderboardError::NotFound => RuntimeError::not_found(format!("{context}: {e}")),
        LeaderboardError::Invalid(_) | LeaderboardError::BadCursor => {
            RuntimeError::invalid_argument(format!("{context}: {e}"))
        }
        LeaderboardError::Authoritative => {
            RuntimeError::new(format!("{context}: {e}"), Code::PermissionDenied)
        }
        LeaderboardError::Sql(_) => {
            tracing::error!(error = %e, "{context}");
            RuntimeError::internal(context.to_owned())
        }
    }
}
