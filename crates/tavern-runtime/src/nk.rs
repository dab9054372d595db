//! `Nk`: the server functions game code may call, and the database for its own SQL.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::RuntimeError;
use crate::api;

/// A boxed, sendable future: what the server's side of [`Nk`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The database the server runs on, for a module's own tables and queries.
///
/// Write the query once per backend, or use SQL both understand (`$1` placeholders work in
/// both through sqlx). On SQLite this is the single writer connection: keep transactions short.
///
/// ```no_run
/// use tavern_runtime::{Database, RuntimeError, sqlx};
///
/// async fn count_players(db: &Database) -> Result<i64, RuntimeError> {
///     let sql = "SELECT COUNT(*) FROM users";
///     let count = match db {
///         Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
///         Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
///     };
///     count.map_err(|e| RuntimeError::internal(e.to_string()))
/// }
/// ```
#[derive(Debug, Clone)]
pub enum Database {
    /// The embedded SQLite database.
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL server.
    Postgres(sqlx::PgPool),
}

/// The server's implementation of [`Nk`]. Game code never implements or calls this; the
/// server implements it, and tests of a module may implement a fake.
pub trait NkBackend: Send + Sync + 'static {
    /// See [`Nk::account_get_id`].
    fn account_get_id(&self, user_id: String) -> BoxFuture<'_, Result<api::Account, RuntimeError>>;
    /// Users by ids and usernames together; see [`Nk::users_get_id`].
    fn users_get(
        &self,
        user_ids: Vec<String>,
        usernames: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>>;
    /// See [`Nk::account_update_id`].
    fn account_update_id(
        &self,
        user_id: String,
        update: api::UpdateAccountRequest,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::account_delete_id`].
    fn account_delete_id(&self, user_id: String) -> BoxFuture<'_, Result<(), RuntimeError>>;
}

/// The server functions available to game code (Nakama's `nk` module). Cheap to clone; every
/// callback receives one.
#[derive(Clone)]
pub struct Nk {
    backend: Arc<dyn NkBackend>,
    database: Database,
}

impl Nk {
    /// A handle over a backend and the server's database. The server builds it.
    pub fn new(backend: Arc<dyn NkBackend>, database: Database) -> Nk {
        Nk { backend, database }
    }

    /// The server's database, for custom SQL.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The account of a user: profile, wallet, email, devices, custom id.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed id and
    /// [`Code::NotFound`](crate::Code::NotFound) for an unknown one.
    pub async fn account_get_id(&self, user_id: &str) -> Result<api::Account, RuntimeError> {
        self.backend.account_get_id(user_id.to_owned()).await
    }

    /// The public profiles of users by id; unknown ids are left out.
    pub async fn users_get_id<S: AsRef<str>>(
        &self,
        user_ids: &[S],
    ) -> Result<Vec<api::User>, RuntimeError> {
        let ids = user_ids.iter().map(|s| s.as_ref().to_owned()).collect();
        self.backend.users_get(ids, Vec::new()).await
    }

    /// The public profiles of users by username; unknown names are left out.
    pub async fn users_get_username<S: AsRef<str>>(
        &self,
        usernames: &[S],
    ) -> Result<Vec<api::User>, RuntimeError> {
        let names = usernames.iter().map(|s| s.as_ref().to_owned()).collect();
        self.backend.users_get(Vec::new(), names).await
    }

    /// Updates a user's profile. Fields left `None` are unchanged; `Some("")` clears a field
    /// (except the username, which must be 1-128 bytes).
    pub async fn account_update_id(
        &self,
        user_id: &str,
        update: api::UpdateAccountRequest,
    ) -> Result<(), RuntimeError> {
        self.backend
            .account_update_id(user_id.to_owned(), update)
            .await
    }

    /// Deletes a user and everything the user owns.
    pub async fn account_delete_id(&self, user_id: &str) -> Result<(), RuntimeError> {
        self.backend.account_delete_id(user_id.to_owned()).await
    }
}

impl std::fmt::Debug for Nk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nk")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}
