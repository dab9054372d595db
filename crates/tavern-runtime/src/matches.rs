//! Authoritative matches: the [`MatchHandler`] trait game code implements, the [`Dispatcher`]
//! it talks to clients through, and the type-erased form the server runs.
//!
//! One handler value drives one match. The match state is the handler's own typed value,
//! owned by the match and handed to each callback by `&mut`. Every callback may end the match
//! by returning [`Flow::End`]; an `Err` or a panic ends it too, and only it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::error::RuntimeError;
use crate::presence::Presence;

/// Lowest and highest tick rate, ticks per second.
pub const TICK_RATE_RANGE: std::ops::RangeInclusive<u32> = 1..=60;
/// Longest match label, in bytes.
pub const MAX_LABEL_BYTES: usize = 2048;

/// Whether a match goes on after a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    End,
}

/// The answer to a join attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinDecision {
    Accept,
    /// Refused, with a reason the client sees (empty: `Match join rejected`).
    Reject(String),
}

/// What `init` returns: the initial state, the tick rate (1..=60) and the label (<= 2048 bytes).
#[derive(Debug, Clone)]
pub struct MatchInit<S> {
    pub state: S,
    pub tick_rate: u32,
    pub label: String,
}

/// A message a client sent into the match since the last tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchMessage {
    pub sender: Presence,
    pub op_code: i64,
    pub data: Vec<u8>,
    pub reliable: bool,
    /// When the server received it, unix milliseconds.
    pub receive_time_ms: i64,
}

/// What a match knows about itself.
#[derive(Debug, Clone)]
pub struct MatchContext {
    /// `<uuid>.<node>`.
    pub match_id: String,
    pub node: String,
    /// The registered handler name.
    pub handler_name: String,
    /// The `runtime.env` values of the configuration.
    pub env: Arc<BTreeMap<String, String>>,
}

/// A message for clients, as a match handler sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    pub op_code: i64,
    pub data: Vec<u8>,
    /// Recipients; `None` means every presence in the match.
    pub presences: Option<Vec<Presence>>,
    /// Shown to clients as the sender; `None` for the server.
    pub sender: Option<Presence>,
    pub reliable: bool,
}

/// Where a dispatcher's immediate actions go; implemented by the server.
pub trait MatchOutput: Send + Sync {
    fn broadcast(&self, message: Broadcast);
    fn kick(&self, presences: Vec<Presence>);
    fn label_update(&self, label: String);
}

/// A match handler's way to reach its clients, valid during one callback.
pub struct Dispatcher<'a> {
    output: &'a dyn MatchOutput,
    deferred: Vec<Broadcast>,
    deferred_limit: usize,
}

impl<'a> Dispatcher<'a> {
    /// A dispatcher sending through `output`, holding at most `deferred_limit` deferred messages.
    pub fn new(output: &'a dyn MatchOutput, deferred_limit: usize) -> Dispatcher<'a> {
        Dispatcher {
            output,
            deferred: Vec::new(),
            deferred_limit,
        }
    }

    /// Sends a message now, to everyone (`presences: None`) or to the listed presences.
    ///
    /// ```
    /// # use tavern_runtime::matches::*;
    /// # struct Out; impl MatchOutput for Out { fn broadcast(&self, _: Broadcast) {} fn kick(&self, _: Vec<tavern_runtime::Presence>) {} fn label_update(&self, _: String) {} }
    /// let out = Out;
    /// let mut dispatcher = Dispatcher::new(&out, 128);
    /// dispatcher.broadcast(1, b"state".to_vec(), None, None);
    /// ```
    pub fn broadcast(
        &mut self,
        op_code: i64,
        data: Vec<u8>,
        presences: Option<&[Presence]>,
        sender: Option<&Presence>,
    ) {
        self.send(Broadcast {
            op_code,
            data,
            presences: presences.map(<[Presence]>::to_vec),
            sender: sender.cloned(),
            reliable: true,
        });
    }

    /// Sends a message now: [`Dispatcher::broadcast`] for a message already built, whose
    /// presences need no copy.
    pub fn send(&mut self, message: Broadcast) {
        self.output.broadcast(message);
    }

    /// Queues a message to be sent once the current callback has returned.
    pub fn broadcast_deferred(
        &mut self,
        op_code: i64,
        data: Vec<u8>,
        presences: Option<&[Presence]>,
        sender: Option<&Presence>,
    ) -> Result<(), RuntimeError> {
        self.send_deferred(Broadcast {
            op_code,
            data,
            presences: presences.map(<[Presence]>::to_vec),
            sender: sender.cloned(),
            reliable: true,
        })
    }

    /// Queues a message already built: [`Dispatcher::broadcast_deferred`] without copies.
    pub fn send_deferred(&mut self, message: Broadcast) -> Result<(), RuntimeError> {
        if self.deferred.len() >= self.deferred_limit {
            return Err(RuntimeError::new(
                "too many deferred messages",
                crate::Code::ResourceExhausted,
            ));
        }
        self.deferred.push(message);
        Ok(())
    }

    /// Removes presences from the match; they get the usual leave events.
    pub fn kick(&mut self, presences: &[Presence]) {
        self.output.kick(presences.to_vec());
    }

    /// Replaces the match label (at most 2048 bytes), visible to listings within a second.
    pub fn label_update(&mut self, label: impl Into<String>) -> Result<(), RuntimeError> {
        let label = label.into();
        if label.len() > MAX_LABEL_BYTES {
            return Err(RuntimeError::invalid_argument(
                "match label must be 2048 bytes or less",
            ));
        }
        self.output.label_update(label);
        Ok(())
    }

    /// Sends the deferred messages; the server calls this after every callback.
    pub fn flush_deferred(&mut self) {
        for message in self.deferred.drain(..) {
            self.output.broadcast(message);
        }
    }
}

/// An authoritative match handler, with Nakama's callbacks.
///
/// ```
/// use tavern_runtime::matches::*;
/// use tavern_runtime::{Presence, RuntimeError};
///
/// /// Echoes every message back to all players.
/// struct Echo;
///
/// impl MatchHandler for Echo {
///     type State = Vec<Presence>;
///     fn init(&self, _: &MatchContext, _: &serde_json::Value) -> Result<MatchInit<Self::State>, RuntimeError> {
///         Ok(MatchInit { state: Vec::new(), tick_rate: 10, label: "echo".into() })
///     }
///     fn join(&self, _: &MatchContext, _: &mut Dispatcher, _: i64, state: &mut Self::State, joins: &[Presence]) -> Result<Flow, RuntimeError> {
///         state.extend_from_slice(joins);
///         Ok(Flow::Continue)
///     }
///     fn leave(&self, _: &MatchContext, _: &mut Dispatcher, _: i64, state: &mut Self::State, leaves: &[Presence]) -> Result<Flow, RuntimeError> {
///         state.retain(|p| !leaves.contains(p));
///         Ok(if state.is_empty() { Flow::End } else { Flow::Continue })
///     }
///     fn tick(&self, _: &MatchContext, d: &mut Dispatcher, _: i64, _: &mut Self::State, messages: Vec<MatchMessage>) -> Result<Flow, RuntimeError> {
///         for m in messages {
///             d.broadcast(m.op_code, m.data, None, Some(&m.sender));
///         }
///         Ok(Flow::Continue)
///     }
///     fn terminate(&self, _: &MatchContext, _: &mut Dispatcher, _: i64, _: &mut Self::State, _: u32) -> Result<Flow, RuntimeError> {
///         Ok(Flow::End)
///     }
/// }
/// ```
pub trait MatchHandler: Send + Sync + 'static {
    /// The match state: owned by the match, handed to every callback.
    type State: Send + 'static;

    /// Creates the match from its parameters: initial state, tick rate and label.
    fn init(
        &self,
        ctx: &MatchContext,
        params: &serde_json::Value,
    ) -> Result<MatchInit<Self::State>, RuntimeError>;

    /// Decides whether a presence may join; sees the client's join metadata. Accepts by default.
    fn join_attempt(
        &self,
        _ctx: &MatchContext,
        _dispatcher: &mut Dispatcher,
        _tick: i64,
        _state: &mut Self::State,
        _presence: &Presence,
        _metadata: &HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        Ok(JoinDecision::Accept)
    }

    /// Presences that joined.
    fn join(
        &self,
        ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        tick: i64,
        state: &mut Self::State,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError>;

    /// Presences that left (or disconnected, or were kicked).
    fn leave(
        &self,
        ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        tick: i64,
        state: &mut Self::State,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError>;

    /// The match loop, once per tick, with the messages received since the last tick.
    fn tick(
        &self,
        ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        tick: i64,
        state: &mut Self::State,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError>;

    /// The server is shutting down: the match has `grace_seconds` left.
    fn terminate(
        &self,
        ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        tick: i64,
        state: &mut Self::State,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError>;

    /// A signal from server code (`nk` match signal): data in, a reply out.
    fn signal(
        &self,
        _ctx: &MatchContext,
        _dispatcher: &mut Dispatcher,
        _tick: i64,
        _state: &mut Self::State,
        _data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        Ok((Flow::Continue, String::new()))
    }
}

/// A running match with its state, type-erased so the server can hold any handler.
pub trait MatchCore: Send {
    fn join_attempt(
        &mut self,
        dispatcher: &mut Dispatcher,
        tick: i64,
        presence: &Presence,
        metadata: &HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError>;
    fn join(
        &mut self,
        dispatcher: &mut Dispatcher,
        tick: i64,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError>;
    fn leave(
        &mut self,
        dispatcher: &mut Dispatcher,
        tick: i64,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError>;
    fn tick(
        &mut self,
        dispatcher: &mut Dispatcher,
        tick: i64,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError>;
    fn terminate(
        &mut self,
        dispatcher: &mut Dispatcher,
        tick: i64,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError>;
    fn signal(
        &mut self,
        dispatcher: &mut Dispatcher,
        tick: i64,
        data: &str,
    ) -> Result<(Flow, String), RuntimeError>;
}

/// A match created by a factory: its running core, tick rate and label.
pub struct CreatedMatch {
    pub core: Box<dyn MatchCore>,
    pub tick_rate: u32,
    pub label: String,
}

/// A piece of work a [`MatchExecutor`] runs: one callback of a match, or its creation.
pub type MatchJob = Box<dyn FnOnce() + Send>;

/// Where the matches of a handler run when they must not run on the server's async workers
/// (the Lua runtime's: a pool of threads of its own). The server moves the match's core into a
/// job, waits for the job without blocking a worker, and takes the core back from it.
pub trait MatchExecutor: Send + Sync {
    /// Runs `job` on another thread, soon, each job once. A job dropped unrun (the executor is
    /// shutting down) ends its match as failed.
    fn execute(&self, job: MatchJob);
}

type CreateFn =
    dyn Fn(MatchContext, &serde_json::Value) -> Result<CreatedMatch, RuntimeError> + Send + Sync;

/// Creates matches of one registered handler. Without an executor, creation and every callback
/// run directly on the server's async workers, which suits Rust handlers that never block.
#[derive(Clone)]
pub struct MatchFactory {
    create: Arc<CreateFn>,
    executor: Option<Arc<dyn MatchExecutor>>,
}

impl MatchFactory {
    /// A factory from a function making one match from its context and parameters.
    pub fn new<F>(create: F) -> MatchFactory
    where
        F: Fn(MatchContext, &serde_json::Value) -> Result<CreatedMatch, RuntimeError>
            + Send
            + Sync
            + 'static,
    {
        MatchFactory {
            create: Arc::new(create),
            executor: None,
        }
    }

    /// The same factory, with creation and every callback of its matches run by `executor`.
    pub fn with_executor(self, executor: Arc<dyn MatchExecutor>) -> MatchFactory {
        MatchFactory {
            executor: Some(executor),
            ..self
        }
    }

    /// The executor of this handler's matches; `None`: the caller's thread.
    pub fn executor(&self) -> Option<&Arc<dyn MatchExecutor>> {
        self.executor.as_ref()
    }

    /// Creates one match, on the calling thread.
    pub fn create(
        &self,
        ctx: MatchContext,
        params: &serde_json::Value,
    ) -> Result<CreatedMatch, RuntimeError> {
        (self.create)(ctx, params)
    }
}

/// Wraps a handler constructor as a factory: a new handler per match, validated `init` results.
pub fn match_factory<H, F>(make: F) -> MatchFactory
where
    H: MatchHandler,
    F: Fn() -> H + Send + Sync + 'static,
{
    MatchFactory::new(move |ctx: MatchContext, params: &serde_json::Value| {
        let handler = make();
        let init = handler.init(&ctx, params)?;
        if !TICK_RATE_RANGE.contains(&init.tick_rate) {
            return Err(RuntimeError::invalid_argument(format!(
                "match tick rate must be 1-60, got {}",
                init.tick_rate
            )));
        }
        if init.label.len() > MAX_LABEL_BYTES {
            return Err(RuntimeError::invalid_argument(
                "match label must be 2048 bytes or less",
            ));
        }
        Ok(CreatedMatch {
            core: Box::new(Running {
                handler,
                state: init.state,
                ctx,
            }),
            tick_rate: init.tick_rate,
            label: init.label,
        })
    })
}

/// A handler with its state and context.
struct Running<H: MatchHandler> {
    handler: H,
    state: H::State,
    ctx: MatchContext,
}

impl<H: MatchHandler> MatchCore for Running<H> {
    fn join_attempt(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        presence: &Presence,
        metadata: &HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        self.handler
            .join_attempt(&self.ctx, d, tick, &mut self.state, presence, metadata)
    }

    fn join(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        self.handler
            .join(&self.ctx, d, tick, &mut self.state, joins)
    }

    fn leave(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        self.handler
            .leave(&self.ctx, d, tick, &mut self.state, leaves)
    }

    fn tick(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        self.handler
            .tick(&self.ctx, d, tick, &mut self.state, messages)
    }

    fn terminate(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        self.handler
            .terminate(&self.ctx, d, tick, &mut self.state, grace_seconds)
    }

    fn signal(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        self.handler
            .signal(&self.ctx, d, tick, &mut self.state, data)
    }
}
