//! The API game code is written against: everything a Tavern module may use, and nothing of the
//! server's internals. A module written against this crate keeps compiling when the server changes.
//!
//! A module is a function that receives an [`Initializer`] and registers callbacks with it:
//! RPCs, before and after hooks of REST operations and realtime messages, and the
//! matchmaker-matched hook. Every callback is `async`, receives a [`Context`] and an [`Nk`]
//! handle of server functions, and fails with a [`RuntimeError`] carrying a gRPC [`Code`].
//!
//! ```
//! use tavern_runtime::{Initializer, Module, RuntimeError};
//!
//! fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
//!     init.register_rpc("echo", |_ctx, _nk, payload| async move { Ok(payload) });
//!     init.logger().info("my_game loaded");
//!     Ok(())
//! }
//!
//! pub fn module() -> Module {
//!     Module::new("my_game", init)
//! }
//! ```
//!
//! The `tavern` crate runs a server with a list of modules; `docs/RUNTIME.md` walks through it.

mod catch_panic;
mod context;
pub mod crypto;
mod error;
pub mod fleet;
mod http;
mod initializer;
mod localcache;
mod logger;
pub mod matches;
mod matchmaker;
mod message_kind;
mod module;
mod nk;
pub mod operation;
mod presence;
pub mod registry;

pub use catch_panic::PANIC_MESSAGE;
pub use context::{Caller, Context, ExecutionMode, UserSession};
pub use error::{Code, RuntimeError};
pub use fleet::{Fleet, FleetManager};
pub use http::{HttpRequest, HttpResponse};
pub use initializer::Initializer;
pub use localcache::LocalCache;
pub use logger::Logger;
pub use matchmaker::MatchmakerEntry;
pub use message_kind::MessageKind;
pub use module::{InitFn, Module, Origin, select_modules};
pub use nk::{
    AccountUpdate, AccountsBackend, Balances, BoxFuture, CUSTOM_PREFIX, ChannelSender, ChannelType,
    ChannelsBackend, Database, FriendsBackend, FriendsChange, GroupCreate, GroupUpdate,
    GroupUsersChange, GroupsBackend, GroupsFilter, Identity, LeaderboardCreate,
    LeaderboardRecordWrite, LeaderboardsBackend, MatchFilter, Metadata, MultiUpdateResult, Nk,
    NkBackend, NotificationDelete, NotificationSend, NotificationsBackend, PartiesBackend,
    PresenceMeta, SYSTEM_USER_ID, StorageBackend, StorageDelete, StorageRead, StorageWrite,
    StreamId, StreamPresence, StreamsBackend, TournamentCreate, TournamentListFilter,
    TournamentsBackend, WalletBackend, WalletLedgerItem, WalletLedgerList, WalletUpdate,
    WalletUpdateResult,
};
pub use presence::Presence;

/// The SQL toolkit the [`Database`] pools come from, for a module's own queries.
pub use sqlx;
/// The client API messages (`nakama.api`): requests and responses of the REST operations.
pub use tavern_proto::api;
/// The realtime messages (`nakama.realtime`): the socket [`realtime::Envelope`] and its members.
pub use tavern_proto::realtime;
