//! `chat`: N users in chat rooms of K. Each user joins its room (with or without persistence)
//! and sends R `channel_message_send` a second whose content carries its send time; every
//! member, the sender included, receives each message, and each copy's receive time gives the
//! delivery latency. Ops are delivered copies; messages sent per second are in the details.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tavern_proto::realtime::{ChannelJoin, ChannelMessageSend, Envelope, envelope};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, timeout};

use crate::cli::{ChatArgs, Format, Target};
use crate::client::{Endpoint, Socket};
use crate::proc_stats;
use crate::report::{self, Counters, Latency, Outcome, Report};
use crate::scenario::{create_accounts, run_tag};

/// How long members keep reading after sending stops, for messages still in flight.
const DRAIN: Duration = Duration::from_secs(2);
/// Delay between the end of setup and the first message, so every user starts together.
const LEAD: Duration = Duration::from_secs(1);

struct Shared {
    /// Origin of the timestamps carried in messages (all users live in this process).
    base: Instant,
    counters: Arc<Counters>,
    sent: AtomicU64,
    joined: AtomicU64,
    setup_failed: AtomicU64,
    go: watch::Receiver<Option<Instant>>,
    period: Duration,
    duration: Duration,
    users: u64,
}

/// Runs `chat` and returns its report.
pub async fn run(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &ChatArgs,
) -> Result<Report, String> {
    let limit = proc_stats::raise_open_files(args.users + args.auth_clients + 256)?;
    eprintln!("setup: open-files limit {limit}");
    let run = run_tag();
    let tokens = create_accounts(endpoint.clone(), &run, args.users, args.auth_clients).await?;
    let (go_tx, go_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        base: Instant::now(),
        counters: Arc::new(Counters::default()),
        sent: AtomicU64::new(0),
        joined: AtomicU64::new(0),
        setup_failed: AtomicU64::new(0),
        go: go_rx,
        period: Duration::from_secs_f64(1.0 / args.rate as f64),
        duration: Duration::from_secs(args.duration),
        users: args.users,
    });

    // Setup: one socket per user, paced at `open_rate`, each joining its room.
    let setup_started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / args.open_rate as f64));
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut tasks = Vec::new();
    for (index, token) in (0u64..).zip(tokens) {
        pace.tick().await;
        let room = format!("bench-{run}-{}", index / args.room_size);
        let shared = shared.clone();
        let endpoint = endpoint.clone();
        let (format, persist) = (args.format, args.persist);
        tasks.push(tokio::spawn(async move {
            let joined = join(&endpoint, &token, format, &room, persist).await;
            let (socket, channel_id) = match joined {
                Ok(joined) => joined,
                Err(e) => {
                    shared.setup_failed.fetch_add(1, Ordering::Relaxed);
                    shared.counters.error(&format!("setup: {e}"));
                    return Vec::new();
                }
            };
            shared.joined.fetch_add(1, Ordering::Relaxed);
            chat(shared, socket, channel_id, index).await
        }));
    }
    let setup_deadline = Instant::now() + Duration::from_secs(60);
    let settled =
        |s: &Shared| s.joined.load(Ordering::Relaxed) + s.setup_failed.load(Ordering::Relaxed);
    while settled(&shared) < args.users && Instant::now() < setup_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let setup_s = setup_started.elapsed().as_secs_f64();
    let ready = shared.joined.load(Ordering::Relaxed);
    eprintln!(
        "chat: {ready} users in their rooms in {setup_s:.1}s; sending for {}s",
        args.duration
    );

    // Measurement window.
    let t0 = Instant::now() + LEAD;
    let _ = go_tx.send(Some(t0));
    tokio::time::sleep_until(t0.into()).await;
    let start_time = report::now_rfc3339();
    let probe = proc_stats::Probe::start(target.server_pid)?;
    let progress = report::spawn_progress(
        "chat",
        shared.counters.clone(),
        Duration::from_secs(target.progress_secs),
        shared.duration,
    );
    tokio::time::sleep_until((t0 + shared.duration).into()).await;
    let (server, client) = probe.finish()?;
    let sending = t0.elapsed();

    let mut latency = Latency::new();
    for task in tasks {
        let samples = timeout(DRAIN + Duration::from_secs(60), task)
            .await
            .map_err(|_| "a user did not finish in time".to_string())?
            .map_err(|e| format!("user task: {e}"))?;
        for micros in samples {
            latency.record(Duration::from_micros(u64::from(micros)));
        }
    }
    progress.abort();

    let sent = shared.sent.load(Ordering::Relaxed);
    let delivered = shared.counters.ops();
    // Every member of a full room gets every message of the room.
    let members = args.room_size.min(args.users);
    let expected = sent * members;
    let seconds = shared.duration.as_secs_f64();
    let mut error_samples = shared.counters.error_samples();
    let missing = expected.saturating_sub(delivered);
    if args.users.is_multiple_of(members) && missing > 0 {
        error_samples.push(format!("{missing} copies sent but not delivered"));
    }
    Ok(Report::new(
        target,
        Outcome {
            scenario: "chat",
            parameters: serde_json::to_value(args).unwrap_or_default(),
            start_time,
            duration: sending,
            throughput: None,
            ops: delivered,
            errors: shared.counters.errors(),
            latency: latency.summary(),
            server,
            client,
            details: json!({
                "latency_is": "channel_message receive time - channel_message_send send time, every member's copy",
                "ops_are": "channel_message copies delivered (members x messages)",
                "setup_s": setup_s,
                "users_ready": ready,
                "users_failed": shared.setup_failed.load(Ordering::Relaxed),
                "rooms": args.users.div_ceil(members),
                "messages_sent": sent,
                "messages_sent_per_s": sent as f64 / seconds,
                "copies_delivered": delivered,
                "copies_expected": expected,
            }),
            error_samples,
        },
    ))
}

/// Connects a user and joins its room; returns the socket and the channel id.
async fn join(
    endpoint: &Endpoint,
    token: &str,
    format: Format,
    room: &str,
    persist: bool,
) -> Result<(Socket, String), String> {
    let mut socket = Socket::connect(endpoint, token, format).await?;
    let join = Envelope {
        cid: String::new(),
        message: Some(envelope::Message::ChannelJoin(ChannelJoin {
            target: room.to_owned(),
            r#type: 1,
            persistence: Some(persist),
            hidden: Some(false),
        })),
    };
    match socket.request(join, "1").await?.message {
        Some(envelope::Message::Channel(channel)) => Ok((socket, channel.id)),
        other => Err(format!("channel_join reply without a channel: {other:?}")),
    }
}

/// One user: waits for the start, sends at the configured rate until the end of the window,
/// records the latency (µs) of every message received, drains, and closes. Bounded: every
/// iteration sends (at most duration x rate times), receives one envelope, or ends the loop
/// at the drain deadline.
async fn chat(shared: Arc<Shared>, mut socket: Socket, channel_id: String, user: u64) -> Vec<u32> {
    let mut samples = Vec::new();
    let mut go = shared.go.clone();
    let t0 = tokio::select! {
        started = go.wait_for(Option::is_some) => match started {
            Ok(t0) => t0.expect("waited for Some"),
            Err(_) => return samples,
        },
        lost = socket.receive_until_error() => {
            shared.counters.error(&format!("socket lost before start: {lost}"));
            return samples;
        }
    };
    let end = t0 + shared.duration;
    let drain_end = tokio::time::sleep_until((end + DRAIN).into());
    tokio::pin!(drain_end);
    // Spread the users' send instants evenly over one period.
    let offset = shared.period.mul_f64(user as f64 / shared.users as f64);
    let mut ticker = tokio::time::interval_at((t0 + offset).into(), shared.period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sending = true;
    loop {
        tokio::select! {
            _ = ticker.tick(), if sending => {
                if Instant::now() >= end {
                    sending = false;
                    continue;
                }
                let stamp = u64::try_from(shared.base.elapsed().as_micros()).unwrap_or(u64::MAX);
                let message = Envelope {
                    cid: String::new(),
                    message: Some(envelope::Message::ChannelMessageSend(ChannelMessageSend {
                        channel_id: channel_id.clone(),
                        content: json!({ "t": stamp, "from": user, "text": "hello room" }).to_string(),
                    })),
                };
                match socket.send(&message).await {
                    Ok(()) => { shared.sent.fetch_add(1, Ordering::Relaxed); }
                    Err(e) => {
                        shared.counters.error(&e);
                        break;
                    }
                }
            }
            received = socket.receive() => match received {
                Ok(Envelope { message: Some(envelope::Message::ChannelMessage(m)), .. }) => {
                    let stamp = serde_json::from_str::<serde_json::Value>(&m.content)
                        .ok()
                        .and_then(|c| c.get("t")?.as_u64());
                    match stamp {
                        Some(stamp) => {
                            let micros = shared.base.elapsed().saturating_sub(Duration::from_micros(stamp)).as_micros();
                            samples.push(u32::try_from(micros).unwrap_or(u32::MAX));
                            shared.counters.op();
                        }
                        None => shared.counters.error("channel_message without a timestamp"),
                    }
                }
                Ok(Envelope { message: Some(envelope::Message::Error(e)), .. }) => {
                    shared.counters.error(&format!("server error {}: {}", e.code, e.message));
                }
                Ok(_) => {}
                Err(e) => {
                    shared.counters.error(&format!("socket lost: {e}"));
                    break;
                }
            },
            _ = &mut drain_end => break,
        }
    }
    socket.close().await;
    samples
}
