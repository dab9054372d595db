//! The `Initializer` a module's init function registers its callbacks with.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use crate::matchmaker::MatchmakerEntry;
use crate::message_kind::MessageKind;
use crate::module::Origin;
use crate::operation::Operation;
use crate::realtime::Envelope;
use crate::registry::{
    AfterFn, AfterRealtimeFn, BeforeFn, Entry, EventFn, LeaderboardResetFn, MatchedFn, Registry,
    RpcFn, TournamentFn,
};
use crate::{Context, Fleet, FleetManager, Logger, Nk, RuntimeError, api};

/// What to do with a registration whose key may be taken already.
enum Admit {
    /// Free, or taken by a registration this one replaces.
    Insert,
    /// Taken by a registration that wins over this one.
    Skip,
    /// Taken by a registration of the same rank: a load error.
    Duplicate,
}

/// Registers one module's RPCs and hooks. Handed to each module's init function once, at start.
///
/// Every callback is an `async` closure or function that receives the call's [`Context`], an
/// [`Nk`] handle and the call's data, and returns a `Result` whose error is a [`RuntimeError`]
/// shown to the client with its code. A callback that panics fails only its own call, with
/// [`Code::Internal`](crate::Code::Internal).
///
/// Registering the same RPC id, or a second hook for the same operation or message kind, is an
/// error reported when the server starts.
pub struct Initializer<'a> {
    registry: &'a mut Registry,
    logger: Logger,
    problems: &'a mut Vec<String>,
    origin: Origin,
}

impl<'a> Initializer<'a> {
    pub(crate) fn new(
        registry: &'a mut Registry,
        module: &str,
        problems: &'a mut Vec<String>,
        origin: Origin,
    ) -> Initializer<'a> {
        Initializer {
            registry,
            logger: Logger::new(module),
            problems,
            origin,
        }
    }

    /// Where this module's registrations come from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Nakama's precedence between runtimes: a game's Rust code (Go's part) wins over Lua and
    /// Lua over JavaScript; a script replaces a bundled example and earlier registrations of
    /// its own runtime; two Rust registrations of one key are an error.
    fn admit(&self, taken_by: Option<Origin>, what: &str) -> Admit {
        let script = matches!(self.origin, Origin::Lua | Origin::JavaScript);
        match (taken_by, self.origin) {
            (None, _) => Admit::Insert,
            (Some(winner @ (Origin::Native | Origin::Lua)), Origin::JavaScript)
            | (Some(winner @ Origin::Native), Origin::Lua) => {
                let winner = if winner == Origin::Native {
                    "Rust"
                } else {
                    "Lua"
                };
                tracing::warn!(
                    module = self.logger.module(),
                    "{what} is registered by a {winner} module too; the {winner} one is used"
                );
                Admit::Skip
            }
            (Some(Origin::Bundled), _) if script => {
                tracing::info!(
                    module = self.logger.module(),
                    "{what} replaces the bundled example's"
                );
                Admit::Insert
            }
            (Some(taken), mine) if script && taken == mine => Admit::Insert,
            (Some(Origin::JavaScript), Origin::Lua) => Admit::Insert,
            _ => Admit::Duplicate,
        }
    }

    /// The module's logger.
    pub fn logger(&self) -> &Logger {
        &self.logger
    }

    /// The server functions, for work at start-up.
    pub fn nk(&self) -> &Nk {
        self.registry.nk()
    }

    /// The name of this server node.
    pub fn node(&self) -> &str {
        self.registry.node()
    }

    /// The `runtime.env` values of the configuration.
    pub fn env(&self) -> &BTreeMap<String, String> {
        self.registry.env()
    }

    fn entry<F>(&self, f: F) -> Entry<F> {
        Entry {
            logger: self.logger.clone(),
            origin: self.origin,
            f,
        }
    }

    fn problem(&mut self, what: String) {
        self.problems
            .push(format!("module {}: {what}", self.logger.module()));
    }

    /// Registers an RPC under `id`, callable as `POST`/`GET /v2/rpc/{id}` and with the realtime
    /// `rpc` message. Ids are case-insensitive. The function receives the payload string and
    /// returns the response payload; clients such as nakama-js expect JSON text both ways.
    ///
    /// ```
    /// use tavern_runtime::{Code, Initializer, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_rpc("whoami", |ctx, _nk, _payload| async move {
    ///         let user_id = ctx
    ///             .user_id()
    ///             .ok_or_else(|| RuntimeError::new("sign in first", Code::Unauthenticated))?;
    ///         Ok(serde_json::json!({ "user_id": user_id }).to_string())
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_rpc<F, Fut>(&mut self, id: &str, f: F)
    where
        F: Fn(Context, Nk, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, RuntimeError>> + Send + 'static,
    {
        let id = id.to_lowercase();
        if id.is_empty() {
            return self.problem("an RPC id must not be empty".to_owned());
        }
        let taken_by = self.registry.rpcs.get(&id).map(|e| e.origin);
        match self.admit(taken_by, &format!("RPC {id:?}")) {
            Admit::Insert => {}
            Admit::Skip => return,
            Admit::Duplicate => return self.problem(format!("RPC {id:?} is registered twice")),
        }
        let f: RpcFn = Arc::new(move |ctx, nk, payload| Box::pin(f(ctx, nk, payload)));
        let entry = self.entry(f);
        self.registry.rpcs.insert(id, entry);
    }

    /// Registers a hook that runs before a REST operation, with the request the client sent.
    /// It returns `Ok(Some(request))` to go on (with the request as given or rewritten),
    /// `Ok(None)` to disable the operation (the client gets 404
    /// `Requested resource was not found.`), or an error the client gets instead.
    ///
    /// ```
    /// use tavern_runtime::operation::AuthenticateDevice;
    /// use tavern_runtime::{Initializer, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_before(AuthenticateDevice, |_ctx, _nk, mut request| async move {
    ///         // New accounts get a name that marks them as guests.
    ///         if request.username.is_empty() {
    ///             request.username = "guest".to_owned();
    ///         }
    ///         Ok(Some(request))
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_before<Op, F, Fut>(&mut self, operation: Op, f: F)
    where
        Op: Operation,
        F: Fn(Context, Nk, Op::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<Op::Request>, RuntimeError>> + Send + 'static,
    {
        let _ = operation;
        let f: BeforeFn<Op::Request> =
            Arc::new(move |ctx, nk, request| Box::pin(f(ctx, nk, request)));
        let what = format!("the before hook for {}", Op::NAME);
        match self.admit(self.registry.before_origin::<Op>(), &what) {
            Admit::Insert => {
                let entry = self.entry(f);
                self.registry.insert_before::<Op>(entry);
            }
            Admit::Skip => {}
            Admit::Duplicate => self.problem(format!("a second before hook for {}", Op::NAME)),
        }
    }

    /// Registers a hook that runs after a REST operation succeeded, with the request (as the
    /// operation ran it) and the response. It cannot change the response; its error is logged.
    ///
    /// ```
    /// use tavern_runtime::operation::AuthenticateCustom;
    /// use tavern_runtime::{Initializer, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_after(AuthenticateCustom, |ctx, _nk, _request, session| async move {
    ///         if session.created {
    ///             ctx.logger.info(format_args!("new player {:?}", ctx.user_id()));
    ///         }
    ///         Ok(())
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_after<Op, F, Fut>(&mut self, operation: Op, f: F)
    where
        Op: Operation,
        F: Fn(Context, Nk, Op::Request, Op::Response) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RuntimeError>> + Send + 'static,
    {
        let _ = operation;
        let f: AfterFn<Op::Request, Op::Response> =
            Arc::new(move |ctx, nk, request, response| Box::pin(f(ctx, nk, request, response)));
        let what = format!("the after hook for {}", Op::NAME);
        match self.admit(self.registry.after_origin::<Op>(), &what) {
            Admit::Insert => {
                let entry = self.entry(f);
                self.registry.insert_after::<Op>(entry);
            }
            Admit::Skip => {}
            Admit::Duplicate => self.problem(format!("a second after hook for {}", Op::NAME)),
        }
    }

    /// Registers a hook that runs before the server handles a realtime message of `kind`.
    /// It returns `Ok(Some(envelope))` to go on (as given or rewritten), `Ok(None)` to refuse
    /// the message (the client gets error code 1 and its socket is closed, as Nakama does), or
    /// an error the client gets as realtime error code 7 (the socket stays open).
    ///
    /// ```
    /// use tavern_runtime::{Code, Initializer, MessageKind, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_before_realtime(MessageKind::ChannelJoin, |_ctx, _nk, envelope| async move {
    ///         if envelope.to_json().contains("staff") {
    ///             return Err(RuntimeError::new("staff only", Code::PermissionDenied));
    ///         }
    ///         Ok(Some(envelope))
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_before_realtime<F, Fut>(&mut self, kind: MessageKind, f: F)
    where
        F: Fn(Context, Nk, Envelope) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<Envelope>, RuntimeError>> + Send + 'static,
    {
        let taken_by = self.registry.before_realtime.get(&kind).map(|e| e.origin);
        match self.admit(taken_by, &format!("the before hook for realtime {kind}")) {
            Admit::Insert => {}
            Admit::Skip => return,
            Admit::Duplicate => {
                return self.problem(format!("a second before hook for realtime {kind}"));
            }
        }
        let f: BeforeFn<Envelope> =
            Arc::new(move |ctx, nk, envelope| Box::pin(f(ctx, nk, envelope)));
        let entry = self.entry(f);
        self.registry.before_realtime.insert(kind, entry);
    }

    /// Registers a hook that runs after the server handled a realtime message of `kind`, with
    /// the message (as handled) and the reply sent, if the message has one. Its error is
    /// logged.
    ///
    /// ```
    /// use tavern_runtime::{Initializer, MessageKind, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_after_realtime(MessageKind::MatchJoin, |ctx, _nk, _request, reply| async move {
    ///         ctx.logger.debug(format_args!("{:?} joined, reply sent: {}", ctx.user_id(), reply.is_some()));
    ///         Ok(())
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_after_realtime<F, Fut>(&mut self, kind: MessageKind, f: F)
    where
        F: Fn(Context, Nk, Envelope, Option<Envelope>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RuntimeError>> + Send + 'static,
    {
        let taken_by = self.registry.after_realtime.get(&kind).map(|e| e.origin);
        match self.admit(taken_by, &format!("the after hook for realtime {kind}")) {
            Admit::Insert => {}
            Admit::Skip => return,
            Admit::Duplicate => {
                return self.problem(format!("a second after hook for realtime {kind}"));
            }
        }
        let f: AfterRealtimeFn =
            Arc::new(move |ctx, nk, request, reply| Box::pin(f(ctx, nk, request, reply)));
        let entry = self.entry(f);
        self.registry.after_realtime.insert(kind, entry);
    }

    /// Registers the hook the matchmaker calls with each group of matched users. Returning
    /// `Ok(Some(match_id))` sends the users to that (authoritative) match; `Ok(None)` lets them
    /// meet in a relayed match as usual; an error is logged and treated as `None`.
    ///
    /// ```
    /// use tavern_runtime::{Initializer, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_matchmaker_matched(|ctx, _nk, entries| async move {
    ///         let names: Vec<_> = entries.iter().map(|e| e.presence.username.as_str()).collect();
    ///         ctx.logger.info(format_args!("matched {}", names.join(", ")));
    ///         Ok(None)
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_matchmaker_matched<F, Fut>(&mut self, f: F)
    where
        F: Fn(Context, Nk, Vec<MatchmakerEntry>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<String>, RuntimeError>> + Send + 'static,
    {
        let taken_by = self.registry.matchmaker_matched.as_ref().map(|e| e.origin);
        match self.admit(taken_by, "the matchmaker-matched hook") {
            Admit::Insert => {}
            Admit::Skip => return,
            Admit::Duplicate => return self.problem("a second matchmaker-matched hook".to_owned()),
        }
        let f: MatchedFn = Arc::new(move |ctx, nk, entries| Box::pin(f(ctx, nk, entries)));
        let entry = self.entry(f);
        self.registry.matchmaker_matched = Some(entry);
    }

    /// Registers the callback run each time a leaderboard with a reset schedule resets, with
    /// the board as it was just before and the reset time (unix seconds). A reset the server
    /// was not running for runs when it starts again.
    ///
    /// ```
    /// use tavern_runtime::{Initializer, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_leaderboard_reset(|ctx, _nk, leaderboard, reset| async move {
    ///         ctx.logger.info(format_args!("{} reset at {reset}", leaderboard.id));
    ///         Ok(())
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_leaderboard_reset<F, Fut>(&mut self, f: F)
    where
        F: Fn(Context, Nk, api::Leaderboard, i64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RuntimeError>> + Send + 'static,
    {
        let taken_by = self.registry.leaderboard_reset.as_ref().map(|e| e.origin);
        match self.admit(taken_by, "the leaderboard reset callback") {
            Admit::Insert => {}
            Admit::Skip => return,
            Admit::Duplicate => {
                return self.problem("a second leaderboard reset callback".to_owned());
            }
        }
        let f: LeaderboardResetFn =
            Arc::new(move |ctx, nk, board, reset| Box::pin(f(ctx, nk, board, reset)));
        let entry = self.entry(f);
        self.registry.leaderboard_reset = Some(entry);
    }

    /// Registers the callback run each time a tournament with a reset schedule resets, with
    /// the tournament, the end of its active period and its next reset (unix seconds).
    pub fn register_tournament_reset<F, Fut>(&mut self, f: F)
    where
        F: Fn(Context, Nk, api::Tournament, i64, i64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RuntimeError>> + Send + 'static,
    {
        let taken_by = self.registry.tournament_reset.as_ref().map(|e| e.origin);
        match self.admit(taken_by, "the tournament reset callback") {
            Admit::Insert => {}
            Admit::Skip => return,
            Admit::Duplicate => {
                return self.problem("a second tournament reset callback".to_owned());
            }
        }
        let f: TournamentFn =
            Arc::new(move |ctx, nk, t, end, reset| Box::pin(f(ctx, nk, t, end, reset)));
        let entry = self.entry(f);
        self.registry.tournament_reset = Some(entry);
    }

    /// Registers the callback run when a tournament's active period ends, with the tournament,
    /// the end of that period and its next reset (unix seconds).
    pub fn register_tournament_end<F, Fut>(&mut self, f: F)
    where
        F: Fn(Context, Nk, api::Tournament, i64, i64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RuntimeError>> + Send + 'static,
    {
        let taken_by = self.registry.tournament_end.as_ref().map(|e| e.origin);
        match self.admit(taken_by, "the tournament end callback") {
            Admit::Insert => {}
            Admit::Skip => return,
            Admit::Duplicate => {
                return self.problem("a second tournament end callback".to_owned());
            }
        }
        let f: TournamentFn =
            Arc::new(move |ctx, nk, t, end, reset| Box::pin(f(ctx, nk, t, end, reset)));
        let entry = self.entry(f);
        self.registry.tournament_end = Some(entry);
    }

    /// Registers a handler of events: those game code sends with [`Nk::event`] and those clients
    /// send with `POST /v2/event` (marked `external`). Several handlers may be registered; each
    /// gets every event, after the call that sent it has returned, so a slow handler delays no
    /// player.
    ///
    /// ```
    /// use tavern_runtime::{Initializer, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_event(|ctx, _nk, event| async move {
    ///         ctx.logger.info(format_args!("event {} {:?}", event.name, event.properties));
    ///         Ok(())
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn register_event<F, Fut>(&mut self, f: F)
    where
        F: Fn(Context, Nk, api::Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RuntimeError>> + Send + 'static,
    {
        let f: EventFn = Arc::new(move |ctx, nk, event| Box::pin(f(ctx, nk, event)));
        let entry = self.entry(f);
        self.registry.events.push(entry);
    }

    /// Registers an authoritative match handler under a name; `make` builds a fresh handler
    /// for every match created with that name (from `nk.match_create` or the matchmaker hook).
    ///
    /// ```
    /// use tavern_runtime::matches::*;
    /// use tavern_runtime::{Initializer, Presence, RuntimeError};
    ///
    /// struct Idle;
    /// impl MatchHandler for Idle {
    ///     type State = ();
    ///     fn init(&self, _: &MatchContext, _: &serde_json::Value) -> Result<MatchInit<()>, RuntimeError> {
    ///         Ok(MatchInit { state: (), tick_rate: 1, label: String::new() })
    ///     }
    ///     fn join(&self, _: &MatchContext, _: &mut Dispatcher, _: i64, _: &mut (), _: &[Presence]) -> Result<Flow, RuntimeError> { Ok(Flow::Continue) }
    ///     fn leave(&self, _: &MatchContext, _: &mut Dispatcher, _: i64, _: &mut (), _: &[Presence]) -> Result<Flow, RuntimeError> { Ok(Flow::Continue) }
    ///     fn tick(&self, _: &MatchContext, _: &mut Dispatcher, _: i64, _: &mut (), _: Vec<MatchMessage>) -> Result<Flow, RuntimeError> { Ok(Flow::Continue) }
    ///     fn terminate(&self, _: &MatchContext, _: &mut Dispatcher, _: i64, _: &mut (), _: u32) -> Result<Flow, RuntimeError> { Ok(Flow::End) }
    /// }
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_match("idle", || Idle);
    ///     Ok(())
    /// }
    /// ```
    pub fn register_match<H, F>(&mut self, name: &str, make: F)
    where
        H: crate::matches::MatchHandler,
        F: Fn() -> H + Send + Sync + 'static,
    {
        self.register_match_factory(name, crate::matches::match_factory(make));
    }

    /// Registers a match handler as a ready factory: for runtimes that build their own
    /// [`MatchCore`](crate::matches::MatchCore) (the Lua runtime does).
    pub fn register_match_factory(&mut self, name: &str, factory: crate::matches::MatchFactory) {
        let taken = self.registry.matches.iter().position(|(n, _, _)| n == name);
        let taken_by = taken.map(|i| self.registry.matches[i].2);
        match self.admit(taken_by, &format!("match handler \"{name}\"")) {
            Admit::Insert => {
                if let Some(i) = taken {
                    self.registry.matches.remove(i);
                }
                self.registry
                    .matches
                    .push((name.to_owned(), factory, self.origin));
            }
            Admit::Skip => {}
            Admit::Duplicate => self.problem(format!("a second match handler \"{name}\"")),
        }
    }

    /// Registers a fleet manager (a dedicated-server platform adapter): its `init` runs now,
    /// with the server functions and the create-callback store, and from then on
    /// [`Nk::fleet`] returns it. A later registration replaces an earlier one (or the one the
    /// server configured), as in Nakama; an `init` error stops the start.
    ///
    /// ```no_run
    /// # fn adapter() -> std::sync::Arc<dyn tavern_runtime::FleetManager> { unimplemented!() }
    /// use tavern_runtime::{Initializer, RuntimeError};
    ///
    /// fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    ///     init.register_fleet_manager(adapter());
    ///     Ok(())
    /// }
    /// ```
    pub fn register_fleet_manager(&mut self, manager: std::sync::Arc<dyn FleetManager>) {
        if let Err(problem) = self.registry.install_fleet_manager(manager) {
            self.problem(problem);
        }
    }

    /// The fleet manager registered so far (by the server or an earlier module), if any.
    pub fn fleet(&self) -> Option<Fleet> {
        self.registry.nk().fleet().ok()
    }
}
