//! After hooks on the authenticate calls that count each user's logins in memory, and RPC
//! `login_count` that tells the caller theirs: `{"logins": 2}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tavern_runtime::operation::{AuthenticateCustom, AuthenticateDevice, AuthenticateEmail};
use tavern_runtime::{Code, Context, Initializer, Module, RuntimeError};

/// The `login_counter` module.
pub const MODULE: Module = Module::new("login_counter", init);

/// Logins per user id since the server started.
type Counts = Arc<Mutex<HashMap<String, u64>>>;

fn count(counts: &Counts, ctx: &Context) {
    if let Some(user_id) = ctx.user_id() {
        let mut counts = counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry(user_id.to_owned()).or_default() += 1;
    }
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    let counts = Counts::default();
    let c = counts.clone();
    init.register_after(AuthenticateDevice, move |ctx, _nk, _request, _session| {
        count(&c, &ctx);
        async { Ok(()) }
    });
    let c = counts.clone();
    init.register_after(AuthenticateCustom, move |ctx, _nk, _request, _session| {
        count(&c, &ctx);
        async { Ok(()) }
    });
    let c = counts.clone();
    init.register_after(AuthenticateEmail, move |ctx, _nk, _request, _session| {
        count(&c, &ctx);
        async { Ok(()) }
    });
    init.register_rpc("login_count", move |ctx, _nk, _payload| {
        let logins = ctx.user_id().map(|user_id| {
            let counts = counts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            counts.get(user_id).copied().unwrap_or_default()
        });
        async move {
            let logins = logins.ok_or_else(|| {
                RuntimeError::new("login_count needs a session", Code::Unauthenticated)
            })?;
            Ok(serde_json::json!({ "logins": logins }).to_string())
        }
    });
    Ok(())
}
