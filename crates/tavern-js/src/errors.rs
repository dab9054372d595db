//! What a JavaScript error becomes for the client, with Nakama's rules: `throw {message, code}`
//! with an integer code sets the gRPC code (numbers outside gRPC's pass through); anything else
//! is code 13 (Internal) with the error's text, an `Error`'s with where it was thrown.

use rquickjs::{Ctx, Value};
use tavern_runtime::{Code, RuntimeError};

use crate::vm::{BUDGET_EXCEEDED, Vm};

/// The error of a failed call into `vm`.
pub(crate) fn of_call(vm: &Vm, ctx: &Ctx<'_>, e: rquickjs::Error) -> RuntimeError {
    if vm.budget_exceeded() {
        // The interrupt is uncatchable: drop it, the VM goes on with the next call.
        let _ = ctx.catch();
        return RuntimeError::internal(BUDGET_EXCEEDED);
    }
    of(ctx, e)
}

/// The error of a failed JavaScript operation.
pub(crate) fn of(ctx: &Ctx<'_>, e: rquickjs::Error) -> RuntimeError {
    match e {
        rquickjs::Error::Exception => thrown(ctx, &ctx.catch()),
        rquickjs::Error::Allocation => RuntimeError::internal("JavaScript VM out of memory"),
        other => RuntimeError::internal(other.to_string()),
    }
}

/// A thrown value as Nakama reports it.
pub(crate) fn thrown<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> RuntimeError {
    if let Some(object) = value.as_object()
        && !is_error(object)
    {
        let message = match object.get::<_, Value>("message") {
            Ok(v) => v.as_string().and_then(|s| s.to_string().ok()),
            Err(_) => None,
        };
        let code = match object.get::<_, Value>("code") {
            Ok(v) => integer(&v),
            Err(_) => None,
        };
        if message.is_some() || code.is_some() {
            let code = code.and_then(Code::from_number).unwrap_or(Code::Internal);
            let message = message.unwrap_or_else(|| describe(ctx, value));
            return RuntimeError::new(message, code);
        }
    }
    RuntimeError::internal(describe(ctx, value))
}

/// A number that is a whole number, as Go's export of a JavaScript number to `int64` sees it.
fn integer(value: &Value<'_>) -> Option<i64> {
    if let Some(n) = value.as_int() {
        return Some(i64::from(n));
    }
    let n = value.as_float()?;
    (n.fract() == 0.0 && n.abs() < 9.0e15).then_some(n as i64)
}

fn is_error(object: &rquickjs::Object<'_>) -> bool {
    object.is_error()
}

/// The text of a thrown value: an `Error` as `Name: message` and where it was thrown, anything
/// else as JavaScript's `String(value)`.
pub(crate) fn describe<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> String {
    if let Some(object) = value.as_object()
        && is_error(object)
    {
        let text = |key: &str| -> String {
            object
                .get::<_, Value>(key)
                .ok()
                .and_then(|v| v.as_string().and_then(|s| s.to_string().ok()))
                .unwrap_or_default()
        };
        let (name, message, stack) = (text("name"), text("message"), text("stack"));
        let head = match (name.is_empty(), message.is_empty()) {
            (true, _) => message,
            (false, true) => name,
            (false, false) => format!("{name}: {message}"),
        };
        return match stack.lines().map(str::trim).find(|l| !l.is_empty()) {
            Some(frame) => format!("{head} {frame}"),
            None => head,
        };
    }
    let string: Option<String> = ctx
        .globals()
        .get::<_, rquickjs::Function>("String")
        .ok()
        .and_then(|f| f.call::<_, String>((value.clone(),)).ok());
    match string {
        Some(s) => s,
        None => {
            let _ = ctx.catch();
            "JavaScript error".to_owned()
        }
    }
}
