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

/// A `matchmaker_add` request from one session.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRequest {
    pub presence: Presence,
    /// Indexed as `party_id`; a ticket never matches tickets of its own
    /// party. Party tickets with several presences are not supported.
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

/// One matched ticket, as delivered in `matchmaker_matched` and to the
/// matched hook.
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
    pub(crate) entry: Entry,
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
        Ticket {
            entry: Entry {
                ticket: id,
                presence: req.presence,
                party_id: req.party_id,
                string_properties: req.string_properties,
                numeric_properties: req.numeric_properties,
                create_time: created_at,
            },
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

    pub(crate) fn session(&self) -> Uuid {
        self.entry.presence.session_id
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
