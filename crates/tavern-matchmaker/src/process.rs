//! One matching pass, following Nakama's default algorithm.
//!
//! Sizes count presences: a party ticket brings all its members to a group,
//! and no two tickets of a group share a session.
//!
//! Each active ticket, oldest first, counts one more interval and searches
//! the pool with its query plus the count ranges (a candidate's
//! `min_count` at least its own, `max_count` at most its own). Hits come in
//! score order, oldest first among equals. A hit is skipped if it shares
//! the searcher's session or, with mutual matching, if its query rejects
//! the searcher. It joins the first partial group with room whose members
//! share no session with it and, with mutual matching, accept it and are
//! accepted by it; otherwise it starts a new group. Unlike Nakama, "room"
//! also means the grown group (with the searcher) stays within every
//! member's `max_count`: Nakama lets a 2-2 ticket into a group a 2-4
//! searcher is filling, where it blocks that group for the rest of the
//! pass. A group is taken as
//! soon as it reaches the searcher's `max_count`; on the searcher's last
//! interval, once the hits run out, the largest group reaching its
//! `min_count` is taken. A group whose size is not a multiple of the
//! searcher's `count_multiple` first drops its oldest tickets (as many as
//! the remainder; with party tickets, the oldest tickets no bigger than what
//! is left to drop, and no group when that cannot come out even). Every
//! member must accept the final size. Matched tickets leave the pool at
//! once.

use std::cmp::Reverse;

use crate::hits::Hits;
use crate::pool::Matchmaker;
use crate::stats::Completion;
use crate::ticket::{Entry, Ticket};

/// Tickets a searcher has picked so far for one group.
struct Group {
    members: Vec<u64>,
    /// The members' presences.
    size: usize,
    /// The smallest `max_count` among the members.
    cap: i32,
}

impl Matchmaker {
    /// Runs one pass at `now` (Unix nanoseconds) and returns the matched
    /// groups; their tickets have left the pool. Each group lists the
    /// tickets the searcher picked, in the order picked, then the searcher,
    /// each as one entry per presence.
    ///
    /// A ticket searches in at most `max_intervals` passes (one if its
    /// `min_count` equals its `max_count`); after that it stays in the pool
    /// for other tickets to find.
    pub fn process(&mut self, now: i64) -> Vec<Vec<Entry>> {
        let mut groups = Vec::new();
        let active = std::mem::take(&mut self.active);
        let mut still_active = Vec::with_capacity(active.len());
        for key in active {
            // Gone: removed, or matched earlier in this pass.
            let Some(ticket) = self.tickets.get_mut(&key) else {
                continue;
            };
            ticket.intervals += 1;
            let last = ticket.intervals >= self.config.max_intervals
                || ticket.min_count == ticket.max_count;
            if !last {
                still_active.push(key);
            }
            let Some(members) = self.search(key, last) else {
                continue;
            };
            let group: Vec<Entry> = members
                .into_iter()
                .flat_map(|k| self.take(k).into_entries())
                .collect();
            for entry in &group {
                self.completions.record(Completion {
                    create_time: entry.create_time,
                    complete_time: now,
                });
            }
            groups.push(group);
        }
        still_active.retain(|key| self.tickets.contains_key(key));
        self.active = still_active;
        groups
    }

    /// The group ticket `key` forms in this pass, if any.
    fn search(&self, key: u64, last: bool) -> Option<Vec<u64>> {
        let me = &self.tickets[&key];
        let mutual = self.config.rev_precision;
        let max = me.max_count as usize;
        let mine = me.count();
        let mut groups: Vec<Group> = Vec::new();
        for hit in Hits::new(&self.index, &me.search, me.top_score) {
            if hit == key {
                continue;
            }
            let other = &self.tickets[&hit];
            if other.shares_session(me) || (mutual && !other.query.matches(&me.doc)) {
                continue;
            }
            // With the hit and the searcher, a group may not outgrow the
            // smallest `max_count` among its members.
            let fits = |group: &Group| {
                let size = group.size + other.count() + mine;
                size <= max
                    && size <= group.cap.min(other.max_count) as usize
                    && group
                        .members
                        .iter()
                        .all(|k| self.compatible(&self.tickets[k], other))
            };
            let at = match groups.iter().position(fits) {
                Some(at) => {
                    let group = &mut groups[at];
                    group.members.push(hit);
                    group.size += other.count();
                    group.cap = group.cap.min(other.max_count);
                    at
                }
                None => {
                    groups.push(Group {
                        members: vec![hit],
                        size: other.count(),
                        cap: other.max_count,
                    });
                    groups.len() - 1
                }
            };
            if groups[at].size + mine == max
                && let Some(members) = self.complete(key, &groups[at].members)
            {
                return Some(members);
            }
        }
        if !last {
            return None;
        }
        // Stable: among equal sizes the group started first wins.
        groups.sort_by_key(|group| Reverse(group.size));
        groups
            .iter()
            .filter(|group| group.size + mine >= me.min_count as usize)
            .find_map(|group| self.complete(key, &group.members))
    }

    /// True if two tickets may be in one group.
    fn compatible(&self, a: &Ticket, b: &Ticket) -> bool {
        !a.shares_session(b)
            && (!self.config.rev_precision || (a.query.matches(&b.doc) && b.query.matches(&a.doc)))
    }

    /// The searcher's group made of `picked` and itself, trimmed to its
    /// count multiple, if every member accepts the final size.
    fn complete(&self, key: u64, picked: &[u64]) -> Option<Vec<u64>> {
        let me = &self.tickets[&key];
        let mut members = picked.to_vec();
        let count = |k: &u64| self.tickets[k].count();
        let total: usize = members.iter().map(count).sum::<usize>() + me.count();
        let mut rem = total % me.count_multiple as usize;
        if rem != 0 {
            // Nakama drops the tickets adding up to the remainder whose
            // average creation time is the oldest: with one presence per
            // ticket, the oldest ones. Tavern takes the oldest tickets no
            // bigger than what is left to drop. Keys grow with creation time.
            let mut by_age = members.clone();
            by_age.sort_unstable();
            let mut dropped = Vec::new();
            for k in by_age {
                if rem == 0 {
                    break;
                }
                if count(&k) <= rem {
                    rem -= count(&k);
                    dropped.push(k);
                }
            }
            if rem != 0 {
                return None;
            }
            members.retain(|k| !dropped.contains(k));
        }
        let size = members.iter().map(count).sum::<usize>() + me.count();
        let size = i32::try_from(size).ok()?;
        let fits =
            me.accepts_size(size) && members.iter().all(|k| self.tickets[k].accepts_size(size));
        fits.then(|| {
            members.push(key);
            members
        })
    }
}
