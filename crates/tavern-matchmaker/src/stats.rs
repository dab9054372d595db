//! Matchmaker statistics, as `GET /v2/matchmaker/stats` reports them.

use std::collections::VecDeque;

/// How many completions the stats keep.
const COMPLETIONS_KEPT: usize = 10;

/// One matched ticket: when it was created and when it was matched, in
/// Unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub create_time: i64,
    pub complete_time: i64,
}

/// A snapshot of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Tickets in the pool.
    pub ticket_count: usize,
    /// Creation time of the oldest ticket in the pool, Unix nanoseconds.
    pub oldest_ticket_create_time: Option<i64>,
    /// The last matched tickets, oldest first (at most 10).
    pub completions: Vec<Completion>,
}

/// The last completions, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Completions(VecDeque<Completion>);

impl Completions {
    pub(crate) fn record(&mut self, completion: Completion) {
        if self.0.len() == COMPLETIONS_KEPT {
            self.0.pop_front();
        }
        self.0.push_back(completion);
    }

    pub(crate) fn to_vec(&self) -> Vec<Completion> {
        self.0.iter().copied().collect()
    }
}
