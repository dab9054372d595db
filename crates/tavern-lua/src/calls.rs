//! RPCs, hooks and the matchmaker hook registered by Lua code: registered with the server as
//! async functions that run the Lua function on a blocking thread, in a pooled VM (or in the
//! first VM, for what `run_once` registered).

use std::sync::Arc;

use mlua::{Function, Lua, Table, Value};
use tavern_runtime::operation::{self, Operation, OperationVisitor};
use tavern_runtime::realtime::Envelope;
use tavern_runtime::{Code, Context, Initializer, MatchmakerEntry, MessageKind, RuntimeError};

use crate::convert::{lua_to_serde, serde_to_lua, to_json, to_lua};
use crate::sandbox::{ERROR_TAG, describe, invoke};
use crate::{Key, Shared};

/// Registers one Lua registration with the server.
pub(crate) fn register(init: &mut Initializer, shared: &Arc<Shared>, key: Key) {
    match &key {
        Key::Rpc(id) => {
            let (shared, key, id) = (shared.clone(), key.clone(), id.clone());
            init.register_rpc(&id, move |ctx, _nk, payload| {
                let (shared, key) = (shared.clone(), key.clone());
                blocking_call(move || rpc(&shared, &key, &ctx, payload))
            });
        }
        Key::Before(op) | Key::After(op) => {
            let before = matches!(key, Key::Before(_));
            let known = operation::visit(
                op,
                HookVisitor {
                    init,
                    shared,
                    key: &key,
                    before,
                },
            )
            .is_some();
            if !known {
                tracing::warn!(operation = %op, "Lua hook for an operation Tavern does not serve yet; ignored");
            }
        }
        Key::RealtimeBefore(name) | Key::RealtimeAfter(name) => {
            let Some(kind) = MessageKind::ALL
                .iter()
                .copied()
                .find(|k| k.as_str().replace('_', "") == *name)
            else {
                tracing::warn!(message = %name, "Lua realtime hook for an unknown message; ignored");
                return;
            };
            let (shared, key) = (shared.clone(), key.clone());
            if matches!(key, Key::RealtimeBefore(_)) {
                init.register_before_realtime(kind, move |ctx, _nk, envelope| {
                    let (shared, key) = (shared.clone(), key.clone());
                    blocking_call(move || before_realtime(&shared, &key, &ctx, kind, envelope))
                });
            } else {
                init.register_after_realtime(kind, move |ctx, _nk, request, reply| {
                    let (shared, key) = (shared.clone(), key.clone());
                    blocking_call(move || after_realtime(&shared, &key, &ctx, kind, request, reply))
                });
            }
        }
        Key::LeaderboardReset => {
            let (shared, key) = (shared.clone(), key.clone());
            init.register_leaderboard_reset(move |ctx, _nk, leaderboard, reset| {
                let (shared, key) = (shared.clone(), key.clone());
                blocking_call(move || {
                    with_function(&shared, &key, |lua, f| {
                        let ctx = context_table(lua, &ctx)?;
                        let board = crate::nakama::leaderboard_table(lua, &leaderboard)?;
                        invoke::<Value>(lua, &f, (ctx, board, reset))
                    })
                    .map(|_| ())
                })
            });
        }
        Key::TournamentReset | Key::TournamentEnd => {
            let (shared, key2) = (shared.clone(), key.clone());
            let callback = move |ctx: Context, _nk, tournament, end: i64, reset: i64| {
                let (shared, key) = (shared.clone(), key2.clone());
                blocking_call(move || {
                    with_function(&shared, &key, |lua, f| {
                        let ctx = context_table(lua, &ctx)?;
                        let t = crate::nakama::tournament_table(lua, &tournament)?;
                        invoke::<Value>(lua, &f, (ctx, t, end, reset))
                    })
                    .map(|_| ())
                })
            };
            if matches!(key, Key::TournamentReset) {
                init.register_tournament_reset(callback);
            } else {
                init.register_tournament_end(callback);
            }
        }
        Key::Matchmaker => {
            let (shared, key) = (shared.clone(), key.clone());
            init.register_matchmaker_matched(move |ctx, _nk, entries| {
                let (shared, key) = (shared.clone(), key.clone());
                blocking_call(move || matchmaker(&shared, &key, &ctx, entries))
            });
        }
    }
}

/// Runs Lua on the blocking pool and waits for it without holding an async worker.
async fn blocking_call<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RuntimeError> + Send + 'static,
) -> Result<T, RuntimeError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => {
            let message = if e.is_panic() {
                "Lua call panicked"
            } else {
                "Lua call cancelled"
            };
            Err(RuntimeError::internal(message))
        }
    }
}

/// Runs `f` with the function registered under `key`, in a VM that has it.
fn with_function<T>(
    shared: &Arc<Shared>,
    key: &Key,
    f: impl FnOnce(&Lua, Function) -> mlua::Result<T>,
) -> Result<T, RuntimeError> {
    let lookup = |lua: &Lua| -> Result<Function, RuntimeError> {
        let callbacks: Table = lua
            .named_registry_value("tavern_callbacks")
            .map_err(|e| RuntimeError::internal(describe(&e)))?;
        callbacks
            .get::<Option<Function>>(key.slot())
            .ok()
            .flatten()
            .ok_or_else(|| RuntimeError::not_found("Lua function not found"))
    };
    let first_only = shared
        .first_only
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(key);
    if first_only {
        let guard = shared.first.lock().unwrap_or_else(|p| p.into_inner());
        let lua = guard
            .as_ref()
            .ok_or_else(|| RuntimeError::internal("Lua runtime not loaded"))?;
        let function = lookup(lua)?;
        return f(lua, function).map_err(|e| error_of(&e));
    }
    let lua = shared.pool.get(shared).map_err(RuntimeError::internal)?;
    let mut failed = false;
    let result = lookup(&lua).and_then(|function| {
        f(&lua, function).map_err(|e| {
            failed = true;
            error_of(&e)
        })
    });
    // A failed call may leave garbage behind (a runaway allocation, say): collect it, and
    // replace the VM if it stays close to its limit.
    let limit = shared.settings.memory_limit;
    let exhausted = failed && {
        let _ = lua.gc_collect();
        limit > 0 && lua.used_memory() > limit / 2
    };
    if exhausted {
        tracing::warn!("a Lua VM is close to its memory limit after a failed call; it is replaced");
        drop(lua);
        shared.pool.discard();
    } else {
        shared.pool.put(lua);
    }
    result
}

/// A Lua error as the client sees it: `error({msg, code})` keeps its code, anything else is
/// code 13 with the error text.
pub(crate) fn error_of(e: &mlua::Error) -> RuntimeError {
    error_of_text(&describe(e))
}

/// [`error_of`] for an error message already made a string.
pub(crate) fn error_of_text(text: &str) -> RuntimeError {
    if let Some(rest) = text.find(ERROR_TAG).map(|i| &text[i + ERROR_TAG.len()..])
        && let Some((code, message)) = rest.split_once(ERROR_TAG)
    {
        let code = code
            .parse::<u16>()
            .ok()
            .and_then(Code::from_u16)
            .filter(|c| *c != Code::Ok)
            .unwrap_or(Code::Internal);
        return RuntimeError::new(message, code);
    }
    RuntimeError::internal(text)
}

/// The `ctx` table of a call, with Nakama's field names.
pub(crate) fn context_table(lua: &Lua, ctx: &Context) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let env = lua.create_table()?;
    for (k, v) in ctx.env.iter() {
        env.set(k.as_str(), v.as_str())?;
    }
    t.set("env", env)?;
    t.set("execution_mode", ctx.mode.as_str())?;
    t.set("node", ctx.node.as_str())?;
    t.set("version", env!("CARGO_PKG_VERSION"))?;
    t.set(
        "headers",
        to_lua(lua, &serde_json::to_value(&ctx.headers).unwrap_or_default())?,
    )?;
    t.set(
        "query_params",
        to_lua(lua, &serde_json::to_value(&ctx.query).unwrap_or_default())?,
    )?;
    if let Some(user) = ctx.user() {
        t.set("user_id", user.user_id.as_str())?;
        t.set("username", user.username.as_str())?;
        let vars = lua.create_table()?;
        for (k, v) in &user.vars {
            vars.set(k.as_str(), v.as_str())?;
        }
        t.set("vars", vars)?;
        t.set("user_session_exp", user.expiry)?;
        if let Some(session_id) = &user.session_id {
            t.set("session_id", session_id.as_str())?;
            t.set("lang", "en")?;
        }
    }
    if let Some(ip) = ctx.client_ip {
        t.set("client_ip", ip.to_string())?;
    }
    if let Some(port) = ctx.client_port {
        t.set("client_port", port.to_string())?;
    }
    Ok(t)
}

fn rpc(
    shared: &Arc<Shared>,
    key: &Key,
    ctx: &Context,
    payload: String,
) -> Result<String, RuntimeError> {
    let out = with_function(shared, key, |lua, f| {
        let ctx = context_table(lua, ctx)?;
        let payload = lua.create_string(&payload)?;
        invoke::<Value>(lua, &f, (ctx, payload))
    })?;
    match out {
        Value::Nil => Ok(String::new()),
        Value::String(s) => Ok(s.to_string_lossy()),
        _ => Err(RuntimeError::internal(
            "Runtime function returned invalid data - only allowed one return value of type String/Byte.",
        )),
    }
}

/// Registers a before or after hook of one REST operation; true when done.
/// Registers a Lua hook for the operation [`operation::visit`] found by name.
struct HookVisitor<'a, 'i> {
    init: &'a mut Initializer<'i>,
    shared: &'a Arc<Shared>,
    key: &'a Key,
    before: bool,
}

impl OperationVisitor for HookVisitor<'_, '_> {
    type Output = ();
    fn visit<Op: Operation>(self, op: Op) {
        hook(self.init, self.shared, self.key, self.before, op);
    }
}

fn hook<Op: Operation>(
    init: &mut Initializer,
    shared: &Arc<Shared>,
    key: &Key,
    before: bool,
    op: Op,
) {
    let (shared, key) = (shared.clone(), key.clone());
    if before {
        init.register_before(op, move |ctx, _nk, request: Op::Request| {
            let (shared, key) = (shared.clone(), key.clone());
            blocking_call(move || {
                let has_body = !serde_json::to_value(&request).unwrap_or_default().is_null();
                let out = with_function(&shared, &key, |lua, f| {
                    let ctx = context_table(lua, &ctx)?;
                    let input = serde_to_lua(lua, &request)?;
                    let out = invoke::<Value>(lua, &f, (ctx, input))?;
                    if !has_body {
                        return Ok(Some(None));
                    }
                    match out {
                        Value::Nil => Ok(None),
                        value => Ok(Some(Some(lua_to_serde::<Op::Request>(&value)?))),
                    }
                })?;
                Ok(match out {
                    None => None,
                    Some(None) => Some(request),
                    Some(Some(rewritten)) => Some(rewritten),
                })
            })
        });
    } else {
        init.register_after(
            op,
            move |ctx, _nk, request: Op::Request, response: Op::Response| {
                let (shared, key) = (shared.clone(), key.clone());
                blocking_call(move || {
                    with_function(&shared, &key, |lua, f| {
                        let ctx = context_table(lua, &ctx)?;
                        let out = serde_to_lua(lua, &response)?;
                        let input = serde_to_lua(lua, &request)?;
                        invoke::<Value>(lua, &f, (ctx, out, input)).map(drop)
                    })
                })
            },
        );
    }
}

/// The message inside an envelope, as JSON.
fn message_json(envelope: &Envelope, kind: MessageKind) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(&envelope.to_json()).unwrap_or_default();
    json.get(kind.as_str())
        .cloned()
        .unwrap_or(serde_json::json!({}))
}

fn before_realtime(
    shared: &Arc<Shared>,
    key: &Key,
    ctx: &Context,
    kind: MessageKind,
    envelope: Envelope,
) -> Result<Option<Envelope>, RuntimeError> {
    let message = message_json(&envelope, kind);
    let out = with_function(shared, key, |lua, f| {
        let ctx = context_table(lua, ctx)?;
        let input = to_lua(lua, &message)?;
        let out = invoke::<Value>(lua, &f, (ctx, input))?;
        match out {
            Value::Nil => Ok(None),
            value => Ok(Some(to_json(&value)?)),
        }
    })?;
    let Some(message) = out else {
        return Ok(None);
    };
    let mut json = serde_json::json!({ kind.as_str(): message });
    if !envelope.cid.is_empty() {
        json["cid"] = serde_json::Value::String(envelope.cid.clone());
    }
    Envelope::from_json(&json.to_string())
        .map(Some)
        .map_err(|e| {
            RuntimeError::invalid_argument(format!(
                "the before hook returned an invalid message: {e}"
            ))
        })
}

fn after_realtime(
    shared: &Arc<Shared>,
    key: &Key,
    ctx: &Context,
    kind: MessageKind,
    request: Envelope,
    reply: Option<Envelope>,
) -> Result<(), RuntimeError> {
    let input = message_json(&request, kind);
    let output: serde_json::Value = reply
        .map(|r| serde_json::from_str(&r.to_json()).unwrap_or_default())
        .unwrap_or_default();
    with_function(shared, key, |lua, f| {
        let ctx = context_table(lua, ctx)?;
        let out = to_lua(lua, &output)?;
        let input = to_lua(lua, &input)?;
        invoke::<Value>(lua, &f, (ctx, out, input)).map(drop)
    })
}

/// A presence as Nakama's Lua tables have it.
pub(crate) fn presence_table(lua: &Lua, p: &tavern_runtime::Presence) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 4)?;
    t.raw_set("user_id", p.user_id.as_str())?;
    t.raw_set("session_id", p.session_id.as_str())?;
    t.raw_set("username", p.username.as_str())?;
    t.raw_set("node", p.node.as_str())?;
    Ok(t)
}

fn matchmaker(
    shared: &Arc<Shared>,
    key: &Key,
    ctx: &Context,
    entries: Vec<MatchmakerEntry>,
) -> Result<Option<String>, RuntimeError> {
    let out = with_function(shared, key, |lua, f| {
        let ctx = context_table(lua, ctx)?;
        let list = lua.create_table_with_capacity(entries.len(), 0)?;
        for (i, entry) in entries.iter().enumerate() {
            let t = lua.create_table()?;
            t.set("presence", presence_table(lua, &entry.presence)?)?;
            t.set(
                "properties",
                to_lua(
                    lua,
                    &serde_json::to_value(&entry.properties).unwrap_or_default(),
                )?,
            )?;
            if let Some(party) = &entry.party_id {
                t.set("party_id", party.as_str())?;
            }
            list.raw_set(i + 1, t)?;
        }
        invoke::<Value>(lua, &f, (ctx, list))
    })?;
    match out {
        Value::Nil => Ok(None),
        Value::String(s) => {
            let id = s.to_string_lossy();
            let valid = id
                .split_once('.')
                .is_some_and(|(uuid, _)| uuid::Uuid::parse_str(uuid).is_ok());
            if valid {
                Ok(Some(id))
            } else {
                Err(RuntimeError::internal(
                    "Invalid return value from runtime Matchmaker Matched hook, not a valid match ID.",
                ))
            }
        }
        _ => Err(RuntimeError::internal(
            "Unexpected return type from runtime Matchmaker Matched hook, must be string or nil.",
        )),
    }
}
