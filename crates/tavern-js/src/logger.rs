//! The `logger` handed to every call: `debug`, `info`, `warn` and `error` taking a format string
//! (`%s`, `%v`, `%d`, `%q` and the like take the next argument, `%%` is a percent sign) and its
//! arguments, as Nakama's Go-style logger. Each returns the formatted message.

use rquickjs::function::Rest;
use rquickjs::{Ctx, Function, Object, Value};

/// A new logger object.
pub(crate) fn object<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let logger = Object::new(ctx.clone())?;
    for level in ["debug", "info", "warn", "error"] {
        let f = Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, args: Rest<Value<'js>>| -> rquickjs::Result<String> {
                let message = format(&ctx, &args.0);
                match level {
                    "debug" => {
                        tracing::debug!(target: "tavern::runtime", module = "javascript", "{message}")
                    }
                    "info" => {
                        tracing::info!(target: "tavern::runtime", module = "javascript", "{message}")
                    }
                    "warn" => {
                        tracing::warn!(target: "tavern::runtime", module = "javascript", "{message}")
                    }
                    _ => {
                        tracing::error!(target: "tavern::runtime", module = "javascript", "{message}")
                    }
                }
                Ok(message)
            },
        )?;
        logger.set(level, f)?;
    }
    Ok(logger)
}

/// Formats a logger call's arguments: the first is the format, the others fill its verbs;
/// arguments left over are appended.
fn format<'js>(ctx: &Ctx<'js>, args: &[Value<'js>]) -> String {
    let Some((first, rest)) = args.split_first() else {
        return String::new();
    };
    let format = text(ctx, first);
    let mut rest = rest.iter();
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(verb) if verb.is_ascii_alphabetic() => match rest.next() {
                Some(arg) if verb == 'q' => out.push_str(&format!("{:?}", text(ctx, arg))),
                Some(arg) => out.push_str(&text(ctx, arg)),
                None => out.push_str(&format!("%!{verb}(MISSING)")),
            },
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    for arg in rest {
        out.push(' ');
        out.push_str(&text(ctx, arg));
    }
    out
}

/// A value as text: strings as they are, objects as JSON, the rest as `String(value)`.
fn text<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> String {
    if let Some(s) = value.as_string() {
        return s.to_string().unwrap_or_default();
    }
    if value.is_object() && !value.is_function() && !value.is_error() {
        if let Ok(Some(json)) = ctx.json_stringify(value.clone()) {
            return json.to_string().unwrap_or_default();
        }
        let _ = ctx.catch();
    }
    crate::errors::describe(ctx, value)
}
