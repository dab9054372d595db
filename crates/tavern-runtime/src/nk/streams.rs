//! Streams and the presences on them: the `Nk` functions and the part of the backend behind them.
//!
//! A stream is Nakama's unit of real-time fan-out: chat channels, matches, statuses and a
//! user's notifications are streams, and game code may put sessions on streams of its own
//! (any mode Tavern gives no meaning to, 8 and up) and send them `stream_data`. Everything here
//! is in memory on this node, so these functions are synchronous.

use super::{Nk, domain};
use crate::{Presence, RuntimeError, realtime};

/// The server's side of the streams functions of [`Nk`](super::Nk).
pub trait StreamsBackend: Send + Sync {
    /// See [`Nk::stream_user_list`].
    fn stream_user_list(
        &self,
        stream: &StreamId,
        include_hidden: bool,
        include_not_hidden: bool,
    ) -> Result<Vec<StreamPresence>, RuntimeError>;
    /// See [`Nk::stream_user_get`].
    fn stream_user_get(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<PresenceMeta>, RuntimeError>;
    /// See [`Nk::stream_user_join`] (`update: false`) and [`Nk::stream_user_update`].
    fn stream_user_track(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
        meta: PresenceMeta,
        update: bool,
    ) -> Result<bool, RuntimeError>;
    /// See [`Nk::stream_user_leave`].
    fn stream_user_leave(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), RuntimeError>;
    /// See [`Nk::stream_count`].
    fn stream_count(&self, stream: &StreamId) -> Result<usize, RuntimeError>;
    /// See [`Nk::stream_close`].
    fn stream_close(&self, stream: &StreamId) -> Result<(), RuntimeError>;
    /// See [`Nk::stream_send_raw`]; [`Nk::stream_send`] sends a `stream_data` through it.
    fn stream_send_raw(
        &self,
        stream: &StreamId,
        envelope: realtime::Envelope,
        presences: &[Presence],
    ) -> Result<(), RuntimeError>;
}

/// A stream as game code names it: a mode (0 notifications, 1 status, 2 chat room, 3 group
/// chat, 4 direct message, 5 relayed match, 6 authoritative match, 7 party, 8 and up free for
/// game code), a subject and a subcontext (UUIDs, or `""` for none) and a label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StreamId {
    pub mode: u8,
    pub subject: String,
    pub subcontext: String,
    pub label: String,
}

impl StreamId {
    /// A stream of a mode with only a label (a custom stream named by a string).
    pub fn labelled(mode: u8, label: impl Into<String>) -> StreamId {
        StreamId {
            mode,
            label: label.into(),
            ..StreamId::default()
        }
    }
}

/// What a presence on a stream carries besides its user and session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceMeta {
    /// Hidden presences receive what the stream gets, but their joins and leaves are not
    /// announced.
    pub hidden: bool,
    /// Whether the presence's chat messages are kept (chat streams).
    pub persistence: bool,
    /// The session's username (set by the server; ignored on join and update).
    pub username: String,
    /// A free status text.
    pub status: String,
}

/// A presence on a stream with what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPresence {
    pub presence: Presence,
    pub meta: PresenceMeta,
}

impl Nk {
    /// The presences on a stream on this node: hidden ones when `include_hidden`, the others
    /// when `include_not_hidden`.
    pub fn stream_user_list(
        &self,
        stream: &StreamId,
        include_hidden: bool,
        include_not_hidden: bool,
    ) -> Result<Vec<StreamPresence>, RuntimeError> {
        domain(self.backend.streams())?.stream_user_list(stream, include_hidden, include_not_hidden)
    }

    /// A session's presence on a stream, or `None`.
    pub fn stream_user_get(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<PresenceMeta>, RuntimeError> {
        domain(self.backend.streams())?.stream_user_get(stream, user_id, session_id)
    }

    /// Puts a session (of a socket connected to this node) on a stream; `true` when it was not
    /// there before. Members are told with a `stream_presence_event` unless `hidden`.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for malformed ids and
    /// [`Code::NotFound`](crate::Code::NotFound) when no such session is connected.
    ///
    /// ```no_run
    /// # fn demo(nk: &tavern_runtime::Nk, user_id: &str, session_id: &str) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::StreamId;
    /// let lobby = StreamId::labelled(123, "lobby");
    /// nk.stream_user_join(&lobby, user_id, session_id, false, false, "")?;
    /// nk.stream_send(&lobby, r#"{"hello":"everyone"}"#, &[], true)?;
    /// # Ok(()) }
    /// ```
    pub fn stream_user_join(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
        hidden: bool,
        persistence: bool,
        status: &str,
    ) -> Result<bool, RuntimeError> {
        let meta = PresenceMeta {
            hidden,
            persistence,
            username: String::new(),
            status: status.to_owned(),
        };
        domain(self.backend.streams())?.stream_user_track(stream, user_id, session_id, meta, false)
    }

    /// Changes a session's presence on a stream (joining it if it was not there).
    pub fn stream_user_update(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
        hidden: bool,
        persistence: bool,
        status: &str,
    ) -> Result<(), RuntimeError> {
        let meta = PresenceMeta {
            hidden,
            persistence,
            username: String::new(),
            status: status.to_owned(),
        };
        domain(self.backend.streams())?
            .stream_user_track(stream, user_id, session_id, meta, true)
            .map(|_| ())
    }

    /// Takes a session off a stream (nothing when it was not there).
    pub fn stream_user_leave(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.streams())?.stream_user_leave(stream, user_id, session_id)
    }

    /// Takes a presence off a stream, as [`Nk::stream_user_leave`].
    pub fn stream_user_kick(
        &self,
        stream: &StreamId,
        presence: &Presence,
    ) -> Result<(), RuntimeError> {
        self.stream_user_leave(stream, &presence.user_id, &presence.session_id)
    }

    /// How many presences a stream has on this node, hidden ones included.
    pub fn stream_count(&self, stream: &StreamId) -> Result<usize, RuntimeError> {
        domain(self.backend.streams())?.stream_count(stream)
    }

    /// Takes every presence off a stream, announcing nothing.
    pub fn stream_close(&self, stream: &StreamId) -> Result<(), RuntimeError> {
        domain(self.backend.streams())?.stream_close(stream)
    }

    /// Sends `stream_data` with this data (no sender) to every presence on the stream, or
    /// only to the sessions of `presences` when it is not empty.
    pub fn stream_send(
        &self,
        stream: &StreamId,
        data: &str,
        presences: &[Presence],
        reliable: bool,
    ) -> Result<(), RuntimeError> {
        let wire = realtime::Stream {
            mode: i32::from(stream.mode),
            subject: stream.subject.clone(),
            subcontext: stream.subcontext.clone(),
            label: stream.label.clone(),
        };
        let envelope = realtime::Envelope {
            cid: String::new(),
            message: Some(realtime::envelope::Message::StreamData(
                realtime::StreamData {
                    stream: Some(wire),
                    sender: None,
                    data: data.to_owned(),
                    reliable,
                },
            )),
        };
        self.stream_send_raw(stream, envelope, presences)
    }

    /// Sends any realtime envelope to every presence on the stream, or only to the sessions of
    /// `presences` when it is not empty.
    pub fn stream_send_raw(
        &self,
        stream: &StreamId,
        envelope: realtime::Envelope,
        presences: &[Presence],
    ) -> Result<(), RuntimeError> {
        domain(self.backend.streams())?.stream_send_raw(stream, envelope, presences)
    }
}
