//! A connected socket as the rest of the server sees it: who it is, its wire format, and a
//! bounded outgoing queue. A full queue closes the session instead of stalling the sender.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use tavern_proto::realtime::Envelope;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::log_throttle::Throttle;

/// The realtime wire format a socket chose with `format=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Protobuf,
}

/// An envelope on its way out, encoded at most once per format however many sessions get it.
pub struct Outbound {
    envelope: Envelope,
    json: OnceLock<Utf8Bytes>,
    protobuf: OnceLock<Bytes>,
}

impl Outbound {
    pub fn new(envelope: Envelope) -> Arc<Outbound> {
        Arc::new(Outbound {
            envelope,
            json: OnceLock::new(),
            protobuf: OnceLock::new(),
        })
    }

    /// The WebSocket message for a format: text frames for JSON, binary for protobuf.
    pub fn message(&self, format: Format) -> Message {
        match format {
            Format::Json => Message::Text(
                self.json
                    .get_or_init(|| Utf8Bytes::from(self.envelope.to_json()))
                    .clone(),
            ),
            Format::Protobuf => Message::Binary(
                self.protobuf
                    .get_or_init(|| Bytes::from(self.envelope.to_protobuf()))
                    .clone(),
            ),
        }
    }
}

/// Why the server closes a socket: a close code and reason, and whether queued messages go first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: &'static str,
    pub drain: bool,
}

impl CloseReason {
    pub const QUEUE_FULL: CloseReason = CloseReason {
        code: 1000,
        reason: "session outgoing queue full",
        drain: false,
    };
    pub const MALFORMED: CloseReason = CloseReason {
        code: 1000,
        reason: "received malformed payload",
        drain: true,
    };
    pub const PROCESSING_ERROR: CloseReason = CloseReason {
        code: 1000,
        reason: "error processing message",
        drain: true,
    };
    pub const UNEXPECTED_TYPE: CloseReason = CloseReason {
        code: 1000,
        reason: "received unexpected WebSocket message type",
        drain: true,
    };
    pub const TOO_BIG: CloseReason = CloseReason {
        code: 1009,
        reason: "message too big",
        drain: false,
    };
    pub const SERVER_DISCONNECT: CloseReason = CloseReason {
        code: 1000,
        reason: "server-side session disconnect",
        drain: true,
    };
    /// Tavern's own: the client sent more than `socket.max_inbound_messages_per_sec`.
    pub const FLOODING: CloseReason = CloseReason {
        code: 1008,
        reason: "too many messages",
        drain: false,
    };
    pub const SHUTDOWN: CloseReason = CloseReason {
        code: 1001,
        reason: "server shutting down",
        drain: true,
    };
}

/// Who connected, as recorded at the upgrade.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub format: Format,
    pub lang: String,
    pub vars: HashMap<String, String>,
    /// Session token expiry, unix seconds.
    pub expiry: i64,
    pub client: SocketAddr,
}

/// A live socket session.
///
/// The outgoing queue and the close request live in the handle itself (a locked deque and two
/// `Notify`s) rather than in a channel pair: an idle socket then holds no queue block and no
/// channel state of its own, only the few words here.
pub struct SessionHandle {
    pub info: SessionInfo,
    /// Most messages waiting for the writer.
    queue_size: usize,
    outgoing: Mutex<Outgoing>,
    /// Wakes the writer: a message was queued or a close was asked for.
    writer: Notify,
    /// Wakes the reader when a close is asked for.
    closed: Notify,
}

#[derive(Default)]
struct Outgoing {
    messages: VecDeque<Arc<Outbound>>,
    /// The first close asked for; later ones are ignored.
    close: Option<CloseReason>,
    /// The writer has stopped: further messages are dropped.
    writer_gone: bool,
}

/// What the writer does next.
pub enum Next {
    Send(Arc<Outbound>),
    Close(CloseReason),
    Wait,
}

impl SessionHandle {
    pub fn new(info: SessionInfo, queue_size: usize) -> Arc<SessionHandle> {
        Arc::new(SessionHandle {
            info,
            queue_size: queue_size.max(1),
            outgoing: Mutex::default(),
            writer: Notify::new(),
            closed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Outgoing> {
        self.outgoing.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn id(&self) -> Uuid {
        self.info.id
    }

    pub fn user_id(&self) -> Uuid {
        self.info.user_id
    }

    /// Queues an envelope; false when the session is gone or was just closed for a full queue.
    pub fn send(&self, envelope: Envelope) -> bool {
        self.send_outbound(Outbound::new(envelope))
    }

    /// Queues an already shared outbound message.
    pub fn send_outbound(&self, outbound: Arc<Outbound>) -> bool {
        {
            let mut outgoing = self.lock();
            if outgoing.writer_gone {
                return false;
            }
            if outgoing.messages.len() < self.queue_size {
                outgoing.messages.push_back(outbound);
                drop(outgoing);
                self.writer.notify_one();
                return true;
            }
        }
        if self.close(CloseReason::QUEUE_FULL)
            && let Some(sessions) = QUEUE_FULL_LOG.hit()
        {
            tracing::warn!(
                session_id = %self.info.id,
                sessions,
                "session outgoing queue full, closing (sessions: closed this way since the last such line)"
            );
        }
        false
    }

    /// Asks the socket to close; the first reason wins. True for the first request.
    pub fn close(&self, reason: CloseReason) -> bool {
        let mut outgoing = self.lock();
        if outgoing.close.is_some() {
            return false;
        }
        outgoing.close = Some(reason);
        drop(outgoing);
        self.writer.notify_one();
        self.closed.notify_waiters();
        true
    }

    /// Whether a close has been asked for.
    pub fn is_closing(&self) -> bool {
        self.lock().close.is_some()
    }

    /// Completes once a close has been asked for.
    pub async fn closed(&self) {
        loop {
            let notified = self.closed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().close.is_some() {
                return;
            }
            notified.await;
        }
    }

    /// For the writer: a close asked for comes first, then the oldest queued message.
    pub fn next_outgoing(&self) -> Next {
        let mut outgoing = self.lock();
        if let Some(reason) = &outgoing.close {
            return Next::Close(reason.clone());
        }
        match outgoing.messages.pop_front() {
            Some(outbound) => Next::Send(outbound),
            None => Next::Wait,
        }
    }

    /// For the writer, after a close: the next message still queued.
    pub fn take_queued(&self) -> Option<Arc<Outbound>> {
        self.lock().messages.pop_front()
    }

    /// Completes when the writer has something to do (see [`SessionHandle::next_outgoing`]).
    pub async fn writer_wake(&self) {
        self.writer.notified().await;
    }

    /// For the writer, when it stops: drops what is queued and refuses further messages.
    pub fn writer_stopped(&self) {
        let mut outgoing = self.lock();
        outgoing.writer_gone = true;
        outgoing.messages.clear();
    }
}

/// Sessions closed for a full outgoing queue: one warning per interval.
static QUEUE_FULL_LOG: Throttle = Throttle::new(crate::log_throttle::INTERVAL);
