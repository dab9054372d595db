//! Tournaments: the `Nk` functions and the part of the backend behind them. A tournament's
//! records are written, listed and deleted with the leaderboard functions too.

use super::{BoxFuture, Nk, domain};
use crate::{RuntimeError, api};

/// The server's side of the tournament functions of [`Nk`](super::Nk).
pub trait TournamentsBackend: Send + Sync {
    /// See [`Nk::tournament_create`].
    fn tournament_create(
        &self,
        create: TournamentCreate,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::tournament_delete`].
    fn tournament_delete(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::tournament_add_attempt`].
    fn tournament_add_attempt(
        &self,
        id: String,
        owner_id: String,
        count: i64,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::tournament_join`].
    fn tournament_join(
        &self,
        id: String,
        user_id: String,
        username: String,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::tournaments_get_id`].
    fn tournaments_get_id(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::Tournament>, RuntimeError>>;
    /// See [`Nk::tournament_list`].
    fn tournament_list(
        &self,
        filter: TournamentListFilter,
    ) -> BoxFuture<'_, Result<api::TournamentList, RuntimeError>>;
    /// See [`Nk::tournament_records_list`].
    fn tournament_records_list(
        &self,
        id: String,
        owner_ids: Vec<String>,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::TournamentRecordList, RuntimeError>>;
    /// See [`Nk::tournament_record_write`].
    fn tournament_record_write(
        &self,
        write: super::LeaderboardRecordWrite,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecord, RuntimeError>>;
    /// See [`Nk::tournament_records_haystack`].
    fn tournament_records_haystack(
        &self,
        id: String,
        owner_id: String,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::TournamentRecordList, RuntimeError>>;
}

/// A tournament to create with [`Nk::tournament_create`].
#[derive(Debug, Clone, PartialEq)]
pub struct TournamentCreate {
    /// Not empty.
    pub id: String,
    /// Only server code may write its scores (Nakama's Lua default).
    pub authoritative: bool,
    /// `"desc"` (the default when empty) or `"asc"`.
    pub sort_order: String,
    /// `"best"` (the default when empty), `"set"`, `"incr"` or `"decr"`.
    pub operator: String,
    /// Seconds each period takes scores for, after it opens; more than 0.
    pub duration: i64,
    /// A cron expression (UTC): a new period opens at each time it names. Empty: one period.
    pub reset_schedule: String,
    /// A JSON object (`null` is an empty one).
    pub metadata: serde_json::Value,
    pub title: String,
    pub description: String,
    /// 0-127.
    pub category: i64,
    /// Unix seconds; 0: now.
    pub start_time: i64,
    /// Unix seconds; 0: never ends.
    pub end_time: i64,
    /// Most players in a period; 0: no limit.
    pub max_size: i64,
    /// Most submissions per player and period; 0: Nakama's default (1,000,000).
    pub max_num_score: i64,
    /// Players must join ([`Nk::tournament_join`] or `POST /v2/tournament/{id}/join`) before
    /// writing.
    pub join_required: bool,
}

impl TournamentCreate {
    /// An authoritative, descending "best" tournament open now for `duration` seconds.
    pub fn new(id: &str, duration: i64) -> TournamentCreate {
        TournamentCreate {
            id: id.to_owned(),
            authoritative: true,
            sort_order: "desc".to_owned(),
            operator: "best".to_owned(),
            duration,
            reset_schedule: String::new(),
            metadata: serde_json::Value::Null,
            title: String::new(),
            description: String::new(),
            category: 0,
            start_time: 0,
            end_time: 0,
            max_size: 0,
            max_num_score: 0,
            join_required: false,
        }
    }
}

/// Which tournaments [`Nk::tournament_list`] lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TournamentListFilter {
    /// 0-127.
    pub category_start: i64,
    /// 0-127, at least `category_start`.
    pub category_end: i64,
    /// Only those starting at or after this (unix seconds); 0: any.
    pub start_time: i64,
    /// Only those ending by this (unix seconds); 0: those that never end; -1: those not ended.
    pub end_time: i64,
    /// 1-100.
    pub limit: i64,
    pub cursor: String,
}

impl Default for TournamentListFilter {
    fn default() -> TournamentListFilter {
        TournamentListFilter {
            category_start: 0,
            category_end: 127,
            start_time: 0,
            end_time: -1,
            limit: 10,
            cursor: String::new(),
        }
    }
}

impl Nk {
    /// Creates a tournament; creating one that exists already leaves it unchanged.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for an empty id, a
    /// duration not above 0, an unknown sort order or operator, a schedule that is not a cron
    /// expression, an end before the start or before the first reset, or an id a leaderboard
    /// has.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::TournamentCreate;
    /// let daily = TournamentCreate {
    ///     reset_schedule: "0 12 * * *".into(), // opens at noon UTC
    ///     max_num_score: 3,
    ///     join_required: true,
    ///     ..TournamentCreate::new("daily-race", 3600)
    /// };
    /// nk.tournament_create(daily).await?;
    /// # Ok(()) }
    /// ```
    pub async fn tournament_create(&self, create: TournamentCreate) -> Result<(), RuntimeError> {
        domain(self.backend.tournaments())?
            .tournament_create(create)
            .await
    }

    /// Deletes a tournament and its records; an unknown id is not an error.
    pub async fn tournament_delete(&self, id: &str) -> Result<(), RuntimeError> {
        domain(self.backend.tournaments())?
            .tournament_delete(id.to_owned())
            .await
    }

    /// Gives a player `count` more submissions (fewer when negative) in the current period.
    pub async fn tournament_add_attempt(
        &self,
        id: &str,
        owner_id: &str,
        count: i64,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.tournaments())?
            .tournament_add_attempt(id.to_owned(), owner_id.to_owned(), count)
            .await
    }

    /// Joins a user to a tournament's current period (a record with score 0).
    pub async fn tournament_join(
        &self,
        id: &str,
        user_id: &str,
        username: &str,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.tournaments())?
            .tournament_join(id.to_owned(), user_id.to_owned(), username.to_owned())
            .await
    }

    /// Tournaments by id; unknown ids are left out.
    pub async fn tournaments_get_id<S: AsRef<str>>(
        &self,
        ids: &[S],
    ) -> Result<Vec<api::Tournament>, RuntimeError> {
        let ids = ids.iter().map(|s| s.as_ref().to_owned()).collect();
        domain(self.backend.tournaments())?
            .tournaments_get_id(ids)
            .await
    }

    /// A page of tournaments matching the filter.
    pub async fn tournament_list(
        &self,
        filter: TournamentListFilter,
    ) -> Result<api::TournamentList, RuntimeError> {
        domain(self.backend.tournaments())?
            .tournament_list(filter)
            .await
    }

    /// A page of a tournament's records and the records of `owner_ids`, as
    /// [`Nk::leaderboard_records_list`].
    pub async fn tournament_records_list<S: AsRef<str>>(
        &self,
        id: &str,
        owner_ids: &[S],
        limit: i64,
        cursor: &str,
        expiry: i64,
    ) -> Result<api::TournamentRecordList, RuntimeError> {
        let owners = owner_ids.iter().map(|s| s.as_ref().to_owned()).collect();
        domain(self.backend.tournaments())?
            .tournament_records_list(id.to_owned(), owners, limit, cursor.to_owned(), expiry)
            .await
    }

    /// Writes a score to a tournament with its rules (active period, joining, size, number of
    /// submissions); `write.id` names the tournament.
    pub async fn tournament_record_write(
        &self,
        write: super::LeaderboardRecordWrite,
    ) -> Result<api::LeaderboardRecord, RuntimeError> {
        domain(self.backend.tournaments())?
            .tournament_record_write(write)
            .await
    }

    /// The records around an owner's in a tournament, as
    /// [`Nk::leaderboard_records_haystack`].
    pub async fn tournament_records_haystack(
        &self,
        id: &str,
        owner_id: &str,
        limit: i64,
        cursor: &str,
        expiry: i64,
    ) -> Result<api::TournamentRecordList, RuntimeError> {
        domain(self.backend.tournaments())?
            .tournament_records_haystack(
                id.to_owned(),
                owner_id.to_owned(),
                limit,
                cursor.to_owned(),
                expiry,
            )
            .await
    }
}
