//! The presence tracker: which sessions are on which streams, the join/leave events that
//! every change produces — delivered to the stream's members (matches, chat channels, custom
//! streams) or to followers (status) — and the one way to send a message to a stream's members.
//! Matches, status, chat, notifications, custom streams and parties all share this component.
//!
//! A user's notification stream is not stored: every session of the user is on it, hidden,
//! from connect to disconnect, so it is answered from the session registry.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tavern_proto::realtime::{
    ChannelPresenceEvent, Envelope, MatchPresenceEvent, PartyPresenceEvent, StatusPresenceEvent,
    StreamPresenceEvent, UserPresence, envelope::Message,
};
use uuid::Uuid;

use super::registry::SessionRegistry;
use super::session::{Outbound, SessionHandle};
use super::status::StatusRegistry;
use super::stream::{Presence, Stream, StreamMode};
use crate::matches::MatchRegistry;
use crate::social::parties::PartyRegistry;

/// One session on one stream.
struct Member {
    presence: Presence,
    session: Arc<SessionHandle>,
}

#[derive(Default)]
struct State {
    streams: HashMap<Stream, HashMap<Uuid, Member>>,
    by_session: HashMap<Uuid, HashSet<Stream>>,
}

/// A change to one stream, to be announced.
struct Change {
    stream: Stream,
    joins: Vec<Presence>,
    leaves: Vec<Presence>,
    /// Members after the change (for match streams).
    members: Vec<Arc<SessionHandle>>,
}

/// The tracker.
pub struct Tracker {
    state: Mutex<State>,
    sessions: Arc<SessionRegistry>,
    status: Arc<StatusRegistry>,
    /// Told when presences leave an authoritative match's stream.
    matches: Arc<MatchRegistry>,
    /// Told when presences join or leave a party's stream.
    parties: Arc<PartyRegistry>,
}

/// Whether a track call added a presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    /// The session joined the stream.
    New,
    /// The session was there already; its presence data was updated if it differed.
    Existing,
}

impl Tracker {
    pub fn new(
        sessions: Arc<SessionRegistry>,
        status: Arc<StatusRegistry>,
        matches: Arc<MatchRegistry>,
        parties: Arc<PartyRegistry>,
    ) -> Tracker {
        Tracker {
            state: Mutex::new(State::default()),
            sessions,
            status,
            matches,
            parties,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts a session on a stream, or updates its presence there; announces the change.
    pub fn track(
        &self,
        stream: Stream,
        presence: Presence,
        session: Arc<SessionHandle>,
    ) -> Tracked {
        self.track_and_reply(stream, presence, session, |_, _| {})
    }

    /// [`Tracker::track`] for a session joining at its own request: `reply` runs once the
    /// presence is on the stream and before the change is announced, given whether it is new and
    /// every presence then on the stream. So the joiner gets the answer to its request before its
    /// own presence event, as Nakama sends them, and no concurrent join falls between the list
    /// and the event.
    pub fn track_and_reply(
        &self,
        stream: Stream,
        presence: Presence,
        session: Arc<SessionHandle>,
        reply: impl FnOnce(Tracked, Vec<Presence>),
    ) -> Tracked {
        let session_id = presence.session_id;
        let (tracked, change, listed) = {
            let mut state = self.lock();
            let members = state.streams.entry(stream.clone()).or_default();
            let previous = members.insert(
                session_id,
                Member {
                    presence: presence.clone(),
                    session,
                },
            );
            let listed: Vec<Presence> = members.values().map(|m| m.presence.clone()).collect();
            let (tracked, leaves) = match previous {
                None => (Tracked::New, Vec::new()),
                Some(old) if old.presence == presence => {
                    drop(state);
                    reply(Tracked::Existing, listed);
                    return Tracked::Existing;
                }
                Some(old) => (Tracked::Existing, vec![old.presence]),
            };
            let recipients = members.values().map(|m| m.session.clone()).collect();
            state
                .by_session
                .entry(session_id)
                .or_default()
                .insert(stream.clone());
            (
                tracked,
                Change {
                    stream,
                    joins: vec![presence],
                    leaves,
                    members: recipients,
                },
                listed,
            )
        };
        reply(tracked, listed);
        self.announce(change);
        tracked
    }

    /// Takes a session off a stream; false when it was not there.
    pub fn untrack(&self, session_id: Uuid, stream: &Stream) -> bool {
        let change = {
            let mut state = self.lock();
            let Some(change) = remove_member(&mut state, session_id, stream) else {
                return false;
            };
            if let Some(streams) = state.by_session.get_mut(&session_id) {
                streams.remove(stream);
                if streams.is_empty() {
                    state.by_session.remove(&session_id);
                }
            }
            change
        };
        self.announce(change);
        true
    }

    /// Takes a session off every stream (it disconnected).
    pub fn untrack_all(&self, session_id: Uuid) {
        let changes: Vec<Change> = {
            let mut state = self.lock();
            let streams = state.by_session.remove(&session_id).unwrap_or_default();
            streams
                .iter()
                .filter_map(|stream| remove_member(&mut state, session_id, stream))
                .collect()
        };
        for change in changes {
            self.announce(change);
        }
    }

    /// Takes a session off every stream of the given modes except one (single-match rules).
    pub fn untrack_modes_except(&self, session_id: Uuid, modes: &[StreamMode], keep: &Stream) {
        let streams: Vec<Stream> = {
            let state = self.lock();
            state
                .by_session
                .get(&session_id)
                .map(|s| {
                    s.iter()
                        .filter(|st| modes.contains(&st.mode) && *st != keep)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        for stream in streams {
            self.untrack(session_id, &stream);
        }
    }

    /// Drops a whole stream without announcing anything; returns the sessions that were on it.
    pub fn remove_stream(&self, stream: &Stream) -> Vec<Arc<SessionHandle>> {
        let mut state = self.lock();
        let Some(members) = state.streams.remove(stream) else {
            return Vec::new();
        };
        for session_id in members.keys() {
            if let Some(streams) = state.by_session.get_mut(session_id) {
                streams.remove(stream);
                if streams.is_empty() {
                    state.by_session.remove(session_id);
                }
            }
        }
        members.into_values().map(|m| m.session).collect()
    }

    /// Presences on a stream, hidden ones included.
    pub fn list(&self, stream: &Stream) -> Vec<Presence> {
        if let Some(sessions) = self.notified_sessions(stream) {
            return sessions.iter().map(|s| hidden_presence(s)).collect();
        }
        let state = self.lock();
        state
            .streams
            .get(stream)
            .map(|m| m.values().map(|m| m.presence.clone()).collect())
            .unwrap_or_default()
    }

    /// Sessions on a stream.
    pub fn sessions_on(&self, stream: &Stream) -> Vec<Arc<SessionHandle>> {
        if let Some(sessions) = self.notified_sessions(stream) {
            return sessions;
        }
        let state = self.lock();
        state
            .streams
            .get(stream)
            .map(|m| m.values().map(|m| m.session.clone()).collect())
            .unwrap_or_default()
    }

    /// A session's presence on a stream.
    pub fn get(&self, session_id: Uuid, stream: &Stream) -> Option<Presence> {
        if let Some(sessions) = self.notified_sessions(stream) {
            return sessions
                .iter()
                .find(|s| s.id() == session_id)
                .map(|s| hidden_presence(s));
        }
        let state = self.lock();
        state
            .streams
            .get(stream)
            .and_then(|m| m.get(&session_id))
            .map(|m| m.presence.clone())
    }

    pub fn stream_exists(&self, stream: &Stream) -> bool {
        self.count(stream) > 0
    }

    pub fn count(&self, stream: &Stream) -> usize {
        if let Some(sessions) = self.notified_sessions(stream) {
            return sessions.len();
        }
        self.lock().streams.get(stream).map_or(0, HashMap::len)
    }

    /// The sessions of a user's notification stream (all of the user's sessions); `None` for
    /// other streams.
    fn notified_sessions(&self, stream: &Stream) -> Option<Vec<Arc<SessionHandle>>> {
        (stream.mode == StreamMode::Notifications
            && stream.subcontext.is_nil()
            && stream.label.is_empty())
        .then(|| self.sessions.of_user(stream.subject))
    }

    /// Sends a message to every session on a stream; returns how many it was queued for.
    pub fn send(&self, stream: &Stream, envelope: Envelope) -> usize {
        let sessions = self.sessions_on(stream);
        if sessions.is_empty() {
            return 0;
        }
        let outbound = Outbound::new(envelope);
        sessions
            .iter()
            .filter(|s| s.send_outbound(outbound.clone()))
            .count()
    }

    /// Sends a message to the given sessions of a stream's members (others are skipped).
    pub fn send_to(&self, stream: &Stream, session_ids: &[Uuid], envelope: Envelope) -> usize {
        let outbound = Outbound::new(envelope);
        self.sessions_on(stream)
            .iter()
            .filter(|s| session_ids.contains(&s.id()) && s.send_outbound(outbound.clone()))
            .count()
    }

    /// Sends a message to sessions by id, on whatever streams they are (server code naming
    /// presences); unknown sessions are skipped.
    pub fn send_to_sessions(&self, session_ids: &[Uuid], envelope: Envelope) -> usize {
        let outbound = Outbound::new(envelope);
        session_ids
            .iter()
            .filter_map(|id| self.sessions.get(*id))
            .filter(|s| s.send_outbound(outbound.clone()))
            .count()
    }

    /// Sends a message to every user's notification stream: every session on this node.
    pub fn send_to_all_users(&self, envelope: Envelope) -> usize {
        let outbound = Outbound::new(envelope);
        self.sessions
            .all()
            .iter()
            .filter(|s| s.send_outbound(outbound.clone()))
            .count()
    }

    /// Every stream of a mode with its presence count.
    pub fn streams_of_mode(&self, mode: StreamMode) -> Vec<(Stream, usize)> {
        let state = self.lock();
        state
            .streams
            .iter()
            .filter(|(s, _)| s.mode == mode)
            .map(|(s, m)| (s.clone(), m.len()))
            .collect()
    }

    /// Sends the presence event a change produces. Hidden presences are never announced.
    fn announce(&self, change: Change) {
        let shown = |presences: &[Presence]| -> Vec<UserPresence> {
            presences
                .iter()
                .filter(|p| !p.hidden)
                .map(|p| {
                    let mut wire = p.to_user_presence();
                    if change.stream.mode != StreamMode::Status {
                        wire.status = None;
                    }
                    wire
                })
                .collect()
        };
        let joins = shown(&change.joins);
        let leaves = shown(&change.leaves);
        if change.stream.mode == StreamMode::MatchAuthoritative && !change.leaves.is_empty() {
            let node = self.matches.node();
            let left = change.leaves.iter().map(|p| p.to_runtime(node)).collect();
            self.matches.presences_left(change.stream.subject, left);
        }
        // As Nakama: the party hears of the change (and sends its own messages, the party to
        // a joiner, a new leader) before the members get the presence event.
        if change.stream.mode == StreamMode::Party {
            self.parties
                .presences_changed(&change.stream, &change.joins, &change.leaves, self);
        }
        if joins.is_empty() && leaves.is_empty() {
            return;
        }
        let stream = &change.stream;
        let event = match stream.mode {
            StreamMode::MatchRelayed | StreamMode::MatchAuthoritative => {
                Message::MatchPresenceEvent(MatchPresenceEvent {
                    match_id: format!("{}.{}", stream.subject, stream.label),
                    joins,
                    leaves,
                })
            }
            StreamMode::Status => {
                let event = Outbound::new(Envelope {
                    cid: String::new(),
                    message: Some(Message::StatusPresenceEvent(StatusPresenceEvent {
                        joins,
                        leaves,
                    })),
                });
                for follower in self.status.followers(stream.subject) {
                    if let Some(session) = self.sessions.get(follower) {
                        session.send_outbound(event.clone());
                    }
                }
                return;
            }
            StreamMode::ChatRoom | StreamMode::GroupChat | StreamMode::DirectMessage => {
                let wire = stream.to_wire();
                let is = |mode| stream.mode == mode;
                Message::ChannelPresenceEvent(ChannelPresenceEvent {
                    channel_id: stream.channel_id().unwrap_or_default(),
                    joins,
                    leaves,
                    room_name: if is(StreamMode::ChatRoom) {
                        wire.label
                    } else {
                        String::new()
                    },
                    group_id: if is(StreamMode::GroupChat) {
                        wire.subject.clone()
                    } else {
                        String::new()
                    },
                    user_id_one: if is(StreamMode::DirectMessage) {
                        wire.subject
                    } else {
                        String::new()
                    },
                    user_id_two: if is(StreamMode::DirectMessage) {
                        wire.subcontext
                    } else {
                        String::new()
                    },
                })
            }
            StreamMode::Party => Message::PartyPresenceEvent(PartyPresenceEvent {
                party_id: format!("{}.{}", stream.subject, stream.label),
                joins,
                leaves,
            }),
            StreamMode::Notifications | StreamMode::Custom(_) => {
                Message::StreamPresenceEvent(StreamPresenceEvent {
                    stream: Some(stream.to_wire()),
                    joins,
                    leaves,
                })
            }
        };
        let event = Outbound::new(Envelope {
            cid: String::new(),
            message: Some(event),
        });
        for member in change.members {
            member.send_outbound(event.clone());
        }
    }
}

/// A session as a hidden presence on its user's notification stream.
fn hidden_presence(session: &SessionHandle) -> Presence {
    Presence {
        session_id: session.id(),
        user_id: session.user_id(),
        username: session.info.username.clone(),
        hidden: true,
        ..Presence::default()
    }
}

/// Removes a member from a stream (dropping empty streams) and describes the change.
fn remove_member(state: &mut State, session_id: Uuid, stream: &Stream) -> Option<Change> {
    let members = state.streams.get_mut(stream)?;
    let removed = members.remove(&session_id)?;
    let remaining = members.values().map(|m| m.session.clone()).collect();
    if members.is_empty() {
        state.streams.remove(stream);
    }
    Some(Change {
        stream: stream.clone(),
        joins: Vec::new(),
        leaves: vec![removed.presence],
        members: remaining,
    })
}
