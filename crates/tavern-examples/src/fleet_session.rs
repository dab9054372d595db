//! Dedicated game servers through the fleet manager: when the matchmaker forms a group, the
//! hook creates a small `fleet_session` match for the group and asks the fleet manager for an
//! idle game server. When one is claimed, the hook's callback tells that server to start the
//! match (`POST http://<ip>:<control_port>/match/start`) and hands the players its address:
//! the session match's label becomes
//! `{"fleet":{"state":"ready","instance_id":..,"ip_address":..,"port":..}}` and every player
//! in it gets the same JSON as match data with op code 1. If no server can be had in time the
//! label says `{"fleet":{"state":"failed","reason":..}}`.
//!
//! Players join the session match with the id the matchmaker gives them, read the label (or
//! wait for op code 1), and connect to the game server. The game server reports itself idle
//! again when its match ends (`POST /match/finish` on the example server), and the next
//! group can claim it.
//!
//! The module is active only when a fleet manager is registered (on the `tavern` binary: when
//! `fleet.odin.app_id` is set); then it owns the matchmaker-matched hook, which tic-tac-toe
//! leaves alone in that case.

use std::collections::HashSet;

use serde_json::{Value, json};
use tavern_runtime::fleet::{
    CreateOutcome, CreateRequest, CreateStatus, Metadata, create_callback,
};
use tavern_runtime::matches::{
    Dispatcher, Flow, JoinDecision, MatchContext, MatchHandler, MatchInit, MatchMessage,
};
use tavern_runtime::{
    Code, HttpRequest, Initializer, MatchmakerEntry, Module, Nk, Presence, RuntimeError,
};

/// The fleet session module.
pub const MODULE: Module = Module::new("fleet_session", init);

/// The session match handler's name.
pub const HANDLER_NAME: &str = "fleet_session";

/// The op code of the message carrying the server's address (or the failure).
pub const OP_FLEET: i64 = 1;

/// Ticks (one a second) a session match waits for its players before it ends.
const EMPTY_TICKS: i64 = 120;

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    if init.fleet().is_none() {
        init.logger()
            .debug("no fleet manager registered; fleet sessions are off");
        return Ok(());
    }
    init.register_match(HANDLER_NAME, || FleetSession);
    init.register_matchmaker_matched(|ctx, nk, entries| async move {
        let match_id = start_session(&nk, &entries).await?;
        ctx.logger.info(format_args!(
            "fleet session {match_id} for {} players",
            entries.len()
        ));
        Ok(Some(match_id))
    });
    Ok(())
}

/// Creates the session match and asks the fleet for a server; returns the match id at once.
async fn start_session(nk: &Nk, entries: &[MatchmakerEntry]) -> Result<String, RuntimeError> {
    let fleet = nk.fleet()?;
    let user_ids: Vec<String> = entries.iter().map(|e| e.presence.user_id.clone()).collect();
    let game_mode = entries
        .iter()
        .find_map(|e| e.properties.get("game_mode").and_then(Value::as_str))
        .unwrap_or("default")
        .to_owned();
    let match_id = nk
        .match_create(HANDLER_NAME, json!({ "user_ids": user_ids }))
        .await?;
    let mut metadata = Metadata::new();
    metadata.insert("session_match_id".to_owned(), json!(match_id));
    metadata.insert("game_mode".to_owned(), json!(game_mode));
    let request = CreateRequest {
        max_players: i32::try_from(user_ids.len()).unwrap_or(i32::MAX),
        user_ids: user_ids.clone(),
        latencies: Vec::new(),
        metadata,
    };
    let (cb_nk, cb_match) = (nk.clone(), match_id.clone());
    let callback = create_callback(move |outcome| async move {
        let fleet = announce(&cb_nk, &cb_match, &game_mode, &user_ids, outcome).await;
        if let Err(e) = cb_nk.match_signal(&cb_match, &fleet.to_string()).await {
            tracing::warn!(match_id = %cb_match, "fleet session signal failed: {e}");
        }
    });
    fleet.create(request, callback).await?;
    Ok(match_id)
}

/// Starts the game on the claimed server; returns what the players are told.
async fn announce(
    nk: &Nk,
    match_id: &str,
    game_mode: &str,
    user_ids: &[String],
    outcome: CreateOutcome,
) -> Value {
    let failed = |reason: String| json!({ "state": "failed", "reason": reason });
    let instance = match (outcome.status, outcome.instance) {
        (CreateStatus::Success, Some(instance)) => instance,
        (_, _) => {
            let reason = outcome
                .error
                .map(|e| e.message)
                .unwrap_or_else(|| "no game server".to_owned());
            return failed(reason);
        }
    };
    let Some(connection) = instance.connection_info.clone() else {
        return failed("the game server has no address".to_owned());
    };
    let Some(control_port) = instance
        .metadata
        .get("control_port")
        .and_then(Value::as_i64)
    else {
        return failed("the game server has no control_port".to_owned());
    };
    let url = format!(
        "http://{}:{control_port}/match/start",
        connection.ip_address
    );
    let body = json!({
        "match_id": match_id,
        "game_mode": game_mode,
        "join_mode": "free",
        "user_ids": user_ids,
    });
    match nk
        .http_request(HttpRequest::new("POST", &url).json(&body))
        .await
    {
        Ok(response) if response.status == 200 => json!({
            "state": "ready",
            "instance_id": instance.id,
            "ip_address": connection.ip_address,
            "dns_name": connection.dns_name,
            "port": connection.port,
        }),
        Ok(response) => {
            // The server would not start: recycle it rather than leave it allocated.
            recycle(nk, &instance.id).await;
            failed(format!(
                "the game server answered {}: {}",
                response.status, response.body
            ))
        }
        Err(e) => {
            recycle(nk, &instance.id).await;
            failed(format!("the game server could not be reached: {e}"))
        }
    }
}

async fn recycle(nk: &Nk, id: &str) {
    if let Ok(fleet) = nk.fleet()
        && let Err(e) = fleet.delete(id).await
    {
        tracing::warn!(instance = id, "could not recycle a game server: {e}");
    }
}

/// The session match: admits the matched users and tells them where their game server is.
pub struct FleetSession;

/// The session's state.
pub struct SessionState {
    users: HashSet<String>,
    present: Vec<Presence>,
    fleet: Value,
    idle_ticks: i64,
}

fn label(fleet: &Value) -> String {
    json!({ "fleet": fleet }).to_string()
}

impl MatchHandler for FleetSession {
    type State = SessionState;

    fn init(
        &self,
        _ctx: &MatchContext,
        params: &Value,
    ) -> Result<MatchInit<SessionState>, RuntimeError> {
        let users = params
            .get("user_ids")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let fleet = json!({ "state": "allocating" });
        Ok(MatchInit {
            label: label(&fleet),
            state: SessionState {
                users,
                present: Vec::new(),
                fleet,
                idle_ticks: 0,
            },
            tick_rate: 1,
        })
    }

    fn join_attempt(
        &self,
        _ctx: &MatchContext,
        _dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut SessionState,
        presence: &Presence,
        _metadata: &std::collections::HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        Ok(if state.users.contains(&presence.user_id) {
            JoinDecision::Accept
        } else {
            JoinDecision::Reject("not matched into this session".to_owned())
        })
    }

    fn join(
        &self,
        _ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut SessionState,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        state.present.extend_from_slice(joins);
        if state.fleet["state"] != "allocating" {
            let data = state.fleet.to_string().into_bytes();
            dispatcher.broadcast(OP_FLEET, data, Some(joins), None);
        }
        Ok(Flow::Continue)
    }

    fn leave(
        &self,
        _ctx: &MatchContext,
        _dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut SessionState,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        state.present.retain(|p| !leaves.contains(p));
        Ok(if state.present.is_empty() {
            Flow::End
        } else {
            Flow::Continue
        })
    }

    fn tick(
        &self,
        _ctx: &MatchContext,
        _dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut SessionState,
        _messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        if state.present.is_empty() {
            state.idle_ticks += 1;
        } else {
            state.idle_ticks = 0;
        }
        Ok(if state.idle_ticks > EMPTY_TICKS {
            Flow::End
        } else {
            Flow::Continue
        })
    }

    fn terminate(
        &self,
        _ctx: &MatchContext,
        _dispatcher: &mut Dispatcher,
        _tick: i64,
        _state: &mut SessionState,
        _grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        Ok(Flow::End)
    }

    fn signal(
        &self,
        _ctx: &MatchContext,
        dispatcher: &mut Dispatcher,
        _tick: i64,
        state: &mut SessionState,
        data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        let fleet: Value = serde_json::from_str(data)
            .map_err(|_| RuntimeError::new("fleet signal must be JSON", Code::InvalidArgument))?;
        dispatcher.label_update(label(&fleet))?;
        dispatcher.broadcast(OP_FLEET, fleet.to_string().into_bytes(), None, None);
        state.fleet = fleet;
        Ok((Flow::Continue, String::new()))
    }
}
