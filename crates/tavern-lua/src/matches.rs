//! Lua match handlers: a module returning a table of `match_*` functions, run in the match's
//! own VM on the same engine as Rust handlers. Their factory carries the Lua match threads as
//! its executor, so the server creates each match and runs every callback there, never on an
//! async worker.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

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

/// A running Lua match: its VM, the module's callbacks, the `ctx` table and the state.
struct LuaMatch {
    lua: Lua,
    callbacks: Table,
    ctx: Table,
    state: Value,
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
        Ok(CreatedMatch {
            core: Box::new(LuaMatch {
                lua,
                callbacks,
                ctx,
                state,
            }),
            tick_rate: tick_rate as u32,
            label,
        })
    }

    /// Calls `match_<name>` with `(ctx, dispatcher, tick, state, extra...)`, the dispatcher
    /// valid for this call only.
    fn call<R>(
        &mut self,
        dispatcher: &mut Dispatcher,
        name: &str,
        tick: i64,
        ctx: Option<Table>,
        extra: impl FnOnce(&Lua) -> mlua::Result<mlua::MultiValue>,
        read: impl FnOnce(&mut Self, mlua::MultiValue) -> Result<R, RuntimeError>,
    ) -> Result<R, RuntimeError> {
        let lua = self.lua.clone();
        let out = (|| {
            let function: Function = self
                .callbacks
                .raw_get(name)
                .map_err(|e| RuntimeError::internal(describe(&e)))?;
            let ctx = ctx.unwrap_or_else(|| self.ctx.clone());
            let state = self.state.clone();
            let match_ctx = self.ctx.clone();
            let cell = RefCell::new(dispatcher);
            lua.scope(|scope| {
                let d = lua.create_table()?;
                let broadcast = |deferred: bool| {
                    let cell = &cell;
                    move |lua: &Lua, args: mlua::MultiValue| -> mlua::Result<()> {
                        let (op_code, data, presences, sender) = broadcast_args(lua, args)?;
                        let mut d = cell.borrow_mut();
                        if deferred {
                            d.broadcast_deferred(
                                op_code,
                                data,
                                presences.as_deref(),
                                sender.as_ref(),
                            )
                            .map_err(|e| {
                                mlua::Error::runtime(format!(
                                    "error deferring message broadcast: {}",
                                    e.message
                                ))
                            })
                        } else {
                            d.broadcast(op_code, data, presences.as_deref(), sender.as_ref());
                            Ok(())
                        }
                    }
                };
                d.set(
                    "broadcast_message",
                    scope.create_function(broadcast(false))?,
                )?;
                d.set(
                    "broadcast_message_deferred",
                    scope.create_function(broadcast(true))?,
                )?;
                d.set(
                    "match_kick",
                    scope.create_function(|_, presences: Value| {
                        let presences = presence_list(&presences)?.unwrap_or_default();
                        cell.borrow_mut().kick(&presences);
                        Ok(())
                    })?,
                )?;
                d.set(
                    "match_label_update",
                    scope.create_function(|_, label: String| {
                        cell.borrow_mut().label_update(label.clone()).map_err(|e| {
                            mlua::Error::runtime(format!(
                                "error updating match label: {}",
                                e.message
                            ))
                        })?;
                        match_ctx.set("match_label", label)
                    })?,
                )?;
                let mut args = extra(&lua)?;
                args.push_front(state);
                args.push_front(Value::Number(tick as f64));
                args.push_front(Value::Table(d));
                args.push_front(Value::Table(ctx));
                invoke::<mlua::MultiValue>(&lua, &function, args)
            })
            .map_err(|e| error_of(&e))
        })()?;
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
                    t.set("sender", presence_table(lua, &m.sender)?)?;
                    t.set("op_code", m.op_code)?;
                    t.set("data", lua.create_string(&m.data)?)?;
                    t.set("reliable", m.reliable)?;
                    t.set("receive_time_ms", m.receive_time_ms)?;
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
