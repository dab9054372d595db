//! The error returned when a query string cannot be used.

/// Why a query string was rejected, with the byte offset of the token at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, offset: usize) -> Self {
        ParseError { kind, offset }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// Byte offset in the query string of the token at fault.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseErrorKind {
    /// A `"` without its closing `"`.
    #[error("unterminated quote")]
    UnterminatedPhrase,
    /// The tokens do not form a clause (for example `a:b:c`, `>5`, or a query
    /// made only of spaces).
    #[error("syntax error")]
    Syntax,
    /// A number that does not fit an f64.
    #[error("invalid number {0:?}")]
    InvalidNumber(String),
    /// A `^boost` that is not a number.
    #[error("invalid boost value {0:?}")]
    InvalidBoost(String),
    /// A `~fuzziness` that is not a number, is negative or is above 2.
    #[error("invalid fuzziness {0:?}")]
    InvalidFuzziness(String),
    /// A quoted range bound that is not an RFC 3339 date-time, or is outside
    /// the range of nanosecond timestamps, or leaves both ends open.
    #[error("invalid date {0:?}")]
    InvalidDate(String),
    /// Tavern's bound: a query string longer than this many bytes.
    #[error("query longer than {max} bytes")]
    TooLong {
        /// [`crate::MAX_QUERY_BYTES`].
        max: usize,
    },
    /// Tavern's bound: more clauses than this.
    #[error("more than {max} clauses")]
    TooManyClauses {
        /// [`crate::MAX_CLAUSES`].
        max: usize,
    },
    /// Tavern's bound: more wildcard, regex and fuzzy clauses than this.
    #[error("more than {max} wildcard, regular expression or fuzzy clauses")]
    TooManyPatterns {
        /// [`crate::MAX_PATTERN_CLAUSES`].
        max: usize,
    },
    /// Tavern's bound: a fuzzy term longer than this many characters.
    #[error("fuzzy term longer than {max} characters")]
    FuzzyTermTooLong {
        /// [`crate::MAX_FUZZY_TERM_CHARS`].
        max: usize,
    },
    /// A `/regex/` (or the regex made from a wildcard) that does not compile
    /// or uses a feature term automata cannot run (anchors, word boundaries,
    /// lazy repetition).
    #[error("invalid regular expression {pattern:?}: {reason}")]
    InvalidRegex {
        /// The pattern as written between the slashes.
        pattern: String,
        /// Why it was rejected.
        reason: String,
    },
}
