//! What the matchmaker-matched hook receives: the matched tickets' users and properties.

use std::collections::HashMap;

use crate::presence::Presence;

/// One matched user of a matchmaker result.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchmakerEntry {
    /// Who was matched.
    pub presence: Presence,
    /// The ticket that matched.
    pub ticket: String,
    /// The ticket's string and numeric properties.
    pub properties: HashMap<String, serde_json::Value>,
    /// The party the ticket was made for, if any.
    pub party_id: Option<String>,
}
