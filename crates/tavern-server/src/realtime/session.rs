//! A connected socket as the rest of the server sees it: who it is, its wire format, and a
//! bounded outgoing queue. A full queue closes the session instead of stalling the sender.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use tavern_proto::realtime::Envelope;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

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
pub struct SessionHandle {
    pub info: SessionInfo,
    outgoing: mpsc::Sender<Arc<Outbound>>,
    close: watch::Sender<Option<CloseReason>>,
    /// Set once the session is being torn down; further sends are dropped.
    closing: Mutex<bool>,
}

/// The receiving ends the socket's writer task drains.
pub struct SessionQueues {
    pub outgoing: mpsc::Receiver<Arc<Outbound>>,
    pub close: watch::Receiver<Option<CloseReason>>,
}

impl SessionHandle {
    pub fn new(info: SessionInfo, queue_size: usize) -> (Arc<SessionHandle>, SessionQueues) {
        let (outgoing_tx, outgoing_rx) = mpsc::channel(queue_size.max(1));
        let (close_tx, close_rx) = watch::channel(None);
        let handle = Arc::new(SessionHandle {
            info,
            outgoing: outgoing_tx,
            close: close_tx,
            closing: Mutex::new(false),
        });
        (
            handle,
            SessionQueues {
                outgoing: outgoing_rx,
                close: close_rx,
            },
        )
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
        match self.outgoing.try_send(outbound) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(session_id = %self.info.id, "session outgoing queue full, closing");
                self.close(CloseReason::QUEUE_FULL);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Watches for a close request.
    pub fn close_watch(&self) -> watch::Receiver<Option<CloseReason>> {
        self.close.subscribe()
    }

    /// Asks the socket to close; the first reason wins.
    pub fn close(&self, reason: CloseReason) {
        let mut closing = self.closing.lock().unwrap_or_else(|p| p.into_inner());
        if !*closing {
            *closing = true;
            let _ = self.close.send(Some(reason));
        }
    }
}
