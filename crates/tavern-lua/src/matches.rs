//! Lua match handlers: a module returning a table of `match_*` functions, run in the match's
//! own VM on the same engine as Rust handlers. Their factory carries the Lua match threads as
//! its executor, so the server creates each match and runs every callback there, never on an
//! async worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use mlua::{Function, Lua, RegistryKey, Table, Value};
use tavern_runtime::matches::{
    CreatedMatch, Dispatcher, Flow, JoinDecision, MAX_LABEL_BYTES, MatchContext, MatchCore,
    MatchExecutor, MatchFactory, MatchMessage, TICK_RATE_RANGE,
};
use tavern_runtime::{Presence, RuntimeError};

use crate::Shared;
use crate::calls::{error_of, error_of_text, presence_table};
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

/// A running Lua match: its VM and, in the VM's registry, what its calls need: the callbacks
/// (read once from the module's table, as Nakama does), `ctx`, the `dispatcher` table (made
/// once, pointed at each call's dispatcher through `current`), the state, and for the ticks the
/// shared empty list, the list builder and an error slot (see `match_ffi::tick`).
struct LuaMatch {
    lua: Lua,
    /// The VM's main thread, which the ticks call on directly. It belongs to `lua`.
    main: *mut mlua::lua_State,
    keys: Keys,
    current: Current,
    /// The VM's instruction budget counter (see `sandbox::budget_counter`).
    budget: Arc<AtomicU64>,
}

// SAFETY: `main` is the main thread of the VM `lua` owns; it moves with `lua` (which is `Send`)
// and is only used through `&mut self`, by one thread at a time.
unsafe impl Send for LuaMatch {}

/// The registry keys that keep a match's values in its VM.
struct Keys {
    join_attempt: RegistryKey,
    join: RegistryKey,
    leave: RegistryKey,
    loop_fn: RegistryKey,
    terminate: RegistryKey,
    signal: RegistryKey,
    ctx: RegistryKey,
    dispatcher: RegistryKey,
    state: RegistryKey,
    empty: RegistryKey,
    build: RegistryKey,
    error: RegistryKey,
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
        // SAFETY: `build_messages` reads only what `match_ffi::tick` passes it.
        let build =
            unsafe { lua.create_c_function(match_ffi::build_messages) }.map_err(internal)?;
        let key = |value: Value| lua.create_registry_value(value).map_err(internal);
        let callback = |name: &str| -> Result<RegistryKey, RuntimeError> {
            key(callbacks.raw_get::<Value>(name).map_err(internal)?)
        };
        let keys = Keys {
            join_attempt: callback("match_join_attempt")?,
            join: callback("match_join")?,
            leave: callback("match_leave")?,
            loop_fn: callback("match_loop")?,
            terminate: callback("match_terminate")?,
            signal: callback("match_signal")?,
            ctx: key(Value::Table(ctx))?,
            dispatcher: key(Value::Table(dispatcher))?,
            state: key(state)?,
            empty: key(Value::Table(lua.create_table().map_err(internal)?))?,
            build: key(Value::Function(build))?,
            error: key(Value::Boolean(false))?,
        };
        let mut main = std::ptr::null_mut();
        // SAFETY: only reads the state pointer mlua calls the closure with: the main thread.
        unsafe { lua.exec_raw::<()>((), |state| main = state) }.map_err(internal)?;
        // Loading the libraries, the modules and `match_init` left about a third of the VM as
        // garbage; a match that then only ticks would keep it until its heap doubled.
        lua.gc_collect().map_err(internal)?;
        let budget = budget_counter(&lua);
        Ok(CreatedMatch {
            core: Box::new(LuaMatch {
                lua,
                main,
                keys,
                current,
                budget,
            }),
            tick_rate: tick_rate as u32,
            label,
        })
    }

    /// Calls a callback other than the loop with `(ctx, dispatcher, tick, state, args...)` (`ctx`
    /// replaced when given), keeps the state it returns, and gives back the flow and what it
    /// returned after the state. More than `most` values fail the match as in Nakama.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        dispatcher: &mut Dispatcher,
        callback: fn(&Keys) -> &RegistryKey,
        tick: i64,
        ctx: Option<Table>,
        args: impl FnOnce(&Lua) -> mlua::Result<mlua::MultiValue>,
        most: usize,
        name: &str,
    ) -> Result<(Flow, Vec<Value>), RuntimeError> {
        let lua = &self.lua;
        let keys = &self.keys;
        let internal = |e: mlua::Error| error_of(&e);
        let function: Function = lua.registry_value(callback(keys)).map_err(internal)?;
        let mut args = without_memory_limit(lua, || args(lua)).map_err(internal)?;
        args.push_front(lua.registry_value(&keys.state).map_err(internal)?);
        args.push_front(Value::Number(tick as f64));
        args.push_front(lua.registry_value(&keys.dispatcher).map_err(internal)?);
        let ctx = match ctx {
            Some(ctx) => ctx,
            None => lua.registry_value(&keys.ctx).map_err(internal)?,
        };
        args.push_front(Value::Table(ctx));
        let out = self
            .current
            .during(dispatcher, || {
                invoke::<mlua::MultiValue>(lua, &function, args)
            })
            .map_err(internal)?;
        too_many(out.len(), most, name)?;
        let mut out: Vec<Value> = out.into_iter().collect();
        let state = if out.is_empty() {
            Value::Nil
        } else {
            out.remove(0)
        };
        if state.is_nil() {
            return Ok((Flow::End, out));
        }
        lua.replace_registry_value(&mut self.keys.state, state)
            .map_err(internal)?;
        Ok((Flow::Continue, out))
    }

    /// The error a tick left in the error slot, as the other calls report theirs.
    fn tick_error(&self) -> RuntimeError {
        match self.lua.registry_value::<Value>(&self.keys.error) {
            Ok(Value::Error(e)) => error_of(&e),
            Ok(Value::String(s)) => error_of_text(&s.to_string_lossy()),
            Ok(Value::Table(t)) => {
                // `error({message, code})`, mapped as `sandbox::invoke` maps it.
                let code = match t.raw_get::<Value>(2) {
                    Ok(Value::Integer(n)) => n.to_string(),
                    Ok(Value::Number(n)) => (n as i64).to_string(),
                    _ => "13".to_owned(),
                };
                let message = match t.raw_get::<Value>(1) {
                    Ok(Value::String(s)) => s.to_string_lossy(),
                    Ok(other) => other.to_string().unwrap_or_default(),
                    Err(e) => describe(&e),
                };
                error_of_text(&format!("{ERROR_TAG}{code}{ERROR_TAG}{message}"))
            }
            Ok(other) => RuntimeError::internal(format!(
                "match loop failed with a {} error value",
                other.type_name()
            )),
            Err(e) => error_of(&e),
        }
    }

    /// The slots `match_ffi::tick` reads.
    fn slots(&self) -> match_ffi::TickSlots {
        let k = &self.keys;
        match_ffi::TickSlots {
            loop_fn: k.loop_fn.id(),
            ctx: k.ctx.id(),
            dispatcher: k.dispatcher.id(),
            state: k.state.id(),
            empty: k.empty.id(),
            build: k.build.id(),
            error: k.error.id(),
        }
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
            let shared: Table = self.lua.registry_value(&self.keys.ctx)?;
            let ctx = self.lua.create_table()?;
            for pair in shared.pairs::<Value, Value>() {
                let (k, v) = pair?;
                ctx.raw_set(k, v)?;
            }
            ctx.set("user_id", presence.user_id.as_str())?;
            ctx.set("username", presence.username.as_str())?;
            ctx.set("session_id", presence.session_id.as_str())?;
            Ok(ctx)
        })()
        .map_err(|e| RuntimeError::internal(describe(&e)))?;
        let (flow, rest) = self.call(
            d,
            |k| &k.join_attempt,
            tick,
            Some(ctx),
            |lua| {
                let metadata = to_lua(lua, &serde_json::to_value(metadata).unwrap_or_default())?;
                Ok(mlua::MultiValue::from_iter([
                    Value::Table(presence_table(lua, presence)?),
                    metadata,
                ]))
            },
            3,
            "Match join attempt",
        )?;
        if matches!(flow, Flow::End) {
            return Err(RuntimeError::internal(
                "match_join_attempt returned nil state",
            ));
        }
        let Some(Value::Boolean(allow)) = rest.first() else {
            return Err(RuntimeError::internal(
                "Match join attempt returned non-boolean join result, stopping match",
            ));
        };
        let reason = match rest.get(1) {
            Some(Value::String(s)) => s.to_string_lossy(),
            _ => String::new(),
        };
        Ok(if *allow {
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
        let presences = |lua: &Lua| {
            Ok(mlua::MultiValue::from_iter([Value::Table(
                presences_table(lua, joins)?,
            )]))
        };
        let (flow, _) = self.call(d, |k| &k.join, tick, None, presences, 1, "Match join")?;
        Ok(flow)
    }

    fn leave(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        let presences = |lua: &Lua| {
            Ok(mlua::MultiValue::from_iter([Value::Table(
                presences_table(lua, leaves)?,
            )]))
        };
        let (flow, _) = self.call(d, |k| &k.leave, tick, None, presences, 1, "Match leave")?;
        Ok(flow)
    }

    fn tick(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        loop {
            let slots = self.slots();
            self.budget.store(0, Ordering::Relaxed);
            // SAFETY: `main` is this match's VM's main thread, used by this thread alone now
            // (`&mut self`), with no call running; the slots are the keys' live ids, none nil.
            let ticked = self.current.during(d, || unsafe {
                match_ffi::tick(self.main, &slots, tick, &messages)
            });
            match ticked {
                match_ffi::Ticked::Returned { count, ended } => {
                    too_many(count, 1, "Match loop")?;
                    return Ok(flow(ended));
                }
                match_ffi::Ticked::Failed => return Err(self.tick_error()),
                match_ffi::Ticked::ListUsed => {
                    let fresh = self
                        .lua
                        .create_table()
                        .map_err(|e| RuntimeError::internal(describe(&e)))?;
                    self.lua
                        .replace_registry_value(&mut self.keys.empty, fresh)
                        .map_err(|e| RuntimeError::internal(describe(&e)))?;
                }
            }
        }
    }

    fn terminate(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        let grace = |_: &Lua| {
            Ok(mlua::MultiValue::from_iter([Value::Number(f64::from(
                grace_seconds,
            ))]))
        };
        let (flow, _) = self.call(d, |k| &k.terminate, tick, None, grace, 1, "Match terminate")?;
        Ok(flow)
    }

    fn signal(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        let data = |lua: &Lua| {
            Ok(mlua::MultiValue::from_iter([Value::String(
                lua.create_string(data)?,
            )]))
        };
        let (flow, rest) = self.call(d, |k| &k.signal, tick, None, data, 2, "Match signal")?;
        let reply = match rest.first() {
            None | Some(Value::Nil) => String::new(),
            Some(Value::String(s)) => s.to_string_lossy(),
            Some(_) => {
                return Err(RuntimeError::internal(
                    "Match signal returned non-string result, stopping match",
                ));
            }
        };
        Ok((flow, reply))
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
