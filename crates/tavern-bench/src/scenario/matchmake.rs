//! `matchmake`: N clients each open a socket, then add one matchmaker ticket at a steady
//! pace and wait for `matchmaker_matched`. The latency is the time from sending
//! `matchmaker_add` to receiving the match; it is dominated by the server's matchmaker
//! interval (`matchmaker.interval_sec`), since tickets are only matched in passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tavern_proto::realtime::{Envelope, MatchmakerAdd, envelope};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, timeout};

use crate::cli::{MatchmakeArgs, Target};
use crate::client::{Endpoint, Socket};
use crate::proc_stats;
use crate::report::{self, Counters, Latency, Outcome, Report};
use crate::scenario::{create_accounts, run_tag};

/// Delay between the end of setup and the first ticket.
const LEAD: Duration = Duration::from_secs(1);

/// What one client measured.
#[derive(Default)]
struct ClientResult {
    /// `matchmaker_add` sent to `matchmaker_ticket` received.
    ack: Latency,
    /// `matchmaker_add` sent to `matchmaker_matched` received.
    matched: Latency,
    timed_out: bool,
}

/// Runs the scenario and returns its report.
pub async fn run(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &MatchmakeArgs,
) -> Result<Report, String> {
    if args.min_count > args.max_count {
        return Err("--min-count must not exceed --max-count".into());
    }
    let limit = proc_stats::raise_open_files(args.clients + args.auth_clients + 256)?;
    eprintln!("setup: open-files limit {limit}");
    let run = run_tag();
    let tokens = create_accounts(endpoint.clone(), &run, args.clients, args.auth_clients).await?;

    let counters = Arc::new(Counters::default());
    let ready = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let (go_tx, go_rx) = watch::channel::<Option<Instant>>(None);
    let add_period = Duration::from_secs_f64(1.0 / args.add_rate as f64);
    let wait = Duration::from_secs(args.timeout);

    let setup_started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / args.open_rate as f64));
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut tasks = Vec::new();
    for (index, token) in tokens.into_iter().enumerate() {
        pace.tick().await;
        let endpoint = endpoint.clone();
        let counters = counters.clone();
        let ready = ready.clone();
        let failed = failed.clone();
        let mut go = go_rx.clone();
        let add = MatchmakerAdd {
            min_count: args.min_count,
            max_count: args.max_count,
            query: args.query.clone(),
            ..Default::default()
        };
        let format = args.format;
        tasks.push(tokio::spawn(async move {
            let mut result = ClientResult::default();
            let mut socket = match Socket::connect(&endpoint, &token, format).await {
                Ok(socket) => socket,
                Err(e) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    counters.error(&format!("connect: {e}"));
                    return result;
                }
            };
            ready.fetch_add(1, Ordering::Relaxed);
            let t0 = tokio::select! {
                started = go.wait_for(Option::is_some) => match started {
                    Ok(t0) => t0.expect("waited for Some"),
                    Err(_) => return result,
                },
                lost = socket.receive_until_error() => {
                    counters.error(&format!("socket lost before start: {lost}"));
                    return result;
                }
            };
            let slot = t0 + add_period.mul_f64(index as f64);
            tokio::time::sleep_until(slot.into()).await;
            let sent = Instant::now();
            let envelope = Envelope {
                cid: String::new(),
                message: Some(envelope::Message::MatchmakerAdd(add)),
            };
            match socket.request(envelope, "1").await {
                Ok(Envelope {
                    message: Some(envelope::Message::MatchmakerTicket(_)),
                    ..
                }) => result.ack.record(sent.elapsed()),
                Ok(other) => {
                    counters.error(&format!("matchmaker_add answered with {other:?}"));
                    return result;
                }
                Err(e) => {
                    counters.error(&format!("matchmaker_add: {e}"));
                    return result;
                }
            }
            let matched = async {
                // Bounded by the surrounding timeout.
                loop {
                    match socket.receive().await {
                        Ok(Envelope {
                            message: Some(envelope::Message::MatchmakerMatched(_)),
                            ..
                        }) => return Ok(()),
                        Ok(_) => {}
                        Err(e) => return Err(e),
                    }
                }
            };
            match timeout(wait.saturating_sub(sent.elapsed()), matched).await {
                Ok(Ok(())) => {
                    result.matched.record(sent.elapsed());
                    counters.op();
                }
                Ok(Err(e)) => counters.error(&format!("socket lost while waiting: {e}")),
                Err(_) => result.timed_out = true,
            }
            socket.close().await;
            result
        }));
    }
    let setup_deadline = Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < args.clients
        && Instant::now() < setup_deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let setup_s = setup_started.elapsed().as_secs_f64();
    let connected = ready.load(Ordering::Relaxed);
    eprintln!("matchmake: {connected} sockets ready in {setup_s:.1}s; adding tickets");

    let t0 = Instant::now() + LEAD;
    let _ = go_tx.send(Some(t0));
    tokio::time::sleep_until(t0.into()).await;
    let start_time = report::now_rfc3339();
    let probe = proc_stats::Probe::start(target.server_pid)?;
    let adding = add_period.mul_f64(args.clients as f64);
    let progress = report::spawn_progress(
        "matchmake",
        counters.clone(),
        Duration::from_secs(target.progress_secs),
        adding + wait,
    );
    let mut ack = Latency::new();
    let mut matched = Latency::new();
    let mut timed_out = 0u64;
    for task in tasks {
        let result = timeout(adding + wait + Duration::from_secs(60), task)
            .await
            .map_err(|_| "a client did not finish in time".to_string())?
            .map_err(|e| format!("client task: {e}"))?;
        ack.merge(&result.ack);
        matched.merge(&result.matched);
        timed_out += u64::from(result.timed_out);
    }
    let (server, client) = probe.finish()?;
    let elapsed = t0.elapsed();
    progress.abort();

    let mut error_samples = counters.error_samples();
    if timed_out > 0 {
        error_samples.push(format!(
            "{timed_out} tickets not matched within {}s",
            args.timeout
        ));
    }
    let ack = ack.summary();
    Ok(Report::new(
        target,
        Outcome {
            scenario: "matchmake",
            parameters: serde_json::to_value(args).unwrap_or_default(),
            start_time,
            duration: elapsed,
            throughput: None,
            ops: counters.ops(),
            errors: counters.errors() + timed_out,
            latency: matched.summary(),
            server,
            client,
            details: json!({
                "latency_is": "matchmaker_matched receive time - matchmaker_add send time",
                "ops_are": "tickets matched",
                "setup_s": setup_s,
                "sockets": connected,
                "tickets_acknowledged": ack.count,
                "ticket_ack_p50_ms": ack.p50,
                "ticket_ack_p99_ms": ack.p99,
                "unmatched": timed_out,
            }),
            error_samples,
        },
    ))
}
