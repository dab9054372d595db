//! Nakama's query-string language (the Bluge `query_string` syntax used by
//! match listing, the matchmaker and storage search): parser, evaluator over
//! flattened documents, and a small in-memory index.
//!
//! ```
//! use tavern_query::{Document, Index, Query};
//!
//! let mut doc = Document::new();
//! doc.add_json("label", &serde_json::json!({"mode": "ranked", "level": 7, "open": true}));
//! let q = Query::parse("+label.mode:ranked +label.open:T label.level:>=5").unwrap();
//! assert_eq!(q.score(&doc), Some(3.0));
//!
//! let mut index = Index::new();
//! index.insert("match-1", doc);
//! let hits: Vec<_> = index.search(&q).collect();
//! assert_eq!(hits, vec![(&"match-1", 3.0)]);
//! ```
//!
//! # Semantics, as Nakama runs Bluge
//!
//! * Only the exact string `*` matches everything and only `""` matches
//!   nothing (what an empty listing query means is the caller's choice).
//! * A clause without `field:` searches Bluge's default field `_all`, which
//!   Nakama's documents never have: it never matches.
//! * `field:term` is an exact, case-sensitive keyword; `*`/`?` make it a
//!   wildcard and `/…/` a regular expression, both matching the whole
//!   keyword; `term~N` is fuzzy (N ≤ 2). `field:"phrase"` never matches,
//!   because keyword fields keep no term positions; escape spaces instead
//!   (`field:two\ words`).
//! * `field:N` matches the keyword `N` or the number N; `field:>N`, `>=`,
//!   `<`, `<=` compare numbers, or date-times when the bound is a quoted
//!   RFC 3339 date-time.
//! * Strings that parse as dates are indexed as date-times, so only date
//!   ranges find them; booleans are the keywords `T` and `F`.
//! * Sorting by score is the caller's business.
//!
//! # Scores
//!
//! Nakama runs Bluge with a constant similarity, so a score depends only on
//! which clauses match and on their boosts `b` (1 when not given). Following
//! how Bluge builds each clause:
//!
//! | clause                         | score when it matches                    |
//! |--------------------------------|------------------------------------------|
//! | `f:term`                       | `b²` (a term query inside a boolean, both boosted) |
//! | `f:term~N` (N = 0, 1, 2)       | `b² · Σ (1 − d / min(len))` over matching values (exact match counts 1) |
//! | `f:wild*`, `f:/re/`            | `b ·` the number of matching values      |
//! | `f:N`                          | `b ·` (1 if keyword `N`) + (1 if number N) |
//! | `f:>N` …                       | `b`                                      |
//! | `f:>"date"` …                  | 1 (Bluge ignores the boost)              |
//! | `f:"phrase"`                   | never matches (keyword fields keep no positions) |
//!
//! A match scores the sum over its MUST clauses and matching SHOULD clauses;
//! a query of MUST NOT clauses alone scores 1.
//!
//! Pure: no I/O, no async, no global state.

mod datetime;
mod document;
mod error;
mod eval;
mod index;
mod lexer;
mod numeric;
mod parser;
mod query;
mod render;

pub use document::Document;
pub use error::{ParseError, ParseErrorKind};
pub use index::{Index, Search};
pub use parser::{
    MAX_CLAUSES, MAX_FUZZY_TERM_CHARS, MAX_PATTERN_CLAUSES, MAX_QUERY_BYTES, MAX_REGEX_BYTES,
};
pub use query::{Clause, Occur, Query, RangeOp};
