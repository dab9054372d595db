//! Ranks from memory: for each board and period (its expiry time), every record's owner in
//! rank order, so a rank costs a couple of binary searches instead of a count over the table.
//!
//! The order is Nakama's: score, then subscore (both best first), then owner id (in the same
//! direction), so ties never share a rank. A period's ranks are a list of sorted blocks of at
//! most [`MAX_BLOCK`] owners: a rank is the sizes of the blocks before plus the place in its
//! block; an insert or removal moves at most one block's entries.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use uuid::Uuid;

use super::board::SortOrder;

/// A block is split in two when it grows past this.
const MAX_BLOCK: usize = 2048;

/// One owner's place: what orders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    score: i64,
    subscore: i64,
    /// The owner id's bytes: their order is the order of the id's text.
    owner: [u8; 16],
}

/// The ranks of one board in one period.
#[derive(Debug)]
pub struct Ranks {
    order: SortOrder,
    owners: HashMap<[u8; 16], (i64, i64)>,
    blocks: Vec<Vec<Entry>>,
}

impl Ranks {
    fn new(order: SortOrder) -> Ranks {
        Ranks {
            order,
            owners: HashMap::new(),
            blocks: Vec::new(),
        }
    }

    /// How `a` compares with `b` in rank order (`Less`: `a` ranks first).
    fn compare(&self, a: &Entry, b: &Entry) -> Ordering {
        let ascending = (a.score, a.subscore, a.owner).cmp(&(b.score, b.subscore, b.owner));
        match self.order {
            SortOrder::Ascending => ascending,
            SortOrder::Descending => ascending.reverse(),
        }
    }

    /// The block an entry belongs in, and its place there (found or to insert at).
    fn locate(&self, entry: &Entry) -> (usize, Result<usize, usize>) {
        let block = self.blocks.partition_point(|b| {
            b.last()
                .is_some_and(|last| self.compare(last, entry).is_lt())
        });
        let block = block.min(self.blocks.len().saturating_sub(1));
        match self.blocks.get(block) {
            Some(entries) => (
                block,
                entries.binary_search_by(|probe| self.compare(probe, entry)),
            ),
            None => (0, Err(0)),
        }
    }

    fn rank_at(&self, block: usize, place: usize) -> i64 {
        let before: usize = self.blocks[..block].iter().map(Vec::len).sum();
        (before + place + 1) as i64
    }

    /// The owner's rank (1 is first), or 0 without a record.
    pub fn get(&self, owner: &Uuid) -> i64 {
        let Some(&(score, subscore)) = self.owners.get(owner.as_bytes()) else {
            return 0;
        };
        let entry = Entry {
            score,
            subscore,
            owner: *owner.as_bytes(),
        };
        match self.locate(&entry) {
            (block, Ok(place)) => self.rank_at(block, place),
            _ => 0,
        }
    }

    /// Places (or moves) an owner; returns the new rank.
    pub fn insert(&mut self, owner: &Uuid, score: i64, subscore: i64) -> i64 {
        self.remove(owner);
        let entry = Entry {
            score,
            subscore,
            owner: *owner.as_bytes(),
        };
        self.owners.insert(entry.owner, (score, subscore));
        if self.blocks.is_empty() {
            self.blocks.push(vec![entry]);
            return 1;
        }
        let (block, place) = self.locate(&entry);
        let place = place.unwrap_or_else(|p| p);
        self.blocks[block].insert(place, entry);
        let rank = self.rank_at(block, place);
        if self.blocks[block].len() > MAX_BLOCK {
            let tail = self.blocks[block].split_off(MAX_BLOCK / 2);
            self.blocks.insert(block + 1, tail);
        }
        rank
    }

    /// Takes an owner out; whether it was there.
    pub fn remove(&mut self, owner: &Uuid) -> bool {
        let Some((score, subscore)) = self.owners.remove(owner.as_bytes()) else {
            return false;
        };
        let entry = Entry {
            score,
            subscore,
            owner: *owner.as_bytes(),
        };
        if let (block, Ok(place)) = self.locate(&entry) {
            self.blocks[block].remove(place);
            if self.blocks[block].is_empty() {
                self.blocks.remove(block);
            }
        }
        true
    }

    /// How many owners are ranked.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.owners.len()
    }

    /// Replaces everything with these owners, in any order.
    fn fill(&mut self, rows: Vec<(Uuid, i64, i64)>) {
        let mut entries: Vec<Entry> = rows
            .into_iter()
            .map(|(owner, score, subscore)| Entry {
                score,
                subscore,
                owner: *owner.as_bytes(),
            })
            .collect();
        entries.sort_unstable_by(|a, b| self.compare(a, b));
        entries.dedup_by(|a, b| a.owner == b.owner);
        self.owners = entries
            .iter()
            .map(|e| (e.owner, (e.score, e.subscore)))
            .collect();
        self.blocks = entries
            .chunks(MAX_BLOCK / 2)
            .map(<[Entry]>::to_vec)
            .collect();
    }
}

/// A board's period: its id and expiry time in unix seconds (0 for a board that never resets).
type PeriodKey = (String, i64);

/// Every board's ranks, by period.
#[derive(Debug, Default)]
pub struct RankCache {
    periods: Mutex<HashMap<PeriodKey, Arc<RwLock<Ranks>>>>,
}

impl RankCache {
    /// The ranks of a board's period, made empty when missing.
    pub fn period(&self, board: &str, expiry: i64, order: SortOrder) -> Arc<RwLock<Ranks>> {
        let mut periods = self.periods.lock().unwrap_or_else(PoisonError::into_inner);
        periods
            .entry((board.to_owned(), expiry))
            .or_insert_with(|| Arc::new(RwLock::new(Ranks::new(order))))
            .clone()
    }

    /// An owner's rank in a board's period, 0 without a record.
    pub fn get(&self, board: &str, expiry: i64, order: SortOrder, owner: &Uuid) -> i64 {
        let period = self.period(board, expiry, order);
        let ranks = period.read().unwrap_or_else(PoisonError::into_inner);
        ranks.get(owner)
    }

    /// Records an owner's score; returns the owner's rank.
    pub fn insert(
        &self,
        board: &str,
        expiry: i64,
        order: SortOrder,
        owner: &Uuid,
        score: i64,
        subscore: i64,
    ) -> i64 {
        let period = self.period(board, expiry, order);
        let mut ranks = period.write().unwrap_or_else(PoisonError::into_inner);
        ranks.insert(owner, score, subscore)
    }

    /// Forgets an owner's record in a board's period.
    pub fn remove(&self, board: &str, expiry: i64, order: SortOrder, owner: &Uuid) {
        let period = self.period(board, expiry, order);
        let mut ranks = period.write().unwrap_or_else(PoisonError::into_inner);
        ranks.remove(owner);
    }

    /// Replaces a board's period with these owners (loading from the database).
    pub fn fill(&self, board: &str, expiry: i64, order: SortOrder, rows: Vec<(Uuid, i64, i64)>) {
        let period = self.period(board, expiry, order);
        let mut ranks = period.write().unwrap_or_else(PoisonError::into_inner);
        ranks.fill(rows);
    }

    /// Forgets the periods that ended at or before `now`.
    pub fn trim_expired(&self, now: i64) {
        let mut periods = self.periods.lock().unwrap_or_else(PoisonError::into_inner);
        periods.retain(|(_, expiry), _| *expiry == 0 || *expiry > now);
    }

    /// Forgets every period of a board.
    pub fn remove_board(&self, board: &str) {
        let mut periods = self.periods.lock().unwrap_or_else(PoisonError::into_inner);
        periods.retain(|(id, _), _| id != board);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// The rank of every owner, by sorting everything (what the blocks must agree with).
    fn expected(order: SortOrder, rows: &[(Uuid, i64, i64)]) -> HashMap<Uuid, i64> {
        let mut sorted = rows.to_vec();
        sorted.sort_by(|a, b| {
            let asc = (a.1, a.2, a.0).cmp(&(b.1, b.2, b.0));
            match order {
                SortOrder::Ascending => asc,
                SortOrder::Descending => asc.reverse(),
            }
        });
        sorted
            .iter()
            .enumerate()
            .map(|(i, r)| (r.0, i as i64 + 1))
            .collect()
    }

    #[test]
    fn ties_break_by_subscore_then_owner() {
        let mut ranks = Ranks::new(SortOrder::Descending);
        ranks.insert(&owner(1), 10, 0);
        ranks.insert(&owner(2), 10, 5);
        ranks.insert(&owner(3), 10, 0);
        ranks.insert(&owner(4), 20, 0);
        assert_eq!(ranks.get(&owner(4)), 1);
        assert_eq!(ranks.get(&owner(2)), 2);
        // Same score and subscore: the greater owner id first when descending.
        assert_eq!(ranks.get(&owner(3)), 3);
        assert_eq!(ranks.get(&owner(1)), 4);
        assert_eq!(ranks.get(&owner(9)), 0);
        let mut ranks = Ranks::new(SortOrder::Ascending);
        ranks.insert(&owner(1), 10, 0);
        ranks.insert(&owner(3), 10, 0);
        assert_eq!((ranks.get(&owner(1)), ranks.get(&owner(3))), (1, 2));
    }

    #[test]
    fn many_moves_agree_with_a_full_sort() {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let mut ranks = Ranks::new(order);
            let mut rows: HashMap<Uuid, (i64, i64)> = HashMap::new();
            // A simple deterministic sequence: inserts, moves and removals.
            let mut x: u64 = 12345;
            for step in 0..20_000u64 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let who = owner(u128::from((x >> 33) % 6000));
                if step % 7 == 3 {
                    assert_eq!(ranks.remove(&who), rows.remove(&who).is_some());
                } else {
                    let score = ((x >> 20) % 500) as i64 - 100;
                    let subscore = ((x >> 12) % 3) as i64;
                    ranks.insert(&who, score, subscore);
                    rows.insert(who, (score, subscore));
                }
            }
            let flat: Vec<(Uuid, i64, i64)> =
                rows.iter().map(|(o, (s, ss))| (*o, *s, *ss)).collect();
            let want = expected(order, &flat);
            assert_eq!(ranks.len(), want.len());
            for (who, rank) in &want {
                assert_eq!(ranks.get(who), *rank);
            }
            let mut filled = Ranks::new(order);
            filled.fill(flat);
            for (who, rank) in &want {
                assert_eq!(filled.get(who), *rank);
            }
        }
    }

    /// The cost of a rank and of a move on a 1,000,000-owner board (run with
    /// `cargo test --release -p tavern-server rank_figures -- --ignored --nocapture`).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn rank_figures() {
        use std::time::Instant;
        const N: u128 = 1_000_000;
        let mut ranks = Ranks::new(SortOrder::Descending);
        let started = Instant::now();
        let rows: Vec<(Uuid, i64, i64)> = (0..N)
            .map(|i| (owner(i), ((i * 7919) % 100_000) as i64, (i % 7) as i64))
            .collect();
        ranks.fill(rows);
        let fill = started.elapsed();
        let started = Instant::now();
        let mut sum = 0i64;
        for i in 0..100_000u128 {
            sum += ranks.get(&owner((i * 9973) % N));
        }
        let get = started.elapsed() / 100_000;
        let started = Instant::now();
        for i in 0..100_000u128 {
            ranks.insert(&owner((i * 9973) % N), (i % 100_000) as i64, 0);
        }
        let insert = started.elapsed() / 100_000;
        println!("1,000,000 owners: fill {fill:?}, rank {get:?}, move {insert:?} (checksum {sum})");
        assert!(sum > 0);
    }
}
