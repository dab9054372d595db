//! A match's engine: it owns the handler and its state, hands the messages queued since the
//! last tick to the loop, and serves joins, leaves and signals in between. A callback that errs
//! or panics ends this match only. Every step is synchronous; what drives the steps depends on
//! the handler: a handler without an executor (Rust's) gets a task of its own here, which ticks
//! at the match's rate and runs the callbacks in the task; a handler with an executor (Lua's)
//! has its matches ticked in batches on that executor by the [`super::scheduler`].

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use tavern_runtime::matches::{
    Dispatcher, Flow, JoinDecision, MatchContext, MatchCore, MatchExecutor, MatchMessage,
};
use tavern_runtime::{Presence, RuntimeError};
use tokio::sync::oneshot;
use tokio::time::{Instant, MissedTickBehavior, Sleep};
use uuid::Uuid;

use super::output::Sink;
use super::{Call, JoinOutcome, MatchEntry};
use crate::realtime::session::CloseReason;
use crate::realtime::stream::{Stream, StreamMode};
use crate::state::AppState;

/// How a match ended.
pub(super) enum End {
    /// Returned `Flow::End`, emptied out, or ran out of shutdown grace.
    Normal,
    /// A callback returned an error or panicked.
    Failed(String),
}

/// One match: its handler's core and what the server tracks about it.
pub(super) struct Engine {
    state: Arc<AppState>,
    pub(super) entry: Arc<MatchEntry>,
    ctx: MatchContext,
    core: Box<dyn MatchCore>,
    presences: Vec<Presence>,
    tick: i64,
    empty_ticks: u64,
    /// The time between two ticks.
    pub(super) period: Duration,
    /// When the grace of a `terminate` runs out.
    pub(super) grace: Option<Instant>,
}

/// Starts a match: in a task of its own, or on its handler's executor.
pub(super) fn spawn(
    state: Arc<AppState>,
    entry: Arc<MatchEntry>,
    ctx: MatchContext,
    core: Box<dyn MatchCore>,
    executor: Option<Arc<dyn MatchExecutor>>,
) {
    let scheduler = state.matches.scheduler.clone();
    let period = Duration::from_secs_f64(1.0 / f64::from(entry.tick_rate));
    let engine = Engine {
        state,
        entry,
        ctx,
        core,
        presences: Vec::new(),
        tick: 0,
        empty_ticks: 0,
        period,
        grace: None,
    };
    match executor {
        None => {
            tokio::spawn(engine.run());
        }
        Some(executor) => scheduler.start(engine, executor),
    }
}

/// What woke the match task.
enum Wake {
    Calls,
    Tick(Instant),
    GraceOver,
}

impl Engine {
    /// The task of a match whose callbacks run in it.
    async fn run(mut self) {
        let period = self.period;
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut grace: Option<(Instant, Pin<Box<Sleep>>)> = None;
        let end = loop {
            // Calls first (a join attempt is answered before the next tick), then the tick.
            let wake = std::future::poll_fn(|cx| {
                if self.entry.mailbox.poll_calls(cx).is_ready() {
                    return Poll::Ready(Wake::Calls);
                }
                if let Poll::Ready(scheduled) = ticker.poll_tick(cx) {
                    return Poll::Ready(Wake::Tick(scheduled));
                }
                if let Some(deadline) = self.grace
                    && grace.as_ref().is_none_or(|(at, _)| *at != deadline)
                {
                    grace = Some((deadline, Box::pin(tokio::time::sleep_until(deadline))));
                }
                match grace.as_mut().map(|(_, sleep)| sleep.as_mut().poll(cx)) {
                    Some(Poll::Ready(())) => Poll::Ready(Wake::GraceOver),
                    _ => Poll::Pending,
                }
            })
            .await;
            let step = match wake {
                Wake::Calls => self.handle_calls(),
                Wake::Tick(scheduled) => self.run_tick(scheduled, Instant::now()),
                Wake::GraceOver => Err(End::Normal),
            };
            if let Err(end) = step {
                break end;
            }
        };
        self.finish(end);
    }

    /// Handles the calls waiting, in order; stops at the first that ends the match.
    pub(super) fn handle_calls(&mut self) -> Result<(), End> {
        for call in self.entry.mailbox.take_calls() {
            if let Call::Terminate { grace_seconds } = call {
                self.grace = Some(Instant::now() + Duration::from_secs(u64::from(grace_seconds)));
            }
            self.handle_call(call)?;
        }
        Ok(())
    }

    /// Runs one callback with a dispatcher, catching panics, then applies its effects.
    fn invoke<T>(
        &mut self,
        callback: impl FnOnce(&mut dyn MatchCore, &mut Dispatcher) -> Result<T, RuntimeError>,
    ) -> Result<T, End> {
        let deferred_limit = self.state.config.match_.deferred_queue_size;
        let sink = Sink::new(&self.state, &self.ctx.match_id, &self.presences);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut dispatcher = Dispatcher::new(&sink, deferred_limit);
            let result = callback(&mut *self.core, &mut dispatcher);
            dispatcher.flush_deferred();
            result
        }));
        let kicks = sink.kicks.into_inner().unwrap_or_else(|p| p.into_inner());
        let label = sink.label.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(label) = label {
            self.state.matches.update_label(&self.entry, label);
        }
        if !kicks.is_empty() {
            let stream = Stream::new(
                StreamMode::MatchAuthoritative,
                self.entry.id,
                self.ctx.node.clone(),
            );
            for presence in kicks {
                if let Ok(session_id) = Uuid::parse_str(&presence.session_id) {
                    self.state.realtime.tracker.untrack(session_id, &stream);
                }
            }
        }
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(End::Failed(e.message)),
            Err(panic) => Err(End::Failed(panic_message(&panic))),
        }
    }

    fn flow(flow: Result<Flow, End>) -> Result<(), End> {
        match flow? {
            Flow::Continue => Ok(()),
            Flow::End => Err(End::Normal),
        }
    }

    fn handle_call(&mut self, call: Call) -> Result<(), End> {
        match call {
            Call::JoinAttempt {
                presence,
                metadata,
                reply,
            } => self.join_attempt(presence, metadata, reply),
            Call::Leave(leaving) => {
                let before = self.presences.len();
                let mut left = Vec::new();
                self.presences.retain(|p| {
                    let leaves = leaving.iter().any(|l| l.session_id == p.session_id);
                    if leaves {
                        left.push(p.clone());
                    }
                    !leaves
                });
                if self.presences.len() == before {
                    return Ok(());
                }
                self.entry
                    .size
                    .store(self.presences.len(), Ordering::Relaxed);
                let tick = self.tick;
                Self::flow(self.invoke(|core, d| core.leave(d, tick, &left)))
            }
            Call::Signal { data, reply } => {
                let tick = self.tick;
                match self.invoke(|core, d| core.signal(d, tick, &data)) {
                    Ok((flow, result)) => {
                        let _ = reply.send(Ok(result));
                        Self::flow(Ok(flow))
                    }
                    Err(end) => {
                        let _ = reply.send(Err(RuntimeError::internal("match signal failed")));
                        Err(end)
                    }
                }
            }
            Call::Terminate { grace_seconds } => {
                let tick = self.tick;
                Self::flow(self.invoke(|core, d| core.terminate(d, tick, grace_seconds)))
            }
        }
    }

    fn join_attempt(
        &mut self,
        presence: Presence,
        metadata: std::collections::HashMap<String, String>,
        reply: oneshot::Sender<JoinOutcome>,
    ) -> Result<(), End> {
        if self
            .presences
            .iter()
            .any(|p| p.session_id == presence.session_id)
        {
            let _ = reply.send(JoinOutcome::Accepted {
                label: self.label(),
                others: self.others(&presence),
                is_new: false,
            });
            return Ok(());
        }
        let tick = self.tick;
        let decision = match self.invoke(|core, d| core.join_attempt(d, tick, &presence, &metadata))
        {
            Ok(decision) => decision,
            Err(end) => {
                let _ = reply.send(JoinOutcome::Rejected(String::new()));
                return Err(end);
            }
        };
        match decision {
            JoinDecision::Reject(reason) => {
                let _ = reply.send(JoinOutcome::Rejected(reason));
                Ok(())
            }
            JoinDecision::Accept => {
                let others = self.others(&presence);
                self.presences.push(presence.clone());
                self.entry
                    .size
                    .store(self.presences.len(), Ordering::Relaxed);
                let _ = reply.send(JoinOutcome::Accepted {
                    label: self.label(),
                    others,
                    is_new: true,
                });
                let joins = [presence];
                Self::flow(self.invoke(|core, d| core.join(d, tick, &joins)))
            }
        }
    }

    fn label(&self) -> String {
        self.entry
            .label
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn others(&self, me: &Presence) -> Vec<Presence> {
        self.presences
            .iter()
            .filter(|p| p.session_id != me.session_id)
            .cloned()
            .collect()
    }

    /// Runs the tick that was due at `scheduled`, starting at `started`: the data queued since
    /// the last one goes to the loop.
    pub(super) fn run_tick(&mut self, scheduled: Instant, started: Instant) -> Result<(), End> {
        let messages = self.entry.mailbox.take_inputs();
        let step = self.tick_with(messages);
        if let Some(metrics) = crate::telemetry::get() {
            metrics
                .tick_lateness
                .record(started.saturating_duration_since(scheduled).as_secs_f64());
            metrics
                .tick_duration
                .record(started.elapsed().as_secs_f64());
        }
        step
    }

    fn tick_with(&mut self, messages: Vec<MatchMessage>) -> Result<(), End> {
        let tick = self.tick;
        Self::flow(self.invoke(|core, d| core.tick(d, tick, messages)))?;
        self.tick += 1;
        let max_empty_sec = self.state.config.match_.max_empty_sec;
        if max_empty_sec > 0 {
            if self.presences.is_empty() {
                self.empty_ticks += 1;
                if self.empty_ticks >= u64::from(self.entry.tick_rate) * max_empty_sec {
                    return Err(End::Normal);
                }
            } else {
                self.empty_ticks = 0;
            }
        }
        Ok(())
    }

    /// Forgets the match and drops its presences: silently when it ended normally; a failed
    /// match disconnects its players, as Nakama does. The core is dropped on the caller's
    /// thread (for a Lua match, its executor's: a VM may run finalizers as it closes).
    pub(super) fn finish(self, end: End) {
        self.state.matches.remove(self.entry.id);
        let stream = Stream::new(
            StreamMode::MatchAuthoritative,
            self.entry.id,
            self.ctx.node.clone(),
        );
        let sessions = self.state.realtime.tracker.remove_stream(&stream);
        if let End::Failed(reason) = end {
            tracing::error!(match_id = %self.ctx.match_id, handler = %self.entry.handler_name, error = %reason, "match handler failed; match stopped");
            for session in sessions {
                session.close(CloseReason::SERVER_DISCONNECT);
            }
        } else {
            tracing::debug!(match_id = %self.ctx.match_id, "match ended");
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = panic.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_owned()
    }
}
