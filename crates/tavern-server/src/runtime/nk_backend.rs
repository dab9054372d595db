//! The server's implementation of the `Nk` functions game code calls.

use std::sync::{Arc, OnceLock, Weak};

use tavern_proto::api;
use tavern_runtime::{
    AccountsBackend, BoxFuture, ChannelsBackend, Code, FriendsBackend, GroupsBackend, HttpRequest,
    HttpResponse, LeaderboardsBackend, MatchFilter, NkBackend, NotificationsBackend,
    PartiesBackend, RuntimeError, StorageBackend, StreamsBackend, TournamentsBackend,
    WalletBackend,
};
use uuid::Uuid;

use crate::api::account::{delete_account, load_account, update_account};
use crate::api::matches::{list_matches, validate};
use crate::api::user::load_users;
use crate::matches::{CreateError, ListRequest, MatchRegistry};
use crate::realtime::stream::MatchId;
use crate::social::leaderboards::Leaderboards;
use crate::state::AppState;

/// `Nk` over the running server. Modules are loaded before the server state exists, so the
/// state is attached once it does; calls made before that (from a module's init) fail cleanly.
pub struct ServerNk {
    state: OnceLock<Weak<AppState>>,
    /// Ready before the server runs, so modules create their leaderboards in their init.
    leaderboards: Arc<Leaderboards>,
}

impl ServerNk {
    pub fn new(leaderboards: Arc<Leaderboards>) -> ServerNk {
        ServerNk {
            state: OnceLock::new(),
            leaderboards,
        }
    }

    /// The leaderboards, available from the modules' init on.
    pub(crate) fn leaderboards(&self) -> &Leaderboards {
        &self.leaderboards
    }

    /// Attaches the running server.
    pub fn attach(&self, state: &Arc<AppState>) {
        let _ = self.state.set(Arc::downgrade(state));
    }

    /// The running server, or `Code::Unavailable` before it runs (during module init).
    pub(crate) fn state(&self) -> Result<Arc<AppState>, RuntimeError> {
        self.state
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| RuntimeError::new("the server is not running", Code::Unavailable))
    }
}

/// A user id that must be a UUID, as Nakama's runtime checks it.
fn user_id(id: &str) -> Result<Uuid, RuntimeError> {
    Uuid::parse_str(id).map_err(|_| RuntimeError::invalid_argument("Invalid user ID."))
}

impl NkBackend for ServerNk {
    fn account_get_id(&self, id: String) -> BoxFuture<'_, Result<api::Account, RuntimeError>> {
        Box::pin(async move {
            let id = user_id(&id)?;
            let state = self.state()?;
            Ok(load_account(&state, id).await?)
        })
    }

    fn users_get(
        &self,
        user_ids: Vec<String>,
        usernames: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>> {
        Box::pin(async move {
            for id in &user_ids {
                user_id(id)?;
            }
            let state = self.state()?;
            Ok(load_users(&state, &user_ids, &usernames, &[]).await?)
        })
    }

    fn account_update_id(
        &self,
        id: String,
        update: api::UpdateAccountRequest,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let id = user_id(&id)?;
            Ok(update_account(&self.state()?.db, id, update, None).await?)
        })
    }

    fn account_metadata_update(
        &self,
        id: String,
        metadata: serde_json::Value,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let id = user_id(&id)?;
            if !metadata.is_object() {
                return Err(RuntimeError::invalid_argument("metadata must be an object"));
            }
            let update = api::UpdateAccountRequest::default();
            let metadata = Some(metadata.to_string());
            Ok(update_account(&self.state()?.db, id, update, metadata).await?)
        })
    }

    fn account_delete_id(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let id = user_id(&id)?;
            let state = self.state()?;
            Ok(delete_account(&state, id).await?)
        })
    }

    fn match_create(
        &self,
        module: String,
        params: serde_json::Value,
    ) -> BoxFuture<'_, Result<String, RuntimeError>> {
        Box::pin(async move {
            let state = self.state()?;
            MatchRegistry::create(&state, &module, &params)
                .await
                .map_err(|e| match e {
                    CreateError::Init(e) => e,
                    CreateError::UnknownHandler(_) => RuntimeError::not_found(e.to_string()),
                    CreateError::ShuttingDown => {
                        RuntimeError::new(e.to_string(), Code::Unavailable)
                    }
                })
        })
    }

    fn match_get(
        &self,
        match_id: String,
    ) -> BoxFuture<'_, Result<Option<api::Match>, RuntimeError>> {
        Box::pin(async move {
            let state = self.state()?;
            let id = MatchId::parse(&match_id)
                .ok_or_else(|| RuntimeError::invalid_argument("Invalid match ID."))?;
            Ok(state.matches.get(id.uuid, &id.node))
        })
    }

    fn match_list(
        &self,
        filter: MatchFilter,
    ) -> BoxFuture<'_, Result<Vec<api::Match>, RuntimeError>> {
        Box::pin(async move {
            let state = self.state()?;
            validate(
                filter.limit,
                filter.authoritative,
                filter.label.is_some(),
                filter.query.is_some(),
                filter.min_size,
                filter.max_size,
            )?;
            let request = ListRequest {
                limit: filter.limit as usize,
                authoritative: filter.authoritative,
                label: filter.label,
                min_size: filter.min_size.map(|n| n as usize),
                max_size: filter.max_size.map(|n| n as usize),
                query: filter.query,
            };
            Ok(list_matches(state, request).await?)
        })
    }

    fn match_signal(
        &self,
        match_id: String,
        data: String,
    ) -> BoxFuture<'_, Result<String, RuntimeError>> {
        Box::pin(async move { self.state()?.matches.signal(&match_id, data).await })
    }

    fn http_request(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'_, Result<HttpResponse, RuntimeError>> {
        Box::pin(super::http_client::send(request))
    }

    fn event(&self, event: api::Event) {
        if let Ok(state) = self.state() {
            let ctx = state.runtime.context(tavern_runtime::ExecutionMode::Event);
            state.runtime.event(&state, ctx, event);
        }
    }

    // Each social domain implements its trait in its own folder (`social/<domain>/nk.rs`).

    fn storage(&self) -> Option<&dyn StorageBackend> {
        Some(self)
    }

    fn wallet(&self) -> Option<&dyn WalletBackend> {
        Some(self)
    }

    fn accounts(&self) -> Option<&dyn AccountsBackend> {
        Some(self)
    }

    fn friends(&self) -> Option<&dyn FriendsBackend> {
        Some(self)
    }

    fn groups(&self) -> Option<&dyn GroupsBackend> {
        Some(self)
    }

    fn channels(&self) -> Option<&dyn ChannelsBackend> {
        Some(self)
    }

    fn notifications(&self) -> Option<&dyn NotificationsBackend> {
        Some(self)
    }

    fn streams(&self) -> Option<&dyn StreamsBackend> {
        Some(self)
    }

    fn leaderboards(&self) -> Option<&dyn LeaderboardsBackend> {
        Some(self)
    }

    fn tournaments(&self) -> Option<&dyn TournamentsBackend> {
        Some(self)
    }

    fn parties(&self) -> Option<&dyn PartiesBackend> {
        Some(self)
    }
}
