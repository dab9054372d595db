//! Matchmaker settings (the `matchmaker.*` configuration keys that shape
//! matching; `interval_sec` belongs to whoever calls `process`).

/// How the matchmaker admits and matches tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Tickets one session may hold at once (`matchmaker.max_tickets`).
    pub max_tickets: u32,
    /// Passes a ticket searches for a full group before it settles for
    /// `min_count` (`matchmaker.max_intervals`).
    pub max_intervals: u32,
    /// Mutual matching (`matchmaker.rev_precision`): a candidate's own query
    /// must accept the searching ticket, and every two tickets of a group
    /// must accept each other. Without it only the searching ticket's query
    /// is applied, as in Nakama's default.
    pub rev_precision: bool,
}

impl Default for Config {
    /// Nakama's defaults, except that matching is mutual: every member's
    /// query accepts every other member.
    fn default() -> Self {
        Config {
            max_tickets: 3,
            max_intervals: 2,
            rev_precision: true,
        }
    }
}
