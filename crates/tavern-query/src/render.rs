//! Rendering a [`Query`] back to query-string syntax (`Display`).
//!
//! Parsing the rendered text gives back an equal query. Clauses added with
//! [`Query::require`] / [`Query::exclude`] render too, but a keyword made
//! only of digits, or one wrapped in slashes, cannot be written as a plain
//! keyword in this syntax (it reads back as `field:N` or as a regex).

use std::fmt::{self, Display, Formatter, Write};

use crate::query::{Clause, ClauseKind, Occur, Query, QueryKind, RangeBound};

/// Writes `text` so that the lexer reads it back as one word with exactly
/// this text.
fn write_word(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    for (i, c) in text.char_indices() {
        let escape = match c {
            ' ' | ':' | '^' | '~' | '\\' => true,
            '"' | '+' | '-' | '=' | '>' | '<' | '*' => i == 0,
            _ => false,
        };
        if escape {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    Ok(())
}

fn write_phrase(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

impl Display for Clause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.occur {
            Occur::Must => f.write_char('+')?,
            Occur::MustNot => f.write_char('-')?,
            Occur::Should => {}
        }
        if let Some(field) = &self.field {
            write_word(f, field)?;
            f.write_char(':')?;
        }
        match &self.kind {
            ClauseKind::Term(text) | ClauseKind::Wildcard { pattern: text, .. } => {
                write_word(f, text)?
            }
            ClauseKind::Fuzzy { term, distance } => {
                write_word(f, term)?;
                write!(f, "~{distance}")?;
                if self.boost.is_some() {
                    // The fuzziness runs to the next space.
                    f.write_char(' ')?;
                }
            }
            ClauseKind::Regex { pattern, .. } => {
                f.write_char('/')?;
                for c in pattern.chars() {
                    if matches!(c, ' ' | ':' | '^' | '~' | '\\') {
                        f.write_char('\\')?;
                    }
                    f.write_char(c)?;
                }
                f.write_char('/')?;
            }
            ClauseKind::Phrase(text) => write_phrase(f, text)?,
            ClauseKind::Number { text, .. } => f.write_str(text)?,
            ClauseKind::Range { op, bound, .. } => {
                f.write_str(op.symbol())?;
                match bound {
                    RangeBound::Number(v) => write!(f, "{v}")?,
                    RangeBound::Date(text) => write_phrase(f, text)?,
                }
            }
        }
        if let Some(boost) = self.boost {
            write!(f, "^{boost}")?;
        }
        Ok(())
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            QueryKind::All => f.write_char('*'),
            QueryKind::None => Ok(()),
            QueryKind::Clauses { clauses, .. } => {
                for (i, clause) in clauses.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    write!(f, "{clause}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Query;

    #[track_caller]
    fn round_trip(s: &str, expected: &str) {
        let q = Query::parse(s).unwrap();
        let rendered = q.to_string();
        assert_eq!(rendered, expected);
        assert_eq!(Query::parse(&rendered).unwrap(), q);
    }

    #[test]
    fn renders_every_form() {
        round_trip(
            "+label.mode:ranked  -label.x:\\-y label.level:>=5^2",
            "+label.mode:ranked -label.x:\\-y label.level:>=5^2",
        );
        round_trip("a~2 ^3 f:b~", "a~2 ^3 f:b~1");
        round_trip("f:a\\ b\\:c", "f:a\\ b\\:c");
        round_trip("f:\"x \\\"y\\\"\"", "f:\"x \\\"y\\\"\"");
        round_trip("f:/a\\ b.*/", "f:/a\\ b.*/");
        round_trip(
            "f:<\"2024-01-01T00:00:00Z\" f:-0 f:>-0",
            "f:<\"2024-01-01T00:00:00Z\" f:-0 f:>-0",
        );
        round_trip("\\*", "\\*");
        round_trip("a^nan b^-inf", "a^NaN b^-inf");
    }
}
