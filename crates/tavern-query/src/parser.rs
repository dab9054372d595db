//! Parser: tokens to [`Query`], following the grammar of Bluge's
//! `query_string` as Nakama configures it (keyword analysis, RFC 3339 dates).
//!
//! ```text
//! query  := part+
//! part   := ('+' | '-')? base boost?
//! base   := WORD | WORD TILDE | NUMBER | PHRASE
//!         | WORD ':' (WORD | WORD TILDE | number | PHRASE
//!                    | ('>' | '<') '='? (number | PHRASE))
//! number := '-'? NUMBER
//! ```
//!
//! A word that starts and ends with `/` is a regular expression; otherwise a
//! word containing `*` or `?` is a wildcard; otherwise it is an exact keyword.

use regex::Regex;

use crate::datetime::parse_rfc3339;
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{Token, TokenKind, tokenize};
use crate::numeric::{key_float, key_interval};
use crate::query::{
    Clause, ClauseKind, Occur, Query, QueryKind, RangeBound, RangeOp, number_key, numeric_range,
};

/// Tavern's bounds on a query (Nakama has none), so one request's parse and evaluation stay
/// small: its length in bytes,
pub const MAX_QUERY_BYTES: usize = 4096;
/// its clauses,
pub const MAX_CLAUSES: usize = 64;
/// its wildcard, regex and fuzzy clauses (the ones that cost more than a lookup),
pub const MAX_PATTERN_CLAUSES: usize = 8;
/// the length of a fuzzy term (its cost grows with the square of it),
pub const MAX_FUZZY_TERM_CHARS: usize = 64;
/// and the size of a compiled regular expression (`regex`'s own limit is 10 MiB).
pub const MAX_REGEX_BYTES: usize = 256 * 1024;

pub(crate) fn parse(input: &str) -> Result<Query, ParseError> {
    match input {
        "" => return Ok(Query::match_none()),
        "*" => return Ok(Query::match_all()),
        _ => {}
    }
    if input.len() > MAX_QUERY_BYTES {
        return Err(ParseError::new(
            ParseErrorKind::TooLong {
                max: MAX_QUERY_BYTES,
            },
            MAX_QUERY_BYTES,
        ));
    }
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        tokens: &tokens,
        pos: 0,
        end: input.len(),
    };
    let mut clauses = Vec::new();
    let mut patterns = 0;
    loop {
        let offset = parser.offset();
        let clause = parser.part()?;
        if matches!(
            clause.kind,
            ClauseKind::Fuzzy { .. } | ClauseKind::Wildcard { .. } | ClauseKind::Regex { .. }
        ) {
            patterns += 1;
            if patterns > MAX_PATTERN_CLAUSES {
                return Err(ParseError::new(
                    ParseErrorKind::TooManyPatterns {
                        max: MAX_PATTERN_CLAUSES,
                    },
                    offset,
                ));
            }
        }
        clauses.push(clause);
        if clauses.len() > MAX_CLAUSES {
            return Err(ParseError::new(
                ParseErrorKind::TooManyClauses { max: MAX_CLAUSES },
                offset,
            ));
        }
        if parser.pos == tokens.len() {
            break;
        }
    }
    let need_should = !clauses.iter().any(|c| c.occur == Occur::Must);
    Ok(Query {
        kind: QueryKind::Clauses {
            clauses,
            need_should,
        },
    })
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    end: usize,
}

/// Parses a float as Go's `strconv.ParseFloat` would accept it: a value too
/// large for f64 is an error, but the words `inf` and `infinity` are not.
pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let v: f64 = text.parse().ok()?;
    if v.is_infinite() {
        let word = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
        if word != "inf" && word != "infinity" {
            return None;
        }
    }
    Some(v)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a TokenKind> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.offset)
    }

    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError::new(kind, self.offset())
    }

    fn syntax(&self) -> ParseError {
        self.error(ParseErrorKind::Syntax)
    }

    fn next(&mut self) -> Option<&'a TokenKind> {
        let t = self.peek();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn part(&mut self) -> Result<Clause, ParseError> {
        let occur = match self.peek() {
            Some(TokenKind::Plus) => Occur::Must,
            Some(TokenKind::Minus) => Occur::MustNot,
            _ => Occur::Should,
        };
        if occur != Occur::Should {
            self.pos += 1;
        }
        let (field, kind) = self.base()?;
        let mut boost = None;
        if let Some(TokenKind::Boost(text)) = self.peek() {
            let value = parse_float(text)
                .ok_or_else(|| self.error(ParseErrorKind::InvalidBoost(text.clone())))?;
            self.pos += 1;
            boost = Some(value);
        }
        Ok(Clause {
            occur,
            field,
            kind,
            boost,
        })
    }

    fn base(&mut self) -> Result<(Option<String>, ClauseKind), ParseError> {
        let start = self.offset();
        let token = self.peek();
        if matches!(
            token,
            Some(TokenKind::Word(_) | TokenKind::Number(_) | TokenKind::Phrase(_))
        ) {
            self.pos += 1;
        }
        match token {
            Some(TokenKind::Word(word)) => match self.peek() {
                Some(TokenKind::Tilde(_)) => Ok((None, self.fuzzy(word)?)),
                Some(TokenKind::Colon) => {
                    self.pos += 1;
                    Ok((Some(word.clone()), self.field_value()?))
                }
                _ => Ok((None, word_clause(word, start)?)),
            },
            Some(TokenKind::Number(text)) => Ok((None, number_clause(text.clone(), start)?)),
            Some(TokenKind::Phrase(text)) => Ok((None, ClauseKind::Phrase(text.clone()))),
            _ => Err(self.syntax()),
        }
    }

    /// After `field:`.
    fn field_value(&mut self) -> Result<ClauseKind, ParseError> {
        let start = self.offset();
        match self.peek() {
            Some(TokenKind::Word(word)) => {
                self.pos += 1;
                if let Some(TokenKind::Tilde(_)) = self.peek() {
                    self.fuzzy(word)
                } else {
                    word_clause(word, start)
                }
            }
            Some(TokenKind::Number(_) | TokenKind::Minus) => {
                let text = self.signed_number()?;
                number_clause(text, start)
            }
            Some(TokenKind::Phrase(text)) => {
                self.pos += 1;
                Ok(ClauseKind::Phrase(text.clone()))
            }
            Some(TokenKind::Greater | TokenKind::Less) => {
                let greater = matches!(self.next(), Some(TokenKind::Greater));
                let equal = matches!(self.peek(), Some(TokenKind::Equal));
                if equal {
                    self.pos += 1;
                }
                let op = match (greater, equal) {
                    (true, false) => RangeOp::Gt,
                    (true, true) => RangeOp::Ge,
                    (false, false) => RangeOp::Lt,
                    (false, true) => RangeOp::Le,
                };
                let start = self.offset();
                if let Some(TokenKind::Phrase(text)) = self.peek() {
                    self.pos += 1;
                    return date_range(op, text, start);
                }
                let text = self.signed_number()?;
                let value = parse_float(&text)
                    .ok_or(ParseError::new(ParseErrorKind::InvalidNumber(text), start))?;
                let (lo, hi) = numeric_range(op, value);
                Ok(ClauseKind::Range {
                    op,
                    bound: RangeBound::Number(value),
                    lo,
                    hi,
                })
            }
            _ => Err(self.syntax()),
        }
    }

    /// `'-'? NUMBER`, returned as text.
    fn signed_number(&mut self) -> Result<String, ParseError> {
        let negative = matches!(self.peek(), Some(TokenKind::Minus));
        if negative {
            self.pos += 1;
        }
        match self.peek() {
            Some(TokenKind::Number(text)) => {
                self.pos += 1;
                Ok(if negative {
                    format!("-{text}")
                } else {
                    text.clone()
                })
            }
            _ => Err(self.syntax()),
        }
    }

    /// `word~N`, with the tilde token next.
    fn fuzzy(&mut self, word: &str) -> Result<ClauseKind, ParseError> {
        let Some(TokenKind::Tilde(text)) = self.peek() else {
            return Err(self.syntax());
        };
        let invalid = || self.error(ParseErrorKind::InvalidFuzziness(text.clone()));
        let value = parse_float(text).ok_or_else(invalid)?;
        // Go truncates the float to an int; Bluge then accepts 0 (an exact
        // term, though never a wildcard or regex), 1 and 2, and fails on
        // anything else.
        let distance = value.trunc();
        if !(0.0..=2.0).contains(&distance) {
            return Err(invalid());
        }
        if word.chars().count() > MAX_FUZZY_TERM_CHARS {
            return Err(self.error(ParseErrorKind::FuzzyTermTooLong {
                max: MAX_FUZZY_TERM_CHARS,
            }));
        }
        self.pos += 1;
        Ok(ClauseKind::Fuzzy {
            term: word.to_owned(),
            distance: distance as u8,
        })
    }
}

/// A word after `field:` or on its own.
fn word_clause(word: &str, offset: usize) -> Result<ClauseKind, ParseError> {
    if word.starts_with('/') && word.ends_with('/') {
        // Bluge slices the word between the slashes; a lone "/" makes it fail.
        if word.len() < 2 {
            return Err(ParseError::new(ParseErrorKind::Syntax, offset));
        }
        let pattern = &word[1..word.len() - 1];
        let regex = compile_regex(pattern).map_err(|reason| {
            ParseError::new(
                ParseErrorKind::InvalidRegex {
                    pattern: pattern.to_owned(),
                    reason,
                },
                offset,
            )
        })?;
        return Ok(ClauseKind::Regex {
            pattern: pattern.to_owned(),
            regex,
        });
    }
    if word.contains(['*', '?']) {
        let mut translated = String::with_capacity(word.len() + 8);
        for c in word.chars() {
            match c {
                '*' => translated.push_str(".*"),
                '?' => translated.push('.'),
                c => translated.push_str(&regex_syntax::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
        let regex = anchored(&translated).map_err(|reason| {
            ParseError::new(
                ParseErrorKind::InvalidRegex {
                    pattern: word.to_owned(),
                    reason,
                },
                offset,
            )
        })?;
        return Ok(ClauseKind::Wildcard {
            pattern: word.to_owned(),
            regex,
        });
    }
    Ok(ClauseKind::Term(word.to_owned()))
}

/// `field:N`.
fn number_clause(text: String, offset: usize) -> Result<ClauseKind, ParseError> {
    let value = parse_float(&text)
        .ok_or_else(|| ParseError::new(ParseErrorKind::InvalidNumber(text.clone()), offset))?;
    Ok(ClauseKind::Number {
        key: number_key(value),
        text,
    })
}

/// `field:>"2024-01-01T00:00:00Z"` and friends.
fn date_range(op: RangeOp, text: &str, offset: usize) -> Result<ClauseKind, ParseError> {
    let invalid = || ParseError::new(ParseErrorKind::InvalidDate(text.to_owned()), offset);
    let instant = parse_rfc3339(text).ok_or_else(invalid)?;
    // Go's zero time stands for an open end, so a bound at year 1 leaves the
    // range open on both sides, which Bluge refuses.
    if instant.is_go_zero() {
        return Err(invalid());
    }
    let nanos = instant.unix_nanos().ok_or_else(invalid)?;
    let bound = key_float(nanos);
    let (lo, hi) = match op {
        RangeOp::Gt => key_interval(bound, false, f64::INFINITY, true),
        RangeOp::Ge => key_interval(bound, true, f64::INFINITY, true),
        RangeOp::Lt => key_interval(f64::NEG_INFINITY, true, bound, false),
        RangeOp::Le => key_interval(f64::NEG_INFINITY, true, bound, true),
    };
    Ok(ClauseKind::Range {
        op,
        bound: RangeBound::Date(text.to_owned()),
        lo,
        hi,
    })
}

/// Compiles a `/regex/` body with the rules of Bluge's term automata: the
/// whole keyword must match, one leading `^` is ignored, other anchors, word
/// boundaries and lazy repetitions are refused, and `\d \w \s` are ASCII.
fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
    let mut translated = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            translated.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => translated.push_str("[0-9]"),
            Some('D') => translated.push_str("[^0-9]"),
            Some('w') => translated.push_str("[0-9A-Za-z_]"),
            Some('W') => translated.push_str("[^0-9A-Za-z_]"),
            Some('s') => translated.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => translated.push_str("[^\\t\\n\\f\\r ]"),
            Some(other) => {
                translated.push('\\');
                translated.push(other);
            }
            None => translated.push('\\'),
        }
    }
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&translated)
        .map_err(|e| e.to_string())?;
    check_automaton_friendly(&hir)?;
    anchored(&translated)
}

fn check_automaton_friendly(hir: &regex_syntax::hir::Hir) -> Result<(), String> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Look(_) => Err("anchors and word boundaries are not allowed".to_owned()),
        HirKind::Repetition(rep) if !rep.greedy => Err("lazy repetition is not allowed".to_owned()),
        HirKind::Repetition(rep) => check_automaton_friendly(&rep.sub),
        HirKind::Capture(cap) => check_automaton_friendly(&cap.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().try_for_each(check_automaton_friendly)
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) => Ok(()),
    }
}

/// A regex that must match the whole keyword, within [`MAX_REGEX_BYTES`].
fn anchored(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(MAX_REGEX_BYTES)
        .dfa_size_limit(MAX_REGEX_BYTES)
        .nest_limit(64)
        .build()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> ClauseKind {
        Query::parse(s).unwrap().clauses()[0].kind.clone()
    }

    fn err(s: &str) -> ParseErrorKind {
        Query::parse(s).unwrap_err().kind().clone()
    }

    #[test]
    fn word_forms() {
        assert!(matches!(kind("f:abc"), ClauseKind::Term(t) if t == "abc"));
        assert!(matches!(kind("f:a*c"), ClauseKind::Wildcard { .. }));
        assert!(matches!(kind("f:a?c"), ClauseKind::Wildcard { .. }));
        assert!(matches!(kind("f:/a.c/"), ClauseKind::Regex { pattern, .. } if pattern == "a.c"));
        assert!(matches!(kind("f:/a*/"), ClauseKind::Regex { .. }));
        assert!(matches!(
            kind("f:abc~"),
            ClauseKind::Fuzzy { distance: 1, .. }
        ));
        assert!(matches!(
            kind("f:abc~2"),
            ClauseKind::Fuzzy { distance: 2, .. }
        ));
        assert!(matches!(
            kind("f:a*~0.5"),
            ClauseKind::Fuzzy { distance: 0, .. }
        ));
        assert!(matches!(kind("f:\"a b\""), ClauseKind::Phrase(p) if p == "a b"));
        assert!(matches!(kind("f:5"), ClauseKind::Number { text, .. } if text == "5"));
        assert!(matches!(kind("f:-5.5"), ClauseKind::Number { text, .. } if text == "-5.5"));
        assert!(
            matches!(kind("f:>-5"), ClauseKind::Range { op: RangeOp::Gt, bound: RangeBound::Number(v), .. } if v == -5.0)
        );
        assert!(matches!(
            kind("f:<=\"2024-01-01T00:00:00Z\""),
            ClauseKind::Range {
                op: RangeOp::Le,
                bound: RangeBound::Date(_),
                ..
            }
        ));
        assert!(matches!(
            kind("f : > = 5"),
            ClauseKind::Range {
                op: RangeOp::Ge,
                ..
            }
        ));
    }

    #[test]
    fn errors() {
        assert_eq!(err("   "), ParseErrorKind::Syntax);
        assert_eq!(err("a:b:c"), ParseErrorKind::Syntax);
        assert_eq!(err(">5"), ParseErrorKind::Syntax);
        assert_eq!(err("f:-abc"), ParseErrorKind::Syntax);
        assert_eq!(err("f:5~1"), ParseErrorKind::Syntax);
        assert_eq!(err("--a"), ParseErrorKind::Syntax);
        assert_eq!(err("f:/"), ParseErrorKind::Syntax);
        assert_eq!(err("f:>abc"), ParseErrorKind::Syntax);
        assert_eq!(err("a^x"), ParseErrorKind::InvalidBoost("x".into()));
        assert_eq!(err("a~3"), ParseErrorKind::InvalidFuzziness("3".into()));
        assert_eq!(err("a~-1"), ParseErrorKind::InvalidFuzziness("-1".into()));
        assert_eq!(err("a~2^3"), ParseErrorKind::InvalidFuzziness("2^3".into()));
        assert!(matches!(
            err("f:>\"2024-01-01\""),
            ParseErrorKind::InvalidDate(_)
        ));
        assert!(matches!(
            err("f:>\"0001-01-01T00:00:00Z\""),
            ParseErrorKind::InvalidDate(_)
        ));
        assert!(matches!(err("f:/a$/"), ParseErrorKind::InvalidRegex { .. }));
        assert!(matches!(
            err("f:/a\\b/"),
            ParseErrorKind::InvalidRegex { .. }
        ));
        assert!(matches!(
            err("f:/a*?/"),
            ParseErrorKind::InvalidRegex { .. }
        ));
        assert!(matches!(err("f:/(a/"), ParseErrorKind::InvalidRegex { .. }));
        assert!(matches!(
            err("f:/((a{1,100}){1,100}){1,100}/"),
            ParseErrorKind::InvalidRegex { .. }
        ));
    }

    #[test]
    fn bounds() {
        let long = format!("f:{}", "a".repeat(MAX_QUERY_BYTES));
        assert!(matches!(err(&long), ParseErrorKind::TooLong { .. }));
        let many = (0..=MAX_CLAUSES)
            .map(|i| format!("f:{i}"))
            .collect::<Vec<_>>();
        assert!(matches!(
            err(&many.join(" ")),
            ParseErrorKind::TooManyClauses { .. }
        ));
        assert!(parse(&many[..MAX_CLAUSES].join(" ")).is_ok());
        let patterns = (0..=MAX_PATTERN_CLAUSES)
            .map(|i| format!("f:a{i}*"))
            .collect::<Vec<_>>();
        assert!(matches!(
            err(&patterns.join(" ")),
            ParseErrorKind::TooManyPatterns { .. }
        ));
        assert!(parse(&patterns[..MAX_PATTERN_CLAUSES].join(" ")).is_ok());
        let fuzzy = format!("f:{}~2", "a".repeat(MAX_FUZZY_TERM_CHARS + 1));
        assert!(matches!(
            err(&fuzzy),
            ParseErrorKind::FuzzyTermTooLong { .. }
        ));
        assert_eq!(err("a \"b"), ParseErrorKind::UnterminatedPhrase);
        let long = format!("f:{}", "9".repeat(400));
        assert!(matches!(err(&long), ParseErrorKind::InvalidNumber(_)));
    }

    #[test]
    fn boosts_and_prefixes() {
        let q = Query::parse("+a:b^2 -c:d e:f ^3 g~ ^0.5").unwrap();
        let c = q.clauses();
        assert_eq!((c[0].occur, c[0].boost), (Occur::Must, Some(2.0)));
        assert_eq!((c[1].occur, c[1].boost), (Occur::MustNot, None));
        assert_eq!((c[2].occur, c[2].boost), (Occur::Should, Some(3.0)));
        assert_eq!(c[3].boost, Some(0.5));
        assert_eq!(c[3].field, None);
        assert_eq!(Query::parse("a^").unwrap().clauses()[0].boost, Some(1.0));
        assert_eq!(
            Query::parse("a^inf").unwrap().clauses()[0].boost,
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn special_queries() {
        assert!(Query::parse("*").unwrap().is_match_all());
        assert!(Query::parse("").unwrap().is_match_none());
        assert!(matches!(kind(" *"), ClauseKind::Wildcard { .. }));
    }
}
