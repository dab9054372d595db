//! The ticket pool: adding, removing and looking tickets up.

use std::collections::{BTreeMap, HashMap};

use tavern_query::{Index, Query};
use uuid::Uuid;

use crate::config::Config;
use crate::stats::{Completions, Stats};
use crate::ticket::{Ticket, TicketRequest};
use crate::validate::{self, AddError, RemoveError};

/// Nakama's matchmaker, without clocks, sockets or threads: the server
/// adds and removes tickets, calls [`Matchmaker::process`] every
/// `matchmaker.interval_sec` and delivers the groups it returns.
///
/// Times are Unix nanoseconds passed in by the caller.
#[derive(Debug)]
pub struct Matchmaker {
    pub(crate) config: Config,
    /// By pool key; keys grow with creation time, so iteration is oldest
    /// first.
    pub(crate) tickets: BTreeMap<u64, Ticket>,
    /// Ticket id → pool key.
    ids: HashMap<String, u64>,
    /// Session → pool keys of the tickets it is in (its own and its
    /// parties').
    sessions: HashMap<Uuid, Vec<u64>>,
    /// Party id → pool keys of the party's tickets.
    parties: HashMap<String, Vec<u64>>,
    /// Every ticket's document, searched by the active tickets.
    pub(crate) index: Index<u64>,
    /// Keys of tickets still searching, oldest first; may hold keys of
    /// tickets that have since left.
    pub(crate) active: Vec<u64>,
    next_key: u64,
    last_created_at: i64,
    pub(crate) completions: Completions,
}

impl Matchmaker {
    /// An empty pool.
    pub fn new(config: Config) -> Matchmaker {
        Matchmaker {
            config,
            tickets: BTreeMap::new(),
            ids: HashMap::new(),
            sessions: HashMap::new(),
            parties: HashMap::new(),
            index: Index::new(),
            active: Vec::new(),
            next_key: 0,
            last_created_at: i64::MIN,
            completions: Completions::default(),
        }
    }

    /// Validates and adds a ticket created at `now` (Unix nanoseconds),
    /// returning its id (a UUIDv4). Checks run in Nakama's order: counts,
    /// count multiple, query, then the ticket limit of each session (and of
    /// the party) the ticket is for.
    ///
    /// Creation times never go backwards: a `now` earlier than the last
    /// ticket's is taken as that ticket's time.
    pub fn add(&mut self, req: TicketRequest, now: i64) -> Result<String, AddError> {
        let count_multiple = validate::counts(&req)?;
        let text = if req.query.is_empty() {
            "*"
        } else {
            &req.query
        };
        let query = Query::parse(text).map_err(AddError::Query)?;
        let limit = self.config.max_tickets as usize;
        let sessions: Vec<Uuid> = std::iter::once(&req.presence)
            .chain(&req.others)
            .map(|p| p.session_id)
            .collect();
        let full = |held: Option<&Vec<u64>>| held.map_or(0, Vec::len) >= limit;
        if sessions.iter().any(|s| full(self.sessions.get(s)))
            || req
                .party_id
                .as_ref()
                .is_some_and(|p| full(self.parties.get(p)))
        {
            return Err(AddError::TooManyTickets);
        }
        let party = req.party_id.clone();
        let created_at = now.max(self.last_created_at);
        self.last_created_at = created_at;
        let id = Uuid::new_v4().to_string();
        let key = self.next_key;
        self.next_key += 1;
        let ticket = Ticket::new(req, id.clone(), count_multiple, query, created_at);
        self.index.insert(key, ticket.doc.clone());
        self.tickets.insert(key, ticket);
        self.ids.insert(id.clone(), key);
        for session in sessions {
            self.sessions.entry(session).or_default().push(key);
        }
        if let Some(party) = party {
            self.parties.entry(party).or_default().push(key);
        }
        self.active.push(key);
        Ok(id)
    }

    /// Removes a ticket held by `session_id` (`matchmaker_remove`); a party's
    /// ticket is not the session's to remove.
    pub fn remove(&mut self, session_id: Uuid, ticket: &str) -> Result<(), RemoveError> {
        if ticket.is_empty() {
            return Err(RemoveError::Empty);
        }
        let key = *self.ids.get(ticket).ok_or(RemoveError::NotFound)?;
        let held = &self.tickets[&key];
        if held.entry.party_id.is_some() || held.entry.presence.session_id != session_id {
            return Err(RemoveError::NotFound);
        }
        self.take(key);
        Ok(())
    }

    /// Removes a party's ticket (`party_matchmaker_remove`).
    pub fn remove_party(&mut self, party_id: &str, ticket: &str) -> Result<(), RemoveError> {
        let key = *self.ids.get(ticket).ok_or(RemoveError::NotFound)?;
        if self.tickets[&key].entry.party_id.as_deref() != Some(party_id) {
            return Err(RemoveError::NotFound);
        }
        self.take(key);
        Ok(())
    }

    /// Removes every ticket of a party (its members changed, or it ended),
    /// returning how many there were.
    pub fn remove_party_all(&mut self, party_id: &str) -> usize {
        let keys = self.parties.get(party_id).cloned().unwrap_or_default();
        for &key in &keys {
            self.take(key);
        }
        keys.len()
    }

    /// Removes every ticket a session is in, its parties' too (when its
    /// socket closes), returning how many there were.
    pub fn remove_session(&mut self, session_id: Uuid) -> usize {
        let keys = self.sessions.get(&session_id).cloned().unwrap_or_default();
        for &key in &keys {
            self.take(key);
        }
        keys.len()
    }

    /// Takes a ticket out of the pool.
    pub(crate) fn take(&mut self, key: u64) -> Ticket {
        let ticket = self.tickets.remove(&key).expect("key of a pooled ticket");
        self.ids.remove(&ticket.entry.ticket);
        for session in ticket.sessions() {
            forget(&mut self.sessions, &session, key);
        }
        if let Some(party) = &ticket.entry.party_id {
            forget(&mut self.parties, party, key);
        }
        self.index.remove(&key);
        ticket
    }

    /// Number of tickets in the pool (a party's ticket counts once).
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    /// True if the pool holds no ticket.
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }

    /// Pool size, oldest ticket and the last 10 completions, as of now.
    pub fn stats(&self) -> Stats {
        Stats {
            ticket_count: self.tickets.len(),
            oldest_ticket_create_time: self
                .tickets
                .first_key_value()
                .map(|(_, t)| t.entry.create_time),
            completions: self.completions.to_vec(),
        }
    }
}

/// Drops `key` from the keys listed under `name`, and the list once empty.
fn forget<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<u64>>, name: &K, key: u64) {
    if let Some(keys) = map.get_mut(name) {
        keys.retain(|&k| k != key);
        if keys.is_empty() {
            map.remove(name);
        }
    }
}
