//! The realtime side: the `/ws` socket, live sessions, presence tracking on streams, status
//! follows, and the envelope pipeline that answers each client message.

mod nk;
pub mod pipeline;
pub mod registry;
pub mod session;
pub mod socket;
pub mod status;
pub mod stream;
pub mod tracker;

use std::sync::Arc;

use registry::SessionRegistry;
use status::StatusRegistry;
use tracker::Tracker;

use crate::matches::MatchRegistry;
use crate::social::parties::PartyRegistry;

/// The realtime components, shared by the socket and (later) matches and the matchmaker.
pub struct Realtime {
    pub sessions: Arc<SessionRegistry>,
    pub status: Arc<StatusRegistry>,
    pub tracker: Tracker,
    /// The node field of session ids (UUIDv1), derived from the node name.
    node_id: [u8; 6],
}

impl Realtime {
    pub fn new(
        node_name: &str,
        matches: Arc<MatchRegistry>,
        parties: Arc<PartyRegistry>,
    ) -> Realtime {
        let sessions = Arc::new(SessionRegistry::new());
        let status = Arc::new(StatusRegistry::new());
        let tracker = Tracker::new(sessions.clone(), status.clone(), matches, parties);
        Realtime {
            sessions,
            status,
            tracker,
            node_id: node_id(node_name),
        }
    }

    /// A new session id: a time-based UUID whose node field names this server.
    pub fn new_session_id(&self) -> uuid::Uuid {
        uuid::Uuid::now_v1(&self.node_id)
    }
}

/// Six bytes derived from the node name (FNV-1a), as the UUIDv1 node field.
fn node_id(name: &str) -> [u8; 6] {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let bytes = hash.to_be_bytes();
    [bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_ids_are_version_1_with_a_stable_node() {
        let matches = std::sync::Arc::new(crate::matches::MatchRegistry::new("nakama"));
        let config = tavern_config::Matchmaker::default();
        let matchmaker = std::sync::Arc::new(crate::matchmaking::MatchmakerHost::new(&config));
        let parties = std::sync::Arc::new(crate::social::parties::PartyRegistry::new(
            "nakama", matchmaker,
        ));
        let realtime = super::Realtime::new("nakama", matches, parties);
        let a = realtime.new_session_id();
        let b = realtime.new_session_id();
        assert_eq!(a.get_version_num(), 1);
        assert_ne!(a, b);
        assert_eq!(super::node_id("nakama"), super::node_id("nakama"));
        assert_ne!(super::node_id("nakama"), super::node_id("other"));
    }
}
