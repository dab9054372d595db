//! The node functions of `Nk` (events, the local cache, custom metrics) and the crypto helpers
//! of `tavern_runtime::crypto` behind RPCs, for the integration tests and as examples:
//!
//! * an event handler that keeps the last 100 events it received in the local cache under
//!   `events_seen` (name, properties, external, timestamp seconds);
//! * `rust_platform_event` `{"name", "properties"}`: reports an event;
//! * `rust_platform_events_seen`: `{"events": [...]}`, what the handler kept;
//! * `rust_platform_localcache` `{"op": "put"|"get"|"delete"|"clear", "key", "value", "ttl"}`;
//! * `rust_platform_metrics` `{"name", "tags", "value"}`: adds to a counter, sets a gauge and
//!   records a timer (milliseconds) of that name;
//! * `rust_platform_crypto` `{"input", "key"}` (key 16 or 32 bytes): `{"decrypted",
//!   "jwt"}` after an AES round trip and an HS256 token. (bcrypt is slow by design: call
//!   `crypto::bcrypt_hash`/`bcrypt_compare` off the async workers, e.g. in `spawn_blocking`.)

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tavern_runtime::{Initializer, Module, RuntimeError, crypto};

/// The `platform_api` module.
pub const MODULE: Module = Module::new("platform_api", init);

/// Events the handler keeps.
const KEPT_EVENTS: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Args {
    name: String,
    properties: HashMap<String, String>,
    op: String,
    key: String,
    value: Value,
    ttl: u64,
    tags: HashMap<String, String>,
    input: String,
}

fn args(payload: &str) -> Result<Args, RuntimeError> {
    if payload.trim().is_empty() {
        return Ok(Args::default());
    }
    serde_json::from_str(payload)
        .map_err(|e| RuntimeError::invalid_argument(format!("bad payload: {e}")))
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_event(|_ctx, nk, event| async move {
        let cache = nk.localcache();
        let mut seen = match cache.get("events_seen") {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        seen.push(json!({
            "name": event.name,
            "properties": event.properties,
            "external": event.external,
            "timestamp": event.timestamp.map(|t| t.seconds),
        }));
        if seen.len() > KEPT_EVENTS {
            seen.remove(0);
        }
        cache.put("events_seen", Value::Array(seen), None);
        Ok(())
    });
    init.register_rpc("rust_platform_event", |_ctx, nk, payload| async move {
        let a = args(&payload)?;
        nk.event(&a.name, a.properties, None, false);
        Ok("{}".to_owned())
    });
    init.register_rpc(
        "rust_platform_events_seen",
        |_ctx, nk, _payload| async move {
            let events = nk.localcache().get("events_seen").unwrap_or(json!([]));
            Ok(json!({ "events": events }).to_string())
        },
    );
    init.register_rpc("rust_platform_localcache", |_ctx, nk, payload| async move {
        let a = args(&payload)?;
        let cache = nk.localcache();
        let value = match a.op.as_str() {
            "put" => {
                let ttl = (a.ttl > 0).then(|| Duration::from_secs(a.ttl));
                cache.put(&a.key, a.value, ttl);
                Value::Null
            }
            "get" => cache.get(&a.key).unwrap_or(Value::Null),
            "delete" => {
                cache.delete(&a.key);
                Value::Null
            }
            "clear" => {
                cache.clear();
                Value::Null
            }
            other => {
                return Err(RuntimeError::invalid_argument(format!(
                    "unknown op {other:?}"
                )));
            }
        };
        Ok(json!({ "value": value }).to_string())
    });
    init.register_rpc("rust_platform_metrics", |_ctx, nk, payload| async move {
        let a = args(&payload)?;
        let value = a.value.as_f64().unwrap_or(1.0);
        nk.metrics_counter_add(&a.name, &a.tags, value as u64);
        nk.metrics_gauge_set(&a.name, &a.tags, value);
        nk.metrics_timer_record(&a.name, &a.tags, Duration::from_millis(value as u64));
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_platform_crypto", |_ctx, _nk, payload| async move {
        let a = args(&payload)?;
        let sealed = crypto::aes_encrypt(a.input.as_bytes(), a.key.as_bytes())?;
        let opened = crypto::aes_decrypt(&sealed, a.key.as_bytes())?;
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), a.input.into());
        let jwt = crypto::jwt_generate("HS256", &a.key, &claims)?;
        Ok(json!({
            "decrypted": String::from_utf8_lossy(&opened),
            "jwt": jwt,
        })
        .to_string())
    });
    Ok(())
}
