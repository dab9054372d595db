//! RPCs, hooks and the matchmaker hook registered by JavaScript code: registered with the
//! server as async functions that run the JavaScript function on a blocking thread, in a pooled
//! VM, with Nakama's arguments `(ctx, logger, nk, ...)`.

use std::sync::Arc;

use rquickjs::{Ctx, Function, Object, Value};
use tavern_runtime::operation::{self, Operation, OperationVisitor};
use tavern_runtime::realtime::Envelope;
use tavern_runtime::{Context, Initializer, MatchmakerEntry, MessageKind, RuntimeError};

use crate::convert::{camel_keys, to_js, to_json};
use crate::vm::{Base, Vm};
use crate::{Key, Registration, Shared, context, errors};

/// Registers one JavaScript registration with the server.
pub(crate) fn register(init: &mut Initializer, shared: &Arc<Shared>, registration: Registration) {
    let Registration { key, function } = registration;
    let function: Arc<str> = function.into();
    match key {
        Key::Rpc(id) => {
            let shared = shared.clone();
            init.register_rpc(&id, move |ctx, _nk, payload| {
                let (shared, function) = (shared.clone(), function.clone());
                blocking_call(move || rpc(&shared, &function, &ctx, payload))
            });
        }
        Key::Before(op) | Key::After(op) => {
            let before = matches!(key, Key::Before(_));
            let visitor = HookVisitor {
                init,
                shared,
                function,
                before,
            };
            let _ = operation::visit(op, visitor);
        }
        Key::RealtimeBefore(kind) => {
            let shared = shared.clone();
            init.register_before_realtime(kind, move |ctx, _nk, envelope| {
                let (shared, function) = (shared.clone(), function.clone());
                blocking_call(move || before_realtime(&shared, &function, &ctx, kind, envelope))
            });
        }
        Key::RealtimeAfter(kind) => {
            let shared = shared.clone();
            init.register_after_realtime(kind, move |ctx, _nk, request, reply| {
                let (shared, function) = (shared.clone(), function.clone());
                blocking_call(move || after_realtime(&shared, &function, &ctx, request, reply))
            });
        }
        Key::Matchmaker => {
            let shared = shared.clone();
            init.register_matchmaker_matched(move |ctx, _nk, entries| {
                let (shared, function) = (shared.clone(), function.clone());
                blocking_call(move || matchmaker(&shared, &function, &ctx, entries))
            });
        }
    }
}

/// Runs JavaScript on the blocking pool and waits for it without holding an async worker.
async fn blocking_call<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RuntimeError> + Send + 'static,
) -> Result<T, RuntimeError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => {
            let message = if e.is_panic() {
                "JavaScript call panicked"
            } else {
                "JavaScript call cancelled"
            };
            Err(RuntimeError::internal(message))
        }
    }
}

/// What a call into a pooled VM runs with: the VM, its context, the function and `logger`/`nk`.
struct Call<'a, 'js> {
    vm: &'a Vm,
    ctx: &'a Ctx<'js>,
    function: Function<'js>,
    base: Base<'js>,
}

impl<'js> Call<'_, 'js> {
    /// Calls the function with `(ctx, logger, nk, args...)`.
    fn invoke(
        &self,
        context: Object<'js>,
        args: Vec<Value<'js>>,
    ) -> Result<Value<'js>, RuntimeError> {
        let mut all = rquickjs::function::Args::new(self.ctx.clone(), args.len() + 3);
        let ctx = self.ctx;
        let push = |all: &mut rquickjs::function::Args<'js>, v: Value<'js>| {
            all.push_arg(v).map_err(|e| errors::of(ctx, e))
        };
        push(&mut all, context.into_value())?;
        push(&mut all, self.base.get(ctx, "logger"))?;
        push(&mut all, self.base.get(ctx, "nk"))?;
        for arg in args {
            push(&mut all, arg)?;
        }
        self.function
            .call_arg::<Value>(all)
            .map_err(|e| errors::of_call(self.vm, ctx, e))
    }

    /// The `ctx` object for `context` in `mode`.
    fn context(&self, context: &Context, mode: &str) -> Result<Object<'js>, RuntimeError> {
        context::object(self.ctx, context, mode).map_err(|e| errors::of(self.ctx, e))
    }

    /// A JSON value in this VM.
    fn js(&self, json: &serde_json::Value) -> Result<Value<'js>, RuntimeError> {
        to_js(self.ctx, json).map_err(|e| errors::of(self.ctx, e))
    }

    /// A value of this VM as JSON.
    fn json(&self, value: &Value<'js>) -> Result<serde_json::Value, RuntimeError> {
        to_json(self.ctx, value).map_err(|e| errors::of(self.ctx, e))
    }
}

/// Runs `f` with the global function `name`, in a pooled VM.
fn with_function<T>(
    shared: &Arc<Shared>,
    name: &str,
    f: impl FnOnce(&Call<'_, '_>) -> Result<T, RuntimeError>,
) -> Result<T, RuntimeError> {
    let vm = shared.pool.get(shared).map_err(RuntimeError::internal)?;
    let result = vm.call(|ctx, base| {
        let function = crate::init::global_function(ctx, name).map_err(|e| errors::of(ctx, e))?;
        let Some(function) = function else {
            return Err(RuntimeError::not_found(format!(
                "JavaScript function {name:?} not found"
            )));
        };
        f(&Call {
            vm: &vm,
            ctx,
            function,
            base,
        })
    });
    // A failed call may leave garbage behind (a runaway allocation, say): collect it, and
    // replace the VM if it stays close to its limit.
    let limit = shared.settings.memory_limit;
    let exhausted = result.is_err() && limit > 0 && vm.collect() > limit / 2;
    if exhausted {
        tracing::warn!(
            "a JavaScript VM is close to its memory limit after a failed call; it is replaced"
        );
        drop(vm);
        shared.pool.discard();
    } else {
        shared.pool.put(vm);
    }
    result
}

fn rpc(
    shared: &Arc<Shared>,
    function: &str,
    ctx: &Context,
    payload: String,
) -> Result<String, RuntimeError> {
    with_function(shared, function, |call| {
        let context = call.context(ctx, "rpc")?;
        let payload = call.js(&serde_json::Value::String(payload))?;
        let out = call.invoke(context, vec![payload])?;
        if out.is_undefined() || out.is_null() {
            return Ok(String::new());
        }
        match out.as_string() {
            Some(s) => s.to_string().map_err(|e| errors::of(call.ctx, e)),
            None => Err(RuntimeError::internal(
                "Runtime function returned invalid data - only allowed one return value of type String/Byte.",
            )),
        }
    })
}

/// Registers a JavaScript hook for the operation [`operation::visit`] found by name.
struct HookVisitor<'a, 'i> {
    init: &'a mut Initializer<'i>,
    shared: &'a Arc<Shared>,
    function: Arc<str>,
    before: bool,
}

impl OperationVisitor for HookVisitor<'_, '_> {
    type Output = ();
    fn visit<Op: Operation>(self, op: Op) {
        let (shared, function) = (self.shared.clone(), self.function);
        if self.before {
            self.init
                .register_before(op, move |ctx, _nk, request: Op::Request| {
                    let (shared, function) = (shared.clone(), function.clone());
                    blocking_call(move || before::<Op>(&shared, &function, &ctx, request))
                });
        } else {
            self.init.register_after(
                op,
                move |ctx, _nk, request: Op::Request, response: Op::Response| {
                    let (shared, function) = (shared.clone(), function.clone());
                    blocking_call(move || {
                        let request =
                            camel_keys(serde_json::to_value(&request).unwrap_or_default());
                        let response =
                            camel_keys(serde_json::to_value(&response).unwrap_or_default());
                        with_function(&shared, &function, |call| {
                            let context = call.context(&ctx, "after")?;
                            let args = vec![call.js(&response)?, call.js(&request)?];
                            call.invoke(context, args).map(drop)
                        })
                    })
                },
            );
        }
    }
}

fn before<Op: Operation>(
    shared: &Arc<Shared>,
    function: &str,
    ctx: &Context,
    request: Op::Request,
) -> Result<Option<Op::Request>, RuntimeError> {
    let input = serde_json::to_value(&request).unwrap_or_default();
    let has_body = !input.is_null();
    let input = camel_keys(input);
    let out = with_function(shared, function, |call| {
        let context = call.context(ctx, "before")?;
        let args = if has_body {
            vec![call.js(&input)?]
        } else {
            Vec::new()
        };
        let out = call.invoke(context, args)?;
        if !has_body {
            return Ok(Some(None));
        }
        if out.is_undefined() || out.is_null() {
            return Ok(None);
        }
        Ok(Some(Some(call.json(&out)?)))
    })?;
    match out {
        None => Ok(None),
        Some(None) => Ok(Some(request)),
        Some(Some(json)) => serde_json::from_value(json).map(Some).map_err(|e| {
            tracing::warn!(error = %e, "a JavaScript before hook returned an invalid request");
            RuntimeError::internal("Could not complete runtime Before function.")
        }),
    }
}

/// An envelope as Nakama's JavaScript hooks see it: camelCase JSON.
fn envelope_json(envelope: &Envelope) -> serde_json::Value {
    camel_keys(serde_json::from_str(&envelope.to_json()).unwrap_or_default())
}

fn before_realtime(
    shared: &Arc<Shared>,
    function: &str,
    ctx: &Context,
    kind: MessageKind,
    envelope: Envelope,
) -> Result<Option<Envelope>, RuntimeError> {
    let input = envelope_json(&envelope);
    let out = with_function(shared, function, |call| {
        let context = call.context(ctx, "before")?;
        let out = call.invoke(context, vec![call.js(&input)?])?;
        if out.is_undefined() || out.is_null() {
            return Ok(None);
        }
        call.json(&out).map(Some)
    })?;
    let Some(out) = out else {
        return Ok(None);
    };
    let envelope = Envelope::from_json(&out.to_string()).map_err(|e| {
        tracing::warn!(error = %e, message = %kind, "a JavaScript realtime before hook returned an invalid envelope");
        RuntimeError::internal("Could not complete runtime Before function.")
    })?;
    Ok(Some(envelope))
}

fn after_realtime(
    shared: &Arc<Shared>,
    function: &str,
    ctx: &Context,
    request: Envelope,
    reply: Option<Envelope>,
) -> Result<(), RuntimeError> {
    let input = envelope_json(&request);
    let output = reply.as_ref().map(envelope_json).unwrap_or_default();
    with_function(shared, function, |call| {
        let context = call.context(ctx, "after")?;
        let args = vec![call.js(&output)?, call.js(&input)?];
        call.invoke(context, args).map(drop)
    })
}

/// A presence as Nakama's JavaScript runtime shapes it.
pub(crate) fn presence_json(p: &tavern_runtime::Presence) -> serde_json::Value {
    serde_json::json!({
        "userId": p.user_id,
        "sessionId": p.session_id,
        "username": p.username,
        "node": p.node,
    })
}

fn matchmaker(
    shared: &Arc<Shared>,
    function: &str,
    ctx: &Context,
    entries: Vec<MatchmakerEntry>,
) -> Result<Option<String>, RuntimeError> {
    let list: Vec<serde_json::Value> = entries
        .iter()
        .map(|entry| {
            let mut json = serde_json::json!({
                "presence": presence_json(&entry.presence),
                "properties": entry.properties,
            });
            if let Some(party) = &entry.party_id {
                json["partyId"] = serde_json::Value::String(party.clone());
            }
            json
        })
        .collect();
    let out = with_function(shared, function, |call| {
        let context = call.context(ctx, "matchmaker")?;
        let out = call.invoke(context, vec![call.js(&serde_json::Value::Array(list))?])?;
        if out.is_undefined() || out.is_null() {
            return Ok(None);
        }
        match out.as_string() {
            Some(s) => s.to_string().map(Some).map_err(|e| errors::of(call.ctx, e)),
            None => Err(RuntimeError::internal(
                "Unexpected return type from runtime Matchmaker Matched hook, must be string.",
            )),
        }
    })?;
    Ok(out)
}
