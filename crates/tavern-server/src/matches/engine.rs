//! One task per match: it owns the handler and its state, ticks at the match's rate, hands the
//! messages queued since the last tick to the loop, and serves joins, leaves and signals in
//! between. A callback that errs or panics ends this match only. A handler with an executor
//! (Lua's) has each callback run there while the task awaits it; others run in the task.

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
use super::{Call, JoinOutcome, MatchEntry, on_executor};
use crate::realtime::session::CloseReason;
use crate::realtime::stream::{Stream, StreamMode};
use crate::state::AppState;

/// How a match ended.
enum End {
    /// Returned `Flow::End`, emptied out, or ran out of shutdown grace.
    Normal,
    /// A callback returned an error or panicked.
    Failed(String),
}

struct Engine {
    state: Arc<AppState>,
    entry: Arc<MatchEntry>,
    ctx: MatchContext,
    /// `None` only while a callback runs on the executor, or after the executor lost it.
    core: Option<Box<dyn MatchCore>>,
    executor: Option<Arc<dyn MatchExecutor>>,
    presences: Vec<Presence>,
    tick: i64,
    empty_ticks: u64,
}

/// What a callback's result comes with: its kicks and its last label update.
type Effects = (Vec<Presence>, Option<String>);

pub(super) fn spawn(
    state: Arc<AppState>,
    entry: Arc<MatchEntry>,
    ctx: MatchContext,
    core: Box<dyn MatchCore>,
    executor: Option<Arc<dyn MatchExecutor>>,
) {
    let engine = Engine {
        state,
        entry,
        ctx,
        core: Some(core),
        executor,
        presences: Vec::new(),
        tick: 0,
        empty_ticks: 0,
    };
    tokio::spawn(engine.run());
}

/// What woke the match task.
enum Wake {
    Calls,
    Tick(Instant),
    GraceOver,
}

impl Engine {
    async fn run(mut self) {
        let period = Duration::from_secs_f64(1.0 / f64::from(self.entry.tick_rate));
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut grace: Option<Pin<Box<Sleep>>> = None;
        let end = loop {
            // Calls first (a join attempt is answered before the next tick), then the tick.
            let wake = std::future::poll_fn(|cx| {
                if self.entry.mailbox.poll_calls(cx).is_ready() {
                    return Poll::Ready(Wake::Calls);
                }
                if let Poll::Ready(scheduled) = ticker.poll_tick(cx) {
                    return Poll::Ready(Wake::Tick(scheduled));
                }
                match grace.as_mut().map(|sleep| sleep.as_mut().poll(cx)) {
                    Some(Poll::Ready(())) => Poll::Ready(Wake::GraceOver),
                    _ => Poll::Pending,
                }
            })
            .await;
            let step = match wake {
                // Boxed: calls are rare, and their futures would make every idle match's task larger.
                Wake::Calls => Box::pin(self.handle_calls(&mut grace)).await,
                Wake::Tick(scheduled) => {
                    let started = Instant::now();
                    let messages = self.entry.mailbox.take_inputs();
                    let step = self.run_tick(messages).await;
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
                Wake::GraceOver => Err(End::Normal),
            };
            if let Err(end) = step {
                break end;
            }
        };
        self.finish(end);
    }

    /// Handles the calls waiting, in order; stops at the first that ends the match.
    async fn handle_calls(&mut self, grace: &mut Option<Pin<Box<Sleep>>>) -> Result<(), End> {
        for call in self.entry.mailbox.take_calls() {
            if let Call::Terminate { grace_seconds } = call {
                let deadline = Instant::now() + Duration::from_secs(u64::from(grace_seconds));
                *grace = Some(Box::pin(tokio::time::sleep_until(deadline)));
            }
            self.handle_call(call).await?;
        }
        Ok(())
    }

    /// Runs one callback with a dispatcher, catching panics, then applies its effects.
    async fn invoke<T: Send + 'static>(
        &mut self,
        callback: impl FnOnce(&mut dyn MatchCore, &mut Dispatcher) -> Result<T, RuntimeError>
        + Send
        + 'static,
    ) -> Result<T, End> {
        let deferred_limit = self.state.config.match_.deferred_queue_size;
        let (result, (kicks, label)) = match self.executor.clone() {
            None => {
                let core = self.core.as_deref_mut().ok_or_else(lost)?;
                let sink = Sink::new(&self.state, &self.ctx.match_id, &self.presences);
                let result = run_callback(core, &sink, deferred_limit, callback);
                (result, effects(sink))
            }
            Some(executor) => Box::pin(self.offload(&*executor, deferred_limit, callback)).await?,
        };
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

    /// Runs a callback on the executor: the core, and what its sink needs, go into the job and
    /// come back with the result; the task waits without holding a worker.
    async fn offload<T: Send + 'static>(
        &mut self,
        executor: &dyn MatchExecutor,
        deferred_limit: usize,
        callback: impl FnOnce(&mut dyn MatchCore, &mut Dispatcher) -> Result<T, RuntimeError>
        + Send
        + 'static,
    ) -> Result<(std::thread::Result<Result<T, RuntimeError>>, Effects), End> {
        let mut core = self.core.take().ok_or_else(lost)?;
        let state = self.state.clone();
        let match_id = self.ctx.match_id.clone();
        let presences = std::mem::take(&mut self.presences);
        let job = move || {
            let sink = Sink::new(&state, &match_id, &presences);
            let result = run_callback(&mut *core, &sink, deferred_limit, callback);
            let effects = effects(sink);
            (core, presences, result, effects)
        };
        let (core, presences, result, effects) =
            on_executor(executor, job).await.ok_or_else(lost)?;
        self.core = Some(core);
        self.presences = presences;
        Ok((result, effects))
    }

    fn flow(flow: Result<Flow, End>) -> Result<(), End> {
        match flow? {
            Flow::Continue => Ok(()),
            Flow::End => Err(End::Normal),
        }
    }

    async fn handle_call(&mut self, call: Call) -> Result<(), End> {
        match call {
            Call::JoinAttempt {
                presence,
                metadata,
                reply,
            } => self.join_attempt(presence, metadata, reply).await,
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
                Self::flow(self.invoke(move |core, d| core.leave(d, tick, &left)).await)
            }
            Call::Signal { data, reply } => {
                let tick = self.tick;
                match self
                    .invoke(move |core, d| core.signal(d, tick, &data))
                    .await
                {
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
            Call::Terminate { grace_seconds } => self.terminate(grace_seconds).await,
        }
    }

    async fn join_attempt(
        &mut self,
        presence: Presence,
        metadata: std::collections::HashMap<String, String>,
        reply: oneshot::Sender<JoinOutcome>,
    ) -> Result<(), End> {
        let label = self
            .entry
            .label
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if self
            .presences
            .iter()
            .any(|p| p.session_id == presence.session_id)
        {
            let others = self.others(&presence);
            let _ = reply.send(JoinOutcome::Accepted {
                label,
                others,
                is_new: false,
            });
            return Ok(());
        }
        let tick = self.tick;
        let attempt = self.invoke(move |core, d| {
            let decision = core.join_attempt(d, tick, &presence, &metadata)?;
            Ok((decision, presence))
        });
        let (decision, presence) = match attempt.await {
            Ok(answer) => answer,
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
                let label = self
                    .entry
                    .label
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let _ = reply.send(JoinOutcome::Accepted {
                    label,
                    others,
                    is_new: true,
                });
                let joins = [presence];
                Self::flow(self.invoke(move |core, d| core.join(d, tick, &joins)).await)
            }
        }
    }

    fn others(&self, me: &Presence) -> Vec<Presence> {
        self.presences
            .iter()
            .filter(|p| p.session_id != me.session_id)
            .cloned()
            .collect()
    }

    async fn run_tick(&mut self, messages: Vec<MatchMessage>) -> Result<(), End> {
        let tick = self.tick;
        Self::flow(
            self.invoke(move |core, d| core.tick(d, tick, messages))
                .await,
        )?;
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

    async fn terminate(&mut self, grace_seconds: u32) -> Result<(), End> {
        let tick = self.tick;
        Self::flow(
            self.invoke(move |core, d| core.terminate(d, tick, grace_seconds))
                .await,
        )
    }

    /// Forgets the match and drops its presences: silently when it ended normally; a failed
    /// match disconnects its players, as Nakama does. A core with an executor is dropped there
    /// too (a Lua VM may run finalizers as it closes).
    fn finish(mut self, end: End) {
        if let (Some(executor), Some(core)) = (&self.executor, self.core.take()) {
            executor.execute(Box::new(move || drop(core)));
        }
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

/// Runs a callback against `sink`, catching a panic, and sends its deferred messages.
fn run_callback<T>(
    core: &mut dyn MatchCore,
    sink: &Sink,
    deferred_limit: usize,
    callback: impl FnOnce(&mut dyn MatchCore, &mut Dispatcher) -> Result<T, RuntimeError>,
) -> std::thread::Result<Result<T, RuntimeError>> {
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut dispatcher = Dispatcher::new(sink, deferred_limit);
        let result = callback(core, &mut dispatcher);
        dispatcher.flush_deferred();
        result
    }))
}

/// The kicks and the label update a callback left in its sink.
fn effects(sink: Sink) -> Effects {
    let kicks = sink.kicks.into_inner().unwrap_or_else(|p| p.into_inner());
    let label = sink.label.into_inner().unwrap_or_else(|p| p.into_inner());
    (kicks, label)
}

/// The match's core did not come back from its executor (it stopped).
fn lost() -> End {
    End::Failed("match executor stopped".to_owned())
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
