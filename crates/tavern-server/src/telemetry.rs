//! Prometheus metrics: when `metrics.prometheus_port` is not 0, a recorder is installed for the
//! process and `GET /metrics` is served on its own listener. Hot paths reach the metrics
//! through handles registered once ([`get`]); with the port at 0 nothing is registered and
//! each call site costs one atomic load. Gauges that mirror a count the server already keeps
//! (sessions, matches, matchmaker tickets) are sampled when scraped. docs/OBSERVABILITY.md
//! describes every metric.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::state::AppState;

/// Live realtime sessions on this node.
pub const SESSIONS: &str = "tavern_sessions";
/// Open WebSocket connections (from upgrade until the writer has finished).
pub const SOCKETS: &str = "tavern_sockets";
/// Authoritative matches running on this node.
pub const MATCHES_RUNNING: &str = "tavern_matches_running";
/// Time one match loop callback `tick` took.
pub const TICK_DURATION: &str = "tavern_match_tick_duration_seconds";
/// How long after its scheduled instant a match tick started.
pub const TICK_LATENESS: &str = "tavern_match_tick_lateness_seconds";
/// Realtime envelopes received from clients.
pub const MESSAGES_IN: &str = "tavern_socket_messages_received_total";
/// Realtime messages written to clients (pings and close frames excluded).
pub const MESSAGES_OUT: &str = "tavern_socket_messages_sent_total";
/// Matchmaker tickets waiting in the pool.
pub const MATCHMAKER_TICKETS: &str = "tavern_matchmaker_tickets";
/// Time one matchmaker pass took.
pub const MATCHMAKER_PASS: &str = "tavern_matchmaker_pass_duration_seconds";
/// Time from a ticket's creation to its match.
pub const MATCHMAKER_TIME_TO_MATCH: &str = "tavern_matchmaker_time_to_match_seconds";
/// REST request latency, labelled by `route` and `method`.
pub const API_REQUEST_DURATION: &str = "tavern_api_request_duration_seconds";
/// Lua virtual machines alive (kept by tavern-lua under this name; 0 without Lua modules).
pub const LUA_VMS: &str = "tavern_lua_vms";

/// Bucket bounds (seconds) of the match tick histograms.
const TICK_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
];
/// Bucket bounds (seconds) of REST latency and matchmaker passes.
const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Bucket bounds (seconds) of the time to match.
const MATCH_WAIT_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];
/// How often the recorder drains the samples recorded into histograms.
const UPKEEP: Duration = Duration::from_secs(5);

/// Handles of the metrics recorded on hot paths.
pub struct Metrics {
    pub sockets: Gauge,
    pub tick_duration: Histogram,
    pub tick_lateness: Histogram,
    pub messages_in: Counter,
    pub messages_out: Counter,
    pub matchmaker_pass: Histogram,
    pub matchmaker_time_to_match: Histogram,
    /// Registered at install so the series shows 0 before any VM exists; tavern-lua updates it.
    pub lua_vms: Gauge,
    sessions: Gauge,
    matches_running: Gauge,
    matchmaker_tickets: Gauge,
}

/// The installed recorder and its handles, once per process.
static INSTALLED: OnceLock<(PrometheusHandle, Metrics)> = OnceLock::new();

/// The metric handles, when metrics are on.
pub fn get() -> Option<&'static Metrics> {
    INSTALLED.get().map(|(_, metrics)| metrics)
}

/// Installs the process-wide recorder (once; later calls reuse it).
pub(crate) fn install() -> Result<&'static (PrometheusHandle, Metrics), String> {
    if let Some(installed) = INSTALLED.get() {
        return Ok(installed);
    }
    let bucket_error = |e: metrics_exporter_prometheus::BuildError| e.to_string();
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(TICK_DURATION.into()), TICK_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(TICK_LATENESS.into()), TICK_BUCKETS))
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(API_REQUEST_DURATION.into()), REQUEST_BUCKETS)
        })
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full(MATCHMAKER_PASS.into()), REQUEST_BUCKETS)
        })
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(MATCHMAKER_TIME_TO_MATCH.into()),
                MATCH_WAIT_BUCKETS,
            )
        })
        .map_err(bucket_error)?
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    describe();
    let metrics = Metrics {
        sockets: metrics::gauge!(SOCKETS),
        tick_duration: metrics::histogram!(TICK_DURATION),
        tick_lateness: metrics::histogram!(TICK_LATENESS),
        messages_in: metrics::counter!(MESSAGES_IN),
        messages_out: metrics::counter!(MESSAGES_OUT),
        matchmaker_pass: metrics::histogram!(MATCHMAKER_PASS),
        matchmaker_time_to_match: metrics::histogram!(MATCHMAKER_TIME_TO_MATCH),
        lua_vms: metrics::gauge!(LUA_VMS),
        sessions: metrics::gauge!(SESSIONS),
        matches_running: metrics::gauge!(MATCHES_RUNNING),
        matchmaker_tickets: metrics::gauge!(MATCHMAKER_TICKETS),
    };
    let _ = INSTALLED.set((handle, metrics));
    INSTALLED
        .get()
        .ok_or_else(|| "metrics recorder vanished".to_owned())
}

fn describe() {
    use metrics::Unit;
    metrics::describe_gauge!(SESSIONS, "Live realtime sessions on this node.");
    metrics::describe_gauge!(SOCKETS, "Open WebSocket connections.");
    metrics::describe_gauge!(MATCHES_RUNNING, "Authoritative matches running.");
    metrics::describe_histogram!(
        TICK_DURATION,
        Unit::Seconds,
        "Duration of match loop ticks."
    );
    metrics::describe_histogram!(
        TICK_LATENESS,
        Unit::Seconds,
        "Delay between a match tick's scheduled instant and its start."
    );
    metrics::describe_counter!(MESSAGES_IN, "Realtime envelopes received.");
    metrics::describe_counter!(MESSAGES_OUT, "Realtime messages sent.");
    metrics::describe_gauge!(MATCHMAKER_TICKETS, "Matchmaker tickets in the pool.");
    metrics::describe_histogram!(
        MATCHMAKER_PASS,
        Unit::Seconds,
        "Duration of matchmaker passes."
    );
    metrics::describe_histogram!(
        MATCHMAKER_TIME_TO_MATCH,
        Unit::Seconds,
        "Time from ticket creation to match."
    );
    metrics::describe_histogram!(
        API_REQUEST_DURATION,
        Unit::Seconds,
        "REST request latency by route and method."
    );
    metrics::describe_gauge!(LUA_VMS, "Lua virtual machines alive.");
}

/// Installs the recorder and binds `address`; the returned future serves `/metrics` until the
/// process ends.
pub async fn bind(
    state: Arc<AppState>,
    address: &str,
) -> Result<impl Future<Output = ()> + Send + 'static, std::io::Error> {
    let (handle, _) = install().map_err(std::io::Error::other)?;
    let listener = TcpListener::bind(address).await?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(UPKEEP);
        loop {
            ticker.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new()
        .route("/metrics", axum::routing::get(render))
        .with_state(state);
    Ok(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    })
}

/// `GET /metrics`: samples the count gauges, then renders the text exposition format.
async fn render(State(state): State<Arc<AppState>>) -> Response {
    let Some((handle, metrics)) = INSTALLED.get() else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    metrics.sessions.set(state.realtime.sessions.count() as f64);
    metrics.matches_running.set(state.matches.count() as f64);
    metrics
        .matchmaker_tickets
        .set(state.matchmaker.pool().len() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// Middleware timing REST requests by matched route (unmatched paths count as `unmatched`).
pub async fn time_request(request: Request, next: Next) -> Response {
    if get().is_none() {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(API_REQUEST_DURATION, "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}
