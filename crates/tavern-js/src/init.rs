//! The first VM: the entry file's `InitModule(ctx, logger, nk, initializer)` and the
//! `initializer` it registers with. Each registered function must be a top-level named function
//! (a property of the global object), as in Nakama: the other VMs call it by that name.

use std::sync::Arc;

use rquickjs::function::Rest;
use rquickjs::{Ctx, Exception, Function, Object, Value};
use tavern_runtime::{MessageKind, operation};

use crate::vm::Vm;
use crate::{Key, Registration, Shared};

/// Registration functions Nakama has that Tavern does not serve yet: they log and do nothing.
const NOT_SERVED: &[&str] = &[
    "registerTournamentEnd",
    "registerTournamentReset",
    "registerLeaderboardReset",
    "registerPurchaseNotificationApple",
    "registerSubscriptionNotificationApple",
    "registerPurchaseNotificationGoogle",
    "registerSubscriptionNotificationGoogle",
];

/// Finds the global name of a function: a property of the global object, or one of the
/// top-level `let`/`const` names given (TypeScript's `let InitModule = function ...`); `null`
/// for a function that has no global name.
const GLOBAL_NAME: &str = r#"(function (f, lexical) {
  var names = Object.getOwnPropertyNames(globalThis);
  for (var i = 0; i < names.length; i++) {
    var d = Object.getOwnPropertyDescriptor(globalThis, names[i]);
    if (d && d.value === f) return names[i];
  }
  for (var j = 0; j < lexical.length; j++) {
    try { if ((0, eval)(lexical[j]) === f) return lexical[j]; } catch (e) {}
  }
  return null;
})"#;

/// The names a script declares with `let`, `const`, `var` or `function`, wherever they are:
/// the candidates for top-level names that are not properties of the global object.
pub(crate) fn declared_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let words: Vec<&str> = source
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        let is_declaration = matches!(pair[0], "let" | "const" | "var" | "function");
        let name = pair[1];
        let is_name = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$');
        if is_declaration && is_name && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The global function called `name`: a property of the global object or a top-level lexical
/// binding; `None` when there is none.
pub(crate) fn global_function<'js>(
    ctx: &Ctx<'js>,
    name: &str,
) -> rquickjs::Result<Option<Function<'js>>> {
    let value: Value = ctx.globals().get(name)?;
    if let Some(f) = value.into_function() {
        return Ok(Some(f));
    }
    let is_identifier = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !is_identifier {
        return Ok(None);
    }
    let value: Value = ctx.eval(format!("typeof {name} === 'function' ? {name} : undefined"))?;
    Ok(value.into_function())
}

/// Evaluates the entry file in a first VM and runs its `InitModule`, recording what it
/// registers in `shared.registered`.
pub(crate) fn run(shared: &Arc<Shared>) -> Result<(), String> {
    let vm = Vm::new(shared)?;
    let outcome = vm.call(|ctx, base| -> Result<(), String> {
        let init = global_function(ctx, "InitModule").map_err(|e| e.to_string())?;
        let Some(init) = init else {
            return Err("InitModule function not found".to_owned());
        };
        let context = Object::new(ctx.clone()).map_err(|e| e.to_string())?;
        let setup = || -> rquickjs::Result<()> {
            context.set("env", crate::context::env(ctx, &shared.env)?)?;
            context.set("executionMode", "run_once")?;
            context.set("node", shared.node.as_str())?;
            Ok(())
        };
        setup().map_err(|e| crate::errors::of(ctx, e).message)?;
        let initializer =
            initializer(ctx, shared).map_err(|e| crate::errors::of(ctx, e).message)?;
        init.call::<_, Value>((
            context,
            base.get(ctx, "logger"),
            base.get(ctx, "nk"),
            initializer,
        ))
        .map(drop)
        .map_err(|e| crate::errors::of_call(&vm, ctx, e).message)
    });
    outcome.map_err(|e| format!("{}: {e}", shared.file_name))
}

/// Records `key` as served by `function`, which must be a global function.
fn record<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    key: Key,
    what: &str,
    function: &Value<'js>,
) -> rquickjs::Result<()> {
    if !function.is_function() {
        return Err(Exception::throw_type(ctx, "expects a function"));
    }
    let lookup: Function = ctx.eval(GLOBAL_NAME)?;
    let name: Option<String> = lookup.call((function.clone(), shared.declared.clone()))?;
    let Some(function) = name else {
        return Err(Exception::throw_message(
            ctx,
            &format!(
                "js {what} function key could not be extracted: function literal found: \
                 javascript functions cannot be inlined"
            ),
        ));
    };
    shared
        .registered
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Registration { key, function });
    Ok(())
}

/// A non-empty string argument.
fn id(ctx: &Ctx<'_>, value: &Value<'_>) -> rquickjs::Result<String> {
    value
        .as_string()
        .and_then(|s| s.to_string().ok())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Exception::throw_type(ctx, "expects a non empty string"))
}

/// Argument `i`, undefined when missing.
fn arg<'js>(ctx: &Ctx<'js>, args: &Rest<Value<'js>>, i: usize) -> Value<'js> {
    args.0
        .get(i)
        .cloned()
        .unwrap_or_else(|| Value::new_undefined(ctx.clone()))
}

/// The realtime message kind of a Nakama hook id (`ChannelJoin`, `MatchDataSend`).
fn message_kind(id: &str) -> Option<MessageKind> {
    MessageKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str().replace('_', "").eq_ignore_ascii_case(id))
}

fn initializer<'js>(ctx: &Ctx<'js>, shared: &Arc<Shared>) -> rquickjs::Result<Object<'js>> {
    let init = Object::new(ctx.clone())?;
    let s = shared.clone();
    init.set(
        "registerRpc",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
            let id = id(&ctx, &arg(&ctx, &args, 0))?;
            record(
                &ctx,
                &s,
                Key::Rpc(id.to_lowercase()),
                &id,
                &arg(&ctx, &args, 1),
            )
        })?,
    )?;
    for &name in operation::NAMES {
        for before in [true, false] {
            let s = shared.clone();
            let method = format!("register{}{name}", if before { "Before" } else { "After" });
            let what = method.clone();
            init.set(
                method.as_str(),
                Function::new(ctx.clone(), move |ctx: Ctx<'js>, f: Value<'js>| {
                    let key = if before {
                        Key::Before(name)
                    } else {
                        Key::After(name)
                    };
                    record(&ctx, &s, key, &what, &f)
                })?,
            )?;
        }
    }
    for before in [true, false] {
        let s = shared.clone();
        let method = if before {
            "registerRtBefore"
        } else {
            "registerRtAfter"
        };
        init.set(
            method,
            Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
                let id = id(&ctx, &arg(&ctx, &args, 0))?;
                let Some(kind) = message_kind(&id) else {
                    return Err(Exception::throw_type(
                        &ctx,
                        &format!("unknown realtime message {id:?}"),
                    ));
                };
                let key = if before {
                    Key::RealtimeBefore(kind)
                } else {
                    Key::RealtimeAfter(kind)
                };
                record(&ctx, &s, key, method, &arg(&ctx, &args, 1))
            })?,
        )?;
    }
    let s = shared.clone();
    init.set(
        "registerMatchmakerMatched",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, f: Value<'js>| {
            record(&ctx, &s, Key::Matchmaker, "registerMatchmakerMatched", &f)
        })?,
    )?;
    for &name in NOT_SERVED {
        init.set(
            name,
            Function::new(ctx.clone(), move || {
                tracing::warn!(
                    target: "tavern::runtime",
                    module = "javascript",
                    "initializer.{name} is not supported by Tavern yet; the function is ignored"
                );
            })?,
        )?;
    }
    Ok(init)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realtime_hook_ids_name_message_kinds() {
        assert_eq!(message_kind("ChannelJoin"), Some(MessageKind::ChannelJoin));
        assert_eq!(
            message_kind("matchdatasend"),
            Some(MessageKind::MatchDataSend)
        );
        assert_eq!(message_kind("Nope"), None);
    }
}
