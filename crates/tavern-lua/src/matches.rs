//! Lua match handlers: a module returning a table of `match_*` functions, run in the match's
//! own VM on the same engine as Rust handlers. Their factory carries the Lua match threads as
//! its executor, so the server creates each match and runs every callback there, never on an
//! async worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use mlua::{Function, Lua, Table, Value};
use tavern_runtime::matches::{
    CreatedMatch, Dispatcher, Flow, JoinDecision, MAX_LABEL_BYTES, MatchContext, MatchCore,
    MatchExecutor, MatchFactory, MatchMessage, TICK_RATE_RANGE,
};
use tavern_runtime::{Presence, RuntimeError};

use crate::Shared;
use crate::calls::{error_of, presence_table};
use crate::convert::to_lua;
use crate::match_ffi;
use crate::sandbox::{ERROR_TAG, Role, budget_counter, describe, invoke, new_vm};

const CALLBACKS: [&str; 7] = [
    "match_init",
    "match_join_attempt",
    "match_join",
    "match_leave",
    "match_loop",
    "match_terminate",
    "match_signal",
];

/// Runs `build` with the VM's memory limit lifted, then puts the limit back. While a limit is
/// set, mlua guards every value it pushes with a protected call of its own (a closure allocated
/// and called per string or table field), which made building a tick's message tables the
/// largest cost of a Lua match. What is built here are a callback's arguments, bounded by the
/// server (at most `match.input_queue_size` messages, each within the socket's message size),
/// so the limit still stops what the script allocates, just not the server's own marshalling.
fn without_memory_limit<T>(lua: &Lua, build: impl FnOnce() -> mlua::Result<T>) -> mlua::Result<T> {
    let limit = lua.set_memory_limit(0)?;
    let built = build();
    lua.set_memory_limit(limit)?;
    built
}

/// The factory of the match handler named after Lua module `name`, run by `executor`.
pub(crate) fn factory(
    shared: Arc<Shared>,
    name: String,
    executor: Arc<dyn MatchExecutor>,
) -> MatchFactory {
    MatchFactory::new(move |ctx: MatchContext, params: &serde_json::Value| {
        LuaMatch::create(&shared, &name, &ctx, params)
    })
    .with_executor(executor)
}

/// The registry key of a match VM's `ctx` table.
const MATCH_CTX: &str = "tavern_match_ctx";

/// Makes a match's driver: two Lua functions holding the callbacks, `ctx`, the `dispatcher`
/// table and the state as upvalues, so a call from Rust passes only what changes (the tick
/// number, and a pointer to the queued messages that `build` turns into the `messages` list)
/// and gets back two plain values (how many values the callback returned, and whether its
/// state was nil) instead of the state itself. An idle tick gets the same empty message list
/// each time, unless the script put something in it. A callback's `error({msg, code})` leaves
/// as the tagged string `calls::error_of` reads, as in `invoke`.
const DRIVER: &str = r#"
local pcall, select, type, tostring, tonumber, error, next, rawget =
  pcall, select, type, tostring, tonumber, error, next, rawget
local tag = ...
local function raise(e)
  if type(e) == "table" then
    error(tag .. tostring(tonumber(e[2]) or 13) .. tag .. tostring(e[1]), 0)
  end
  error(e, 0)
end
return function(build, callbacks, ctx, dispatcher, state)
  local loop = rawget(callbacks, "match_loop")
  local named = {
    rawget(callbacks, "match_join_attempt"), rawget(callbacks, "match_join"),
    rawget(callbacks, "match_leave"), rawget(callbacks, "match_terminate"),
    rawget(callbacks, "match_signal"),
  }
  local empty = {}
  local function settled(ok, ...)
    if not ok then raise((...)) end
    local s = ...
    if s ~= nil then state = s end
    return select('#', ...), s == nil, select(2, ...)
  end
  local function tick(n, queued, count)
    local messages
    if queued == nil then
      if next(empty) ~= nil then empty = {} end
      messages = empty
    else
      messages = build(queued, count)
    end
    return settled(pcall(loop, ctx, dispatcher, n, state, messages))
  end
  local function call(which, n, context, ...)
    return settled(pcall(named[which], context or ctx, dispatcher, n, state, ...))
  end
  return tick, call
end
"#;

/// The callbacks other than `match_loop`, by their index in the driver's `named` list.
#[derive(Clone, Copy)]
enum Callback {
    JoinAttempt = 1,
    Join = 2,
    Leave = 3,
    Terminate = 4,
    Signal = 5,
}

/// A running Lua match: its VM, the `ctx` table (copied for join attempts) and the two
/// functions of its driver (see [`DRIVER`]), which hold the callbacks, the `dispatcher` table
/// (made once, pointed at each call's dispatcher through `current`) and the state.
struct LuaMatch {
    lua: Lua,
    ctx: Table,
    tick: Function,
    call: Function,
    current: Current,
    /// The VM's instruction budget counter (see `sandbox::budget_counter`).
    budget: Arc<AtomicU64>,
}

/// Where the functions of a VM's `dispatcher` table find the dispatcher of the callback
/// running now: set for the length of one call, null at any other time.
#[derive(Clone, Default)]
struct Current(Arc<AtomicPtr<Dispatcher<'static>>>);

impl Current {
    /// Runs `f` (the call into Lua) with the dispatcher functions acting on `dispatcher`.
    fn during<R>(&self, dispatcher: &mut Dispatcher<'_>, f: impl FnOnce() -> R) -> R {
        /// Clears the pointer when the call ends, however it ends.
        struct Clear<'a>(&'a AtomicPtr<Dispatcher<'static>>);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                self.0.store(std::ptr::null_mut(), Ordering::Release);
            }
        }
        let pointer: *mut Dispatcher<'_> = dispatcher;
        self.0.store(pointer.cast(), Ordering::Release);
        let _clear = Clear(&self.0);
        f()
    }

    /// Applies `act` to the running callback's dispatcher; a Lua error outside a callback.
    /// `act` must not run Lua: the arguments are read from Lua before.
    fn with(&self, act: impl FnOnce(&mut Dispatcher<'_>) -> mlua::Result<()>) -> mlua::Result<()> {
        let pointer = self.0.load(Ordering::Acquire);
        if pointer.is_null() {
            return Err(mlua::Error::runtime(
                "the match dispatcher can only be used while a match callback runs",
            ));
        }
        // SAFETY: the pointer is non-null only inside `during`, which holds the exclusive
        // borrow of that dispatcher for the whole call into Lua. The dispatcher functions run
        // inside that call, on its thread, one at a time (a VM runs one call at a time), and
        // `act` never calls back into Lua, so this is the only reference to it in use. The
        // erased lifetime does not escape: `act` gets the dispatcher for its own length.
        act(unsafe { &mut *pointer })
    }
}

/// The `dispatcher` table of a match VM, whose functions act through `current`.
fn dispatcher_table(lua: &Lua, current: &Current) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, 4)?;
    let (now, deferred) = match_ffi::broadcast_functions(lua, &current.0)?;
    table.set("broadcast_message", now)?;
    table.set("broadcast_message_deferred", deferred)?;
    let kick = current.clone();
    table.set(
        "match_kick",
        lua.create_function(move |_, presences: Value| {
            let presences = presence_list(&presences)?.unwrap_or_default();
            kick.with(|d| {
                d.kick(&presences);
                Ok(())
            })
        })?,
    )?;
    let relabel = current.clone();
    table.set(
        "match_label_update",
        lua.create_function(move |lua, label: String| {
            relabel.with(|d| {
                d.label_update(label.clone()).map_err(|e| {
                    mlua::Error::runtime(format!("error updating match label: {}", e.message))
                })
            })?;
            lua.named_registry_value::<Table>(MATCH_CTX)?
                .set("match_label", label)
        })?,
    )?;
    Ok(table)
}

impl LuaMatch {
    fn create(
        shared: &Arc<Shared>,
        name: &str,
        mctx: &MatchContext,
        params: &serde_json::Value,
    ) -> Result<CreatedMatch, RuntimeError> {
        let lua = new_vm(shared, Role::Match).map_err(RuntimeError::internal)?;
        let internal = |e: mlua::Error| RuntimeError::internal(describe(&e));
        let require: Function = lua.globals().get("require").map_err(internal)?;
        crate::sandbox::begin_call(&lua);
        let module: Value = require.call(name).map_err(|e| {
            RuntimeError::internal(format!("error loading match module: {}", describe(&e)))
        })?;
        let Value::Table(callbacks) = module else {
            return Err(RuntimeError::internal(
                "match module must return a table containing the match callback functions",
            ));
        };
        for callback in CALLBACKS {
            if !matches!(callbacks.raw_get::<Value>(callback), Ok(Value::Function(_))) {
                return Err(RuntimeError::internal(format!(
                    "{callback} not found or not a function"
                )));
            }
        }
        let ctx = match_context(&lua, shared, mctx).map_err(internal)?;
        let init: Function = callbacks.raw_get("match_init").map_err(internal)?;
        let params = to_lua(&lua, params).map_err(internal)?;
        let (state, tick_rate, label): (Value, Value, Value) =
            invoke(&lua, &init, (ctx.clone(), params)).map_err(|e| error_of(&e))?;
        if state.is_nil() {
            return Err(RuntimeError::internal("match_init returned nil state"));
        }
        let tick_rate = match tick_rate {
            Value::Integer(n) => n as f64,
            Value::Number(n) => n,
            _ => {
                return Err(RuntimeError::internal(
                    "match_init returned unexpected second value, must be a tick rate number",
                ));
            }
        };
        if tick_rate.fract() != 0.0 || !TICK_RATE_RANGE.contains(&(tick_rate as u32)) {
            return Err(RuntimeError::internal(
                "match_init returned invalid tick rate, must be between 1 and 60",
            ));
        }
        let label = match label {
            Value::Nil => String::new(),
            Value::String(s) => s.to_string_lossy(),
            _ => {
                return Err(RuntimeError::internal(
                    "match_init returned unexpected third value, must be a label string",
                ));
            }
        };
        if label.len() > MAX_LABEL_BYTES {
            return Err(RuntimeError::internal(format!(
                "match_init returned invalid label, must be {MAX_LABEL_BYTES} bytes or less"
            )));
        }
        ctx.set("match_label", label.as_str()).map_err(internal)?;
        ctx.set("match_tick_rate", tick_rate).map_err(internal)?;
        lua.set_named_registry_value(MATCH_CTX, &ctx)
            .map_err(internal)?;
        let current = Current::default();
        let dispatcher = dispatcher_table(&lua, &current).map_err(internal)?;
        let driver: Function = lua
            .load(DRIVER)
            .set_name("=match driver")
            .call(ERROR_TAG)
            .map_err(internal)?;
        // SAFETY: `build_messages` reads only what the driver passes it (see `tick`).
        let build =
            unsafe { lua.create_c_function(match_ffi::build_messages) }.map_err(internal)?;
        let (tick, call): (Function, Function) = driver
            .call((build, callbacks, ctx.clone(), dispatcher, state))
            .map_err(internal)?;
        // Loading the libraries, the modules and `match_init` left about a third of the VM as
        // garbage; a match that then only ticks would keep it until its heap doubled.
        lua.gc_collect().map_err(internal)?;
        let budget = budget_counter(&lua);
        Ok(CreatedMatch {
            core: Box::new(LuaMatch {
                lua,
                ctx,
                tick,
                call,
                current,
                budget,
            }),
            tick_rate: tick_rate as u32,
            label,
        })
    }

    /// Runs one call of the driver, the dispatcher table acting on `dispatcher` meanwhile.
    fn run<R>(
        &self,
        dispatcher: &mut Dispatcher,
        call: impl FnOnce() -> mlua::Result<R>,
    ) -> Result<R, RuntimeError> {
        self.budget.store(0, Ordering::Relaxed);
        self.current
            .during(dispatcher, call)
            .map_err(|e| error_of(&e))
    }

    /// Calls `callback` with `(ctx, dispatcher, tick, state, args...)` (`ctx` replaced when
    /// given); the callback's result count, whether its state was nil, and its other results.
    fn call<R: mlua::FromLuaMulti>(
        &self,
        dispatcher: &mut Dispatcher,
        callback: Callback,
        tick: i64,
        ctx: Option<Table>,
        args: impl FnOnce(&Lua) -> mlua::Result<mlua::MultiValue>,
    ) -> Result<R, RuntimeError> {
        let lua = &self.lua;
        let args = without_memory_limit(lua, || args(lua)).map_err(|e| error_of(&e))?;
        self.run(dispatcher, || {
            self.call.call::<R>((callback as i64, tick, ctx, args))
        })
    }
}

/// The flow after a callback whose state came back nil (`ended`) or not.
fn flow(ended: bool) -> Flow {
    if ended { Flow::End } else { Flow::Continue }
}

fn presence_of(value: &Value) -> mlua::Result<Presence> {
    let Value::Table(t) = value else {
        return Err(mlua::Error::runtime("expects each presence to be a table"));
    };
    let field = |name: &str| -> mlua::Result<String> {
        Ok(t.raw_get::<Option<String>>(name)?.unwrap_or_default())
    };
    let presence = Presence {
        user_id: field("user_id")?,
        session_id: field("session_id")?,
        username: field("username")?,
        node: field("node")?,
    };
    if presence.session_id.is_empty() {
        return Err(mlua::Error::runtime(
            "expects each presence to have a valid session_id",
        ));
    }
    Ok(presence)
}

fn presence_list(value: &Value) -> mlua::Result<Option<Vec<Presence>>> {
    match value {
        Value::Nil => Ok(None),
        Value::Table(t) => t
            .sequence_values::<Value>()
            .map(|v| presence_of(&v?))
            .collect::<mlua::Result<Vec<_>>>()
            .map(Some),
        _ => Err(mlua::Error::runtime("expects a valid set of presences")),
    }
}

/// The `ctx` table of a match: env, mode, node, match id and node.
fn match_context(lua: &Lua, shared: &Shared, mctx: &MatchContext) -> mlua::Result<Table> {
    let ctx = lua.create_table()?;
    let env = lua.create_table()?;
    for (k, v) in mctx.env.iter() {
        env.set(k.as_str(), v.as_str())?;
    }
    ctx.set("env", env)?;
    ctx.set("execution_mode", "match")?;
    ctx.set("node", shared.node.as_str())?;
    ctx.set("match_id", mctx.match_id.as_str())?;
    ctx.set("match_node", mctx.node.as_str())?;
    Ok(ctx)
}

fn presences_table(lua: &Lua, presences: &[Presence]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(presences.len(), 0)?;
    for (i, p) in presences.iter().enumerate() {
        t.raw_set(i + 1, presence_table(lua, p)?)?;
    }
    Ok(t)
}

fn too_many(count: usize, most: usize, name: &str) -> Result<(), RuntimeError> {
    if count > most {
        return Err(RuntimeError::internal(format!(
            "{name} returned too many values, stopping match"
        )));
    }
    Ok(())
}

impl MatchCore for LuaMatch {
    fn join_attempt(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        presence: &Presence,
        metadata: &HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        let ctx = (|| -> mlua::Result<Table> {
            let ctx = self.lua.create_table()?;
            for pair in self.ctx.pairs::<Value, Value>() {
                let (k, v) = pair?;
                ctx.raw_set(k, v)?;
            }
            ctx.set("user_id", presence.user_id.as_str())?;
            ctx.set("username", presence.username.as_str())?;
            ctx.set("session_id", presence.session_id.as_str())?;
            Ok(ctx)
        })()
        .map_err(|e| RuntimeError::internal(describe(&e)))?;
        let (count, ended, allow, reason): (usize, bool, Value, Value) =
            self.call(d, Callback::JoinAttempt, tick, Some(ctx), |lua| {
                let metadata = to_lua(lua, &serde_json::to_value(metadata).unwrap_or_default())?;
                Ok(mlua::MultiValue::from_iter([
                    Value::Table(presence_table(lua, presence)?),
                    metadata,
                ]))
            })?;
        too_many(count, 3, "Match join attempt")?;
        if ended {
            return Err(RuntimeError::internal(
                "match_join_attempt returned nil state",
            ));
        }
        let Value::Boolean(allow) = allow else {
            return Err(RuntimeError::internal(
                "Match join attempt returned non-boolean join result, stopping match",
            ));
        };
        let reason = match reason {
            Value::String(s) => s.to_string_lossy(),
            _ => String::new(),
        };
        Ok(if allow {
            JoinDecision::Accept
        } else {
            JoinDecision::Reject(reason)
        })
    }

    fn join(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        let (count, ended): (usize, bool) = self.call(d, Callback::Join, tick, None, |lua| {
            Ok(mlua::MultiValue::from_iter([Value::Table(
                presences_table(lua, joins)?,
            )]))
        })?;
        too_many(count, 1, "Match join")?;
        Ok(flow(ended))
    }

    fn leave(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        let (count, ended): (usize, bool) = self.call(d, Callback::Leave, tick, None, |lua| {
            Ok(mlua::MultiValue::from_iter([Value::Table(
                presences_table(lua, leaves)?,
            )]))
        })?;
        too_many(count, 1, "Match leave")?;
        Ok(flow(ended))
    }

    fn tick(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        // The driver has `build_messages` read `messages` during the call.
        let queued = (!messages.is_empty())
            .then(|| mlua::LightUserData(messages.as_ptr().cast_mut().cast()));
        let (count, ended): (usize, bool) =
            self.run(d, || self.tick.call((tick, queued, messages.len())))?;
        too_many(count, 1, "Match loop")?;
        Ok(flow(ended))
    }

    fn terminate(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        let (count, ended): (usize, bool) =
            self.call(d, Callback::Terminate, tick, None, |_| {
                Ok(mlua::MultiValue::from_iter([Value::Number(f64::from(
                    grace_seconds,
                ))]))
            })?;
        too_many(count, 1, "Match terminate")?;
        Ok(flow(ended))
    }

    fn signal(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        let (count, ended, reply): (usize, bool, Value) =
            self.call(d, Callback::Signal, tick, None, |lua| {
                Ok(mlua::MultiValue::from_iter([Value::String(
                    lua.create_string(data)?,
                )]))
            })?;
        too_many(count, 2, "Match signal")?;
        let reply = match reply {
            Value::Nil => String::new(),
            Value::String(s) => s.to_string_lossy(),
            _ => {
                return Err(RuntimeError::internal(
                    "Match signal returned non-string result, stopping match",
                ));
            }
        };
        Ok((flow(ended), reply))
    }
}

#[cfg(test)]
mod tests {
    use tavern_runtime::matches::{Broadcast, MatchOutput};

    use super::*;

    #[derive(Default)]
    struct Recorded(std::sync::Mutex<Vec<Broadcast>>);

    impl MatchOutput for Recorded {
        fn broadcast(&self, message: Broadcast) {
            self.0.lock().unwrap().push(message);
        }
        fn kick(&self, _: Vec<Presence>) {}
        fn label_update(&self, _: String) {}
    }

    #[test]
    fn the_dispatcher_acts_during_a_call_only() {
        let lua = Lua::new();
        let current = Current::default();
        let table = dispatcher_table(&lua, &current).unwrap();
        lua.globals().set("dispatcher", table).unwrap();
        let send = lua.load("dispatcher.broadcast_message(3, 'hi')");
        let outside = send.exec().unwrap_err();
        assert!(
            describe(&outside).contains("can only be used while a match callback runs"),
            "{outside}"
        );
        let output = Recorded::default();
        let mut dispatcher = Dispatcher::new(&output, 1);
        current.during(&mut dispatcher, || {
            lua.load("dispatcher.broadcast_message(3, 'hi')")
                .exec()
                .unwrap();
            lua.load("dispatcher.broadcast_message_deferred(4, 'later')")
                .exec()
                .unwrap();
            let over = lua
                .load("dispatcher.broadcast_message_deferred(4, 'too many')")
                .exec()
                .unwrap_err();
            assert!(
                describe(&over).contains("too many deferred messages"),
                "{over}"
            );
        });
        dispatcher.flush_deferred();
        let sent: Vec<(i64, Vec<u8>)> = output
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|b| (b.op_code, b.data.clone()))
            .collect();
        assert_eq!(sent, [(3, b"hi".to_vec()), (4, b"later".to_vec())]);
        assert!(lua.load("dispatcher.match_kick({})").exec().is_err());
    }

    #[test]
    fn broadcasts_read_their_arguments_as_nakama() {
        let lua = Lua::new();
        lua.set_memory_limit(8 << 20).unwrap();
        let current = Current::default();
        lua.globals()
            .set("dispatcher", dispatcher_table(&lua, &current).unwrap())
            .unwrap();
        let output = Recorded::default();
        let mut dispatcher = Dispatcher::new(&output, 4);
        let run = |code: &str| lua.load(code).exec().map_err(|e| describe(&e));
        current.during(&mut dispatcher, || {
            run(r#"
                local a = { user_id = "u1", session_id = "s1", username = "ann", node = "n1" }
                local b = { session_id = "s2", node = "n1" }
                dispatcher.broadcast_message(7, "data", { a, b }, a)
                dispatcher.broadcast_message(8)
                dispatcher.broadcast_message(9, nil, {})
            "#)
            .unwrap();
            for (code, error) in [
                (
                    "dispatcher.broadcast_message('x')",
                    "expects an op code number",
                ),
                (
                    "dispatcher.broadcast_message(1, {})",
                    "expects data to be a string or nil",
                ),
                (
                    "dispatcher.broadcast_message(1, nil, 5)",
                    "expects a valid set of presences",
                ),
                (
                    "dispatcher.broadcast_message(1, nil, { 5 })",
                    "expects each presence to be a table",
                ),
                (
                    "dispatcher.broadcast_message(1, nil, { {} })",
                    "valid session_id",
                ),
                (
                    "dispatcher.broadcast_message(1, nil, nil, 'me')",
                    "expects each presence to be a table",
                ),
            ] {
                let message = run(code).unwrap_err();
                assert!(message.contains(error), "{code}: {message}");
            }
        });
        let sent = output.0.lock().unwrap();
        assert_eq!(sent.len(), 3);
        assert_eq!(
            (sent[0].op_code, sent[0].data.as_slice()),
            (7, &b"data"[..])
        );
        let to: Vec<(&str, &str)> = sent[0]
            .presences
            .iter()
            .flatten()
            .map(|p| (p.session_id.as_str(), p.node.as_str()))
            .collect();
        assert_eq!(to, [("s1", "n1"), ("s2", "n1")]);
        let from = sent[0].sender.as_ref().unwrap();
        assert_eq!(
            (
                from.user_id.as_str(),
                from.session_id.as_str(),
                from.username.as_str()
            ),
            ("u1", "s1", "ann")
        );
        assert_eq!((sent[1].op_code, sent[1].presences.is_none()), (8, true));
        assert_eq!(sent[2].presences.as_deref().map(<[_]>::len), Some(0));
    }

    /// A server without data, for matches that never reach it.
    struct NoServer;

    impl tavern_runtime::NkBackend for NoServer {
        fn account_get_id(
            &self,
            _: String,
        ) -> tavern_runtime::BoxFuture<'_, Result<tavern_runtime::api::Account, RuntimeError>>
        {
            Box::pin(async { Err(RuntimeError::internal("no server")) })
        }
        fn users_get(
            &self,
            _: Vec<String>,
            _: Vec<String>,
        ) -> tavern_runtime::BoxFuture<'_, Result<Vec<tavern_runtime::api::User>, RuntimeError>>
        {
            Box::pin(async { Ok(Vec::new()) })
        }
        fn account_update_id(
            &self,
            _: String,
            _: tavern_runtime::api::UpdateAccountRequest,
        ) -> tavern_runtime::BoxFuture<'_, Result<(), RuntimeError>> {
            Box::pin(async { Ok(()) })
        }
        fn account_delete_id(
            &self,
            _: String,
        ) -> tavern_runtime::BoxFuture<'_, Result<(), RuntimeError>> {
            Box::pin(async { Ok(()) })
        }
    }

    /// A match of `source` (a Lua module named `probe`) with these settings.
    fn probe_match(source: &str, budget: u64) -> Box<dyn MatchCore> {
        let dir = std::env::temp_dir().join(format!("tavern-lua-probe-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("probe.lua"), source).unwrap();
        let pool = tavern_runtime::sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap();
        let setup = tavern_runtime::registry::RuntimeSetup {
            node: "nakama".into(),
            env: Default::default(),
            nk: tavern_runtime::Nk::new(Arc::new(NoServer), tavern_runtime::Database::Sqlite(pool)),
            fleet_manager: None,
        };
        let mut registry = tavern_runtime::registry::Registry::load(&[], setup).unwrap();
        let settings = crate::LuaSettings {
            min_count: 1,
            max_count: 1,
            memory_limit: 4 << 20,
            instruction_budget: budget,
            match_threads: 1,
        };
        crate::load_into(&mut registry, &dir, settings).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let factory = registry
            .match_handlers()
            .find(|(name, _)| *name == "probe")
            .map(|(_, f)| f.clone())
            .unwrap();
        let ctx = MatchContext {
            match_id: "00000000-0000-4000-8000-000000000001.nakama".into(),
            node: "nakama".into(),
            handler_name: "probe".into(),
            env: Default::default(),
        };
        factory.create(ctx, &serde_json::json!({})).unwrap().core
    }

    const PROBE: &str = r#"
        local nk = require("nakama")
        local M = {}
        function M.match_init(ctx, params) return { seen = {}, ticks = 0 }, 10, "" end
        function M.match_join_attempt(ctx, d, tick, state, presence, metadata) return state, true end
        function M.match_join(ctx, d, tick, state, presences) return state end
        function M.match_leave(ctx, d, tick, state, presences) return state end
        function M.match_loop(ctx, d, tick, state, messages)
          state.ticks = state.ticks + 1
          if messages.dirty then error("the list of an earlier tick") end
          if #messages == 0 then messages.dirty = true end
          for _, m in ipairs(messages) do
            table.insert(state.seen, { tick = tick, op = m.op_code, data = m.data, reliable = m.reliable,
              at = m.receive_time_ms, from = m.sender.username .. "/" .. m.sender.session_id .. "/" ..
              m.sender.user_id .. "/" .. m.sender.node })
          end
          if tick == 99 then while true do end end
          return state
        end
        function M.match_terminate(ctx, d, tick, state, grace) return nil end
        function M.match_signal(ctx, d, tick, state, data) return state, nk.json_encode(state) end
        return M
    "#;

    fn message(op_code: i64, data: &str) -> MatchMessage {
        MatchMessage {
            sender: Presence {
                user_id: "u1".into(),
                session_id: "s1".into(),
                username: "ann".into(),
                node: "n1".into(),
            },
            op_code,
            data: data.as_bytes().to_vec(),
            reliable: op_code == 1,
            receive_time_ms: 1234,
        }
    }

    #[test]
    fn ticks_hand_the_loop_nakamas_message_list_and_keep_the_state() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _entered = rt.enter();
        let mut core = probe_match(PROBE, 1_000_000);
        let output = Recorded::default();
        let mut d = Dispatcher::new(&output, 4);
        for tick in 0..3 {
            // The script marks the empty list it got: the next idle tick gets a clean one.
            assert!(matches!(
                core.tick(&mut d, tick, Vec::new()),
                Ok(Flow::Continue)
            ));
        }
        let messages = vec![message(1, "one"), message(2, "two")];
        assert!(matches!(core.tick(&mut d, 3, messages), Ok(Flow::Continue)));
        assert!(matches!(
            core.tick(&mut d, 4, Vec::new()),
            Ok(Flow::Continue)
        ));
        let (flow, reply) = core.signal(&mut d, 5, "read").unwrap();
        assert!(matches!(flow, Flow::Continue));
        let state: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(state["ticks"], 5);
        assert_eq!(
            state["seen"],
            serde_json::json!([
                { "tick": 3, "op": 1, "data": "one", "reliable": true, "at": 1234, "from": "ann/s1/u1/n1" },
                { "tick": 3, "op": 2, "data": "two", "reliable": false, "at": 1234, "from": "ann/s1/u1/n1" },
            ])
        );
        // A runaway loop ends with the budget, and the match can still be read afterwards.
        let runaway = core.tick(&mut d, 99, Vec::new()).err().unwrap();
        assert!(
            runaway.message.contains("instruction budget exceeded"),
            "{}",
            runaway.message
        );
    }
}
