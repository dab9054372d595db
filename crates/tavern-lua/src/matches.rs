//! Lua match handlers: a module returning a table of `match_*` functions, run in the match's
//! own VM on the same engine as Rust handlers. Their factory carries the Lua match threads as
//! its executor, so the server creates each match and runs every callback there, never on an
//! async worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};

use mlua::{Function, Lua, Table, Value};
use tavern_runtime::matches::{
    CreatedMatch, Dispatcher, Flow, JoinDecision, MAX_LABEL_BYTES, MatchContext, MatchCore,
    MatchExecutor, MatchFactory, MatchMessage, TICK_RATE_RANGE,
};
use tavern_runtime::{Presence, RuntimeError};

use crate::Shared;
use crate::calls::{error_of, presence_table};
use crate::convert::to_lua;
use crate::sandbox::{Role, describe, invoke, new_vm};

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

/// A running Lua match: its VM, the module's callbacks, the `ctx` table, the `dispatcher`
/// table (made once, pointed at each call's dispatcher through `current`) and the state.
struct LuaMatch {
    lua: Lua,
    callbacks: Table,
    ctx: Table,
    dispatcher: Table,
    current: Current,
    state: Value,
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
    for deferred in [false, true] {
        let current = current.clone();
        let broadcast = move |lua: &Lua, args: mlua::MultiValue| -> mlua::Result<()> {
            let (op_code, data, presences, sender) = broadcast_args(lua, args)?;
            current.with(|d| {
                if !deferred {
                    d.broadcast(op_code, data, presences.as_deref(), sender.as_ref());
                    return Ok(());
                }
                d.broadcast_deferred(op_code, data, presences.as_deref(), sender.as_ref())
                    .map_err(|e| {
                        mlua::Error::runtime(format!(
                            "error deferring message broadcast: {}",
                            e.message
                        ))
                    })
            })
        };
        let name = if deferred {
            "broadcast_message_deferred"
        } else {
            "broadcast_message"
        };
        table.set(name, lua.create_function(broadcast)?)?;
    }
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
        Ok(CreatedMatch {
            core: Box::new(LuaMatch {
                lua,
                callbacks,
                ctx,
                dispatcher,
                current,
                state,
            }),
            tick_rate: tick_rate as u32,
            label,
        })
    }

    /// Calls `match_<name>` with `(ctx, dispatcher, tick, state, extra...)`, the dispatcher
    /// table acting on `dispatcher` for this call only.
    fn call<R>(
        &mut self,
        dispatcher: &mut Dispatcher,
        name: &str,
        tick: i64,
        ctx: Option<Table>,
        extra: impl FnOnce(&Lua) -> mlua::Result<mlua::MultiValue>,
        read: impl FnOnce(&mut Self, mlua::MultiValue) -> Result<R, RuntimeError>,
    ) -> Result<R, RuntimeError> {
        let lua = &self.lua;
        let out = (|| {
            let function: Function = self.callbacks.raw_get(name)?;
            let mut args = without_memory_limit(lua, || extra(lua))?;
            args.push_front(self.state.clone());
            args.push_front(Value::Number(tick as f64));
            args.push_front(Value::Table(self.dispatcher.clone()));
            args.push_front(Value::Table(ctx.unwrap_or_else(|| self.ctx.clone())));
            self.current.during(dispatcher, || {
                invoke::<mlua::MultiValue>(lua, &function, args)
            })
        })()
        .map_err(|e| error_of(&e))?;
        read(self, out)
    }

    /// Takes the new state from a callback's first result: `nil` ends the match.
    fn next_state(&mut self, out: &mlua::MultiValue) -> Flow {
        match out.front() {
            None | Some(Value::Nil) => Flow::End,
            Some(state) => {
                self.state = state.clone();
                Flow::Continue
            }
        }
    }
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

type BroadcastArgs = (i64, Vec<u8>, Option<Vec<Presence>>, Option<Presence>);

/// `(op_code, data, presences, sender, reliable)` of a broadcast.
fn broadcast_args(_lua: &Lua, args: mlua::MultiValue) -> mlua::Result<BroadcastArgs> {
    let args: Vec<Value> = args.into_iter().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Nil);
    let op_code = match arg(0) {
        Value::Integer(n) => n,
        Value::Number(n) => n as i64,
        _ => {
            return Err(mlua::Error::runtime(
                "bad argument #1: expects an op code number",
            ));
        }
    };
    let data = match arg(1) {
        Value::Nil => Vec::new(),
        Value::String(s) => s.as_bytes().to_vec(),
        _ => return Err(mlua::Error::runtime("expects data to be a string or nil")),
    };
    let presences = presence_list(&arg(2))?;
    let sender = match arg(3) {
        Value::Nil => None,
        v => Some(presence_of(&v)?),
    };
    Ok((op_code, data, presences, sender))
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

fn too_many(out: &mlua::MultiValue, most: usize, name: &str) -> Result<(), RuntimeError> {
    if out.len() > most {
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
        self.call(
            d,
            "match_join_attempt",
            tick,
            Some(ctx),
            |lua| {
                let metadata = to_lua(lua, &serde_json::to_value(metadata).unwrap_or_default())?;
                Ok(mlua::MultiValue::from_iter([
                    Value::Table(presence_table(lua, presence)?),
                    metadata,
                ]))
            },
            |this, out| {
                too_many(&out, 3, "Match join attempt")?;
                let values: Vec<Value> = out.into_iter().collect();
                let state = values.first().cloned().unwrap_or(Value::Nil);
                if state.is_nil() {
                    return Err(RuntimeError::internal(
                        "match_join_attempt returned nil state",
                    ));
                }
                this.state = state;
                let allow = match values.get(1) {
                    Some(Value::Boolean(b)) => *b,
                    _ => {
                        return Err(RuntimeError::internal(
                            "Match join attempt returned non-boolean join result, stopping match",
                        ));
                    }
                };
                let reason = match values.get(2) {
                    Some(Value::String(s)) => s.to_string_lossy(),
                    _ => String::new(),
                };
                Ok(if allow {
                    JoinDecision::Accept
                } else {
                    JoinDecision::Reject(reason)
                })
            },
        )
    }

    fn join(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        self.call(
            d,
            "match_join",
            tick,
            None,
            |lua| {
                Ok(mlua::MultiValue::from_iter([Value::Table(
                    presences_table(lua, joins)?,
                )]))
            },
            |this, out| {
                too_many(&out, 1, "Match join")?;
                Ok(this.next_state(&out))
            },
        )
    }

    fn leave(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        self.call(
            d,
            "match_leave",
            tick,
            None,
            |lua| {
                Ok(mlua::MultiValue::from_iter([Value::Table(
                    presences_table(lua, leaves)?,
                )]))
            },
            |this, out| {
                too_many(&out, 1, "Match leave")?;
                Ok(this.next_state(&out))
            },
        )
    }

    fn tick(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        self.call(
            d,
            "match_loop",
            tick,
            None,
            |lua| {
                let list = lua.create_table_with_capacity(messages.len(), 0)?;
                for (i, m) in messages.iter().enumerate() {
                    let t = lua.create_table_with_capacity(0, 5)?;
                    t.raw_set("sender", presence_table(lua, &m.sender)?)?;
                    t.raw_set("op_code", m.op_code)?;
                    t.raw_set("data", lua.create_string(&m.data)?)?;
                    t.raw_set("reliable", m.reliable)?;
                    t.raw_set("receive_time_ms", m.receive_time_ms)?;
                    list.raw_set(i + 1, t)?;
                }
                Ok(mlua::MultiValue::from_iter([Value::Table(list)]))
            },
            |this, out| {
                too_many(&out, 1, "Match loop")?;
                Ok(this.next_state(&out))
            },
        )
    }

    fn terminate(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        self.call(
            d,
            "match_terminate",
            tick,
            None,
            |_| {
                Ok(mlua::MultiValue::from_iter([Value::Number(f64::from(
                    grace_seconds,
                ))]))
            },
            |this, out| {
                too_many(&out, 1, "Match terminate")?;
                Ok(this.next_state(&out))
            },
        )
    }

    fn signal(
        &mut self,
        d: &mut Dispatcher,
        tick: i64,
        data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        self.call(
            d,
            "match_signal",
            tick,
            None,
            |lua| {
                Ok(mlua::MultiValue::from_iter([Value::String(
                    lua.create_string(data)?,
                )]))
            },
            |this, out| {
                too_many(&out, 2, "Match signal")?;
                let reply = match out.get(1) {
                    None | Some(Value::Nil) => String::new(),
                    Some(Value::String(s)) => s.to_string_lossy(),
                    Some(_) => {
                        return Err(RuntimeError::internal(
                            "Match signal returned non-string result, stopping match",
                        ));
                    }
                };
                Ok((this.next_state(&out), reply))
            },
        )
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
}
