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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    /// Only on status streams: the status text (empty = online with no status).
    pub status: Option<String>,
}

impl Presence {
    /// The presence as the wire shows it.
    pub fn to_user_presence(&self) -> UserPresence {
        UserPresence {
            user_id: self.user_id.to_string(),
            session_id: self.session_id.to_string(),
            username: self.username.clone(),
            persistence: false,
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
}
