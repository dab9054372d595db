//! A ticket's search results in Nakama's order — score descending, then
//! oldest first — produced lazily where that is exact.
//!
//! The index yields matches in insertion order, which is creation order
//! here. Every ticket document holds one value per field, so each clause
//! scores at most `max(b², b, 1)` for its boost `b` (1 without one), and a
//! query's highest possible score is the sum over its MUST and SHOULD
//! clauses. Matches reaching that score come first in Nakama's order and,
//! among themselves, already in creation order: they are passed on as the
//! index finds them, so a search that fills a group early stops early.
//! Lower-scored matches are held back, then sorted and passed on once the
//! index is exhausted. Queries without boosts or SHOULD clauses (and `*`)
//! give every match the same score and never wait for the full scan.

use tavern_query::{Index, Occur, Query, Search};

/// The highest score any ticket document can get under `query`.
pub(crate) fn top_score(query: &Query) -> f64 {
    let mut top = 0.0;
    let mut scoring = false;
    for clause in query.clauses() {
        if clause.occur() != Occur::MustNot {
            let b = clause.boost().unwrap_or(1.0);
            top += (b * b).max(b).max(1.0);
            scoring = true;
        }
    }
    // A query of exclusions alone, or `*`, scores 1.
    if scoring { top } else { 1.0 }
}

/// The keys of a search's matches in Nakama's order.
pub(crate) struct Hits<'a> {
    search: Search<'a, u64>,
    top: f64,
    held: Vec<(u64, f64)>,
    sorted: Option<std::vec::IntoIter<(u64, f64)>>,
}

impl<'a> Hits<'a> {
    pub(crate) fn new(index: &'a Index<u64>, query: &'a Query, top: f64) -> Hits<'a> {
        Hits {
            search: index.search(query),
            top,
            held: Vec::new(),
            sorted: None,
        }
    }
}

impl Iterator for Hits<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.sorted.is_none() {
            // Equal sums of the same clause scores are equal to the bit;
            // the margin only absorbs a different order of addition.
            let floor = self.top - self.top.abs() * 1e-12;
            for (&key, score) in self.search.by_ref() {
                if score >= floor {
                    return Some(key);
                }
                self.held.push((key, score));
            }
            let mut held = std::mem::take(&mut self.held);
            // Stable: equal scores stay oldest first.
            held.sort_by(|a, b| b.1.total_cmp(&a.1));
            self.sorted = Some(held.into_iter());
        }
        self.sorted.as_mut()?.next().map(|(key, _)| key)
    }
}
