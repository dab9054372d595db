//! The server's side of the runtime: the callbacks every module registered, and the functions
//! the server calls them through. Game code does not need this, except to test its module
//! without a server.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::catch_panic::{guarded, guarded_sync};
use crate::fleet::{Fleet, FleetCallbacks, FleetManager};
use crate::matches::MatchFactory;
use crate::matchmaker::MatchmakerEntry;
use crate::message_kind::MessageKind;
use crate::module::{Module, Origin};
use crate::nk::BoxFuture;
use crate::operation::Operation;
use crate::realtime::Envelope;
use crate::{Context, ExecutionMode, Initializer, Logger, Nk, RuntimeError, api};

pub(crate) type RpcFn = Arc<
    dyn Fn(Context, Nk, String) -> BoxFuture<'static, Result<String, RuntimeError>> + Send + Sync,
>;
pub(crate) type BeforeFn<T> = Arc<
    dyn Fn(Context, Nk, T) -> BoxFuture<'static, Result<Option<T>, RuntimeError>> + Send + Sync,
>;
pub(crate) type AfterFn<Req, Res> = Arc<
    dyn Fn(Context, Nk, Req, Res) -> BoxFuture<'static, Result<(), RuntimeError>> + Send + Sync,
>;
pub(crate) type AfterRealtimeFn = AfterFn<Envelope, Option<Envelope>>;
pub(crate) type MatchedFn = Arc<
    dyn Fn(
            Context,
            Nk,
            Vec<MatchmakerEntry>,
        ) -> BoxFuture<'static, Result<Option<String>, RuntimeError>>
        + Send
        + Sync,
>;

pub(crate) type EventFn = Arc<
    dyn Fn(Context, Nk, api::Event) -> BoxFuture<'static, Result<(), RuntimeError>> + Send + Sync,
>;

/// A registered callback and the logger of the module that registered it./// A leaderboard's reset callback: the board as it was just before the reset, and the reset
/// time (unix seconds).
pub(crate) type LeaderboardResetFn = Arc<
    dyn Fn(Context, Nk, api::Leaderboard, i64) -> BoxFuture<'static, Result<(), RuntimeError>>
        + Send
        + Sync,
>;
/// A tournament's end or reset callback: the tournament, the end of its active period and its
/// next reset (unix seconds).
pub(crate) type TournamentFn = Arc<
    dyn Fn(Context, Nk, api::Tournament, i64, i64) -> BoxFuture<'static, Result<(), RuntimeError>>
        + Send
        + Sync,
>;

pub(crate) struct Entry<F> {
    pub(crate) logger: Logger,
    pub(crate) origin: Origin,
    pub(crate) f: F,
}

/// What the server gives the runtime at start.
#[derive(Clone)]
pub struct RuntimeSetup {
    /// This node's name.
    pub node: String,
    /// The `runtime.env` values.
    pub env: BTreeMap<String, String>,
    /// The server functions.
    pub nk: Nk,
    /// A fleet manager the server configured (the ODIN adapter, say); registered before any
    /// module loads, so modules see it and may replace it.
    pub fleet_manager: Option<Arc<dyn FleetManager>>,
}

impl fmt::Debug for RuntimeSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeSetup")
            .field("node", &self.node)
            .field("env", &self.env)
            .field("fleet_manager", &self.fleet_manager.is_some())
            .finish_non_exhaustive()
    }
}

/// Why the modules could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "runtime modules failed to load: {}",
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for LoadError {}

/// Why an RPC call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// The id was empty.
    MissingId,
    /// No RPC has the id.
    NotFound,
    /// The function returned an error, or panicked (then with code 13).
    Failed(RuntimeError),
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::MissingId => f.write_str("RPC ID must be set"),
            RpcError::NotFound => f.write_str("RPC function not found"),
            RpcError::Failed(e) => f.write_str(&e.message),
        }
    }
}

impl std::error::Error for RpcError {}

/// Every module's callbacks, and the way the server calls them. Built once at start by
/// [`Registry::load`]; shared (it is `Send + Sync`) by every request.
pub struct Registry {
    node: String,
    env: Arc<BTreeMap<String, String>>,
    nk: Nk,
    modules: Vec<&'static str>,
    pub(crate) rpcs: HashMap<String, Entry<RpcFn>>,
    before: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    after: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    pub(crate) before_realtime: HashMap<MessageKind, Entry<BeforeFn<Envelope>>>,
    pub(crate) after_realtime: HashMap<MessageKind, Entry<AfterRealtimeFn>>,
    pub(crate) matchmaker_matched: Option<Entry<MatchedFn>>,
    pub(crate) leaderboard_reset: Option<Entry<LeaderboardResetFn>>,
    pub(crate) tournament_reset: Option<Entry<TournamentFn>>,
    pub(crate) tournament_end: Option<Entry<TournamentFn>>,
    pub(crate) matches: Vec<(String, MatchFactory, Origin)>,
    pub(crate) events: Vec<Entry<EventFn>>,
    pub(crate) fleet_callbacks: FleetCallbacks,
}

impl Registry {
    /// Runs every module's init function, in order. Any init error or panic, and any id or hook
    /// registered twice, fails the load with every problem listed.
    ///
    /// ```
    /// # async fn demo(nk: tavern_runtime::Nk) {
    /// use tavern_runtime::registry::{Registry, RuntimeSetup};
    /// use tavern_runtime::{Initializer, Module, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_rpc("echo", |_ctx, _nk, payload| async move { Ok(payload) });
    ///     Ok(())
    /// }
    ///
    /// let setup = RuntimeSetup { node: "test".into(), env: Default::default(), nk, fleet_manager: None };
    /// let registry = Registry::load(&[Module::new("demo", init)], setup).unwrap();
    /// let ctx = registry.context(tavern_runtime::ExecutionMode::Rpc);
    /// assert_eq!(registry.call_rpc(ctx, "ECHO", "hi".into()).await.unwrap(), "hi");
    /// # }
    /// ```
    pub fn load(modules: &[Module], setup: RuntimeSetup) -> Result<Registry, LoadError> {
        let fleet_callbacks = FleetCallbacks::new(&setup.node);
        let mut registry = Registry {
            node: setup.node,
            env: Arc::new(setup.env),
            nk: setup.nk,
            modules: Vec::new(),
            rpcs: HashMap::new(),
            before: HashMap::new(),
            after: HashMap::new(),
            before_realtime: HashMap::new(),
            after_realtime: HashMap::new(),
            matchmaker_matched: None,
            leaderboard_reset: None,
            tournament_reset: None,
            tournament_end: None,
            matches: Vec::new(),
            events: Vec::new(),
            fleet_callbacks,
        };
        let mut problems = Vec::new();
        if let Some(manager) = setup.fleet_manager
            && let Err(e) = registry.install_fleet_manager(manager)
        {
            problems.push(e);
        }
        for module in modules {
            let logger = Logger::new(module.name());
            let init = module.init_fn();
            let result = guarded_sync(&logger, "module init", || {
                init(&mut Initializer::new(
                    &mut registry,
                    module.name(),
                    &mut problems,
                    module.origin(),
                ))
            });
            if let Err(e) = result {
                problems.push(format!(
                    "module {} failed to initialise: {} (code {})",
                    module.name(),
                    e.message,
                    e.code.as_u16()
                ));
            }
            registry.modules.push(module.name());
        }
        if !problems.is_empty() {
            return Err(LoadError { problems });
        }
        for (id, entry) in &registry.rpcs {
            tracing::info!(id = %id, module = entry.logger.module(), "Registered RPC function");
        }
        Ok(registry)
    }

    /// Calls the manager's `init` and makes it the one `nk.fleet()` returns (the last one
    /// registered wins, as in Nakama).
    pub(crate) fn install_fleet_manager(
        &mut self,
        manager: Arc<dyn FleetManager>,
    ) -> Result<(), String> {
        manager
            .init(self.nk.clone(), self.fleet_callbacks.clone())
            .map_err(|e| format!("failed to run fleet manager init: {}", e.message))?;
        self.nk.set_fleet(Fleet::new(manager));
        Ok(())
    }

    /// The pending create callbacks of the fleet manager.
    pub fn fleet_callbacks(&self) -> &FleetCallbacks {
        &self.fleet_callbacks
    }

    /// Runs one more module's registrations after [`Registry::load`], for modules that are
    /// not Rust functions (the Lua and JavaScript modules of `runtime.path`). With
    /// [`Origin::Lua`], a key a Rust module registered stays Rust's (Nakama lets Go win over
    /// Lua) and a bundled example's is replaced; with [`Origin::JavaScript`], Rust's and Lua's
    /// keys stay theirs.
    pub fn extend(
        &mut self,
        name: &str,
        origin: Origin,
        init: impl FnOnce(&mut Initializer) -> Result<(), RuntimeError>,
    ) -> Result<(), LoadError> {
        let mut problems = Vec::new();
        let logger = Logger::new(name);
        let result = guarded_sync(&logger, "module init", || {
            init(&mut Initializer::new(self, name, &mut problems, origin))
        });
        if let Err(e) = result {
            problems.push(format!("module {name} failed to initialise: {}", e.message));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LoadError { problems })
        }
    }

    /// The modules loaded, in order.
    pub fn modules(&self) -> &[&'static str] {
        &self.modules
    }

    /// The server functions given at load.
    pub fn nk(&self) -> &Nk {
        &self.nk
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The `runtime.env` values.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// A fresh context for `mode` on this node, with no caller yet.
    pub fn context(&self, mode: ExecutionMode) -> Context {
        Context::new(mode, self.node.clone(), self.env.clone())
    }

    /// The registered RPC ids, lower-cased, in no particular order.
    pub fn rpc_ids(&self) -> impl Iterator<Item = &str> {
        self.rpcs.keys().map(String::as_str)
    }

    /// Calls the RPC `id` (looked up lower-cased) with `payload`.
    pub async fn call_rpc(
        &self,
        mut ctx: Context,
        id: &str,
        payload: String,
    ) -> Result<String, RpcError> {
        if id.is_empty() {
            return Err(RpcError::MissingId);
        }
        let entry = self
            .rpcs
            .get(&id.to_lowercase())
            .ok_or(RpcError::NotFound)?;
        ctx.mode = ExecutionMode::Rpc;
        ctx.logger = entry.logger.clone();
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        guarded(&entry.logger, &format!("RPC {id:?}"), async move {
            f(ctx, nk, payload).await
        })
        .await
        .map_err(RpcError::Failed)
    }

    pub(crate) fn insert_before<Op: Operation>(&mut self, entry: Entry<BeforeFn<Op::Request>>) {
        self.before.insert(TypeId::of::<Op>(), Box::new(entry));
    }

    pub(crate) fn insert_after<Op: Operation>(
        &mut self,
        entry: Entry<AfterFn<Op::Request, Op::Response>>,
    ) {
        self.after.insert(TypeId::of::<Op>(), Box::new(entry));
    }

    pub(crate) fn before_origin<Op: Operation>(&self) -> Option<Origin> {
        self.before_hook::<Op>().map(|e| e.origin)
    }

    pub(crate) fn after_origin<Op: Operation>(&self) -> Option<Origin> {
        self.after_hook::<Op>().map(|e| e.origin)
    }

    fn before_hook<Op: Operation>(&self) -> Option<&Entry<BeforeFn<Op::Request>>> {
        self.before.get(&TypeId::of::<Op>())?.downcast_ref()
    }

    fn after_hook<Op: Operation>(&self) -> Option<&Entry<AfterFn<Op::Request, Op::Response>>> {
        self.after.get(&TypeId::of::<Op>())?.downcast_ref()
    }

    /// Whether a before hook is registered for `operation`.
    pub fn has_before<Op: Operation>(&self, operation: Op) -> bool {
        let _ = operation;
        self.before_hook::<Op>().is_some()
    }

    /// Whether an after hook is registered for `operation`.
    pub fn has_after<Op: Operation>(&self, operation: Op) -> bool {
        let _ = operation;
        self.after_hook::<Op>().is_some()
    }

    /// Runs the before hook of `operation`, if any: `Ok(Some(request))` to go on with the
    /// (possibly rewritten) request, `Ok(None)` when the hook disabled the operation, or the
    /// hook's error (code 13 if it panicked). Without a hook, the request comes back as is.
    pub async fn before<Op: Operation>(
        &self,
        mut ctx: Context,
        operation: Op,
        request: Op::Request,
    ) -> Result<Option<Op::Request>, RuntimeError> {
        let _ = operation;
        let Some(entry) = self.before_hook::<Op>() else {
            return Ok(Some(request));
        };
        ctx.mode = ExecutionMode::Before;
        ctx.logger = entry.logger.clone();
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        let what = format!("before hook of {}", Op::NAME);
        guarded(
            &entry.logger,
            &what,
            async move { f(ctx, nk, request).await },
        )
        .await
    }

    /// Runs the after hook of `operation`, if any. Its error or panic is logged.
    pub async fn after<Op: Operation>(
        &self,
        mut ctx: Context,
        operation: Op,
        request: Op::Request,
        response: Op::Response,
    ) {
        let _ = operation;
        let Some(entry) = self.after_hook::<Op>() else {
            return;
        };
        ctx.mode = ExecutionMode::After;
        ctx.logger = entry.logger.clone();
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        let what = format!("after hook of {}", Op::NAME);
        let result = guarded(&entry.logger, &what, async move {
            f(ctx, nk, request, response).await
        })
        .await;
        if let Err(e) = result {
            entry.logger.warn(format_args!("{what} failed: {e}"));
        }
    }

    /// Whether a before hook is registered for realtime messages of `kind`.
    pub fn has_before_realtime(&self, kind: MessageKind) -> bool {
        self.before_realtime.contains_key(&kind)
    }

    /// Whether an after hook is registered for realtime messages of `kind`.
    pub fn has_after_realtime(&self, kind: MessageKind) -> bool {
        self.after_realtime.contains_key(&kind)
    }

    /// Runs the before hook for the envelope's message kind, if any: `Ok(Some(envelope))` to
    /// go on, `Ok(None)` when the hook refused the message, or the hook's error. Without a
    /// hook the envelope comes back as is.
    pub async fn before_realtime(
        &self,
        mut ctx: Context,
        envelope: Envelope,
    ) -> Result<Option<Envelope>, RuntimeError> {
        let Some(entry) = MessageKind::of(&envelope).and_then(|k| self.before_realtime.get(&k))
        else {
            return Ok(Some(envelope));
        };
        ctx.mode = ExecutionMode::Before;
        ctx.logger = entry.logger.clone();
        let what = format!("before hook of realtime {}", kind_name(&envelope));
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        guarded(
            &entry.logger,
            &what,
            async move { f(ctx, nk, envelope).await },
        )
        .await
    }

    /// Runs the after hook for the request's message kind, if any, with the reply sent.
    /// Its error or panic is logged.
    pub async fn after_realtime(
        &self,
        mut ctx: Context,
        request: Envelope,
        reply: Option<Envelope>,
    ) {
        let Some(entry) = MessageKind::of(&request).and_then(|k| self.after_realtime.get(&k))
        else {
            return;
        };
        ctx.mode = ExecutionMode::After;
        ctx.logger = entry.logger.clone();
        let what = format!("after hook of realtime {}", kind_name(&request));
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        let result = guarded(&entry.logger, &what, async move {
            f(ctx, nk, request, reply).await
        })
        .await;
        if let Err(e) = result {
            entry.logger.warn(format_args!("{what} failed: {e}"));
        }
    }

    /// Whether a matchmaker-matched hook is registered.
    /// Whether any event handler is registered.
    pub fn has_event_handlers(&self) -> bool {
        !self.events.is_empty()
    }

    /// Hands `event` to every event handler, one after the other; a failing handler is logged
    /// and the others still run.
    pub async fn dispatch_event(&self, mut ctx: Context, event: api::Event) {
        ctx.mode = ExecutionMode::Event;
        for entry in &self.events {
            let mut ctx = ctx.clone();
            ctx.logger = entry.logger.clone();
            let (f, nk, event) = (entry.f.clone(), self.nk.clone(), event.clone());
            let what = "event handler";
            if let Err(e) =
                guarded(&entry.logger, what, async move { f(ctx, nk, event).await }).await
            {
                entry.logger.warn(format_args!("{what} failed: {e}"));
            }
        }
    }

    /// The registered match handlers, by name, for the server's match registry.
    pub fn match_handlers(&self) -> impl Iterator<Item = (&str, &MatchFactory)> {
        self.matches.iter().map(|(name, f, _)| (name.as_str(), f))
    }

    /// Runs the leaderboard reset callback, if any, for a board that reset at `reset`; a
    /// failure is logged.
    pub async fn leaderboard_reset(&self, leaderboard: api::Leaderboard, reset: i64) {
        let Some(entry) = self.leaderboard_reset.as_ref() else {
            return;
        };
        let mut ctx = self.context(ExecutionMode::LeaderboardReset);
        ctx.logger = entry.logger.clone();
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        let what = "leaderboard reset callback";
        let result = guarded(&entry.logger, what, async move {
            f(ctx, nk, leaderboard, reset).await
        })
        .await;
        if let Err(e) = result {
            entry.logger.warn(format_args!("{what} failed: {e}"));
        }
    }

    /// Runs the tournament reset callback, if any; a failure is logged.
    pub async fn tournament_reset(&self, tournament: api::Tournament, end: i64, reset: i64) {
        let entry = self.tournament_reset.as_ref();
        self.tournament_callback(
            entry,
            ExecutionMode::TournamentReset,
            tournament,
            end,
            reset,
        )
        .await;
    }

    /// Runs the tournament end callback, if any; a failure is logged.
    pub async fn tournament_end(&self, tournament: api::Tournament, end: i64, reset: i64) {
        let entry = self.tournament_end.as_ref();
        self.tournament_callback(entry, ExecutionMode::TournamentEnd, tournament, end, reset)
            .await;
    }

    async fn tournament_callback(
        &self,
        entry: Option<&Entry<TournamentFn>>,
        mode: ExecutionMode,
        tournament: api::Tournament,
        end: i64,
        reset: i64,
    ) {
        let Some(entry) = entry else {
            return;
        };
        let mut ctx = self.context(mode);
        ctx.logger = entry.logger.clone();
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        let what = format!("{mode} callback");
        let result = guarded(&entry.logger, &what, async move {
            f(ctx, nk, tournament, end, reset).await
        })
        .await;
        if let Err(e) = result {
            entry.logger.warn(format_args!("{what} failed: {e}"));
        }
    }

    pub fn has_matchmaker_matched(&self) -> bool {
        self.matchmaker_matched.is_some()
    }

    /// Runs the matchmaker-matched hook, if any: the match id it chose, or `None` (also when
    /// it failed, which is logged).
    pub async fn matchmaker_matched(
        &self,
        mut ctx: Context,
        entries: Vec<MatchmakerEntry>,
    ) -> Option<String> {
        let entry = self.matchmaker_matched.as_ref()?;
        ctx.mode = ExecutionMode::Matchmaker;
        ctx.logger = entry.logger.clone();
        let (f, nk) = (entry.f.clone(), self.nk.clone());
        let what = "matchmaker-matched hook";
        match guarded(
            &entry.logger,
            what,
            async move { f(ctx, nk, entries).await },
        )
        .await
        {
            Ok(match_id) => match_id.filter(|id| !id.is_empty()),
            Err(e) => {
                entry.logger.warn(format_args!("{what} failed: {e}"));
                None
            }
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("node", &self.node)
            .field("modules", &self.modules)
            .field("rpcs", &self.rpcs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn kind_name(envelope: &Envelope) -> &'static str {
    MessageKind::of(envelope).map_or("message", MessageKind::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::{AuthenticateCustom, GetAccount};
    use crate::{Code, Database, NkBackend, PANIC_MESSAGE, api};

    struct NoServer;

    impl NkBackend for NoServer {
        fn account_get_id(
            &self,
            user_id: String,
        ) -> BoxFuture<'_, Result<api::Account, RuntimeError>> {
            Box::pin(async move { Err(RuntimeError::not_found(format!("no account {user_id}"))) })
        }
        fn users_get(
            &self,
            _user_ids: Vec<String>,
            _usernames: Vec<String>,
        ) -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
        fn account_update_id(
            &self,
            _user_id: String,
            _update: api::UpdateAccountRequest,
        ) -> BoxFuture<'_, Result<(), RuntimeError>> {
            Box::pin(async { Ok(()) })
        }
        fn account_delete_id(&self, _user_id: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
            Box::pin(async { Ok(()) })
        }
    }

    fn setup() -> RuntimeSetup {
        let pool = sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap();
        RuntimeSetup {
            node: "node1".into(),
            env: BTreeMap::from([("region".to_owned(), "eu".to_owned())]),
            nk: Nk::new(Arc::new(NoServer), Database::Sqlite(pool)),
            fleet_manager: None,
        }
    }

    fn game(init: &mut Initializer) -> Result<(), RuntimeError> {
        init.register_rpc("Echo", |ctx, _nk, payload| async move {
            Ok(format!(
                "{payload}@{}/{}/{}",
                ctx.node,
                ctx.mode,
                ctx.logger.module()
            ))
        });
        init.register_rpc("region", |ctx, _nk, _payload| async move {
            Ok(ctx.env("region").unwrap_or_default().to_owned())
        });
        init.register_rpc("fail", |_ctx, _nk, _payload| async {
            Err(RuntimeError::new("nope", Code::PermissionDenied))
        });
        init.register_rpc("panic", |_ctx, _nk, _payload| async {
            if true {
                panic!("boom");
            }
            Ok(String::new())
        });
        init.register_rpc("account", |_ctx, nk, payload| async move {
            nk.account_get_id(&payload).await.map(|a| a.email)
        });
        init.register_before(AuthenticateCustom, |_ctx, _nk, mut request| async move {
            match request.account.as_ref().map(|a| a.id.as_str()) {
                Some("disable") => Ok(None),
                Some("reject") => Err(RuntimeError::invalid_argument("bad id")),
                Some("panic") => panic!("hook panic"),
                _ => {
                    request.username = "renamed".into();
                    Ok(Some(request))
                }
            }
        });
        Ok(())
    }

    fn custom(id: &str) -> api::AuthenticateCustomRequest {
        api::AuthenticateCustomRequest {
            account: Some(api::AccountCustom {
                id: id.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn rpcs_are_found_case_insensitively_and_see_their_context() {
        let registry = Registry::load(&[Module::new("game", game)], setup()).unwrap();
        let ctx = registry.context(ExecutionMode::Before);
        let out = registry
            .call_rpc(ctx.clone(), "ECHO", "hi".into())
            .await
            .unwrap();
        assert_eq!(out, "hi@node1/rpc/game");
        assert_eq!(
            registry
                .call_rpc(ctx.clone(), "region", String::new())
                .await
                .unwrap(),
            "eu"
        );
        assert_eq!(
            registry.call_rpc(ctx.clone(), "", String::new()).await,
            Err(RpcError::MissingId)
        );
        assert_eq!(
            registry.call_rpc(ctx.clone(), "nope", String::new()).await,
            Err(RpcError::NotFound)
        );
        let Err(RpcError::Failed(e)) = registry.call_rpc(ctx.clone(), "account", "u1".into()).await
        else {
            panic!("expected the backend's error");
        };
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::NotFound, "no account u1")
        );
    }

    #[tokio::test]
    async fn errors_keep_their_code_and_panics_become_internal() {
        let registry = Registry::load(&[Module::new("game", game)], setup()).unwrap();
        let ctx = registry.context(ExecutionMode::Rpc);
        assert_eq!(
            registry.call_rpc(ctx.clone(), "fail", String::new()).await,
            Err(RpcError::Failed(RuntimeError::new(
                "nope",
                Code::PermissionDenied
            )))
        );
        assert_eq!(
            registry.call_rpc(ctx.clone(), "panic", String::new()).await,
            Err(RpcError::Failed(RuntimeError::internal(PANIC_MESSAGE)))
        );
        assert_eq!(
            registry.call_rpc(ctx, "echo", "x".into()).await.unwrap(),
            "x@node1/rpc/game"
        );
    }

    #[tokio::test]
    async fn before_hooks_rewrite_reject_disable_or_pass_through() {
        let registry = Registry::load(&[Module::new("game", game)], setup()).unwrap();
        let ctx = || registry.context(ExecutionMode::Rpc);
        assert!(registry.has_before(AuthenticateCustom));
        assert!(!registry.has_before(GetAccount));
        let rewritten = registry
            .before(ctx(), AuthenticateCustom, custom("cid-1"))
            .await
            .unwrap();
        assert_eq!(rewritten.unwrap().username, "renamed");
        assert_eq!(
            registry
                .before(ctx(), AuthenticateCustom, custom("disable"))
                .await,
            Ok(None)
        );
        let e = registry
            .before(ctx(), AuthenticateCustom, custom("reject"))
            .await
            .unwrap_err();
        assert_eq!(e.code, Code::InvalidArgument);
        let e = registry
            .before(ctx(), AuthenticateCustom, custom("panic"))
            .await
            .unwrap_err();
        assert_eq!(e.code, Code::Internal);
        assert_eq!(registry.before(ctx(), GetAccount, ()).await, Ok(Some(())));
    }

    #[tokio::test]
    async fn after_hooks_and_realtime_hooks_run_with_their_mode() {
        use std::sync::Mutex;
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        fn watcher(init: &mut Initializer) -> Result<(), RuntimeError> {
            init.register_after(
                AuthenticateCustom,
                |ctx, _nk, request, session| async move {
                    let id = request.account.map(|a| a.id).unwrap_or_default();
                    SEEN.lock()
                        .unwrap()
                        .push(format!("{} {id} {}", ctx.mode, session.created));
                    Err(RuntimeError::internal("ignored"))
                },
            );
            init.register_before_realtime(MessageKind::Rpc, |ctx, _nk, envelope| async move {
                SEEN.lock()
                    .unwrap()
                    .push(format!("{} {}", ctx.mode, envelope.cid));
                Ok((envelope.cid != "2").then_some(envelope))
            });
            init.register_after_realtime(
                MessageKind::Rpc,
                |_ctx, _nk, _request, reply| async move {
                    SEEN.lock()
                        .unwrap()
                        .push(format!("reply {}", reply.is_some()));
                    if reply.is_none() {
                        panic!("ignored too");
                    }
                    Ok(())
                },
            );
            init.register_matchmaker_matched(|ctx, _nk, entries| async move {
                Ok(Some(format!("{}:{}", ctx.mode, entries.len())))
            });
            Ok(())
        }
        let registry = Registry::load(&[Module::new("watcher", watcher)], setup()).unwrap();
        let ctx = || registry.context(ExecutionMode::Rpc);
        let session = api::Session {
            created: true,
            ..Default::default()
        };
        registry
            .after(ctx(), AuthenticateCustom, custom("cid-000001"), session)
            .await;
        let rpc = |cid: &str| {
            Envelope::from_json(&format!(r#"{{"cid":"{cid}","rpc":{{"id":"x"}}}}"#)).unwrap()
        };
        assert_eq!(
            registry.before_realtime(ctx(), rpc("1")).await,
            Ok(Some(rpc("1")))
        );
        assert_eq!(registry.before_realtime(ctx(), rpc("2")).await, Ok(None));
        let ping = Envelope::from_json(r#"{"cid":"3","ping":{}}"#).unwrap();
        assert_eq!(
            registry.before_realtime(ctx(), ping.clone()).await,
            Ok(Some(ping))
        );
        registry.after_realtime(ctx(), rpc("1"), None).await;
        assert_eq!(
            registry
                .matchmaker_matched(ctx(), Vec::new())
                .await
                .as_deref(),
            Some("matchmaker:0")
        );
        assert_eq!(
            *SEEN.lock().unwrap(),
            [
                "after cid-000001 true",
                "before 1",
                "before 2",
                "reply false"
            ]
        );
    }

    #[tokio::test]
    async fn lua_gives_way_to_rust_and_replaces_bundled_examples() {
        fn native(init: &mut Initializer) -> Result<(), RuntimeError> {
            init.register_rpc("shared", |_ctx, _nk, _p| async { Ok("rust".to_owned()) });
            Ok(())
        }
        fn example(init: &mut Initializer) -> Result<(), RuntimeError> {
            init.register_rpc("demo", |_ctx, _nk, _p| async { Ok("example".to_owned()) });
            init.register_matchmaker_matched(|_ctx, _nk, _e| async { Ok(Some("example".into())) });
            Ok(())
        }
        let modules = [
            Module::new("native", native),
            Module::new("example", example).bundled(),
        ];
        let mut registry = Registry::load(&modules, setup()).unwrap();
        registry
            .extend("lua", Origin::Lua, |init| {
                for id in ["shared", "demo", "lua_only"] {
                    init.register_rpc(id, |_ctx, _nk, _p| async { Ok("lua".to_owned()) });
                }
                init.register_matchmaker_matched(|_ctx, _nk, _e| async { Ok(Some("lua".into())) });
                Ok(())
            })
            .unwrap();
        registry
            .extend("javascript", Origin::JavaScript, |init| {
                for id in ["shared", "demo", "lua_only", "js_only"] {
                    init.register_rpc(id, |_ctx, _nk, _p| async { Ok("js".to_owned()) });
                }
                Ok(())
            })
            .unwrap();
        let ctx = || registry.context(ExecutionMode::Rpc);
        let call = |id: &'static str| registry.call_rpc(ctx(), id, String::new());
        assert_eq!(call("shared").await.unwrap(), "rust");
        assert_eq!(call("demo").await.unwrap(), "lua");
        assert_eq!(call("lua_only").await.unwrap(), "lua");
        assert_eq!(call("js_only").await.unwrap(), "js");
        assert_eq!(
            registry
                .matchmaker_matched(ctx(), Vec::new())
                .await
                .as_deref(),
            Some("lua")
        );
        let twice = Registry::load(
            &[Module::new("a", native), Module::new("b", native)],
            setup(),
        )
        .unwrap_err();
        assert_eq!(
            twice.problems,
            ["module b: RPC \"shared\" is registered twice"]
        );
    }

    #[tokio::test]
    async fn load_reports_duplicates_init_errors_and_panics() {
        fn twice(init: &mut Initializer) -> Result<(), RuntimeError> {
            init.register_rpc("a", |_ctx, _nk, p| async move { Ok(p) });
            init.register_rpc("A", |_ctx, _nk, p| async move { Ok(p) });
            init.register_rpc("", |_ctx, _nk, p| async move { Ok(p) });
            Ok(())
        }
        fn failing(_init: &mut Initializer) -> Result<(), RuntimeError> {
            Err(RuntimeError::internal("no config"))
        }
        fn panicking(_init: &mut Initializer) -> Result<(), RuntimeError> {
            panic!("init panic")
        }
        let modules = [
            Module::new("twice", twice),
            Module::new("failing", failing),
            Module::new("panicking", panicking),
        ];
        let err = Registry::load(&modules, setup()).unwrap_err();
        assert_eq!(
            err.problems,
            [
                "module twice: RPC \"a\" is registered twice",
                "module twice: an RPC id must not be empty",
                "module failing failed to initialise: no config (code 13)",
                "module panicking failed to initialise: Internal Server Error (code 13)",
            ]
        );
    }

    struct FakeFleet {
        fail_init: bool,
    }

    impl FleetManager for FakeFleet {
        fn init(&self, _nk: Nk, _callbacks: FleetCallbacks) -> Result<(), RuntimeError> {
            if self.fail_init {
                Err(RuntimeError::internal("no credentials"))
            } else {
                Ok(())
            }
        }
        fn get(
            &self,
            id: String,
        ) -> BoxFuture<'_, Result<crate::fleet::InstanceInfo, RuntimeError>> {
            Box::pin(async move {
                Ok(crate::fleet::InstanceInfo {
                    id,
                    ..Default::default()
                })
            })
        }
        fn list(
            &self,
            _: String,
            _: i32,
            _: String,
        ) -> BoxFuture<'_, Result<crate::fleet::InstancePage, RuntimeError>> {
            Box::pin(async { Ok(Default::default()) })
        }
        fn create(
            &self,
            _: crate::fleet::CreateRequest,
            _: crate::fleet::CreateCallback,
        ) -> BoxFuture<'_, Result<HashMap<String, String>, RuntimeError>> {
            Box::pin(async { Ok(HashMap::new()) })
        }
        fn join(
            &self,
            _: String,
            _: Vec<String>,
            _: HashMap<String, String>,
        ) -> BoxFuture<'_, Result<crate::fleet::JoinInfo, RuntimeError>> {
            Box::pin(async { Ok(Default::default()) })
        }
        fn update(
            &self,
            _: String,
            _: i32,
            _: crate::fleet::Metadata,
        ) -> BoxFuture<'_, Result<(), RuntimeError>> {
            Box::pin(async { Ok(()) })
        }
        fn delete(&self, _: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test]
    async fn fleet_managers_are_registered_and_reached_through_nk() {
        fn fleet_rpc(init: &mut Initializer) -> Result<(), RuntimeError> {
            let seen = init.fleet().is_some();
            init.register_rpc("fleet_get", move |_ctx, nk, id| async move {
                let instance = nk.fleet()?.get(&id).await?;
                Ok(format!("{seen}:{}", instance.id))
            });
            Ok(())
        }
        let modules = [Module::new("game", fleet_rpc)];
        let ctx = |r: &Registry| r.context(ExecutionMode::Rpc);

        let without = Registry::load(&modules, setup()).unwrap();
        match without
            .call_rpc(ctx(&without), "fleet_get", "7".into())
            .await
        {
            Err(RpcError::Failed(e)) => assert_eq!(e.code, Code::FailedPrecondition),
            other => panic!("{other:?}"),
        }

        let mut configured = setup();
        configured.fleet_manager = Some(Arc::new(FakeFleet { fail_init: false }));
        let with = Registry::load(&modules, configured).unwrap();
        let answer = with.call_rpc(ctx(&with), "fleet_get", "7".into()).await;
        assert_eq!(answer.unwrap(), "true:7");

        fn registers_failing(init: &mut Initializer) -> Result<(), RuntimeError> {
            init.register_fleet_manager(Arc::new(FakeFleet { fail_init: true }));
            Ok(())
        }
        let err = Registry::load(&[Module::new("bad", registers_failing)], setup()).unwrap_err();
        assert_eq!(
            err.problems,
            ["module bad: failed to run fleet manager init: no credentials"]
        );
    }
}
