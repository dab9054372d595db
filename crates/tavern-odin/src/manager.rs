//! The ODIN Fleet fleet manager: the runtime's `FleetManager` over an ODIN app's servers.
//!
//! * `list`/`get` read the API and convert servers to instances (unreachable ones are left out
//!   of listings, with a log line).
//! * `create` claims an idle server (metadata `instance_state = "idle"`): it writes a claim
//!   token into the server's metadata, waits out a settle window, reads the server back and
//!   keeps it only if its own token is still there; a lost race tries again until the create
//!   timeout, then the callback gets a timeout.
//! * `join` keeps slot reservations in memory, each valid for a while.
//! * `update` patches metadata and records the player count under `player_count`.
//! * `delete` restarts the server, which recycles it into the idle pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tavern_runtime::fleet::{
    CreateCallback, CreateOutcome, CreateRequest, FleetCallbacks, FleetManager, InstanceInfo,
    InstancePage, JoinInfo, Metadata, SessionInfo,
};
use tavern_runtime::{BoxFuture, Code, Nk, RuntimeError};

use crate::client::{OdinClient, OdinError};
use crate::conversion::{PLAYER_COUNT_KEY, connection_info, instance_info};
use crate::list_query::ListQuery;
use crate::model::{Server, ServerFilter};

/// The metadata key a game server announces its state under.
pub const STATE_KEY: &str = "instance_state";
/// The state of a server ready to host a match.
pub const STATE_IDLE: &str = "idle";
/// The state a claimed server is left in until its game server reports `occupied`.
pub const STATE_ALLOCATED: &str = "allocated";
/// The metadata key of a pending claim's token.
pub const CLAIM_KEY: &str = "tavern_claim";
/// The metadata key of a pending claim's expiry, unix milliseconds.
pub const CLAIM_UNTIL_KEY: &str = "tavern_claim_until";
/// The metadata key with the largest number of players a server takes (optional).
pub const MAX_PLAYERS_KEY: &str = "max_players";

/// How the adapter talks to ODIN and how long it waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdinSettings {
    /// The ODIN Fleet app whose servers are the fleet.
    pub app_id: i64,
    pub api_token: String,
    pub api_url: String,
    /// The server port players connect to.
    pub port_name: String,
    /// Time limit of one API request.
    pub request_timeout: Duration,
    /// How long a create may look for an idle server before its callback gets a timeout.
    pub create_timeout: Duration,
    /// The pause between failed searches for an idle server.
    pub poll_interval: Duration,
    /// How long a claim waits before reading its server back. A competing claim whose
    /// list-to-write round trip took longer than this gives up on its own.
    pub claim_settle: Duration,
    /// How long an unfinished claim blocks a server for others.
    pub claim_ttl: Duration,
    /// How long a `join` reservation holds a slot.
    pub reservation_ttl: Duration,
}

impl OdinSettings {
    /// Settings with the given credentials and the default port name and times.
    pub fn new(app_id: i64, api_token: &str, api_url: &str) -> OdinSettings {
        OdinSettings {
            app_id,
            api_token: api_token.to_owned(),
            api_url: api_url.to_owned(),
            port_name: "game_port".to_owned(),
            request_timeout: Duration::from_secs(10),
            create_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            claim_settle: Duration::from_millis(750),
            claim_ttl: Duration::from_secs(30),
            reservation_ttl: Duration::from_secs(60),
        }
    }
}

/// The ODIN Fleet adapter. Register it with
/// [`Initializer::register_fleet_manager`](tavern_runtime::Initializer::register_fleet_manager)
/// (the `tavern` binary does so when `fleet.odin.app_id` is set).
#[derive(Clone)]
pub struct OdinFleetManager {
    inner: Arc<Inner>,
}

struct Inner {
    settings: OdinSettings,
    client: OdinClient,
    callbacks: OnceLock<FleetCallbacks>,
    nk: OnceLock<Nk>,
    reservations: Mutex<HashMap<i64, Vec<Reservation>>>,
}

#[derive(Debug, Clone)]
struct Reservation {
    session: SessionInfo,
    until: Instant,
}

impl std::fmt::Debug for OdinFleetManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OdinFleetManager")
            .field("app_id", &self.inner.settings.app_id)
            .field("api_url", &self.inner.settings.api_url)
            .finish_non_exhaustive()
    }
}

impl OdinFleetManager {
    /// An adapter with `settings`; fails on a malformed API URL or an empty token.
    pub fn new(settings: OdinSettings) -> Result<OdinFleetManager, OdinError> {
        if settings.api_token.trim().is_empty() {
            return Err(OdinError::Invalid {
                message: "the ODIN API token is empty".to_owned(),
                errors: Default::default(),
            });
        }
        let client = OdinClient::new(
            &settings.api_url,
            &settings.api_token,
            settings.request_timeout,
        )?;
        Ok(OdinFleetManager::with_client(settings, client))
    }

    /// An adapter over a prepared client (another retry policy, say).
    pub fn with_client(settings: OdinSettings, client: OdinClient) -> OdinFleetManager {
        OdinFleetManager {
            inner: Arc::new(Inner {
                settings,
                client,
                callbacks: OnceLock::new(),
                nk: OnceLock::new(),
                reservations: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Whether `init` has run (the server functions were kept).
    pub fn initialised(&self) -> bool {
        self.inner.nk.get().is_some() && self.inner.callbacks.get().is_some()
    }
}

impl FleetManager for OdinFleetManager {
    fn init(&self, nk: Nk, callbacks: FleetCallbacks) -> Result<(), RuntimeError> {
        // Facts §6 #4: both arguments are kept (a second init keeps the first ones).
        let _ = self.inner.nk.set(nk);
        let _ = self.inner.callbacks.set(callbacks);
        Ok(())
    }

    fn get(&self, id: String) -> BoxFuture<'_, Result<InstanceInfo, RuntimeError>> {
        Box::pin(async move {
            let id = parse_id(&id)?;
            let server = self
                .inner
                .client
                .get_server(self.inner.settings.app_id, id)
                .await
                .map_err(|e| runtime_error(e, &format!("instance {id}")))?;
            Ok(instance_info(&server, &self.inner.settings.port_name))
        })
    }

    fn list(
        &self,
        query: String,
        limit: i32,
        cursor: String,
    ) -> BoxFuture<'_, Result<InstancePage, RuntimeError>> {
        Box::pin(async move { self.inner.list(&query, limit, &cursor).await })
    }

    fn create(
        &self,
        request: CreateRequest,
        callback: CreateCallback,
    ) -> BoxFuture<'_, Result<HashMap<String, String>, RuntimeError>> {
        Box::pin(async move {
            if request.max_players < 0 {
                return Err(RuntimeError::invalid_argument(
                    "max players must not be negative",
                ));
            }
            let callbacks = self.inner.callbacks()?.clone();
            callbacks.expire_due().await;
            let id = callbacks.generate_id();
            // The store's deadline is a safety net past the create's own time limit.
            let limit = self.inner.settings.create_timeout + Duration::from_secs(5);
            if callbacks.set(&id, callback, limit).is_err() {
                return Err(RuntimeError::internal("create callback id collision"));
            }
            let inner = self.inner.clone();
            let request_id = id.clone();
            tokio::spawn(async move {
                let outcome = inner.claim_until_timeout(&request).await;
                let claimed = outcome.instance.clone();
                if !callbacks.invoke(&request_id, outcome).await
                    && let Some(instance) = claimed
                {
                    // Nobody is waiting any more: give the server back.
                    inner.release(&instance.id).await;
                }
            });
            Ok(HashMap::from([("request_id".to_owned(), id)]))
        })
    }

    fn join(
        &self,
        id: String,
        user_ids: Vec<String>,
        _metadata: HashMap<String, String>,
    ) -> BoxFuture<'_, Result<JoinInfo, RuntimeError>> {
        Box::pin(async move {
            let id = parse_id(&id)?;
            if user_ids.is_empty() || user_ids.iter().any(|u| u.is_empty()) {
                return Err(RuntimeError::invalid_argument(
                    "join needs at least one user id, none empty",
                ));
            }
            let server = self
                .inner
                .client
                .get_server(self.inner.settings.app_id, id)
                .await
                .map_err(|e| runtime_error(e, &format!("instance {id}")))?;
            let info = instance_info(&server, &self.inner.settings.port_name);
            let sessions = self.inner.reserve(&info, &user_ids)?;
            Ok(JoinInfo {
                instance_info: Some(info),
                session_info: sessions,
            })
        })
    }

    fn update(
        &self,
        id: String,
        player_count: i32,
        metadata: Metadata,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let id = parse_id(&id)?;
            if player_count < 0 {
                return Err(RuntimeError::invalid_argument(
                    "player count must not be negative",
                ));
            }
            // Facts §6 #7: the player count is recorded, next to the given metadata.
            let mut patch = metadata;
            patch.insert(PLAYER_COUNT_KEY.to_owned(), json!(player_count));
            self.inner
                .client
                .patch_metadata(id, &patch)
                .await
                .map_err(|e| runtime_error(e, &format!("instance {id}")))?;
            Ok(())
        })
    }

    fn delete(&self, id: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let id = parse_id(&id)?;
            self.inner
                .client
                .restart(id)
                .await
                .map_err(|e| runtime_error(e, &format!("instance {id}")))?;
            self.inner.lock_reservations().remove(&id);
            Ok(())
        })
    }
}

/// What one claim attempt came to.
enum Claim {
    Won(Box<Server>),
    /// No candidate, or a lost race: look again.
    Retry,
}

impl Inner {
    fn callbacks(&self) -> Result<&FleetCallbacks, RuntimeError> {
        self.callbacks.get().ok_or_else(|| {
            RuntimeError::new(
                "the ODIN fleet manager is not initialised",
                Code::FailedPrecondition,
            )
        })
    }

    async fn list(
        &self,
        query: &str,
        limit: i32,
        cursor: &str,
    ) -> Result<InstancePage, RuntimeError> {
        let query = ListQuery::parse(query).map_err(RuntimeError::invalid_argument)?;
        let page = if cursor.is_empty() {
            query.page.unwrap_or(1)
        } else {
            match cursor.parse::<i64>() {
                Ok(page) if page > 0 => page,
                _ => return Err(RuntimeError::invalid_argument("invalid cursor")),
            }
        };
        let filter = query.filter(limit, page);
        let listing = self
            .client
            .list_servers(self.settings.app_id, &filter)
            .await
            .map_err(|e| runtime_error(e, "app"))?;
        let mut instances = Vec::with_capacity(listing.data.len());
        for server in &listing.data {
            match connection_info(server, &self.settings.port_name) {
                Ok(_) => instances.push(instance_info(server, &self.settings.port_name)),
                Err(why) => tracing::info!(
                    server = server.id,
                    "ODIN server left out of the fleet list: {why}"
                ),
            }
        }
        Ok(InstancePage {
            instances,
            cursor: listing
                .meta
                .next_page()
                .map(|p| p.to_string())
                .unwrap_or_default(),
        })
    }

    async fn claim_until_timeout(&self, request: &CreateRequest) -> CreateOutcome {
        let deadline = Instant::now() + self.settings.create_timeout;
        let token = uuid::Uuid::new_v4().to_string();
        loop {
            match self.claim_once(request, &token, deadline).await {
                Ok(Claim::Won(server)) => {
                    let instance = instance_info(&server, &self.settings.port_name);
                    let sessions = if request.user_ids.is_empty() {
                        None
                    } else {
                        match self.reserve(&instance, &request.user_ids) {
                            Ok(sessions) => Some(sessions),
                            Err(e) => return CreateOutcome::error(e),
                        }
                    };
                    let metadata = Some(instance.metadata.clone());
                    return CreateOutcome::success(instance, sessions, metadata);
                }
                Ok(Claim::Retry) => {}
                Err(OdinError::Unavailable(message)) => {
                    tracing::warn!("ODIN API unavailable while claiming a server: {message}");
                }
                Err(e) => return CreateOutcome::error(runtime_error(e, "app")),
            }
            let now = Instant::now();
            if now >= deadline {
                return CreateOutcome::timeout(format!(
                    "no idle ODIN server could be claimed within {:?}",
                    self.settings.create_timeout
                ));
            }
            tokio::time::sleep(self.settings.poll_interval.min(deadline - now)).await;
        }
    }

    /// One round: list idle servers, pick one that nobody claims, claim it, verify.
    async fn claim_once(
        &self,
        request: &CreateRequest,
        token: &str,
        deadline: Instant,
    ) -> Result<Claim, OdinError> {
        let mut idle = Metadata::new();
        idle.insert(STATE_KEY.to_owned(), json!(STATE_IDLE));
        let filter = ServerFilter {
            metadata: crate::metadata_filter(&idle),
            page: 1,
            per_page: 100,
            ..Default::default()
        };
        let listed_at = Instant::now();
        let listing = self
            .client
            .list_servers(self.settings.app_id, &filter)
            .await?;
        let now_ms = unix_millis();
        let candidates: Vec<&Server> = listing
            .data
            .iter()
            .filter(|s| !s.is_stopped && !s.maintenance)
            .filter(|s| state(s) == Some(STATE_IDLE))
            .filter(|s| !claimed_by_other(s, token, now_ms))
            .filter(|s| connection_info(s, &self.settings.port_name).is_ok())
            .filter(|s| fits(s, request.max_players))
            .collect();
        if candidates.is_empty() {
            return Ok(Claim::Retry);
        }
        // A random pick spreads concurrent creates over the pool.
        let pick = usize::from(uuid::Uuid::new_v4().as_bytes()[0]) % candidates.len();
        let id = candidates[pick].id;
        let mut claim = Metadata::new();
        claim.insert(CLAIM_KEY.to_owned(), json!(token));
        let until = now_ms + i64::try_from(self.settings.claim_ttl.as_millis()).unwrap_or(i64::MAX);
        claim.insert(CLAIM_UNTIL_KEY.to_owned(), json!(until));
        self.client.patch_metadata(id, &claim).await?;
        if listed_at.elapsed() > self.settings.claim_settle {
            // Too slow to be sure no faster claim happened after ours: let it expire.
            tracing::debug!(server = id, "ODIN claim too slow; trying again");
            return Ok(Claim::Retry);
        }
        let settle_end = Instant::now() + self.settings.claim_settle;
        if settle_end >= deadline {
            return Ok(Claim::Retry);
        }
        tokio::time::sleep_until(settle_end.into()).await;
        let server = self.client.get_server(self.settings.app_id, id).await?;
        let metadata = server.metadata.clone().unwrap_or_default();
        if metadata.get(CLAIM_KEY).and_then(Value::as_str) != Some(token)
            || state(&server) != Some(STATE_IDLE)
        {
            tracing::debug!(server = id, "ODIN claim lost to another create");
            return Ok(Claim::Retry);
        }
        let mut won = request.metadata.clone();
        won.insert(STATE_KEY.to_owned(), json!(STATE_ALLOCATED));
        won.insert(CLAIM_KEY.to_owned(), Value::Null);
        won.insert(CLAIM_UNTIL_KEY.to_owned(), Value::Null);
        won.insert(PLAYER_COUNT_KEY.to_owned(), json!(request.user_ids.len()));
        let server = self.client.patch_metadata(id, &won).await?;
        tracing::info!(server = id, "ODIN server claimed");
        Ok(Claim::Won(Box::new(server)))
    }

    /// Puts a claimed server back into the idle pool.
    async fn release(&self, id: &str) {
        let Ok(id) = id.parse::<i64>() else { return };
        let mut idle = Metadata::new();
        idle.insert(STATE_KEY.to_owned(), json!(STATE_IDLE));
        idle.insert(PLAYER_COUNT_KEY.to_owned(), json!(0));
        if let Err(e) = self.client.patch_metadata(id, &idle).await {
            tracing::warn!(
                server = id,
                "could not release an unwanted ODIN server: {e}"
            );
        }
    }

    fn lock_reservations(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Vec<Reservation>>> {
        self.reservations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves a slot for each user (a user who holds one keeps it, renewed), within the
    /// instance's `max_players` when it has one.
    fn reserve(
        &self,
        instance: &InstanceInfo,
        user_ids: &[String],
    ) -> Result<Vec<SessionInfo>, RuntimeError> {
        let id = parse_id(&instance.id)?;
        let now = Instant::now();
        let until = now + self.settings.reservation_ttl;
        let mut all = self.lock_reservations();
        all.retain(|_, list| {
            list.retain(|r| r.until > now);
            !list.is_empty()
        });
        let list = all.entry(id).or_default();
        let new_users = user_ids
            .iter()
            .filter(|u| !list.iter().any(|r| &r.session.user_id == *u))
            .count();
        if let Some(max) = instance
            .metadata
            .get(MAX_PLAYERS_KEY)
            .and_then(Value::as_i64)
        {
            let taken = i64::from(instance.player_count) + list.len() as i64;
            if taken + new_users as i64 > max {
                return Err(RuntimeError::new(
                    format!("instance {id} has no room for {new_users} more players"),
                    Code::ResourceExhausted,
                ));
            }
        }
        let mut sessions = Vec::with_capacity(user_ids.len());
        for user in user_ids {
            if let Some(existing) = list.iter_mut().find(|r| &r.session.user_id == user) {
                existing.until = until;
                sessions.push(existing.session.clone());
                continue;
            }
            let session = SessionInfo {
                user_id: user.clone(),
                session_id: uuid::Uuid::new_v4().to_string(),
            };
            list.push(Reservation {
                session: session.clone(),
                until,
            });
            sessions.push(session);
        }
        Ok(sessions)
    }
}

fn state(server: &Server) -> Option<&str> {
    server.metadata.as_ref()?.get(STATE_KEY)?.as_str()
}

fn claimed_by_other(server: &Server, token: &str, now_ms: i64) -> bool {
    let Some(metadata) = &server.metadata else {
        return false;
    };
    let holder = metadata.get(CLAIM_KEY).and_then(Value::as_str);
    let until = metadata
        .get(CLAIM_UNTIL_KEY)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    matches!(holder, Some(h) if !h.is_empty() && h != token) && until > now_ms
}

fn fits(server: &Server, max_players: i32) -> bool {
    let limit = server
        .metadata
        .as_ref()
        .and_then(|m| m.get(MAX_PLAYERS_KEY))
        .and_then(Value::as_i64);
    match limit {
        Some(limit) => i64::from(max_players) <= limit,
        None => true,
    }
}

fn unix_millis() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Instance ids are ODIN's integer server ids (facts §6 #16: no silent narrowing).
fn parse_id(id: &str) -> Result<i64, RuntimeError> {
    match id.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(RuntimeError::invalid_argument(format!(
            "invalid ODIN instance id {id:?}"
        ))),
    }
}

/// Facts §6 #13: each kind of API failure keeps its own code.
fn runtime_error(error: OdinError, what: &str) -> RuntimeError {
    match error {
        OdinError::NotFound(_) => RuntimeError::not_found(format!("{what} not found")),
        OdinError::Unauthorized { .. } => RuntimeError::new(
            format!("the ODIN API refused the credentials: {error}"),
            Code::PermissionDenied,
        ),
        OdinError::Invalid { .. } => RuntimeError::invalid_argument(error.to_string()),
        OdinError::Unavailable(_) => RuntimeError::new(error.to_string(), Code::Unavailable),
        OdinError::Unexpected(_) => RuntimeError::internal(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_64_bit_integers() {
        assert_eq!(parse_id("4000000000").unwrap(), 4_000_000_000);
        for bad in ["", "abc", "-1", "0", "99999999999999999999"] {
            assert_eq!(
                parse_id(bad).unwrap_err().code,
                Code::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_keep_their_kind() {
        let code = |e| runtime_error(e, "x").code;
        assert_eq!(code(OdinError::NotFound("m".into())), Code::NotFound);
        assert_eq!(
            code(OdinError::Unauthorized {
                status: 401,
                message: "m".into()
            }),
            Code::PermissionDenied
        );
        assert_eq!(
            code(OdinError::Invalid {
                message: "m".into(),
                errors: Default::default()
            }),
            Code::InvalidArgument
        );
        assert_eq!(code(OdinError::Unavailable("m".into())), Code::Unavailable);
        assert_eq!(code(OdinError::Unexpected("m".into())), Code::Internal);
    }

    #[test]
    fn live_claims_of_others_block_a_server() {
        let server = |claim: Value, until: i64| Server {
            metadata: Some(
                json!({CLAIM_KEY: claim, CLAIM_UNTIL_KEY: until})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            ..Default::default()
        };
        assert!(claimed_by_other(
            &server(json!("other"), 2_000),
            "me",
            1_000
        ));
        assert!(!claimed_by_other(&server(json!("other"), 500), "me", 1_000));
        assert!(!claimed_by_other(&server(json!("me"), 2_000), "me", 1_000));
        assert!(!claimed_by_other(&server(Value::Null, 2_000), "me", 1_000));
        assert!(!claimed_by_other(&Server::default(), "me", 1_000));
    }
}
