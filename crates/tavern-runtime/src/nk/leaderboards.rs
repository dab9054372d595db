//! Leaderboards and their records: the `Nk` functions and the part of the backend behind them.

use super::{BoxFuture, Nk, domain};
use crate::{RuntimeError, api};

/// The server's side of the leaderboards and their records functions of [`Nk`](super::Nk).
pub trait LeaderboardsBackend: Send + Sync {
    /// See [`Nk::leaderboard_create`].
    fn leaderboard_create(
        &self,
        create: LeaderboardCreate,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::leaderboard_delete`].
    fn leaderboard_delete(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::leaderboard_list`].
    fn leaderboard_list(
        &self,
        category_start: i64,
        category_end: i64,
        limit: i64,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::LeaderboardList, RuntimeError>>;
    /// See [`Nk::leaderboards_get_id`].
    fn leaderboards_get_id(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::Leaderboard>, RuntimeError>>;
    /// See [`Nk::leaderboard_records_list`].
    fn leaderboard_records_list(
        &self,
        id: String,
        owner_ids: Vec<String>,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecordList, RuntimeError>>;
    /// See [`Nk::leaderboard_record_write`].
    fn leaderboard_record_write(
        &self,
        write: LeaderboardRecordWrite,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecord, RuntimeError>>;
    /// See [`Nk::leaderboard_record_delete`].
    fn leaderboard_record_delete(
        &self,
        id: String,
        owner_id: String,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::leaderboard_records_haystack`].
    fn leaderboard_records_haystack(
        &self,
        id: String,
        owner_id: String,
        limit: i64,
        cursor: String,
        expiry: i64,
    ) -> BoxFuture<'_, Result<api::LeaderboardRecordList, RuntimeError>>;
}

/// A leaderboard to create with [`Nk::leaderboard_create`].
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderboardCreate {
    /// Not empty.
    pub id: String,
    /// Only server code may write its scores.
    pub authoritative: bool,
    /// `"desc"` (highest first, the default when empty) or `"asc"`.
    pub sort_order: String,
    /// How a new score combines with the stored one: `"best"` (the default when empty),
    /// `"set"`, `"incr"` or `"decr"`.
    pub operator: String,
    /// A cron expression (UTC): every record expires at each time it names. Empty: never.
    pub reset_schedule: String,
    /// A JSON object (`null` is an empty one).
    pub metadata: serde_json::Value,
}

impl LeaderboardCreate {
    /// A descending, non-authoritative "best" leaderboard that never resets.
    pub fn new(id: &str) -> LeaderboardCreate {
        LeaderboardCreate {
            id: id.to_owned(),
            authoritative: false,
            sort_order: "desc".to_owned(),
            operator: "best".to_owned(),
            reset_schedule: String::new(),
            metadata: serde_json::Value::Null,
        }
    }
}

/// A score to write with [`Nk::leaderboard_record_write`].
#[derive(Debug, Clone, PartialEq)]
pub struct LeaderboardRecordWrite {
    /// The leaderboard.
    pub id: String,
    /// Whose record: a user id (or any UUID the game uses, e.g. a group's).
    pub owner_id: String,
    /// Shown with the record; empty keeps the stored one.
    pub username: String,
    /// 0 or more.
    pub score: i64,
    /// 0 or more.
    pub subscore: i64,
    /// A JSON object replacing the record's metadata; `None` keeps it.
    pub metadata: Option<serde_json::Value>,
    /// Overrides the board's operator (`"best"`, `"set"`, `"incr"`, `"decr"`); `None` uses it.
    pub operator: Option<String>,
}

impl Nk {
    /// Creates a leaderboard; creating one that exists already leaves it unchanged. Call it
    /// from a module's init, as Nakama's games do.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for an empty id, a
    /// sort order or operator it does not know, a reset schedule that is not a cron
    /// expression, or metadata that is not an object.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::LeaderboardCreate;
    /// let weekly = LeaderboardCreate {
    ///     reset_schedule: "0 0 * * 1".into(), // Mondays at midnight UTC
    ///     ..LeaderboardCreate::new("weekly")
    /// };
    /// nk.leaderboard_create(weekly).await?;
    /// # Ok(()) }
    /// ```
    pub async fn leaderboard_create(&self, create: LeaderboardCreate) -> Result<(), RuntimeError> {
        domain(self.backend.leaderboards())?
            .leaderboard_create(create)
            .await
    }

    /// Deletes a leaderboard and all its records; an unknown id is not an error.
    pub async fn leaderboard_delete(&self, id: &str) -> Result<(), RuntimeError> {
        domain(self.backend.leaderboards())?
            .leaderboard_delete(id.to_owned())
            .await
    }

    /// A page of leaderboards whose category is in `category_start..=category_end` (0-127),
    /// `limit` 1-100 of them, from a cursor of a previous page ("" for the first).
    pub async fn leaderboard_list(
        &self,
        category_start: i64,
        category_end: i64,
        limit: i64,
        cursor: &str,
    ) -> Result<api::LeaderboardList, RuntimeError> {
        domain(self.backend.leaderboards())?
            .leaderboard_list(category_start, category_end, limit, cursor.to_owned())
            .await
    }

    /// Leaderboards by id; unknown ids are left out.
    pub async fn leaderboards_get_id<S: AsRef<str>>(
        &self,
        ids: &[S],
    ) -> Result<Vec<api::Leaderboard>, RuntimeError> {
        let ids = ids.iter().map(|s| s.as_ref().to_owned()).collect();
        domain(self.backend.leaderboards())?
            .leaderboards_get_id(ids)
            .await
    }

    /// A page of records in rank order (`limit` 1-10,000; 0 lists none) and the records of
    /// `owner_ids`, of the current period, or of the one that ended at `expiry` (unix
    /// seconds) when not 0.
    pub async fn leaderboard_records_list<S: AsRef<str>>(
        &self,
        id: &str,
        owner_ids: &[S],
        limit: i64,
        cursor: &str,
        expiry: i64,
    ) -> Result<api::LeaderboardRecordList, RuntimeError> {
        let owners = owner_ids.iter().map(|s| s.as_ref().to_owned()).collect();
        domain(self.backend.leaderboards())?
            .leaderboard_records_list(id.to_owned(), owners, limit, cursor.to_owned(), expiry)
            .await
    }

    /// Writes a score with the board's operator (or the one given), on any board, the
    /// authoritative ones too. Returns the record with its rank.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk, user_id: &str) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::LeaderboardRecordWrite;
    /// let record = nk
    ///     .leaderboard_record_write(LeaderboardRecordWrite {
    ///         id: "weekly".into(),
    ///         owner_id: user_id.into(),
    ///         username: String::new(),
    ///         score: 120,
    ///         subscore: 0,
    ///         metadata: None,
    ///         operator: None,
    ///     })
    ///     .await?;
    /// println!("rank {}", record.rank);
    /// # Ok(()) }
    /// ```
    pub async fn leaderboard_record_write(
        &self,
        write: LeaderboardRecordWrite,
    ) -> Result<api::LeaderboardRecord, RuntimeError> {
        domain(self.backend.leaderboards())?
            .leaderboard_record_write(write)
            .await
    }

    /// Deletes an owner's record of the current period, if there is one.
    pub async fn leaderboard_record_delete(
        &self,
        id: &str,
        owner_id: &str,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.leaderboards())?
            .leaderboard_record_delete(id.to_owned(), owner_id.to_owned())
            .await
    }

    /// Up to `limit` (1-100) records around an owner's, the owner's as near the middle as the
    /// board allows; with a cursor, a page from it.
    pub async fn leaderboard_records_haystack(
        &self,
        id: &str,
        owner_id: &str,
        limit: i64,
        cursor: &str,
        expiry: i64,
    ) -> Result<api::LeaderboardRecordList, RuntimeError> {
        domain(self.backend.leaderboards())?
            .leaderboard_records_haystack(
                id.to_owned(),
                owner_id.to_owned(),
                limit,
                cursor.to_owned(),
                expiry,
            )
            .await
    }
}
