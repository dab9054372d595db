//! `ccu`: opens N realtime sockets at a steady pace (one device account each), holds them
//! idle, checks at the end that each still answers a `ping`, and reports the server's
//! memory per socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tavern_proto::realtime::{Envelope, Ping, envelope};
use tokio::sync::watch;
use tokio::time::timeout;

use crate::cli::{CcuArgs, Target};
use crate::client::{Endpoint, Socket};
use crate::proc_stats;
use crate::report::{self, Counters, Latency, Outcome, Report};
use crate::scenario::{create_accounts, run_tag};

/// Time the server gets to settle before and after the sockets open, before sampling RSS.
const SETTLE: Duration = Duration::from_secs(2);

/// What one socket went through.
enum Fate {
    /// Could not connect.
    Failed,
    /// Connected, then lost before the end of the hold.
    Dropped,
    /// Connected and answered the final ping.
    Alive,
}

/// Runs the scenario and returns its report.
pub async fn run(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &CcuArgs,
) -> Result<Report, String> {
    let limit = proc_stats::raise_open_files(args.sockets + args.auth_clients + 256)?;
    eprintln!("setup: open-files limit {limit}");
    let run = run_tag();
    let tokens = create_accounts(endpoint.clone(), &run, args.sockets, args.auth_clients).await?;
    tokio::time::sleep(SETTLE).await;

    let counters = Arc::new(Counters::default());
    let connected_now = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let start_time = report::now_rfc3339();
    let probe = proc_stats::Probe::start(target.server_pid)?;
    let before = probe.server_rss_kib();
    let started = Instant::now();
    let open_phase = Duration::from_secs_f64(args.sockets as f64 / args.open_rate as f64);
    let progress = report::spawn_progress(
        "ccu",
        counters.clone(),
        Duration::from_secs(target.progress_secs),
        open_phase + Duration::from_secs(args.duration) + Duration::from_secs(60),
    );

    let period = Duration::from_secs_f64(1.0 / args.open_rate as f64);
    let mut pace = tokio::time::interval(period);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tasks = Vec::with_capacity(tokens.len());
    for token in tokens {
        pace.tick().await;
        let endpoint = endpoint.clone();
        let counters = counters.clone();
        let connected_now = connected_now.clone();
        let mut stop = stop_rx.clone();
        let format = args.format;
        tasks.push(tokio::spawn(async move {
            let opened = Instant::now();
            let mut socket = match Socket::connect(&endpoint, &token, format).await {
                Ok(socket) => socket,
                Err(e) => {
                    counters.error(&e);
                    return (Fate::Failed, None);
                }
            };
            let connect_time = opened.elapsed();
            counters.op();
            connected_now.fetch_add(1, Ordering::Relaxed);
            drop(token);
            // Hold: keep reading (so server pings get their pongs) until told to stop.
            let held = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => Ok(()),
                lost = socket.receive_until_error() => Err(lost),
            };
            connected_now.fetch_sub(1, Ordering::Relaxed);
            let fate = match held {
                Err(e) => {
                    counters.error(&format!("socket lost while held: {e}"));
                    Fate::Dropped
                }
                Ok(()) => {
                    let ping = Envelope {
                        cid: String::new(),
                        message: Some(envelope::Message::Ping(Ping {})),
                    };
                    match socket.request(ping, "1").await {
                        Ok(reply) if matches!(reply.message, Some(envelope::Message::Pong(_))) => {
                            Fate::Alive
                        }
                        Ok(_) => {
                            counters.error("final ping: reply is not a pong");
                            Fate::Dropped
                        }
                        Err(e) => {
                            counters.error(&format!("final ping: {e}"));
                            Fate::Dropped
                        }
                    }
                }
            };
            socket.close().await;
            (fate, Some(connect_time))
        }));
    }

    // Wait (bounded) until every socket has connected or failed.
    let connect_deadline = Instant::now() + Duration::from_secs(60);
    while counters.ops() + counters.errors() < args.sockets && Instant::now() < connect_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open_elapsed = started.elapsed();
    let opened = counters.ops();
    tokio::time::sleep(SETTLE).await;
    let all_open = server_rss(target.server_pid)?;
    eprintln!(
        "ccu: {opened} sockets open in {:.1}s; holding {}s",
        open_elapsed.as_secs_f64(),
        args.duration
    );
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let held_open = connected_now.load(Ordering::Relaxed);
    let after_hold = server_rss(target.server_pid)?;
    let (server, client) = probe.finish()?;
    let elapsed = started.elapsed();
    let _ = stop_tx.send(true);

    let mut latency = Latency::new();
    let (mut alive, mut dropped, mut failed) = (0u64, 0u64, 0u64);
    for task in tasks {
        let (fate, connect_time) = timeout(Duration::from_secs(60), task)
            .await
            .map_err(|_| "a socket did not finish within 60s".to_string())?
            .map_err(|e| format!("socket task: {e}"))?;
        match fate {
            Fate::Alive => alive += 1,
            Fate::Dropped => dropped += 1,
            Fate::Failed => failed += 1,
        }
        if let Some(t) = connect_time {
            latency.record(t);
        }
    }
    progress.abort();

    let per_socket = |after: Option<u64>| match (before, after) {
        (Some(b), Some(a)) if opened > 0 => Some((a as f64 - b as f64) / opened as f64),
        _ => None,
    };
    Ok(Report::new(
        target,
        Outcome {
            scenario: "ccu",
            parameters: serde_json::to_value(args).unwrap_or_default(),
            start_time,
            duration: elapsed,
            throughput: Some(opened as f64 / open_elapsed.as_secs_f64()),
            ops: opened,
            errors: counters.errors(),
            latency: latency.summary(),
            server,
            client,
            details: json!({
                "latency_is": "socket connect + upgrade",
                "open_s": open_elapsed.as_secs_f64(),
                "sockets_opened": opened,
                "sockets_failed": failed,
                "sockets_open_at_end_of_hold": held_open,
                "sockets_dropped": dropped,
                "sockets_alive_at_end": alive,
                "rss_kib_before_sockets": before,
                "rss_kib_all_open": all_open,
                "rss_kib_end_of_hold": after_hold,
                "kib_per_socket_all_open": per_socket(all_open),
                "kib_per_socket_end_of_hold": per_socket(after_hold),
            }),
            error_samples: counters.error_samples(),
        },
    ))
}

/// The server's current RSS in KiB, when its pid is known.
fn server_rss(pid: Option<u32>) -> Result<Option<u64>, String> {
    Ok(pid.map(proc_stats::sample).transpose()?.map(|s| s.rss_kib))
}
