//! Streams and presences: who is where. A stream is a named channel of presences (a match,
//! a user's status, a chat room); a presence is one session of one user on one stream.

use tavern_proto::realtime::UserPresence;
use uuid::Uuid;

/// Stream modes, with Nakama's numbers; any other number is a custom stream of game code
/// (`nk.stream_user_join`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamMode {
    Notifications,
    Status,
    ChatRoom,
    GroupChat,
    DirectMessage,
    MatchRelayed,
    MatchAuthoritative,
    Party,
    /// A mode Tavern gives no meaning to (8..=255).
    Custom(u8),
}

impl StreamMode {
    /// Nakama's number of the mode.
    pub fn number(self) -> u8 {
        match self {
            StreamMode::Notifications => 0,
            StreamMode::Status => 1,
            StreamMode::ChatRoom => 2,
            StreamMode::GroupChat => 3,
            StreamMode::DirectMessage => 4,
            StreamMode::MatchRelayed => 5,
            StreamMode::MatchAuthoritative => 6,
            StreamMode::Party => 7,
            StreamMode::Custom(n) => n,
        }
    }

    /// The mode of a number.
    pub fn from_number(n: u8) -> StreamMode {
        match n {
            0 => StreamMode::Notifications,
            1 => StreamMode::Status,
            2 => StreamMode::ChatRoom,
            3 => StreamMode::GroupChat,
            4 => StreamMode::DirectMessage,
            5 => StreamMode::MatchRelayed,
            6 => StreamMode::MatchAuthoritative,
            7 => StreamMode::Party,
            n => StreamMode::Custom(n),
        }
    }
}

/// A stream, as Nakama identifies one: mode, subject (a user, match, group or party id),
/// subcontext (the second user of a direct-message stream) and label (a node name for
/// matches, a room name for chat rooms). Unused ids are the nil UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stream {
    pub mode: StreamMode,
    pub subject: Uuid,
    pub subcontext: Uuid,
    pub label: String,
}

impl Stream {
    /// A stream without a subcontext.
    pub fn new(mode: StreamMode, subject: Uuid, label: impl Into<String>) -> Stream {
        Stream {
            mode,
            subject,
            subcontext: Uuid::nil(),
            label: label.into(),
        }
    }

    /// The stream of a match id `<uuid>.<node>`; relayed when the node is empty.
    pub fn for_match(id: &MatchId) -> Stream {
        let mode = if id.node.is_empty() {
            StreamMode::MatchRelayed
        } else {
            StreamMode::MatchAuthoritative
        };
        Stream::new(mode, id.uuid, id.node.clone())
    }

    /// A user's status stream.
    pub fn status(user_id: Uuid) -> Stream {
        Stream::new(StreamMode::Status, user_id, "")
    }

    /// A user's notification stream: every session of the user is on it, hidden.
    pub fn notifications(user_id: Uuid) -> Stream {
        Stream::new(StreamMode::Notifications, user_id, "")
    }

    /// Whether the stream is a chat channel (room, group or direct message).
    pub fn is_channel(&self) -> bool {
        matches!(
            self.mode,
            StreamMode::ChatRoom | StreamMode::GroupChat | StreamMode::DirectMessage
        )
    }

    /// Nakama's channel id of a chat stream, `<mode>.<subject>.<subcontext>.<label>` with nil
    /// ids left empty: a room `2...<name>`, a group `3.<group id>..`, a direct message
    /// `4.<user id>.<user id>.`. `None` for streams that are not channels.
    pub fn channel_id(&self) -> Option<String> {
        if !self.is_channel() {
            return None;
        }
        let id = |id: Uuid| {
            if id.is_nil() {
                String::new()
            } else {
                id.to_string()
            }
        };
        Some(format!(
            "{}.{}.{}.{}",
            self.mode.number(),
            id(self.subject),
            id(self.subcontext),
            self.label
        ))
    }

    /// The chat stream of a channel id, by Nakama's rules: a room has a 1-64 byte label and
    /// no ids, a group only a subject, a direct message no label.
    pub fn from_channel_id(channel_id: &str) -> Option<Stream> {
        let mut parts = channel_id.splitn(4, '.');
        let (mode, subject, subcontext, label) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let id = |text: &str| {
            if text.is_empty() {
                Some(Uuid::nil())
            } else {
                Uuid::parse_str(text).ok()
            }
        };
        let (mode, subject, subcontext, label) = match mode {
            "2" if subject.is_empty()
                && subcontext.is_empty()
                && (1..=64).contains(&label.len()) =>
            {
                (StreamMode::ChatRoom, Uuid::nil(), Uuid::nil(), label)
            }
            "3" if subcontext.is_empty() && label.is_empty() => {
                (StreamMode::GroupChat, id(subject)?, Uuid::nil(), "")
            }
            "4" if label.is_empty() => {
                (StreamMode::DirectMessage, id(subject)?, id(subcontext)?, "")
            }
            _ => return None,
        };
        Some(Stream {
            mode,
            subject,
            subcontext,
            label: label.to_owned(),
        })
    }

    /// The stream as the wire shows it (`stream_data`, `stream_presence_event`): nil ids empty.
    pub fn to_wire(&self) -> tavern_proto::realtime::Stream {
        let id = |id: Uuid| {
            if id.is_nil() {
                String::new()
            } else {
                id.to_string()
            }
        };
        tavern_proto::realtime::Stream {
            mode: i32::from(self.mode.number()),
            subject: id(self.subject),
            subcontext: id(self.subcontext),
            label: self.label.clone(),
        }
    }
}

/// A parsed match id: `<uuid>.` (relayed) or `<uuid>.<node>` (authoritative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchId {
    pub uuid: Uuid,
    pub node: String,
}

impl MatchId {
    /// Splits on the first `.`; the first part must be a UUID.
    pub fn parse(text: &str) -> Option<MatchId> {
        let (uuid, node) = text.split_once('.')?;
        Some(MatchId {
            uuid: Uuid::parse_str(uuid).ok()?,
            node: node.to_owned(),
        })
    }
}

impl std::fmt::Display for MatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.uuid, self.node)
    }
}

/// One session of one user on a stream, with what others see of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    /// The status text: what status streams show (empty = online with no status); game code
    /// may set it on custom streams, where the wire does not show it.
    pub status: Option<String>,
    /// A hidden presence is on the stream (it receives what the stream gets, and server code
    /// lists it) but its joins and leaves are never announced, nor listed to clients.
    pub hidden: bool,
    /// Whether the presence's chat messages are kept in the channel's history.
    pub persistence: bool,
}

impl Presence {
    /// The presence as the wire shows it.
    pub fn to_user_presence(&self) -> UserPresence {
        UserPresence {
            user_id: self.user_id.to_string(),
            session_id: self.session_id.to_string(),
            username: self.username.clone(),
            persistence: self.persistence,
            status: self.status.clone(),
        }
    }
}

impl Presence {
    /// The presence as match handlers and hooks see it.
    pub fn to_runtime(&self, node: &str) -> tavern_runtime::Presence {
        tavern_runtime::Presence {
            user_id: self.user_id.to_string(),
            session_id: self.session_id.to_string(),
            username: self.username.clone(),
            node: node.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_ids_split_on_the_first_dot() {
        let relayed = MatchId::parse("bc42ac9d-9bb6-4240-b4ea-a7cde3590b74.").unwrap();
        assert_eq!(relayed.node, "");
        assert_eq!(Stream::for_match(&relayed).mode, StreamMode::MatchRelayed);
        let auth = MatchId::parse("bc42ac9d-9bb6-4240-b4ea-a7cde3590b74.nakama.x").unwrap();
        assert_eq!(auth.node, "nakama.x");
        assert_eq!(
            Stream::for_match(&auth).mode,
            StreamMode::MatchAuthoritative
        );
        assert_eq!(
            auth.to_string(),
            "bc42ac9d-9bb6-4240-b4ea-a7cde3590b74.nakama.x"
        );
        assert!(MatchId::parse("not-a-match-id").is_none());
        assert!(MatchId::parse("not-a-uuid.").is_none());
    }

    #[test]
    fn channel_ids_round_trip_in_nakamas_format() {
        let a = Uuid::parse_str("11111111-2222-3333-4444-555555555555").unwrap();
        let b = Uuid::parse_str("66666666-7777-8888-9999-000000000000").unwrap();
        let room = Stream::new(StreamMode::ChatRoom, Uuid::nil(), "lobby.eu");
        assert_eq!(room.channel_id().unwrap(), "2...lobby.eu");
        let group = Stream::new(StreamMode::GroupChat, a, "");
        assert_eq!(group.channel_id().unwrap(), format!("3.{a}.."));
        let dm = Stream {
            mode: StreamMode::DirectMessage,
            subject: a,
            subcontext: b,
            label: String::new(),
        };
        assert_eq!(dm.channel_id().unwrap(), format!("4.{a}.{b}."));
        for stream in [room, group, dm] {
            let id = stream.channel_id().unwrap();
            assert_eq!(Stream::from_channel_id(&id), Some(stream));
        }
        assert!(Stream::status(a).channel_id().is_none());
        for bad in [
            "",
            "2...",
            "2.x..room",
            "3.not-a-uuid..",
            &format!("3.{a}..label"),
            &format!("4.{a}.{b}.label"),
            "5...room",
            "2..",
            &format!("2...{}", "x".repeat(65)),
        ] {
            assert!(Stream::from_channel_id(bad).is_none(), "{bad}");
        }
        // Nakama lets a group id be empty; it is then the nil UUID.
        assert_eq!(
            Stream::from_channel_id("3...").map(|s| s.subject),
            Some(Uuid::nil())
        );
    }
}
