//! `storage`: storage object writes or reads per second over `PUT`/`POST /v2/storage`, one
//! object per user and every user in one collection, from N keep-alive connections.
//!
//! Accounts (and, except for `--op create`, each user's object) are made before the
//! measurement. Each client serves its own share of the users in turn, so the version a
//! client sends with `--op update` is always the current one and every request should succeed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper::Method;
use serde_json::json;
use tavern_proto::api;

use crate::cli::{StorageArgs, StorageOp, Target};
use crate::client::{Endpoint, HttpClient};
use crate::proc_stats;
use crate::report::{self, Counters, Latency, Outcome, Report};
use crate::scenario::{create_accounts, run_tag};

/// The key of each user's object.
const KEY: &str = "state";

/// One user as a client drives it.
struct User {
    token: String,
    id: String,
    /// The version of the user's object as last written.
    version: String,
}

/// Runs the scenario and returns its report.
pub async fn run(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &StorageArgs,
) -> Result<Report, String> {
    proc_stats::raise_open_files(args.clients + 256)?;
    let run = run_tag();
    let collection = format!("bench_{run}");
    let tokens = create_accounts(endpoint.clone(), &run, args.users, args.clients.min(64)).await?;
    let mut users = tokens
        .into_iter()
        .map(|token| {
            Ok(User {
                id: user_id(&token)?,
                token,
                version: String::new(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if args.op != StorageOp::Create {
        prewrite(&endpoint, &collection, &mut users, args).await?;
    }
    let clients = args.clients.min(args.users) as usize;
    let mut shares: Vec<Vec<User>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, user) in users.into_iter().enumerate() {
        shares[i % clients].push(user);
    }

    let counters = Arc::new(Counters::default());
    let issued = Arc::new(AtomicU64::new(0));
    let duration = Duration::from_secs(args.duration);
    let start_time = report::now_rfc3339();
    let probe = proc_stats::Probe::start(target.server_pid)?;
    let started = Instant::now();
    let deadline = started + duration;
    let progress = report::spawn_progress(
        "storage",
        counters.clone(),
        Duration::from_secs(target.progress_secs),
        duration,
    );
    let mut tasks = Vec::new();
    for mut share in shares {
        let endpoint = endpoint.clone();
        let counters = counters.clone();
        let issued = issued.clone();
        let collection = collection.clone();
        let (op, max_requests, value_bytes) = (args.op, args.max_requests, args.value_bytes);
        tasks.push(tokio::spawn(async move {
            let mut client = HttpClient::new(&endpoint);
            let mut latency = Latency::new();
            let mut turn = 0;
            // Bounded by the deadline and by the shared request budget.
            while Instant::now() < deadline {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max_requests {
                    break;
                }
                let mine = share.len();
                let user = &mut share[turn % mine];
                turn += 1;
                let sent = Instant::now();
                let result = request(&mut client, op, &collection, user, n, value_bytes).await;
                latency.record(sent.elapsed());
                match result {
                    Ok(()) => counters.op(),
                    Err(e) => counters.error(&e),
                }
            }
            latency
        }));
    }
    let mut latency = Latency::new();
    for task in tasks {
        latency.merge(&task.await.map_err(|e| format!("client task: {e}"))?);
    }
    let elapsed = started.elapsed();
    progress.abort();
    let (server, client) = probe.finish()?;
    Ok(Report::new(
        target,
        Outcome {
            scenario: "storage",
            parameters: serde_json::to_value(args).unwrap_or_default(),
            start_time,
            duration: elapsed,
            throughput: None,
            ops: counters.ops(),
            errors: counters.errors(),
            latency: latency.summary(),
            server,
            client,
            details: json!({
                "requests": counters.ops() + counters.errors(),
                "connections": clients,
                "collection": collection,
            }),
            error_samples: counters.error_samples(),
        },
    ))
}

/// Writes each user's object once (not measured), keeping the versions.
async fn prewrite(
    endpoint: &Arc<Endpoint>,
    collection: &str,
    users: &mut [User],
    args: &StorageArgs,
) -> Result<(), String> {
    let started = Instant::now();
    let mut client = HttpClient::new(endpoint);
    for (n, user) in users.iter_mut().enumerate() {
        request(
            &mut client,
            StorageOp::Write,
            collection,
            user,
            n as u64,
            args.value_bytes,
        )
        .await?;
    }
    eprintln!(
        "setup: {} objects written in {:.1}s",
        users.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One request of `op` for `user`; `n` numbers the request (new keys, changing values).
async fn request(
    client: &mut HttpClient<'_>,
    op: StorageOp,
    collection: &str,
    user: &mut User,
    n: u64,
    value_bytes: u64,
) -> Result<(), String> {
    if op == StorageOp::Read {
        let body =
            json!({"object_ids": [{"collection": collection, "key": KEY, "user_id": user.id}]});
        let answer = client
            .call(
                Method::POST,
                "/v2/storage",
                &user.token,
                body.to_string().into_bytes(),
            )
            .await?;
        let objects: api::StorageObjects =
            serde_json::from_slice(&answer).map_err(|e| format!("decode StorageObjects: {e}"))?;
        return match objects.objects.len() {
            1 => Ok(()),
            found => Err(format!("read {found} objects instead of 1")),
        };
    }
    let (key, version) = match op {
        StorageOp::Create => (format!("o{n}"), "*".to_owned()),
        StorageOp::Update => (KEY.to_owned(), user.version.clone()),
        StorageOp::Write | StorageOp::Read => (KEY.to_owned(), String::new()),
    };
    let body = json!({"objects": [{
        "collection": collection,
        "key": key,
        "value": value(n, value_bytes),
        "version": version,
    }]});
    let answer = client
        .call(
            Method::PUT,
            "/v2/storage",
            &user.token,
            body.to_string().into_bytes(),
        )
        .await?;
    let acks: api::StorageObjectAcks =
        serde_json::from_slice(&answer).map_err(|e| format!("decode StorageObjectAcks: {e}"))?;
    let ack = acks.acks.first().ok_or("a write without an ack")?;
    user.version.clone_from(&ack.version);
    Ok(())
}

/// A JSON object of about `bytes` bytes that differs for every `n`.
fn value(n: u64, bytes: u64) -> String {
    let head = format!(r#"{{"n":{n},"pad":""#);
    let pad = (bytes as usize).saturating_sub(head.len() + 2);
    format!("{head}{}\"}}", "x".repeat(pad))
}

/// The `uid` claim of a session token.
fn user_id(token: &str) -> Result<String, String> {
    let claims = token.split('.').nth(1).ok_or("a token without claims")?;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .map_err(|e| format!("token claims: {e}"))?;
    let claims: serde_json::Value =
        serde_json::from_slice(&claims).map_err(|e| format!("token claims: {e}"))?;
    claims["uid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "a token without uid".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_json_objects_of_the_asked_size() {
        let v = value(12, 100);
        assert_eq!(v.len(), 100);
        let parsed: serde_json::Value = serde_json::from_str(&v).unwrap();
        assert_eq!(parsed["n"], 12);
    }
}
