//! `auth`: device-authentication throughput and latency, either creating a new account per
//! request or logging in accounts created beforehand, over N keep-alive connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{Accounts, AuthArgs, Target};
use crate::client::{Endpoint, HttpClient};
use crate::proc_stats;
use crate::report::{self, Counters, Latency, Outcome, Report};
use crate::scenario::{create_accounts, device_id, run_tag};

/// Runs the scenario and returns its report.
pub async fn run(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &AuthArgs,
) -> Result<Report, String> {
    proc_stats::raise_open_files(args.clients + 256)?;
    let run = run_tag();
    if args.accounts == Accounts::Existing {
        create_accounts(endpoint.clone(), &run, args.pool, args.clients).await?;
    }
    let counters = Arc::new(Counters::default());
    let issued = Arc::new(AtomicU64::new(0));
    let duration = Duration::from_secs(args.duration);
    let start_time = report::now_rfc3339();
    let probe = proc_stats::Probe::start(target.server_pid)?;
    let started = Instant::now();
    let deadline = started + duration;
    let progress = report::spawn_progress(
        "auth",
        counters.clone(),
        Duration::from_secs(target.progress_secs),
        duration,
    );
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let endpoint = endpoint.clone();
        let counters = counters.clone();
        let issued = issued.clone();
        let run = run.clone();
        let (accounts, pool, max_requests) = (args.accounts, args.pool, args.max_requests);
        tasks.push(tokio::spawn(async move {
            let mut client = HttpClient::new(&endpoint);
            let mut latency = Latency::new();
            // Bounded by the deadline and by the shared request budget.
            while Instant::now() < deadline {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max_requests {
                    break;
                }
                let (id, expect_created) = match accounts {
                    Accounts::New => (device_id(&format!("{run}n"), n), true),
                    Accounts::Existing => (device_id(&run, n % pool), false),
                };
                let sent = Instant::now();
                let result = client.authenticate_device(&id).await;
                latency.record(sent.elapsed());
                match result {
                    Ok(session) if session.created == expect_created => counters.op(),
                    Ok(session) => counters.error(&format!(
                        "expected created={expect_created}, got created={}",
                        session.created
                    )),
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
            scenario: "auth",
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
                "connections": args.clients,
            }),
            error_samples: counters.error_samples(),
        },
    ))
}
