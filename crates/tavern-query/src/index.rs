//! An in-memory index of documents that answers queries lazily, in
//! insertion order.
//!
//! Each document lives in a slot; slots are only appended, so slot order is
//! insertion order (a replaced document keeps its slot). Field names and
//! keywords are interned. What a search tests lives apart from the
//! documents, in one contiguous arena of u64 words: per slot its keywords as
//! packed `(field id, term id)` words followed by its numbers as
//! `(field id, key)` word pairs, so testing a keyword or range clause is
//! integer work on memory read in order. An inverted index maps each keyword
//! to the slots holding it; a search starts from the shortest list among its
//! MUST keyword clauses, or scans all slots.
//!
//! Updates are cheap: inserting appends to posting lists; a replacement adds
//! its slot to the lists of its new keywords and leaves stale entries in the
//! old ones (every candidate is tested in full anyway), and rewrites its
//! arena words in place when they fit; removal only empties the slot. When stale entries and empty slots outweigh the live data, the
//! index rebuilds itself, which keeps the cost amortised constant per update.

use std::collections::HashMap as StdHashMap;
use std::hash::Hash;

use foldhash::fast::RandomState;

use crate::document::{Document, FieldValues};
use crate::eval::{Rules, Tally, clause_score, range_score};
use crate::query::{Clause, ClauseKind, Occur, Query, QueryKind};

/// Hash maps keyed by client-supplied strings: fast, but randomly seeded.
type HashMap<K, V> = StdHashMap<K, V, RandomState>;

/// Ids of interned field names.
type FieldId = u32;

/// A keyword's entry in the inverted index.
#[derive(Debug, Default)]
struct Posting {
    term: u32,
    /// Slots holding the keyword, ascending; may include stale slots.
    slots: Vec<u32>,
}

/// A stored document: what is needed to return it and to run the clauses
/// that need its values (fuzzy, wildcard, regex).
#[derive(Debug)]
struct Slot {
    doc: Document,
    /// Field id of each of `doc.fields()`, in the same order.
    field_ids: Box<[FieldId]>,
}

impl Slot {
    fn values(&self, field: FieldId) -> Option<&FieldValues> {
        let i = self.field_ids.iter().position(|&f| f == field)?;
        Some(&self.doc.fields()[i])
    }
}

/// Where a live slot's words are in the arena.
#[derive(Debug, Clone, Copy)]
struct Hot {
    start: u32,
    terms: u32,
    numbers: u32,
}

impl Hot {
    fn len(self) -> usize {
        self.terms as usize + 2 * self.numbers as usize
    }
}

/// A live slot's arena words.
#[derive(Clone, Copy)]
struct Words<'a> {
    terms: &'a [u64],
    /// `field, key` pairs.
    numbers: &'a [u64],
}

impl Words<'_> {
    #[inline]
    fn has_term(self, packed: u64) -> bool {
        self.terms.contains(&packed)
    }

    #[inline]
    fn has_number_in(self, field: FieldId, lo: i64, hi: i64) -> bool {
        self.numbers
            .chunks_exact(2)
            .any(|p| p[0] == u64::from(field) && lo <= p[1] as i64 && p[1] as i64 <= hi)
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
    slots: Vec<Option<Slot>>,
    /// Parallel to `slots`: each live slot's key and where its words are.
    hot: Vec<Option<(Hot, K)>>,
    arena: Vec<u64>,
    positions: HashMap<K, u32>,
    /// Entries of `slots`, posting lists and the arena that no longer count.
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
            field_ids: HashMap::default(),
            postings: Vec::new(),
            next_term: 0,
            slots: Vec::new(),
            hot: Vec::new(),
            arena: Vec::new(),
            positions: HashMap::default(),
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
        self.postings.push(HashMap::default());
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
                postings.entry(keyword.into()).or_insert(Posting {
                    term,
                    slots: Vec::new(),
                })
            }
        };
        if let Err(i) = posting.slots.binary_search(&slot) {
            posting.slots.insert(i, slot);
            self.posting_entries += 1;
        }
        posting.term
    }

    /// Builds the slot for `doc` at position `at` and posts its keywords.
    /// Returns the slot, its arena words and how many of them are keywords.
    fn make_slot(&mut self, doc: Document, at: u32) -> (Slot, Vec<u64>, usize) {
        let mut field_ids = Vec::with_capacity(doc.fields().len());
        let mut words = Vec::new();
        let mut numbers = Vec::new();
        for values in doc.fields() {
            let field = self.intern_field(&values.name);
            field_ids.push(field);
            for keyword in &values.keywords {
                let term = self.post(field, keyword, at);
                words.push(pack(field, term));
            }
            for &n in &values.numbers {
                numbers.extend([u64::from(field), n as u64]);
            }
        }
        let terms = words.len();
        words.extend(numbers);
        (
            Slot {
                doc,
                field_ids: field_ids.into(),
            },
            words,
            terms,
        )
    }

    /// Stores `doc` under `key`. A document already stored under `key` is
    /// replaced and the key keeps its place in insertion order.
    pub fn insert(&mut self, key: K, doc: Document) {
        let at = match self.positions.get(&key) {
            Some(&at) => at,
            None => {
                let at = u32::try_from(self.slots.len())
                    .expect("fewer than 2^32 insertions between rebuilds");
                self.positions.insert(key.clone(), at);
                self.slots.push(None);
                self.hot.push(None);
                at
            }
        };
        let (slot, words, terms) = self.make_slot(doc, at);
        let old = self.hot[at as usize].as_ref().map(|(hot, _)| *hot);
        if let Some(old) = old {
            // Postings of keywords the document no longer has are stale.
            let start = old.start as usize;
            let old_terms = &self.arena[start..start + old.terms as usize];
            self.garbage += old_terms
                .iter()
                .filter(|t| !words[..terms].contains(t))
                .count();
        }
        let start = match old {
            Some(old) if words.len() <= old.len() => {
                self.garbage += old.len() - words.len();
                old.start
            }
            _ => {
                self.garbage += old.map_or(0, Hot::len);
                let start = u32::try_from(self.arena.len()).expect("arena below 2^32 words");
                self.arena.resize(self.arena.len() + words.len(), 0);
                start
            }
        };
        self.arena[start as usize..start as usize + words.len()].copy_from_slice(&words);
        let count = |n: usize| u32::try_from(n).expect("fewer than 2^32 values in a document");
        let numbers = count((words.len() - terms) / 2);
        self.hot[at as usize] = Some((
            Hot {
                start,
                terms: count(terms),
                numbers,
            },
            key,
        ));
        self.slots[at as usize] = Some(slot);
        self.maybe_rebuild();
    }

    /// Removes the document stored under `key`; false if there was none.
    pub fn remove(&mut self, key: &K) -> bool {
        let Some(at) = self.positions.remove(key) else {
            return false;
        };
        self.slots[at as usize] = None;
        let (old, _) = self.hot[at as usize]
            .take()
            .expect("position points at a live slot");
        self.garbage += 1 + old.len() + old.terms as usize;
        self.maybe_rebuild();
        true
    }

    fn maybe_rebuild(&mut self) {
        if self.garbage > 64
            && self.garbage * 2 > self.slots.len() + self.posting_entries + self.arena.len()
        {
            self.rebuild();
        }
    }

    /// Re-inserts every live document into fresh structures.
    fn rebuild(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        let hot = std::mem::take(&mut self.hot);
        *self = Index::new();
        for (slot, hot) in slots.into_iter().zip(hot) {
            if let (Some(slot), Some((_, key))) = (slot, hot) {
                self.insert(key, slot.doc);
            }
        }
    }

    /// The documents matching `q` with their scores, lazily and in insertion
    /// order (oldest first), so a caller can stop early. Ordering by score
    /// is the caller's business.
    pub fn search<'a>(&'a self, q: &'a Query) -> Search<'a, K> {
        let empty = Search {
            slots: &self.slots,
            hot: &self.hot,
            arena: &self.arena,
            steps: Vec::new(),
            rules: None,
            source: Source::Empty,
        };
        let (clauses, rules) = match &q.kind {
            QueryKind::None => return empty,
            QueryKind::All => {
                return Search {
                    source: Source::All(0..self.slots.len()),
                    ..empty
                };
            }
            QueryKind::Clauses {
                clauses,
                need_should,
            } => (clauses, Rules::of(clauses, *need_should)),
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
            if let (Occur::Must, Test::Term(_, _, slots)) = (clause.occur, &step.test)
                && driver.is_none_or(|d| slots.len() < d.len())
            {
                driver = Some(slots);
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
        Search {
            steps,
            rules: Some(rules),
            source,
            ..empty
        }
    }

    /// Prepares a clause for testing slots; `None` if no document in the
    /// index can match it.
    fn resolve<'a>(&'a self, clause: &'a Clause) -> Option<Step<'a>> {
        let field = *self.field_ids.get(clause.field.as_deref()?)?;
        let postings = &self.postings[field as usize];
        let b = clause.boost.unwrap_or(1.0);
        let test = match &clause.kind {
            ClauseKind::Term(term) => {
                let posting = postings.get(term.as_str())?;
                Test::Term(pack(field, posting.term), b * b, &posting.slots)
            }
            ClauseKind::Number { text, key } => Test::Number(
                postings.get(text.as_str()).map(|p| pack(field, p.term)),
                field,
                *key,
                b,
            ),
            ClauseKind::Range { bound, lo, hi, .. } => {
                Test::Range(field, *lo, *hi, range_score(bound, b))
            }
            ClauseKind::Phrase(_) => return None,
            ClauseKind::Fuzzy { .. } | ClauseKind::Wildcard { .. } | ClauseKind::Regex { .. } => {
                Test::Values(field)
            }
        };
        Some(Step { clause, test })
    }
}

/// A clause resolved against an index.
struct Step<'a> {
    clause: &'a Clause,
    test: Test<'a>,
}

/// How a step tests a slot; the f64 is the score when it matches.
enum Test<'a> {
    /// Packed keyword, with its posting list.
    Term(u64, f64, &'a [u32]),
    /// `field:N`: the packed keyword `N` if the index has it, and the key;
    /// scores the boost once per kind of value that matches.
    Number(Option<u64>, FieldId, i64, f64),
    Range(FieldId, i64, i64, f64),
    /// Needs the field's values (fuzzy, wildcard, regex).
    Values(FieldId),
}

impl Step<'_> {
    #[inline]
    fn score(&self, words: Words<'_>, slot: &Option<Slot>) -> Option<f64> {
        match self.test {
            Test::Term(packed, score, _) => words.has_term(packed).then_some(score),
            Test::Number(packed, field, key, boost) => {
                let count = usize::from(packed.is_some_and(|p| words.has_term(p)))
                    + usize::from(words.has_number_in(field, key, key));
                (count > 0).then_some(boost * count as f64)
            }
            Test::Range(field, lo, hi, score) => {
                words.has_number_in(field, lo, hi).then_some(score)
            }
            Test::Values(field) => {
                let values = slot.as_ref().expect("hot slots are live").values(field)?;
                clause_score(&self.clause.kind, self.clause.boost, values)
            }
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
    slots: &'a [Option<Slot>],
    hot: &'a [Option<(Hot, K)>],
    arena: &'a [u64],
    steps: Vec<Step<'a>>,
    /// `None` for the match-all query.
    rules: Option<Rules>,
    source: Source<'a>,
}

impl<K> Search<'_, K> {
    #[inline]
    fn evaluate(&self, hot: Hot, slot: &Option<Slot>) -> Option<f64> {
        let Some(rules) = self.rules else {
            return Some(1.0);
        };
        let start = hot.start as usize;
        let mid = start + hot.terms as usize;
        let words = Words {
            terms: &self.arena[start..mid],
            numbers: &self.arena[mid..mid + 2 * hot.numbers as usize],
        };
        let mut tally = Tally::new();
        for step in &self.steps {
            if !tally.record(step.clause.occur, step.score(words, slot)) {
                return None;
            }
        }
        tally.finish(rules)
    }
}

impl<'a, K> Iterator for Search<'a, K> {
    type Item = (&'a K, f64);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let at = match &mut self.source {
                Source::Empty => return None,
                Source::All(range) => range.next()?,
                Source::Postings(iter) => *iter.next()? as usize,
            };
            let Some((hot, key)) = &self.hot[at] else {
                continue;
            };
            if let Some(score) = self.evaluate(*hot, &self.slots[at]) {
                return Some((key, score));
            }
        }
    }
}
