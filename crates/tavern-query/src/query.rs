//! The parsed form of a query: a flat list of clauses, each MUST, SHOULD or
//! MUST NOT, plus the two special queries "match all" (`*`) and "match none"
//! (the empty string).

use regex::Regex;

use crate::error::ParseError;
use crate::numeric::{float_key, key_interval};

/// How a clause takes part in matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occur {
    /// No prefix: adds to the score; required only when the query has no
    /// MUST clause, and then at least one SHOULD clause has to match.
    Should,
    /// `+`: the document has to match.
    Must,
    /// `-`: the document must not match.
    MustNot,
}

/// The comparison of a range clause (`field:>N`, `>=`, `<`, `<=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl RangeOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            RangeOp::Gt => ">",
            RangeOp::Ge => ">=",
            RangeOp::Lt => "<",
            RangeOp::Le => "<=",
        }
    }
}

/// One clause of a query.
#[derive(Debug, Clone)]
pub struct Clause {
    pub(crate) occur: Occur,
    /// `None` for a clause written without `field:`; Nakama searches those in
    /// a default field no document has, so they never match.
    pub(crate) field: Option<String>,
    pub(crate) kind: ClauseKind,
    pub(crate) boost: Option<f64>,
}

/// What a clause tests in its field.
#[derive(Debug, Clone)]
pub(crate) enum ClauseKind {
    /// Exact keyword.
    Term(String),
    /// Keyword within a Damerau-Levenshtein distance of 0 (exact), 1 or 2.
    Fuzzy { term: String, distance: u8 },
    /// Keyword matching a pattern with `*` and `?`.
    Wildcard { pattern: String, regex: Regex },
    /// Keyword fully matching a regular expression.
    Regex { pattern: String, regex: Regex },
    /// A quoted phrase. Nakama's keyword fields keep no term positions, so a
    /// phrase never matches; it is kept so that queries render back.
    Phrase(String),
    /// `field:N`: keyword `N` or the number N.
    Number { text: String, key: i64 },
    /// `field:>N` and friends over numbers, or over date-times when the bound
    /// is a quoted RFC 3339 date-time.
    Range {
        op: RangeOp,
        bound: RangeBound,
        lo: i64,
        hi: i64,
    },
}

/// The bound of a range clause as written.
#[derive(Debug, Clone)]
pub(crate) enum RangeBound {
    Number(f64),
    Date(String),
}

fn same_float(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
}

impl PartialEq for ClauseKind {
    fn eq(&self, other: &Self) -> bool {
        use ClauseKind::*;
        match (self, other) {
            (Term(a), Term(b)) | (Phrase(a), Phrase(b)) => a == b,
            (
                Fuzzy {
                    term: a,
                    distance: x,
                },
                Fuzzy {
                    term: b,
                    distance: y,
                },
            ) => a == b && x == y,
            (Wildcard { pattern: a, .. }, Wildcard { pattern: b, .. })
            | (Regex { pattern: a, .. }, Regex { pattern: b, .. }) => a == b,
            (Number { text: a, .. }, Number { text: b, .. }) => a == b,
            (
                Range {
                    op: a, bound: x, ..
                },
                Range {
                    op: b, bound: y, ..
                },
            ) => {
                a == b
                    && match (x, y) {
                        (RangeBound::Number(x), RangeBound::Number(y)) => same_float(*x, *y),
                        (RangeBound::Date(x), RangeBound::Date(y)) => x == y,
                        _ => false,
                    }
            }
            _ => false,
        }
    }
}

impl PartialEq for Clause {
    fn eq(&self, other: &Self) -> bool {
        self.occur == other.occur
            && self.field == other.field
            && self.kind == other.kind
            && match (self.boost, other.boost) {
                (None, None) => true,
                (Some(a), Some(b)) => same_float(a, b),
                _ => false,
            }
    }
}

impl Clause {
    /// An exact keyword clause on `field`, as `field:value` would be if the
    /// value needed no escaping.
    pub fn term(field: &str, value: &str) -> Clause {
        Clause {
            occur: Occur::Must,
            field: Some(field.to_owned()),
            kind: ClauseKind::Term(value.to_owned()),
            boost: None,
        }
    }

    /// A numeric range clause on `field`, as `field:>=value` and friends.
    pub fn range(field: &str, op: RangeOp, value: f64) -> Clause {
        let (lo, hi) = numeric_range(op, value);
        Clause {
            occur: Occur::Must,
            field: Some(field.to_owned()),
            kind: ClauseKind::Range {
                op,
                bound: RangeBound::Number(value),
                lo,
                hi,
            },
            boost: None,
        }
    }

    /// Whether the clause is MUST, SHOULD or MUST NOT.
    pub fn occur(&self) -> Occur {
        self.occur
    }

    /// The field the clause tests, `None` when written without one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The `^boost`, if one was given.
    pub fn boost(&self) -> Option<f64> {
        self.boost
    }
}

/// The key interval of a numeric range clause.
pub(crate) fn numeric_range(op: RangeOp, value: f64) -> (i64, i64) {
    match op {
        RangeOp::Gt => key_interval(value, false, f64::INFINITY, true),
        RangeOp::Ge => key_interval(value, true, f64::INFINITY, true),
        RangeOp::Lt => key_interval(f64::NEG_INFINITY, true, value, false),
        RangeOp::Le => key_interval(f64::NEG_INFINITY, true, value, true),
    }
}

/// The key of `field:N`'s numeric half.
pub(crate) fn number_key(value: f64) -> i64 {
    float_key(value)
}

/// A parsed query.
///
/// Matching follows Bluge's boolean query: every MUST clause has to match,
/// no MUST NOT clause may match, and SHOULD clauses add to the score; when
/// the query string had no MUST clause, at least one SHOULD clause has to
/// match. A query of MUST NOT clauses alone matches every other document.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub(crate) kind: QueryKind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum QueryKind {
    /// `*`: every document, score 1.
    All,
    /// The empty string: no document.
    None,
    Clauses {
        clauses: Vec<Clause>,
        /// At least one SHOULD clause has to match (the query string had no
        /// MUST clause). Kept when MUST clauses are added afterwards, so the
        /// query string keeps its meaning.
        need_should: bool,
    },
}

impl Query {
    /// Parses a query string. `"*"` is the match-all query and `""` the
    /// match-none query, as in Nakama; everything else follows the grammar.
    ///
    /// Errors Bluge only reports when the query runs (a bad regular
    /// expression, fuzziness above 2, a date range out of the nanosecond
    /// range) are reported here.
    pub fn parse(s: &str) -> Result<Query, ParseError> {
        crate::parser::parse(s)
    }

    /// The query that matches every document with score 1 (`*`).
    pub fn match_all() -> Query {
        Query {
            kind: QueryKind::All,
        }
    }

    /// The query that matches no document (the empty string).
    pub fn match_none() -> Query {
        Query {
            kind: QueryKind::None,
        }
    }

    /// True for `*`.
    pub fn is_match_all(&self) -> bool {
        matches!(self.kind, QueryKind::All)
    }

    /// True for the empty query string.
    pub fn is_match_none(&self) -> bool {
        matches!(self.kind, QueryKind::None)
    }

    /// The clauses of the query (empty for `*` and the empty string).
    pub fn clauses(&self) -> &[Clause] {
        match &self.kind {
            QueryKind::Clauses { clauses, .. } => clauses,
            _ => &[],
        }
    }

    /// Adds a clause every match must satisfy, keeping the meaning of the
    /// query's own clauses (as Nakama's matchmaker nests the ticket query in
    /// a boolean query with its count ranges). Adds a constant to the score
    /// of every match, so the order of matches does not change.
    pub fn require(self, clause: Clause) -> Query {
        self.with(Clause {
            occur: Occur::Must,
            ..clause
        })
    }

    /// Adds a clause no match may satisfy.
    pub fn exclude(self, clause: Clause) -> Query {
        self.with(Clause {
            occur: Occur::MustNot,
            boost: None,
            ..clause
        })
    }

    fn with(self, clause: Clause) -> Query {
        let kind = match self.kind {
            QueryKind::None => QueryKind::None,
            QueryKind::All => QueryKind::Clauses {
                clauses: vec![clause],
                need_should: false,
            },
            QueryKind::Clauses {
                mut clauses,
                need_should,
            } => {
                clauses.push(clause);
                QueryKind::Clauses {
                    clauses,
                    need_should,
                }
            }
        };
        Query { kind }
    }
}
