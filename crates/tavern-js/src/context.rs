//! The `ctx` object of a call, with Nakama's JavaScript names (`userId`, `executionMode`, ...)
//! and only the fields the call has.

use rquickjs::{Ctx, Object};
use tavern_runtime::Context;

/// `env` as an object.
pub(crate) fn env<'js>(
    ctx: &Ctx<'js>,
    env: &std::collections::BTreeMap<String, String>,
) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    for (k, v) in env {
        object.set(k.as_str(), v.as_str())?;
    }
    Ok(object)
}

fn lists<'js>(
    ctx: &Ctx<'js>,
    map: &std::collections::HashMap<String, Vec<String>>,
) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    for (k, v) in map {
        object.set(k.as_str(), v.clone())?;
    }
    Ok(object)
}

/// The `ctx` object of a call made with `context`, in `mode` (Nakama's `executionMode`).
pub(crate) fn object<'js>(
    ctx: &Ctx<'js>,
    context: &Context,
    mode: &str,
) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    object.set("node", context.node.as_str())?;
    object.set("version", env!("CARGO_PKG_VERSION"))?;
    object.set("env", env(ctx, &context.env)?)?;
    object.set("executionMode", mode)?;
    object.set("headers", lists(ctx, &context.headers)?)?;
    object.set("queryParams", lists(ctx, &context.query)?)?;
    if let Some(user) = context.user() {
        if user.expiry != 0 {
            object.set("userSessionExp", user.expiry)?;
        }
        object.set("userId", user.user_id.as_str())?;
        if !user.username.is_empty() {
            object.set("username", user.username.as_str())?;
        }
        let vars = Object::new(ctx.clone())?;
        for (k, v) in &user.vars {
            vars.set(k.as_str(), v.as_str())?;
        }
        object.set("vars", vars)?;
        if let Some(session_id) = &user.session_id {
            object.set("sessionId", session_id.as_str())?;
            object.set("lang", "en")?;
        }
    }
    if let Some(ip) = context.client_ip {
        object.set("clientIp", ip.to_string())?;
    }
    if let Some(port) = context.client_port {
        object.set("clientPort", port.to_string())?;
    }
    Ok(object)
}
