//! An in-memory index of documents that answers queries lazily, in
//! insertion order.
//!
//! Each document lives in a slot; slots are only appended, so slot order is
//! insertion order (a replaced document keeps its slot). Field names and
//! keywords are interned: a slot keeps its keywords as packed
//! `(field id, term id)` pairs and its numbers as `(field id, key)` pairs, so
//! testing a keyword or range clause is integer work. An inverted index maps
//! each keyword to the slots holding it; a search starts from the shortest
//! list among its MUST keyword clauses, or from all slots.
//!
//! Updates are cheap: inserting appends to posting lists; a replacement adds
//! its slot to the lists of its new keywords and leaves stale entries in the
//! old ones (every candidate is tested in full anyway); removal only empties
//! the slot. When stale entries and empty slots outweigh the live data, the
//! index rebuilds itself, which keeps the cost amortised constant per update.

use std::collections::HashMap;
use std::hash::Hash;

use crate::document::{Document, FieldValues};
use crate::eval::{Rules, Tally, clause_score, range_score};
use crate::query::{Clause, ClauseKind, Occur, Query, QueryKind};

/// Ids of interned field names.
type FieldId = u32;

/// A keyword's entry in the inverted index.
#[derive(Debug, Default)]
struct Posting {
    term: u32,
    /// Slots holding the keyword, ascending; may include stale slots.
    slots: Vec<u32>,
}

#[derive(Debug)]
struct Slot<K> {
    key: K,
    doc: Document,
    /// Field id of each of `doc.fields()`, in the same order.
    field_ids: Box<[FieldId]>,
    /// `(field id << 32) | term id` of every keyword.
    terms: Box<[u64]>,
    /// `(field id, key)` of every number and date-time.
    numbers: Box<[(FieldId, i64)]>,
}

impl<K> Slot<K> {
    fn values(&self, field: FieldId) -> Option<&FieldValues> {
        let i = self.field_ids.iter().position(|&f| f == field)?;
        Some(&self.doc.fields()[i])
    }

    fn has_term(&self, packed: u64) -> bool {
        self.terms.contains(&packed)
    }

    fn has_number_in(&self, field: FieldId, lo: i64, hi: i64) -> bool {
        self.numbers.iter().any(|&(f, n)| f == field && lo <= n && n <= hi)
    }

    fn has_number(&self, field: FieldId, key: i64) -> bool {
        self.numbers.iter().any(|&(f, n)| f == field && n == key)
    }
}

fn pack(field: FieldId, term: u32) -> u64 {
    (u64::from(field) << 32) | u64::from(term)
}

/// An in-memory index from keys to [`Document`]s.
#[derive(Debug)]
pub struct Index<K> {
    field_ids: HashMap<Box<str>, FieldId>,
    /// Per field id: keyword → posting.
    postings: Vec<HashMap<Box<str>, Posting>>,
    next_term: u32,
    slots: Vec<Option<Slot<K>>>,
    positions: HashMap<K, u32>,
    /// Entries of `slots` and of posting lists that no longer count.
    garbage: usize,
    /// All posting entries, stale ones included.
    posting_entries: usize,
}

impl<K: Clone + Eq + Hash> Default for Index<K> {
    fn default() -> Self {
        Index::new()
    }
}

impl<K: Clone + Eq + Hash> Index<K> {
    /// An empty index.
    pub fn new() -> Self {
        Index {
            field_ids: HashMap::new(),
            postings: Vec::new(),
            next_term: 0,
            slots: Vec::new(),
            positions: HashMap::new(),
            garbage: 0,
            posting_entries: 0,
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True if the index holds no document.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The document stored under `key`.
    pub fn get(&self, key: &K) -> Option<&Document> {
        let slot = *self.positions.get(key)?;
        self.slots[slot as usize].as_ref().map(|s| &s.doc)
    }

    fn intern_field(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.field_ids.get(name) {
            return id;
        }
        let id = self.postings.len() as FieldId;
        self.field_ids.insert(name.into(), id);
        self.postings.push(HashMap::new());
        id
    }

    /// Adds `slot` to the posting of `keyword` in `field`, returning its term id.
    fn post(&mut self, field: FieldId, keyword: &str, slot: u32) -> u32 {
        let postings = &mut self.postings[field as usize];
        let posting = match postings.get_mut(keyword) {
            Some(p) => p,
            None => {
                let term = self.next_term;
                self.next_term += 1;
                postings.entry(keyword.into()).or_insert(Posting { term, slots: Vec::new() })
            }
        };
        if let Err(i) = posting.slots.binary_search(&slot) {
            posting.slots.insert(i, slot);
            self.posting_entries += 1;
        }
        posting.term
    }

    /// Builds the slot for `doc` at position `at`, posting its keywords.
    fn make_slot(&mut self, key: K, doc: Document, at: u32) -> Slot<K> {
        let mut field_ids = Vec::with_capacity(doc.fields().len());
        let mut terms = Vec::new();
        let mut numbers = Vec::new();
        for values in doc.fields() {
            let field = self.intern_field(&values.name);
            field_ids.push(field);
            for keyword in &values.keywords {
                let term = self.post(field, keyword, at);
                terms.push(pack(field, term));
            }
            numbers.extend(values.numbers.iter().map(|&n| (field, n)));
        }
        Slot { key, doc, field_ids: field_ids.into(), terms: terms.into(), numbers: numbers.into() }
    }

    /// Stores `doc` under `key`. A document already stored under `key` is
    /// replaced and the key keeps its place in insertion order.
    pub fn insert(&mut self, key: K, doc: Document) {
        match self.positions.get(&key) {
            Some(&at) => {
                let slot = self.make_slot(key, doc, at);
                let old = self.slots[at as usize].replace(slot).expect("position points at a live slot");
                let new = self.slots[at as usize].as_ref().expect("just stored");
                self.garbage += old.terms.iter().filter(|t| !new.terms.contains(t)).count();
            }
            None => {
                let at = u32::try_from(self.slots.len()).expect("fewer than 2^32 insertions between rebuilds");
                let slot = self.make_slot(key.clone(), doc, at);
                self.slots.push(Some(slot));
                self.positions.insert(key, at);
            }
        }
        self.maybe_rebuild();
    }

    /// Removes the document stored under `key`; false if there was none.
    pub fn remove(&mut self, key: &K) -> bool {
        let Some(at) = self.positions.remove(key) else {
            return false;
        };
        let old = self.slots[at as usize].take().expect("position points at a live slot");
        self.garbage += 1 + old.terms.len();
        self.maybe_rebuild();
        true
    }

    fn maybe_rebuild(&mut self) {
        if self.garbage > 64 && self.garbage * 2 > self.slots.len() + self.posting_entries {
            self.rebuild();
        }
    }

    /// Re-inserts every live document into fresh structures.
    fn rebuild(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        *self = Index { slots: Vec::with_capacity(self.positions.len()), ..Index::new() };
        for slot in slots.into_iter().flatten() {
            let at = self.slots.len() as u32;
            let slot = self.make_slot(slot.key, slot.doc, at);
            self.positions.insert(slot.key.clone(), at);
            self.slots.push(Some(slot));
        }
    }

    /// The documents matching `q` with their scores, lazily and in insertion
    /// order (oldest first), so a caller can stop early. Ordering by score
    /// is the caller's business.
    pub fn search<'a>(&'a self, q: &'a Query) -> Search<'a, K> {
        let empty = Search { slots: &self.slots, steps: Vec::new(), rules: None, source: Source::Empty };
        let (clauses, rules) = match &q.kind {
            QueryKind::None => return empty,
            QueryKind::All => return Search { source: Source::All(0..self.slots.len()), ..empty },
            QueryKind::Clauses { clauses, need_should } => (clauses, Rules::of(clauses, *need_should)),
        };
        let mut steps = Vec::with_capacity(clauses.len());
        let mut driver: Option<&[u32]> = None;
        let mut shoulds = 0;
        for clause in clauses {
            let Some(step) = self.resolve(clause) else {
                // The clause can match no document here.
                if clause.occur == Occur::Must {
                    return empty;
                }
                continue;
            };
            if let (Occur::Must, Test::Term(_, Some(slots))) = (clause.occur, &step.test) {
                if driver.is_none_or(|d| slots.len() < d.len()) {
                    driver = Some(slots);
                }
            }
            shoulds += usize::from(clause.occur == Occur::Should);
            steps.push(step);
        }
        if rules.require_should && shoulds == 0 {
            return empty;
        }
        // Decide early: MUST first, then MUST NOT, then SHOULD.
        steps.sort_by_key(|s| match s.clause.occur {
            Occur::Must => 0,
            Occur::MustNot => 1,
            Occur::Should => 2,
        });
        let source = match driver {
            Some(slots) => Source::Postings(slots.iter()),
            None => Source::All(0..self.slots.len()),
        };
        Search { slots: &self.slots, steps, rules: Some(rules), source }
    }

    /// Prepares a clause for testing slots; `None` if no document in the
    /// index can match it.
    fn resolve<'a>(&'a self, clause: &'a Clause) -> Option<Step<'a>> {
        let field = *self.field_ids.get(clause.field.as_deref()?)?;
        let postings = &self.postings[field as usize];
        let test = match &clause.kind {
            ClauseKind::Term(term) => {
                let posting = postings.get(term.as_str())?;
                Test::Term(pack(field, posting.term), Some(&posting.slots))
            }
            ClauseKind::Number { text, key } => {
                Test::Number(postings.get(text.as_str()).map(|p| pack(field, p.term)), field, *key)
            }
            ClauseKind::Range { lo, hi, .. } => Test::Range(field, *lo, *hi),
            ClauseKind::Phrase(_) => return None,
            ClauseKind::Fuzzy { .. } | ClauseKind::Wildcard { .. } | ClauseKind::Regex { .. } => Test::Values(field),
        };
        Some(Step { clause, test })
    }
}

/// A clause resolved against an index.
struct Step<'a> {
    clause: &'a Clause,
    test: Test<'a>,
}

enum Test<'a> {
    /// Packed keyword, with its posting list.
    Term(u64, Option<&'a [u32]>),
    /// `field:N`: the packed keyword `N` if the index has it, and the key.
    Number(Option<u64>, FieldId, i64),
    Range(FieldId, i64, i64),
    /// Needs the field's values (fuzzy, wildcard, regex).
    Values(FieldId),
}

impl Step<'_> {
    #[inline]
    fn score<K>(&self, slot: &Slot<K>) -> Option<f64> {
        let b = self.clause.boost.unwrap_or(1.0);
        match &self.test {
            Test::Term(packed, _) => slot.has_term(*packed).then_some(b * b),
            Test::Number(packed, field, key) => {
                let count = usize::from(packed.is_some_and(|p| slot.has_term(p)))
                    + usize::from(slot.has_number(*field, *key));
                (count > 0).then_some(b * count as f64)
            }
            Test::Range(field, lo, hi) => slot.has_number_in(*field, *lo, *hi).then(|| match &self.clause.kind {
                ClauseKind::Range { bound, .. } => range_score(bound, b),
                _ => b,
            }),
            Test::Values(field) => clause_score(&self.clause.kind, self.clause.boost, slot.values(*field)?),
        }
    }
}

enum Source<'a> {
    Empty,
    All(std::ops::Range<usize>),
    Postings(std::slice::Iter<'a, u32>),
}

/// The lazy result of [`Index::search`]: `(key, score)` in insertion order.
pub struct Search<'a, K> {
    slots: &'a [Option<Slot<K>>],
    steps: Vec<Step<'a>>,
    /// `None` for the match-all query.
    rules: Option<Rules>,
    source: Source<'a>,
}

impl<K> Search<'_, K> {
    #[inline]
    fn evaluate(&self, slot: &Slot<K>) -> Option<f64> {
        let Some(rules) = self.rules else {
            return Some(1.0);
        };
        let mut tally = Tally::new();
        for step in &self.steps {
            if !tally.record(step.clause.occur, step.score(slot)) {
                return None;
            }
        }
        tally.finish(rules)
    }
}

impl<'a, K> Iterator for Search<'a, K> {
    type Item = (&'a K, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let slots = self.slots;
        loop {
            let at = match &mut self.source {
                Source::Empty => return None,
                Source::All(range) => range.next()?,
                Source::Postings(iter) => *iter.next()? as usize,
            };
            let Some(slot) = &slots[at] else { continue };
            if let Some(score) = self.evaluate(slot) {
                return Some((&slot.key, score));
            }
        }
    }
}
