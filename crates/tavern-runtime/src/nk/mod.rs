//! `Nk`: the server functions game code may call, and the database for its own SQL.
//!
//! This file holds the handle and the accounts, matches and HTTP functions; each social domain
//! has a file of its own with its `Nk` functions and the backend trait the server implements.

mod accounts;
mod channels;
mod events;
mod friends;
mod groups;
mod leaderboards;
mod metrics;
mod notifications;
mod parties;
mod storage;
mod streams;
mod tournaments;
mod wallet;

pub use accounts::{AccountsBackend, Identity};
pub use channels::{ChannelSender, ChannelType, ChannelsBackend};
pub use friends::{FriendsBackend, FriendsChange};
pub use groups::{GroupCreate, GroupUpdate, GroupUsersChange, GroupsBackend, GroupsFilter};
pub use leaderboards::{LeaderboardCreate, LeaderboardRecordWrite, LeaderboardsBackend};
pub use metrics::CUSTOM_PREFIX;
pub use notifications::{NotificationDelete, NotificationSend, NotificationsBackend};
pub use parties::PartiesBackend;
pub use storage::{SYSTEM_USER_ID, StorageBackend, StorageDelete, StorageRead, StorageWrite};
pub use streams::{PresenceMeta, StreamId, StreamPresence, StreamsBackend};
pub use tournaments::{TournamentCreate, TournamentListFilter, TournamentsBackend};
pub use wallet::{
    AccountUpdate, Balances, Metadata, MultiUpdateResult, WalletBackend, WalletLedgerItem,
    WalletLedgerList, WalletUpdate, WalletUpdateResult,
};

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use crate::api;
use crate::fleet::Fleet;
use crate::http::{HttpRequest, HttpResponse};
use crate::localcache::LocalCache;
use crate::{Code, RuntimeError};

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
    /// See [`Nk::account_metadata_update`]. Backends without it (test fakes) keep the default.
    fn account_metadata_update(
        &self,
        _user_id: String,
        _metadata: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        unavailable()
    }
    /// See [`Nk::match_create`]. Backends without matches (test fakes) keep the default.
    fn match_create(
        &self,
        _module: String,
        _params: serde_json::Value,
    ) -> BoxFuture<'_, Result<String, RuntimeError>> {
        unavailable()
    }
    /// See [`Nk::match_get`].
    fn match_get(
        &self,
        _match_id: String,
    ) -> BoxFuture<'_, Result<Option<api::Match>, RuntimeError>> {
        unavailable()
    }
    /// See [`Nk::match_list`].
    fn match_list(
        &self,
        _filter: MatchFilter,
    ) -> BoxFuture<'_, Result<Vec<api::Match>, RuntimeError>> {
        unavailable()
    }
    /// See [`Nk::match_signal`].
    fn match_signal(
        &self,
        _match_id: String,
        _data: String,
    ) -> BoxFuture<'_, Result<String, RuntimeError>> {
        unavailable()
    }
    /// See [`Nk::http_request`].
    fn http_request(
        &self,
        _request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, RuntimeError>> {
        unavailable()
    }
    /// Queues `event` for the registered event handlers; without a server it is dropped.
    fn event(&self, _event: api::Event) {}

    // Each social domain's functions, in a trait of its own (one file per domain in
    // `nk/`). A backend without a domain (a test fake) keeps the default `None`, and the
    // domain's `Nk` functions fail with `Code::Unimplemented`.

    /// Storage objects: see [`StorageBackend`].
    fn storage(&self) -> Option<&dyn StorageBackend> {
        None
    }
    /// Wallets and their ledgers: see [`WalletBackend`].
    fn wallet(&self) -> Option<&dyn WalletBackend> {
        None
    }
    /// Links, unlinks and bans: see [`AccountsBackend`].
    fn accounts(&self) -> Option<&dyn AccountsBackend> {
        None
    }
    /// Friends: see [`FriendsBackend`].
    fn friends(&self) -> Option<&dyn FriendsBackend> {
        None
    }
    /// Groups: see [`GroupsBackend`].
    fn groups(&self) -> Option<&dyn GroupsBackend> {
        None
    }
    /// Chat channels: see [`ChannelsBackend`].
    fn channels(&self) -> Option<&dyn ChannelsBackend> {
        None
    }
    /// Notifications: see [`NotificationsBackend`].
    fn notifications(&self) -> Option<&dyn NotificationsBackend> {
        None
    }
    /// Streams and presences: see [`StreamsBackend`].
    fn streams(&self) -> Option<&dyn StreamsBackend> {
        None
    }
    /// Leaderboards: see [`LeaderboardsBackend`].
    fn leaderboards(&self) -> Option<&dyn LeaderboardsBackend> {
        None
    }
    /// Tournaments: see [`TournamentsBackend`].
    fn tournaments(&self) -> Option<&dyn TournamentsBackend> {
        None
    }
    /// Parties: see [`PartiesBackend`].
    fn parties(&self) -> Option<&dyn PartiesBackend> {
        None
    }
}

/// The answer of a backend that does not offer a function.
fn unavailable<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, RuntimeError>> {
    Box::pin(async { Err(not_offered()) })
}

/// The error of a function the backend does not offer.
fn not_offered() -> RuntimeError {
    RuntimeError::new("not available on this server", Code::Unimplemented)
}

/// A domain of the backend, or the error of a backend without it:
/// `domain(self.backend.storage())?.storage_read(..)`.
fn domain<T: ?Sized>(backend: Option<&T>) -> Result<&T, RuntimeError> {
    backend.ok_or_else(not_offered)
}

/// What [`Nk::match_list`] looks for; the defaults list up to 10 matches of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchFilter {
    /// 1..=100.
    pub limit: i32,
    /// `Some(true)`: authoritative only; `Some(false)`: relayed only.
    pub authoritative: Option<bool>,
    /// Exact label.
    pub label: Option<String>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    /// A query over the JSON label, e.g. `+label.mode:duel +label.open:T`.
    pub query: Option<String>,
}

impl Default for MatchFilter {
    fn default() -> MatchFilter {
        MatchFilter {
            limit: 10,
            authoritative: None,
            label: None,
            min_size: None,
            max_size: None,
            query: None,
        }
    }
}

/// The server functions available to game code (Nakama's `nk` module). Cheap to clone; every
/// callback receives one.
#[derive(Clone)]
pub struct Nk {
    backend: Arc<dyn NkBackend>,
    database: Database,
    fleet: Arc<RwLock<Option<Fleet>>>,
    localcache: Arc<LocalCache>,
}

impl Nk {
    /// A handle over a backend and the server's database. The server builds it.
    pub fn new(backend: Arc<dyn NkBackend>, database: Database) -> Nk {
        Nk {
            backend,
            database,
            fleet: Arc::new(RwLock::new(None)),
            localcache: Arc::default(),
        }
    }

    /// The registered fleet manager, for dedicated game servers.
    ///
    /// Fails with [`Code::FailedPrecondition`] when none is registered (on the `tavern` binary:
    /// when `fleet.odin.app_id` is not set).
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk) -> Result<(), tavern_runtime::RuntimeError> {
    /// let page = nk.fleet()?.list(r#"{"Metadata":{"instance_state":"idle"}}"#, 10, "").await?;
    /// for instance in page.instances {
    ///     println!("{} at {:?}", instance.id, instance.connection_info);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn fleet(&self) -> Result<Fleet, RuntimeError> {
        self.fleet
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                RuntimeError::new("no fleet manager is registered", Code::FailedPrecondition)
            })
    }

    /// Makes `fleet` the one [`Nk::fleet`] returns, on every clone of this handle.
    pub(crate) fn set_fleet(&self, fleet: Fleet) {
        *self
            .fleet
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fleet);
    }

    /// The node's local cache, shared by every runtime of this node.
    pub fn localcache(&self) -> &LocalCache {
        &self.localcache
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

    /// Replaces a user's metadata, a JSON object that clients can read but only server code can
    /// write (Nakama's `AccountUpdateId` with metadata).
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed id or
    /// metadata that is not an object, and [`Code::NotFound`](crate::Code::NotFound) for an
    /// unknown user.
    pub async fn account_metadata_update(
        &self,
        user_id: &str,
        metadata: serde_json::Value,
    ) -> Result<(), RuntimeError> {
        self.backend
            .account_metadata_update(user_id.to_owned(), metadata)
            .await
    }

    /// Deletes a user and everything the user owns.
    pub async fn account_delete_id(&self, user_id: &str) -> Result<(), RuntimeError> {
        self.backend.account_delete_id(user_id.to_owned()).await
    }
    /// Starts an authoritative match of a registered handler with parameters for its `init`;
    /// returns the match id `<uuid>.<node>`.
    pub async fn match_create(
        &self,
        module: &str,
        params: serde_json::Value,
    ) -> Result<String, RuntimeError> {
        self.backend.match_create(module.to_owned(), params).await
    }

    /// A running match by id, or `None`.
    pub async fn match_get(&self, match_id: &str) -> Result<Option<api::Match>, RuntimeError> {
        self.backend.match_get(match_id.to_owned()).await
    }

    /// Lists matches as `GET /v2/match` does.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::MatchFilter;
    /// let open = nk
    ///     .match_list(MatchFilter {
    ///         authoritative: Some(true),
    ///         query: Some("+label.open:T".into()),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn match_list(&self, filter: MatchFilter) -> Result<Vec<api::Match>, RuntimeError> {
        self.backend.match_list(filter).await
    }

    /// Sends an HTTP request and returns the answer, whatever its status. Fails with
    /// [`Code::InvalidArgument`] for a bad URL or method and [`Code::Unavailable`] when the
    /// request cannot be completed in time.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::HttpRequest;
    /// let request = HttpRequest::new("POST", "http://10.0.0.5:8080/match/start")
    ///     .json(&serde_json::json!({"match_id": "m1"}));
    /// let response = nk.http_request(request).await?;
    /// assert_eq!(response.status, 200);
    /// # Ok(()) }
    /// ```
    pub async fn http_request(&self, request: HttpRequest) -> Result<HttpResponse, RuntimeError> {
        self.backend.http_request(request).await
    }

    /// Sends data to a match's `signal` callback and returns its reply.
    pub async fn match_signal(&self, match_id: &str, data: &str) -> Result<String, RuntimeError> {
        self.backend
            .match_signal(match_id.to_owned(), data.to_owned())
            .await
    }
}

impl std::fmt::Debug for Nk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nk")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}
