//! Authoritative matches: the registry of running matches, their engine (one task per match),
//! the dispatcher's server side, and match listing over labels.

mod engine;
mod listing;
mod mailbox;
pub mod output;
mod scheduler;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tavern_query::{Document, Index};
use tavern_runtime::matches::{MatchContext, MatchExecutor, MatchFactory, MatchMessage};
use tavern_runtime::{Presence, RuntimeError};
use tokio::sync::oneshot;
use uuid::Uuid;

pub use listing::ListRequest;
use mailbox::Mailbox;

use crate::log_throttle::Throttle;
use crate::state::AppState;

/// How long a client waits for a join attempt's answer before it counts as a rejection.
const JOIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a signal waits for the match's reply.
const SIGNAL_TIMEOUT: Duration = Duration::from_secs(10);

/// A request to a match task.
enum Call {
    JoinAttempt {
        presence: Presence,
        metadata: HashMap<String, String>,
        reply: oneshot::Sender<JoinOutcome>,
    },
    Leave(Vec<Presence>),
    Signal {
        data: String,
        reply: oneshot::Sender<Result<String, RuntimeError>>,
    },
    Terminate {
        grace_seconds: u32,
    },
}

/// The answer to a join attempt.
#[derive(Debug)]
pub enum JoinOutcome {
    /// Joined: the label and the other presences.
    Accepted {
        label: String,
        others: Vec<Presence>,
        is_new: bool,
    },
    Rejected(String),
    NotFound,
}

/// A running match as the registry sees it.
struct MatchEntry {
    id: Uuid,
    handler_name: String,
    tick_rate: u32,
    /// Unix milliseconds.
    create_time_ms: i64,
    label: RwLock<String>,
    size: AtomicUsize,
    mailbox: Mailbox,
}

/// Runs `job` on a handler's executor and waits for what it returns, without holding an async
/// worker; `None` when the executor dropped the job unrun (it is shutting down).
async fn on_executor<T: Send + 'static>(
    executor: &dyn MatchExecutor,
    job: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = oneshot::channel();
    executor.execute(Box::new(move || {
        let _ = done.send(job());
    }));
    result.await.ok()
}

/// Every running authoritative match on this node.
pub struct MatchRegistry {
    node: String,
    /// Where the matches of handlers with an executor wait between their steps.
    scheduler: Arc<scheduler::Scheduler>,
    factories: RwLock<HashMap<String, MatchFactory>>,
    matches: RwLock<HashMap<Uuid, Arc<MatchEntry>>>,
    index: Mutex<Index<Uuid>>,
    stopping: AtomicBool,
}

/// Why a match could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("match handler \"{0}\" not found")]
    UnknownHandler(String),
    #[error("server is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Init(#[from] RuntimeError),
}

impl MatchRegistry {
    pub fn new(node: &str) -> MatchRegistry {
        MatchRegistry {
            node: node.to_owned(),
            scheduler: Arc::default(),
            factories: RwLock::new(HashMap::new()),
            matches: RwLock::new(HashMap::new()),
            index: Mutex::new(Index::new()),
            stopping: AtomicBool::new(false),
        }
    }

    /// Registers a match handler by name (as `match_create` and modules name it).
    pub fn register(&self, name: &str, factory: MatchFactory) {
        self.factories
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), factory);
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// Number of running matches.
    pub fn count(&self) -> usize {
        self.read().len()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Uuid, Arc<MatchEntry>>> {
        self.matches.read().unwrap_or_else(|p| p.into_inner())
    }

    fn entry(&self, id: Uuid, node: &str) -> Option<Arc<MatchEntry>> {
        if node != self.node {
            return None;
        }
        self.read().get(&id).cloned()
    }

    /// Creates and starts a match of a registered handler; returns its id `<uuid>.<node>`.
    /// A handler with an executor is created there, the caller awaiting it.
    pub async fn create(
        state: &Arc<AppState>,
        handler_name: &str,
        params: &serde_json::Value,
    ) -> Result<String, CreateError> {
        let registry = &state.matches;
        if registry.stopping.load(Ordering::Acquire) {
            return Err(CreateError::ShuttingDown);
        }
        let factory = registry
            .factories
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(handler_name)
            .cloned()
            .ok_or_else(|| CreateError::UnknownHandler(handler_name.to_owned()))?;
        let id = Uuid::new_v4();
        let ctx = MatchContext {
            match_id: format!("{id}.{}", registry.node),
            node: registry.node.clone(),
            handler_name: handler_name.to_owned(),
            env: Arc::new(state.config.runtime.env.clone()),
        };
        let executor = factory.executor().cloned();
        let created = match &executor {
            None => factory.create(ctx.clone(), params)?,
            Some(executor) => {
                let (ctx, params) = (ctx.clone(), params.clone());
                on_executor(&**executor, move || factory.create(ctx, &params))
                    .await
                    .ok_or_else(|| RuntimeError::internal("match creation did not finish"))??
            }
        };
        let match_config = &state.config.match_;
        let entry = Arc::new(MatchEntry {
            id,
            handler_name: handler_name.to_owned(),
            tick_rate: created.tick_rate,
            create_time_ms: crate::storage::now_unix_millis(),
            label: RwLock::new(created.label.clone()),
            size: AtomicUsize::new(0),
            mailbox: Mailbox::new(match_config.call_queue_size, match_config.input_queue_size),
        });
        registry.index_label(&entry, &created.label);
        registry
            .matches
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, entry.clone());
        engine::spawn(state.clone(), entry, ctx, created.core, executor);
        Ok(format!("{id}.{}", registry.node))
    }

    /// Asks the match whether a presence may join, waiting at most ten seconds.
    pub async fn join_attempt(
        &self,
        id: Uuid,
        node: &str,
        presence: Presence,
        metadata: HashMap<String, String>,
    ) -> JoinOutcome {
        let Some(entry) = self.entry(id, node) else {
            return JoinOutcome::NotFound;
        };
        let (reply, answer) = oneshot::channel();
        if entry
            .mailbox
            .call(Call::JoinAttempt {
                presence,
                metadata,
                reply,
            })
            .is_err()
        {
            return JoinOutcome::Rejected(
                "Match is not currently accepting join requests".to_owned(),
            );
        }
        match tokio::time::timeout(JOIN_ATTEMPT_TIMEOUT, answer).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => JoinOutcome::NotFound,
            Err(_) => JoinOutcome::Rejected(String::new()),
        }
    }

    /// Queues client data for the match's next tick; dropped when the input queue is full.
    pub fn send_data(&self, id: Uuid, node: &str, message: MatchMessage) {
        if let Some(entry) = self.entry(id, node)
            && entry.mailbox.input(message).is_err()
            && let Some(dropped) = INPUT_FULL_LOG.hit()
        {
            tracing::warn!(
                match_id = %id,
                dropped,
                "match input queue full, messages dropped (dropped: since the last such line, all matches)"
            );
        }
    }

    /// Presences left the match's stream (leave, disconnect or kick).
    pub fn presences_left(&self, id: Uuid, presences: Vec<Presence>) {
        if let Some(entry) = self.read().get(&id)
            && entry.mailbox.call(Call::Leave(presences)).is_err()
            && let Some(lost) = CALL_FULL_LOG.hit()
        {
            tracing::warn!(
                match_id = %id,
                lost,
                "match call queue full, leave not delivered (lost: since the last such line, all matches)"
            );
        }
    }

    /// Sends a signal to a match and waits for its reply.
    pub async fn signal(&self, match_id: &str, data: String) -> Result<String, RuntimeError> {
        let entry = crate::realtime::stream::MatchId::parse(match_id)
            .and_then(|id| self.entry(id.uuid, &id.node))
            .ok_or_else(|| RuntimeError::not_found("match not found"))?;
        let (reply, answer) = oneshot::channel();
        entry
            .mailbox
            .call(Call::Signal { data, reply })
            .map_err(|_| {
                RuntimeError::new("match is busy", tavern_runtime::Code::ResourceExhausted)
            })?;
        match tokio::time::timeout(SIGNAL_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RuntimeError::not_found("match not found")),
            Err(_) => Err(RuntimeError::new(
                "match did not answer the signal in time",
                tavern_runtime::Code::DeadlineExceeded,
            )),
        }
    }

    /// Starts a graceful shutdown: no new matches; every match gets `terminate`.
    pub fn terminate_all(&self, grace_seconds: u32) {
        self.stopping.store(true, Ordering::Release);
        for entry in self.read().values() {
            let _ = entry.mailbox.call(Call::Terminate { grace_seconds });
        }
    }

    /// Refuses new matches from now on.
    pub fn stop_accepting(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Waits until no match runs, or the timeout passes.
    pub async fn wait_empty(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn index_label(&self, entry: &MatchEntry, label: &str) {
        let mut doc = Document::new();
        if let Ok(value @ serde_json::Value::Object(_)) = serde_json::from_str(label) {
            doc.add_json("label", &value);
        }
        doc.add_keyword("label_string", label);
        doc.add_keyword("handler_name", &entry.handler_name);
        doc.add_keyword("node", &self.node);
        doc.add_number("tick_rate", f64::from(entry.tick_rate));
        doc.add_number("create_time", entry.create_time_ms as f64);
        self.index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(entry.id, doc);
    }

    /// Replaces a match's label and re-indexes it.
    fn update_label(&self, entry: &MatchEntry, label: String) {
        self.index_label(entry, &label);
        *entry.label.write().unwrap_or_else(|p| p.into_inner()) = label;
    }

    /// Forgets a match that has ended.
    fn remove(&self, id: Uuid) {
        self.matches
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        self.index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }
}

/// Client data dropped at full match input queues: one warning per interval.
static INPUT_FULL_LOG: Throttle = Throttle::new(crate::log_throttle::INTERVAL);
/// Leaves lost at full match call queues: one warning per interval.
static CALL_FULL_LOG: Throttle = Throttle::new(crate::log_throttle::INTERVAL);
