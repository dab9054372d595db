//! Two-player match traffic, shared by two scenarios:
//!
//! * `relay`: M relayed matches (one player `match_create`s, the other `match_join`s); each
//!   player sends R `match_data_send` a second carrying its send time, and the other player's
//!   receive time gives the delivery latency.
//! * `echo`: M authoritative matches, each created by one player calling an RPC that answers
//!   `{"match_id": ...}`; both players join it and send R messages a second, which the match
//!   loop sends back; the sender's receive time of its own message gives the round trip
//!   through the loop (including the wait for the next tick).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tavern_proto::api::Rpc;
use tavern_proto::realtime::{
    Envelope, MatchCreate, MatchDataSend, MatchJoin, envelope, match_join,
};
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, timeout};

use crate::cli::{EchoArgs, Format, LuaEchoArgs, RelayArgs, Target};
use crate::client::{Endpoint, Socket};
use crate::proc_stats;
use crate::report::{self, Counters, Latency, Outcome, Report};
use crate::scenario::{create_accounts, run_tag};

/// How long receivers keep reading after sending stops, for messages still in flight.
const DRAIN: Duration = Duration::from_secs(2);
/// Delay between the end of setup and the first message, so every player starts together.
const LEAD: Duration = Duration::from_secs(1);
/// Op code of relayed benchmark messages.
const RELAY_OP_CODE: i64 = 1;

/// How the matches are made and what a received message measures.
enum Kind {
    /// `match_create` + `match_join`; latency of messages from the other player.
    Relayed,
    /// An RPC creates the match, both join; latency of the player's own echoed messages.
    Authoritative { rpc: String, payload: String },
}

/// What both scenarios are given.
struct Params {
    scenario: &'static str,
    kind: Kind,
    matches: u64,
    rate: u64,
    duration: u64,
    payload: u64,
    format: Format,
    open_rate: u64,
    auth_clients: u64,
    op_code: i64,
    parameters: serde_json::Value,
}

/// Runs `relay` and returns its report.
pub async fn relay(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &RelayArgs,
) -> Result<Report, String> {
    let params = Params {
        scenario: "relay",
        kind: Kind::Relayed,
        matches: args.matches,
        rate: args.rate,
        duration: args.duration,
        payload: args.payload,
        format: args.format,
        open_rate: args.open_rate,
        auth_clients: args.auth_clients,
        op_code: RELAY_OP_CODE,
        parameters: serde_json::to_value(args).unwrap_or_default(),
    };
    run(endpoint, target, params).await
}

/// Runs `echo` and returns its report.
pub async fn echo(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &EchoArgs,
) -> Result<Report, String> {
    let parameters = serde_json::to_value(args).unwrap_or_default();
    authoritative(endpoint, target, "echo", args, parameters).await
}

/// Runs `lua-echo` (`echo` on the bench's Lua match) and returns its report.
pub async fn lua_echo(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &LuaEchoArgs,
) -> Result<Report, String> {
    let parameters = serde_json::to_value(args).unwrap_or_default();
    authoritative(endpoint, target, "lua-echo", &args.echo(), parameters).await
}

async fn authoritative(
    endpoint: Arc<Endpoint>,
    target: &Target,
    scenario: &'static str,
    args: &EchoArgs,
    parameters: serde_json::Value,
) -> Result<Report, String> {
    let params = Params {
        scenario,
        kind: Kind::Authoritative {
            rpc: args.rpc.clone(),
            payload: args.rpc_payload.clone(),
        },
        matches: args.matches,
        rate: args.rate,
        duration: args.duration,
        payload: args.payload,
        format: args.format,
        open_rate: args.open_rate,
        auth_clients: args.auth_clients,
        op_code: args.op_code,
        parameters,
    };
    run(endpoint, target, params).await
}

/// Shared state of a run.
struct Shared {
    endpoint: Arc<Endpoint>,
    /// Origin of the timestamps carried in payloads (all players live in this process).
    base: Instant,
    /// Delivered messages (ops) and every kind of failure (errors).
    counters: Arc<Counters>,
    sent: AtomicU64,
    matches_ready: AtomicU64,
    setup_failed: AtomicU64,
    /// Set once to the instant sending starts.
    go: watch::Receiver<Option<Instant>>,
    period: Duration,
    duration: Duration,
    payload: usize,
    players: u64,
    op_code: i64,
    /// Whether a player measures its own echoed messages (else the other player's).
    own_messages: bool,
    /// Messages received that are not measured (the other player's, under `echo` op 1).
    others_received: AtomicU64,
}

async fn run(endpoint: Arc<Endpoint>, target: &Target, args: Params) -> Result<Report, String> {
    let players = 2 * args.matches;
    let limit = proc_stats::raise_open_files(players + args.auth_clients + 256)?;
    eprintln!("setup: open-files limit {limit}");
    let run = run_tag();
    let tokens = create_accounts(endpoint.clone(), &run, players, args.auth_clients).await?;

    let (go_tx, go_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        endpoint,
        base: Instant::now(),
        counters: Arc::new(Counters::default()),
        sent: AtomicU64::new(0),
        matches_ready: AtomicU64::new(0),
        setup_failed: AtomicU64::new(0),
        go: go_rx,
        period: Duration::from_secs_f64(1.0 / args.rate as f64),
        duration: Duration::from_secs(args.duration),
        payload: usize::try_from(args.payload).unwrap_or(16),
        players,
        op_code: args.op_code,
        own_messages: matches!(args.kind, Kind::Authoritative { .. }),
        others_received: AtomicU64::new(0),
    });
    let kind = Arc::new(args.kind);

    // Setup: two sockets per match, paced at `open_rate` sockets a second.
    let setup_started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_secs_f64(2.0 / args.open_rate as f64));
    pace.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut tasks = Vec::new();
    let mut tokens = tokens.into_iter();
    for index in 0..args.matches {
        let (Some(token_a), Some(token_b)) = (tokens.next(), tokens.next()) else {
            break;
        };
        pace.tick().await;
        let shared = shared.clone();
        let format = args.format;
        let kind = kind.clone();
        tasks.push(tokio::spawn(async move {
            let pair = match set_up_match(&shared, &kind, &token_a, &token_b, format).await {
                Ok(pair) => pair,
                Err(e) => {
                    shared.setup_failed.fetch_add(1, Ordering::Relaxed);
                    shared.counters.error(&format!("match setup: {e}"));
                    return Vec::new();
                }
            };
            shared.matches_ready.fetch_add(1, Ordering::Relaxed);
            let (a, b, match_id) = pair;
            // A task per player, so one player's traffic never polls the other's socket.
            let match_id = Arc::<str>::from(match_id);
            let first = tokio::spawn(play(shared.clone(), a, match_id.clone(), 2 * index));
            let second = tokio::spawn(play(shared.clone(), b, match_id, 2 * index + 1));
            let mut samples = first.await.unwrap_or_default();
            samples.extend(second.await.unwrap_or_default());
            samples
        }));
    }
    let setup_deadline = Instant::now() + Duration::from_secs(60);
    let settled = |s: &Shared| {
        s.matches_ready.load(Ordering::Relaxed) + s.setup_failed.load(Ordering::Relaxed)
    };
    while settled(&shared) < args.matches && Instant::now() < setup_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let setup_s = setup_started.elapsed().as_secs_f64();
    let ready = shared.matches_ready.load(Ordering::Relaxed);
    eprintln!(
        "{}: {ready} matches ready in {setup_s:.1}s; sending for {}s",
        args.scenario, args.duration
    );

    // Measurement window.
    let t0 = Instant::now() + LEAD;
    let _ = go_tx.send(Some(t0));
    tokio::time::sleep_until(t0.into()).await;
    let start_time = report::now_rfc3339();
    let probe = proc_stats::Probe::start(target.server_pid)?;
    let progress = report::spawn_progress(
        args.scenario,
        shared.counters.clone(),
        Duration::from_secs(target.progress_secs),
        shared.duration,
    );
    tokio::time::sleep_until((t0 + shared.duration).into()).await;
    let (server, client) = probe.finish()?;
    let sending = t0.elapsed();

    let mut latency = Latency::new();
    for task in tasks {
        let task_latency = timeout(DRAIN + Duration::from_secs(60), task)
            .await
            .map_err(|_| "a match did not finish in time".to_string())?
            .map_err(|e| format!("match task: {e}"))?;
        for micros in task_latency {
            latency.record(Duration::from_micros(u64::from(micros)));
        }
    }
    progress.abort();

    let sent = shared.sent.load(Ordering::Relaxed);
    let delivered = shared.counters.ops();
    let lost = sent.saturating_sub(delivered);
    let mut error_samples = shared.counters.error_samples();
    if lost > 0 {
        error_samples.push(format!("{lost} messages sent but not delivered"));
    }
    let seconds = shared.duration.as_secs_f64();
    let (latency_is, ops_are) = if shared.own_messages {
        (
            "receive time of the player's own echoed match_data - its match_data_send time",
            "own messages echoed back",
        )
    } else {
        (
            "match_data receive time - match_data_send send time",
            "match_data messages delivered",
        )
    };
    Ok(Report::new(
        target,
        Outcome {
            scenario: args.scenario,
            parameters: args.parameters,
            start_time,
            duration: sending,
            throughput: None,
            ops: delivered,
            errors: shared.counters.errors() + lost,
            latency: latency.summary(),
            server,
            client,
            details: json!({
                "latency_is": latency_is,
                "ops_are": ops_are,
                "setup_s": setup_s,
                "matches_ready": ready,
                "matches_failed": shared.setup_failed.load(Ordering::Relaxed),
                "sockets": 2 * ready,
                "messages_sent": sent,
                "messages_delivered": delivered,
                "messages_lost": lost,
                "sent_per_s": sent as f64 / seconds,
                "others_received": shared.others_received.load(Ordering::Relaxed),
            }),
            error_samples,
        },
    ))
}

/// Connects both players. Relayed: A creates the match and B joins it by id.
/// Authoritative: A calls the RPC, then both join the match it names.
async fn set_up_match(
    shared: &Shared,
    kind: &Kind,
    token_a: &str,
    token_b: &str,
    format: Format,
) -> Result<(Socket, Socket, String), String> {
    let mut a = Socket::connect(&shared.endpoint, token_a, format).await?;
    let match_id = match kind {
        Kind::Relayed => {
            let create = Envelope {
                cid: String::new(),
                message: Some(envelope::Message::MatchCreate(MatchCreate::default())),
            };
            match a.request(create, "1").await?.message {
                Some(envelope::Message::Match(m)) if !m.match_id.is_empty() => m.match_id,
                other => return Err(format!("match_create reply without a match: {other:?}")),
            }
        }
        Kind::Authoritative { rpc, payload } => {
            let call = Envelope {
                cid: String::new(),
                message: Some(envelope::Message::Rpc(Rpc {
                    id: rpc.clone(),
                    payload: payload.clone(),
                    http_key: String::new(),
                })),
            };
            let reply = match a.request(call, "1").await?.message {
                Some(envelope::Message::Rpc(reply)) => reply.payload,
                other => return Err(format!("rpc reply without a payload: {other:?}")),
            };
            let id = serde_json::from_str::<serde_json::Value>(&reply)
                .ok()
                .and_then(|v| v.get("match_id")?.as_str().map(str::to_owned));
            let id = id.ok_or_else(|| format!("rpc {rpc} answered without a match_id: {reply}"))?;
            join(&mut a, &id).await?;
            id
        }
    };
    let mut b = Socket::connect(&shared.endpoint, token_b, format).await?;
    join(&mut b, &match_id).await?;
    Ok((a, b, match_id))
}

/// `match_join` by id, waiting for the `match` reply.
async fn join(socket: &mut Socket, match_id: &str) -> Result<(), String> {
    let join = Envelope {
        cid: String::new(),
        message: Some(envelope::Message::MatchJoin(MatchJoin {
            id: Some(match_join::Id::MatchId(match_id.to_owned())),
            ..Default::default()
        })),
    };
    match socket.request(join, "2").await?.message {
        Some(envelope::Message::Match(_)) => Ok(()),
        other => Err(format!("match_join reply without a match: {other:?}")),
    }
}

/// One player: waits for the start, sends at the configured rate until the end of the
/// window, records the latency (µs) of every message received, drains, and closes. The
/// samples stay in a small vector until the end so the hot loop touches little memory.
async fn play(
    shared: Arc<Shared>,
    mut socket: Socket,
    match_id: Arc<str>,
    player: u64,
) -> Vec<u32> {
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
    let expected = shared.duration.as_secs_f64() / shared.period.as_secs_f64();
    samples.reserve(expected as usize + 1);
    // Spread the players' send instants over one period: evenly for relayed matches; at
    // random for authoritative ones, so the send phase is independent of the match's tick
    // phase (which follows the order the matches were created in).
    let share = if shared.own_messages {
        uuid::Uuid::new_v4().as_u128() as f64 / u128::MAX as f64
    } else {
        player as f64 / shared.players as f64
    };
    let offset = shared.period.mul_f64(share);
    let mut ticker = tokio::time::interval_at((t0 + offset).into(), shared.period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sending = true;
    // Bounded: every iteration either sends (at most duration x rate times), receives one
    // envelope, or ends the loop at the drain deadline.
    loop {
        tokio::select! {
            _ = ticker.tick(), if sending => {
                if Instant::now() >= end {
                    sending = false;
                    continue;
                }
                let mut data = vec![0u8; shared.payload];
                let stamp = u64::try_from(shared.base.elapsed().as_micros()).unwrap_or(u64::MAX);
                data[..8].copy_from_slice(&stamp.to_le_bytes());
                data[8..16].copy_from_slice(&player.to_le_bytes());
                let message = Envelope {
                    cid: String::new(),
                    message: Some(envelope::Message::MatchDataSend(MatchDataSend {
                        match_id: match_id.to_string(),
                        op_code: shared.op_code,
                        data,
                        ..Default::default()
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
                Ok(Envelope { message: Some(envelope::Message::MatchData(data)), .. }) => {
                    match header(&data.data) {
                        Some((stamp, from)) if (from == player) == shared.own_messages => {
                            let sent_at = Duration::from_micros(stamp);
                            let micros = shared.base.elapsed().saturating_sub(sent_at).as_micros();
                            samples.push(u32::try_from(micros).unwrap_or(u32::MAX));
                            shared.counters.op();
                        }
                        Some(_) => {
                            shared.others_received.fetch_add(1, Ordering::Relaxed);
                        }
                        None => shared.counters.error("match_data without a timestamp"),
                    }
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

/// The send time (µs since the run's base) and sender index at the head of a payload.
fn header(data: &[u8]) -> Option<(u64, u64)> {
    let stamp = <[u8; 8]>::try_from(data.get(..8)?).ok()?;
    let player = <[u8; 8]>::try_from(data.get(8..16)?).ok()?;
    Some((u64::from_le_bytes(stamp), u64::from_le_bytes(player)))
}
