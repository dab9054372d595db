//! The parties of this node, by id, and what the tracker tells them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use uuid::Uuid;

use super::party::{Party, PartyError};
use crate::matchmaking::MatchmakerHost;
use crate::realtime::stream::{Presence, Stream, StreamMode};
use crate::realtime::tracker::Tracker;

/// Every party created on this node.
pub struct PartyRegistry {
    node: String,
    parties: Mutex<HashMap<Uuid, Arc<Party>>>,
    /// Holds the parties' tickets.
    matchmaker: Arc<MatchmakerHost>,
}

impl PartyRegistry {
    pub fn new(node: &str, matchmaker: Arc<MatchmakerHost>) -> PartyRegistry {
        PartyRegistry {
            node: node.to_owned(),
            parties: Mutex::new(HashMap::new()),
            matchmaker,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Arc<Party>>> {
        self.parties.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new party; `creator` (a session id) leads it once on its stream.
    pub fn create(&self, open: bool, max_size: usize, creator: Uuid) -> Arc<Party> {
        let id = Uuid::new_v4();
        let party = Arc::new(Party::new(id, &self.node, open, max_size, creator));
        self.lock().insert(id, party.clone());
        party
    }

    /// The party of an id's two parts; parties of other nodes are not found.
    pub fn get(&self, id: Uuid, node: &str) -> Result<Arc<Party>, PartyError> {
        if node != self.node {
            return Err(PartyError::NotFound);
        }
        self.lock().get(&id).cloned().ok_or(PartyError::NotFound)
    }

    /// Forgets a party, takes every presence off its stream without presence events (as
    /// Nakama: everyone goes at once) and its tickets out of the matchmaker.
    pub fn stop(&self, party: &Party, tracker: &Tracker) {
        self.lock().remove(&party.id);
        tracker.remove_stream(&party.stream);
        self.matchmaker.pool().remove_party_all(&party.id_str);
    }

    /// Presences came onto or left a party stream (from the tracker, before it announces
    /// them). A session both leaving and joining only changed its presence data. As Nakama,
    /// any change of members takes the party's tickets out of the matchmaker.
    pub fn presences_changed(
        &self,
        stream: &Stream,
        joins: &[Presence],
        leaves: &[Presence],
        tracker: &Tracker,
    ) {
        if stream.mode != StreamMode::Party || stream.label != self.node {
            return;
        }
        let Some(party) = self.lock().get(&stream.subject).cloned() else {
            return;
        };
        let updated =
            |p: &Presence, others: &[Presence]| others.iter().any(|o| o.session_id == p.session_id);
        let came: Vec<Presence> = joins
            .iter()
            .filter(|p| !updated(p, leaves))
            .cloned()
            .collect();
        let went: Vec<Presence> = leaves
            .iter()
            .filter(|p| !updated(p, joins))
            .cloned()
            .collect();
        party.joined(&came, tracker);
        if !went.is_empty() && party.left(&went, tracker) {
            return self.stop(&party, tracker);
        }
        if !(came.is_empty() && went.is_empty()) {
            self.matchmaker.pool().remove_party_all(&party.id_str);
        }
    }
}

/// Splits a party id `<uuid>.<node>` on its first dot.
pub fn parse_id(text: &str) -> Option<(Uuid, &str)> {
    let (id, node) = text.split_once('.')?;
    Some((Uuid::parse_str(id).ok()?, node))
}
