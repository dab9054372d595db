//! Tickets: what a client asks for, what the pool keeps, and what a matched
//! group hands back.

use std::collections::HashMap;

use tavern_query::{Clause, Document, Query, RangeOp};
use uuid::Uuid;

/// The user behind a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub username: String,
    /// The node holding the session.
    pub node: String,
}

/// A `matchmaker_add` request from one session, or a
/// `party_matchmaker_add` for a whole party.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRequest {
    /// The session asking; for a party, its first member.
    pub presence: Presence,
    /// A party ticket's other members (empty for a solo ticket): every
    /// presence counts towards a group's size and each gets an entry when
    /// matched.
    pub others: Vec<Presence>,
    /// Set for a party ticket, which only the party may remove. Indexed as
    /// `party_id`; a ticket never matches tickets of its own party.
    pub party_id: Option<String>,
    pub min_count: i32,
    pub max_count: i32,
    /// `None` means 1.
    pub count_multiple: Option<i32>,
    /// Query over the other tickets; empty means `*`.
    pub query: String,
    pub string_properties: HashMap<String, String>,
    pub numeric_properties: HashMap<String, f64>,
}

/// One matched presence of a ticket (a party ticket has one per member),
/// as delivered in `matchmaker_matched` and to the matched hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub ticket: String,
    pub presence: Presence,
    pub party_id: Option<String>,
    pub string_properties: HashMap<String, String>,
    pub numeric_properties: HashMap<String, f64>,
    /// Unix nanoseconds.
    pub create_time: i64,
}

/// A ticket in the pool.
#[derive(Debug)]
pub(crate) struct Ticket {
    /// The entry of the first presence.
    pub(crate) entry: Entry,
    /// A party ticket's other presences.
    pub(crate) others: Vec<Presence>,
    pub(crate) min_count: i32,
    pub(crate) max_count: i32,
    pub(crate) count_multiple: i32,
    /// Passes this ticket has searched in.
    pub(crate) intervals: u32,
    /// The client's query, which other tickets must satisfy.
    pub(crate) query: Query,
    /// `query` plus the count ranges and own-party exclusion of a search.
    pub(crate) search: Query,
    /// Highest score a hit of `search` can have (see `hits`).
    pub(crate) top_score: f64,
    /// What other tickets' queries are tested against.
    pub(crate) doc: Document,
}

impl Ticket {
    pub(crate) fn new(
        req: TicketRequest,
        id: String,
        count_multiple: i32,
        query: Query,
        created_at: i64,
    ) -> Ticket {
        let doc = document(&req, &id, created_at);
        let mut search = query
            .clone()
            .require(Clause::range(
                "min_count",
                RangeOp::Ge,
                f64::from(req.min_count),
            ))
            .require(Clause::range(
                "max_count",
                RangeOp::Le,
                f64::from(req.max_count),
            ));
        if let Some(party) = &req.party_id {
            search = search.exclude(Clause::term("party_id", party));
        }
        let top_score = crate::hits::top_score(&search);
        let others = req.others;
        Ticket {
            entry: Entry {
                ticket: id,
                presence: req.presence,
                party_id: req.party_id,
                string_properties: req.string_properties,
                numeric_properties: req.numeric_properties,
                create_time: created_at,
            },
            others,
            min_count: req.min_count,
            max_count: req.max_count,
            count_multiple,
            intervals: 0,
            query,
            search,
            top_score,
            doc,
        }
    }

    /// How many presences the ticket brings to a group.
    pub(crate) fn count(&self) -> usize {
        1 + self.others.len()
    }

    /// The sessions of its presences.
    pub(crate) fn sessions(&self) -> impl Iterator<Item = Uuid> + '_ {
        std::iter::once(self.entry.presence.session_id)
            .chain(self.others.iter().map(|p| p.session_id))
    }

    /// True if two tickets have a session in common.
    pub(crate) fn shares_session(&self, other: &Ticket) -> bool {
        self.sessions().any(|s| other.sessions().any(|o| o == s))
    }

    /// One entry per presence, the first presence's first.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = Entry> {
        let first = self.entry;
        let rest: Vec<Entry> = self
            .others
            .into_iter()
            .map(|presence| Entry {
                presence,
                ..first.clone()
            })
            .collect();
        std::iter::once(first).chain(rest)
    }

    /// True if a group of `size` suits this ticket.
    pub(crate) fn accepts_size(&self, size: i32) -> bool {
        self.min_count <= size && size <= self.max_count && size % self.count_multiple == 0
    }
}

/// The indexed form of a ticket, with Nakama's field names: `ticket`,
/// `min_count`, `max_count`, `party_id`, `created_at` and each property as
/// `properties.<name>` (a numeric property hides a string one of the same
/// name).
fn document(req: &TicketRequest, id: &str, created_at: i64) -> Document {
    let mut doc = Document::new();
    doc.add_keyword("ticket", id);
    doc.add_number("min_count", f64::from(req.min_count));
    doc.add_number("max_count", f64::from(req.max_count));
    if let Some(party) = &req.party_id {
        doc.add_keyword("party_id", party);
    }
    doc.add_number("created_at", created_at as f64);
    for (name, value) in &req.string_properties {
        if !req.numeric_properties.contains_key(name) {
            doc.add_string(&format!("properties.{name}"), value);
        }
    }
    for (name, &value) in &req.numeric_properties {
        doc.add_number(&format!("properties.{name}"), value);
    }
    doc
}
