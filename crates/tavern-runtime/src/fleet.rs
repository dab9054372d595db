//! Fleet management: the [`FleetManager`] interface a dedicated-server platform adapter
//! implements, the types it speaks in (with Nakama's JSON names), and [`FleetCallbacks`], the
//! node-local store of pending `create` callbacks.
//!
//! Game code reaches the registered manager through [`Nk::fleet`](crate::Nk::fleet), usually from
//! a matchmaker-matched hook or an RPC. The server never calls the fleet manager by itself.
//!
//! Unlike Nakama, where game code sees only `Get`/`List`/`Create`/`Join` and `Update`/`Delete`
//! need a type assertion, the [`Fleet`] handle offers every method.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::nk::BoxFuture;
use crate::{Code, Nk, RuntimeError};

/// JSON metadata of an instance or a create request.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// How players reach an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionInfo {
    pub ip_address: String,
    pub dns_name: String,
    pub port: i32,
}

/// One running game-server instance of the platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceInfo {
    /// The platform's id; unique among instances running at the same time.
    pub id: String,
    /// How to reach it; `None` while the platform has not placed it yet.
    pub connection_info: Option<ConnectionInfo>,
    /// When it was created, RFC 3339 (empty when the platform does not say).
    pub create_time: String,
    /// Active player sessions, as far as the adapter knows.
    pub player_count: i32,
    /// The platform's own status word.
    pub status: String,
    /// Application data, used to filter listings.
    pub metadata: Metadata,
}

/// A player slot reserved on an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionInfo {
    pub user_id: String,
    /// The platform's (or adapter's) player-session id.
    pub session_id: String,
}

/// The answer to [`FleetManager::join`]: the instance and one session per user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JoinInfo {
    pub instance_info: Option<InstanceInfo>,
    pub session_info: Vec<SessionInfo>,
}

/// A user's latency to a region, for platforms that place instances by latency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserLatency {
    pub user_id: String,
    pub latency_in_milliseconds: f32,
    pub region_identifier: String,
}

/// One page of [`FleetManager::list`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstancePage {
    pub instances: Vec<InstanceInfo>,
    /// Pass back to get the next page; empty when there is none.
    pub cursor: String,
}

/// What [`FleetManager::create`] is asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateRequest {
    pub max_players: i32,
    /// Users to reserve slots for; their sessions come back with the callback.
    pub user_ids: Vec<String>,
    pub latencies: Vec<UserLatency>,
    /// Application data for the new (or claimed) instance.
    pub metadata: Metadata,
}

/// How a create ended, with Nakama's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum CreateStatus {
    Success = 0,
    /// No suitable instance within the adapter's time limit.
    Timeout = 1,
    Error = 2,
}

/// What a create callback receives. On success `instance` is set (and `sessions` when user ids
/// were given); otherwise `error` is.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateOutcome {
    pub status: CreateStatus,
    pub instance: Option<InstanceInfo>,
    pub sessions: Option<Vec<SessionInfo>>,
    pub metadata: Option<Metadata>,
    pub error: Option<RuntimeError>,
}

impl CreateOutcome {
    /// A successful create.
    pub fn success(
        instance: InstanceInfo,
        sessions: Option<Vec<SessionInfo>>,
        metadata: Option<Metadata>,
    ) -> CreateOutcome {
        CreateOutcome {
            status: CreateStatus::Success,
            instance: Some(instance),
            sessions,
            metadata,
            error: None,
        }
    }

    /// A create that found no instance in time.
    pub fn timeout(message: impl Into<String>) -> CreateOutcome {
        CreateOutcome {
            status: CreateStatus::Timeout,
            instance: None,
            sessions: None,
            metadata: None,
            error: Some(RuntimeError::new(message, Code::DeadlineExceeded)),
        }
    }

    /// A create that failed.
    pub fn error(error: RuntimeError) -> CreateOutcome {
        CreateOutcome {
            status: CreateStatus::Error,
            instance: None,
            sessions: None,
            metadata: None,
            error: Some(error),
        }
    }
}

/// A create's completion callback: called once, with the outcome; the returned future is run
/// to its end by whoever completes the create.
pub type CreateCallback = Box<dyn FnOnce(CreateOutcome) -> BoxFuture<'static, ()> + Send>;

/// Wraps an async closure as a [`CreateCallback`].
///
/// ```
/// use tavern_runtime::fleet::{CreateStatus, create_callback};
/// let callback = create_callback(|outcome| async move {
///     assert_eq!(outcome.status, CreateStatus::Timeout);
/// });
/// # drop(callback);
/// ```
pub fn create_callback<F, Fut>(f: F) -> CreateCallback
where
    F: FnOnce(CreateOutcome) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    Box::new(move |outcome| Box::pin(f(outcome)))
}

/// A dedicated-server platform adapter (Nakama's `FleetManagerInitializer`). The server, or a
/// module through [`Initializer::register_fleet_manager`](crate::Initializer::register_fleet_manager),
/// registers one; game code calls it through [`Nk::fleet`](crate::Nk::fleet).
pub trait FleetManager: Send + Sync + 'static {
    /// Called once at registration with the server functions and the callback store; keep
    /// both. An error stops the server's start.
    fn init(&self, nk: Nk, callbacks: FleetCallbacks) -> Result<(), RuntimeError>;

    /// The freshest information about one instance; [`Code::NotFound`] when there is none.
    fn get(&self, id: String) -> BoxFuture<'_, Result<InstanceInfo, RuntimeError>>;

    /// Instances matching a platform-specific `query` (empty: all), at most `limit`, from the
    /// page `cursor` names (empty: the first).
    fn list(
        &self,
        query: String,
        limit: i32,
        cursor: String,
    ) -> BoxFuture<'_, Result<InstancePage, RuntimeError>>;

    /// Starts getting an instance for `request`; returns at once with ids naming the pending
    /// create (such as `{"request_id": "..."}`). The callback is called exactly once, with a
    /// success, a timeout or an error.
    fn create(
        &self,
        request: CreateRequest,
        callback: CreateCallback,
    ) -> BoxFuture<'_, Result<HashMap<String, String>, RuntimeError>>;

    /// Reserves slots for `user_ids` on instance `id`; reservations expire if not used.
    fn join(
        &self,
        id: String,
        user_ids: Vec<String>,
        metadata: HashMap<String, String>,
    ) -> BoxFuture<'_, Result<JoinInfo, RuntimeError>>;

    /// Records the player count and merges `metadata` into the instance's.
    fn update(
        &self,
        id: String,
        player_count: i32,
        metadata: Metadata,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;

    /// Removes (or recycles) an instance.
    fn delete(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>>;
}

/// The registered fleet manager, as game code holds it. Cheap to clone.
#[derive(Clone)]
pub struct Fleet {
    manager: Arc<dyn FleetManager>,
}

impl Fleet {
    /// A handle over a manager.
    pub fn new(manager: Arc<dyn FleetManager>) -> Fleet {
        Fleet { manager }
    }

    /// See [`FleetManager::get`].
    pub async fn get(&self, id: &str) -> Result<InstanceInfo, RuntimeError> {
        self.manager.get(id.to_owned()).await
    }

    /// See [`FleetManager::list`].
    pub async fn list(
        &self,
        query: &str,
        limit: i32,
        cursor: &str,
    ) -> Result<InstancePage, RuntimeError> {
        self.manager
            .list(query.to_owned(), limit, cursor.to_owned())
            .await
    }

    /// See [`FleetManager::create`].
    pub async fn create(
        &self,
        request: CreateRequest,
        callback: CreateCallback,
    ) -> Result<HashMap<String, String>, RuntimeError> {
        self.manager.create(request, callback).await
    }

    /// See [`FleetManager::join`].
    pub async fn join(
        &self,
        id: &str,
        user_ids: Vec<String>,
        metadata: HashMap<String, String>,
    ) -> Result<JoinInfo, RuntimeError> {
        self.manager.join(id.to_owned(), user_ids, metadata).await
    }

    /// See [`FleetManager::update`].
    pub async fn update(
        &self,
        id: &str,
        player_count: i32,
        metadata: Metadata,
    ) -> Result<(), RuntimeError> {
        self.manager
            .update(id.to_owned(), player_count, metadata)
            .await
    }

    /// See [`FleetManager::delete`].
    pub async fn delete(&self, id: &str) -> Result<(), RuntimeError> {
        self.manager.delete(id.to_owned()).await
    }
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet").finish_non_exhaustive()
    }
}

struct Pending {
    callback: CreateCallback,
    deadline: Instant,
}

/// The node-local store of pending create callbacks (Nakama's `FmCallbackHandler`): an id per
/// create, each callback called at most once, and a deadline after which
/// [`expire_due`](FleetCallbacks::expire_due) completes it with a timeout so none is kept
/// forever. Cheap to clone; clones share the store.
#[derive(Clone)]
pub struct FleetCallbacks {
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    node_id: [u8; 6],
}

impl FleetCallbacks {
    /// A store for node `node`; its ids carry a hash of the node name.
    pub fn new(node: &str) -> FleetCallbacks {
        // FNV-1a folded to 48 bits: stable across runs, so ids name their node.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in node.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        let bytes = hash.to_be_bytes();
        let mut node_id = [0u8; 6];
        node_id.copy_from_slice(&bytes[2..]);
        FleetCallbacks {
            pending: Arc::new(Mutex::new(HashMap::new())),
            node_id,
        }
    }

    /// A fresh callback id: a time-based UUID whose node field identifies this node. Times
    /// never repeat within the process, so ids do not either.
    pub fn generate_id(&self) -> String {
        static LAST_TICKS: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, now.as_secs(), now.subsec_nanos());
        let now_ticks = ts.to_gregorian().0;
        let previous = LAST_TICKS
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now_ticks.max(last + 1))
            })
            .unwrap_or(0);
        let ticks = now_ticks.max(previous + 1);
        // The clock sequence gets random bits so other processes on the node differ too.
        let random = uuid::Uuid::new_v4();
        let seq = u16::from_be_bytes([random.as_bytes()[0], random.as_bytes()[1]]) & 0x3fff;
        let ts = uuid::Timestamp::from_gregorian_time(ticks, seq);
        uuid::Uuid::new_v1(ts, &self.node_id).to_string()
    }

    /// Stores `callback` under `id` until it is invoked or `timeout` has passed. An id that is
    /// already waiting is refused (the callback is handed back) and the first one kept.
    pub fn set(
        &self,
        id: &str,
        callback: CreateCallback,
        timeout: Duration,
    ) -> Result<(), CreateCallback> {
        let mut map = self.lock();
        if map.contains_key(id) {
            return Err(callback);
        }
        let deadline = Instant::now() + timeout;
        map.insert(id.to_owned(), Pending { callback, deadline });
        Ok(())
    }

    /// Calls and forgets the callback stored under `id`; `false` when there is none (unknown
    /// id, or already invoked or expired).
    pub async fn invoke(&self, id: &str, outcome: CreateOutcome) -> bool {
        let pending = self.lock().remove(id);
        match pending {
            Some(pending) => {
                (pending.callback)(outcome).await;
                true
            }
            None => false,
        }
    }

    /// Completes every callback past its deadline with [`CreateStatus::Timeout`]; returns how
    /// many there were.
    pub async fn expire_due(&self) -> usize {
        let now = Instant::now();
        let due: Vec<Pending> = {
            let mut map = self.lock();
            let ids: Vec<String> = map
                .iter()
                .filter(|(_, p)| p.deadline <= now)
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        let count = due.len();
        for pending in due {
            (pending.callback)(CreateOutcome::timeout(
                "no instance was ready within the create timeout",
            ))
            .await;
        }
        count
    }

    /// How many callbacks are waiting.
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        // A panic while holding the lock cannot leave the map half-updated: recover it.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Debug for FleetCallbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetCallbacks")
            .field("pending", &self.pending())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(counter: &Arc<AtomicUsize>, expect: CreateStatus) -> CreateCallback {
        let counter = counter.clone();
        create_callback(move |outcome| async move {
            assert_eq!(outcome.status, expect);
            counter.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[test]
    fn json_names_are_nakamas() {
        let info = JoinInfo {
            instance_info: Some(InstanceInfo {
                id: "7".into(),
                connection_info: Some(ConnectionInfo {
                    ip_address: "10.0.0.1".into(),
                    dns_name: String::new(),
                    port: 7777,
                }),
                create_time: "2026-01-01T00:00:00Z".into(),
                player_count: 2,
                status: "running".into(),
                metadata: Metadata::new(),
            }),
            session_info: vec![SessionInfo {
                user_id: "u".into(),
                session_id: "s".into(),
            }],
        };
        let json = serde_json::to_value(&info).unwrap();
        let instance = &json["instance_info"];
        for key in [
            "id",
            "connection_info",
            "create_time",
            "player_count",
            "status",
            "metadata",
        ] {
            assert!(instance.get(key).is_some(), "{key}");
        }
        assert_eq!(instance["connection_info"]["ip_address"], "10.0.0.1");
        assert_eq!(instance["connection_info"]["dns_name"], "");
        assert_eq!(instance["connection_info"]["port"], 7777);
        assert_eq!(json["session_info"][0]["user_id"], "u");
        assert_eq!(json["session_info"][0]["session_id"], "s");
        assert_eq!(CreateStatus::Timeout as u8, 1);
    }

    #[test]
    fn ids_are_unique_and_name_the_node() {
        let a = FleetCallbacks::new("node-a");
        let b = FleetCallbacks::new("node-b");
        let ids: std::collections::HashSet<_> = (0..10_000).map(|_| a.generate_id()).collect();
        assert_eq!(ids.len(), 10_000);
        let node = |id: &str| id.rsplit('-').next().unwrap().to_owned();
        let first = a.generate_id();
        assert_eq!(node(&first), node(&a.generate_id()));
        assert_ne!(node(&first), node(&b.generate_id()));
        assert_eq!(uuid::Uuid::parse_str(&first).unwrap().get_version_num(), 1);
    }

    #[tokio::test]
    async fn callbacks_fire_once() {
        let store = FleetCallbacks::new("n");
        let counter = Arc::new(AtomicUsize::new(0));
        let id = store.generate_id();
        let first = counting(&counter, CreateStatus::Error);
        assert!(store.set(&id, first, Duration::from_secs(60)).is_ok());
        let second = counting(&counter, CreateStatus::Error);
        assert!(store.set(&id, second, Duration::from_secs(60)).is_err());
        assert_eq!(store.pending(), 1);
        let outcome = CreateOutcome::error(RuntimeError::internal("x"));
        assert!(store.invoke(&id, outcome.clone()).await);
        assert!(!store.invoke(&id, outcome.clone()).await);
        assert!(!store.invoke("unknown", outcome).await);
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        assert_eq!(store.pending(), 0);
    }

    #[tokio::test]
    async fn overdue_callbacks_time_out_instead_of_leaking() {
        let store = FleetCallbacks::new("n");
        let counter = Arc::new(AtomicUsize::new(0));
        let late = counting(&counter, CreateStatus::Timeout);
        assert!(store.set("late", late, Duration::ZERO).is_ok());
        let early = counting(&counter, CreateStatus::Success);
        assert!(store.set("early", early, Duration::from_secs(60)).is_ok());
        assert_eq!(store.expire_due().await, 1);
        assert_eq!(store.pending(), 1);
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        let outcome = CreateOutcome::success(InstanceInfo::default(), None, None);
        assert!(store.invoke("early", outcome).await);
        assert_eq!(counter.load(Ordering::SeqCst), 2);
    }
}
