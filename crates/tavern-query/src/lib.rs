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
pub use query::{Clause, Occur, Query, RangeOp};
