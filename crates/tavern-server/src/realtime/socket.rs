//! `GET /ws`: authenticate, upgrade, then run the session: one reader that handles client
//! messages strictly in order, one writer that drains the outgoing queue and keeps the
//! connection alive with pings, and a clean-up of everything the session held when it ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tavern_proto::realtime::Envelope;
use tokio::time::{Instant, sleep_until, timeout};

use super::session::{CloseReason, Format, Next, SessionHandle, SessionInfo};
use super::stream::{Presence, Stream};
use crate::api::extract::{Params, parse_go_bool};
use crate::log_throttle::Throttle;
use crate::state::AppState;

/// The upgrade handler.
pub async fn handler(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Params,
    upgrade: WebSocketUpgrade,
) -> Response {
    let format = match params.get(&["format"]).unwrap_or_default() {
        "" | "json" => Format::Json,
        "protobuf" => Format::Protobuf,
        _ => return plain_error(StatusCode::BAD_REQUEST, "Invalid format parameter"),
    };
    let token = match headers.get(header::AUTHORIZATION) {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned(),
        None => params.get(&["token"]).unwrap_or_default().to_owned(),
    };
    let Some(caller) = state.verify_session(&token) else {
        return plain_error(StatusCode::UNAUTHORIZED, "Missing or invalid token");
    };
    let lang = match params.get(&["lang"]) {
        Some(lang) if !lang.is_empty() => lang.to_owned(),
        _ => "en".to_owned(),
    };
    let appear_online = params
        .get(&["status"])
        .and_then(parse_go_bool)
        .unwrap_or(false);
    // Boxed: the upgrade task keeps its callback's captures for the socket's whole life.
    let info = Box::new(SessionInfo {
        id: state.realtime.new_session_id(),
        user_id: caller.user_id,
        username: caller.username,
        format,
        lang,
        vars: caller.vars,
        expiry: caller.expiry,
        client,
    });
    let socket = &state.config.socket;
    upgrade
        .read_buffer_size(socket.read_buffer_size_bytes)
        .write_buffer_size(0)
        .max_message_size(socket.max_message_size_bytes)
        .max_frame_size(socket.max_message_size_bytes)
        .on_upgrade(move |ws| start_session(state, ws, *info, appear_online))
}

/// Go's `http.Error`: plain text with a trailing newline.
fn plain_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{message}\n"),
    )
        .into_response()
}

/// Sets the session up and returns what runs for its life: the reader, then the clean-up.
/// The set-up is not part of that future, so an idle socket's task holds only the reader's
/// state, not the upgrade's arguments.
fn start_session(
    state: Arc<AppState>,
    ws: WebSocket,
    info: SessionInfo,
    appear_online: bool,
) -> impl Future<Output = ()> + Send + 'static {
    let session = SessionHandle::new(info, state.config.socket.outgoing_queue_size);
    let realtime = &state.realtime;
    realtime.sessions.add(session.clone());
    let metrics = crate::telemetry::get();
    if let Some(metrics) = metrics {
        metrics.sockets.increment(1.0);
    }
    let (sink, stream) = ws.split();
    let writer = tokio::spawn(write_loop(
        sink,
        session.clone(),
        Duration::from_millis(state.config.socket.ping_period_ms),
        Duration::from_millis(state.config.socket.write_wait_ms),
    ));

    // Every session hears about its own user's status; `status=true` also shows it online.
    realtime.status.follow(session.id(), [session.user_id()]);
    if appear_online {
        realtime.tracker.track(
            Stream::status(session.user_id()),
            Presence {
                session_id: session.id(),
                user_id: session.user_id(),
                username: session.info.username.clone(),
                status: Some(String::new()),
                ..Presence::default()
            },
            session.clone(),
        );
    }

    async move {
        let mut stream = stream;
        read_loop(&state, &session, &mut stream).await;
        let server_closed = session.is_closing();

        // Clean up everything the session held, then let the writer finish.
        session.close(CloseReason::SERVER_DISCONNECT);
        let realtime = &state.realtime;
        realtime.sessions.remove(session.id());
        realtime.tracker.untrack_all(session.id());
        realtime.status.unfollow_all(session.id());
        state.matchmaker.pool().remove_session(session.id());
        if server_closed {
            // Read (and drop) what still arrives until the client answers the close frame, for
            // at most `socket.close_ack_wait_ms`: closing with unread data would reset the
            // connection and lose the close frame, and its reason, on the way to the client.
            let wait = Duration::from_millis(state.config.socket.close_ack_wait_ms);
            let _ = timeout(wait, async {
                while let Some(Ok(frame)) = stream.next().await {
                    if let Message::Close(_) = frame {
                        break;
                    }
                }
            })
            .await;
        }
        let _ = writer.await;
        if let Some(metrics) = metrics {
            metrics.sockets.decrement(1.0);
        }
    }
}

/// Reads frames until the client leaves, breaks a rule, or the session is closed.
async fn read_loop(
    state: &Arc<AppState>,
    session: &Arc<SessionHandle>,
    stream: &mut SplitStream<WebSocket>,
) {
    let pong_wait = Duration::from_millis(state.config.socket.pong_wait_ms);
    // The pong deadline moves with every frame; the timer is re-armed only when it fires
    // (lazily), not once per frame.
    let mut last_frame = Instant::now();
    let deadline = sleep_until(last_frame + pong_wait);
    tokio::pin!(deadline);
    let closed = session.closed();
    tokio::pin!(closed);
    let mut limit = InboundLimit::new(state.config.socket.max_inbound_messages_per_sec);
    loop {
        let frame = tokio::select! {
            frame = stream.next() => frame,
            _ = &mut deadline => {
                let due = last_frame + pong_wait;
                if Instant::now() < due {
                    deadline.as_mut().reset(due);
                    continue;
                }
                tracing::debug!(session_id = %session.id(), "no pong within the wait, closing");
                session.close(CloseReason::SERVER_DISCONNECT);
                return;
            }
            _ = &mut closed => return,
        };
        let frame = match frame {
            None | Some(Ok(Message::Close(_))) => return,
            Some(Err(e)) => {
                if is_too_big(&e) {
                    session.close(CloseReason::TOO_BIG);
                }
                return;
            }
            Some(Ok(frame)) => frame,
        };
        last_frame = Instant::now();
        if matches!(frame, Message::Text(_) | Message::Binary(_))
            && limit.as_mut().is_some_and(|limit| !limit.allow(last_frame))
        {
            if session.close(CloseReason::FLOODING)
                && let Some(sockets) = FLOODING_LOG.hit()
            {
                tracing::warn!(
                    session_id = %session.id(),
                    user_id = %session.user_id(),
                    sockets,
                    "socket closed: more than socket.max_inbound_messages_per_sec (sockets: closed this way since the last such line)"
                );
            }
            return;
        }
        let decoded = match (frame, session.info.format) {
            (Message::Text(text), Format::Json) => Envelope::from_json(text.as_str()),
            (Message::Binary(bytes), Format::Protobuf) => Envelope::from_protobuf(&bytes),
            (Message::Ping(_) | Message::Pong(_), _) => continue,
            _ => {
                session.close(CloseReason::UNEXPECTED_TYPE);
                return;
            }
        };
        let envelope = match decoded {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::debug!(session_id = %session.id(), error = %e, "malformed realtime payload");
                session.close(CloseReason::MALFORMED);
                return;
            }
        };
        if let Some(metrics) = crate::telemetry::get() {
            metrics.messages_in.increment(1);
        }
        // Boxed so an idle socket's task is not as large as the biggest message handler.
        if let Err(reason) = Box::pin(super::pipeline::handle(state, session, envelope)).await {
            session.close(reason);
            return;
        }
    }
}

/// Sockets closed for flooding: one warning per interval.
static FLOODING_LOG: Throttle = Throttle::new(crate::log_throttle::INTERVAL);

/// `socket.max_inbound_messages_per_sec` as a token bucket: `rate` tokens a second, at most
/// `rate` saved up (a one-second burst).
struct InboundLimit {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl InboundLimit {
    fn new(per_sec: u32) -> Option<InboundLimit> {
        (per_sec > 0).then(|| InboundLimit {
            rate: f64::from(per_sec),
            tokens: f64::from(per_sec),
            last: Instant::now(),
        })
    }

    /// Whether one more message may be read at `now`.
    fn allow(&mut self, now: Instant) -> bool {
        let earned = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.rate);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Whether a read failed because the frame exceeded the size limit.
fn is_too_big(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(tungstenite::Error::Capacity(_)) = e.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Drains the outgoing queue, pings on schedule, and sends the close frame when asked.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    session: Arc<SessionHandle>,
    ping_period: Duration,
    write_wait: Duration,
) {
    // However the writer ends, the session stops taking messages.
    struct Stopped<'a>(&'a SessionHandle);
    impl Drop for Stopped<'_> {
        fn drop(&mut self) {
            self.0.writer_stopped();
        }
    }
    let _stopped = Stopped(&session);
    let format = session.info.format;
    let metrics = crate::telemetry::get();
    let mut ping = tokio::time::interval_at(Instant::now() + ping_period, ping_period);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let reason = loop {
        let message = match session.next_outgoing() {
            Next::Close(reason) => break reason,
            Next::Send(outbound) => {
                if let Some(metrics) = metrics {
                    metrics.messages_out.increment(1);
                }
                outbound.message(format)
            }
            Next::Wait => tokio::select! {
                biased;
                _ = session.writer_wake() => continue,
                _ = ping.tick() => Message::Ping(Default::default()),
            },
        };
        if !send_within(&mut sink, message, write_wait).await {
            return;
        }
    };
    if reason.drain {
        while let Some(outbound) = session.take_queued() {
            if !send_within(&mut sink, outbound.message(format), write_wait).await {
                return;
            }
        }
    }
    let close = Message::Close(Some(CloseFrame {
        code: reason.code,
        reason: reason.reason.into(),
    }));
    let _ = send_within(&mut sink, close, write_wait).await;
    let _ = timeout(write_wait, sink.close()).await;
}

/// Sends one message, failing if it takes longer than `write_wait`. Most sends complete on
/// their first poll (the socket buffer has room), so the timer is armed only for one that
/// has to wait.
async fn send_within(
    sink: &mut SplitSink<WebSocket, Message>,
    message: Message,
    write_wait: Duration,
) -> bool {
    let send = sink.send(message);
    tokio::pin!(send);
    match (&mut send).now_or_never() {
        Some(result) => result.is_ok(),
        None => matches!(timeout(write_wait, send).await, Ok(Ok(()))),
    }
}
