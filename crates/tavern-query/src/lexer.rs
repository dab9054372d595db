//! Tokenizer for the query-string language.
//!
//! The token rules follow the Bluge `query_string` lexer that Nakama uses:
//! whitespace separates tokens; `+ - : > < =` are single-character operators
//! only where a token starts; a word ends at an unescaped ASCII space, `:`,
//! `^` or `~`; a word made only of ASCII digits with at most one `.` is a
//! number; `"…"` is a phrase; `^…` and `~…` run to the next unescaped space.
//! A backslash escapes the next character: a reserved character loses its
//! meaning, any other character keeps the backslash in front of it.

use crate::error::{ParseError, ParseErrorKind};

/// Characters that an escaping backslash turns into plain characters.
const RESERVED: &str = "+-=&|><!(){}[]^\"~*?:\\/ ";

/// One lexical token, with the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    Word(String),
    Number(String),
    Phrase(String),
    Plus,
    Minus,
    Colon,
    Greater,
    Less,
    Equal,
    Boost(String),
    Tilde(String),
}

/// Appends the escaped character `c` as the lexer sees it after a backslash.
fn push_escaped(buf: &mut String, c: char) {
    if !RESERVED.contains(c) {
        buf.push('\\');
    }
    buf.push(c);
}

/// True for the characters that end a word or number.
fn ends_word(c: char) -> bool {
    matches!(c, ' ' | ':' | '^' | '~')
}

/// Splits `input` into tokens.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            '"' => {
                chars.next();
                let mut buf = String::new();
                let mut escaped = false;
                loop {
                    let Some((_, c)) = chars.next() else {
                        return Err(ParseError::new(ParseErrorKind::UnterminatedPhrase, start));
                    };
                    if escaped {
                        escaped = false;
                        push_escaped(&mut buf, c);
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    } else {
                        buf.push(c);
                    }
                }
                tokens.push(Token {
                    kind: TokenKind::Phrase(buf),
                    offset: start,
                });
            }
            '+' | '-' | ':' | '>' | '<' | '=' => {
                chars.next();
                let kind = match c {
                    '+' => TokenKind::Plus,
                    '-' => TokenKind::Minus,
                    ':' => TokenKind::Colon,
                    '>' => TokenKind::Greater,
                    '<' => TokenKind::Less,
                    _ => TokenKind::Equal,
                };
                tokens.push(Token {
                    kind,
                    offset: start,
                });
            }
            '^' | '~' => {
                chars.next();
                let mut buf = String::new();
                let mut escaped = false;
                while let Some(&(_, c)) = chars.peek() {
                    if escaped {
                        escaped = false;
                        push_escaped(&mut buf, c);
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == ' ' {
                        break;
                    } else {
                        buf.push(c);
                    }
                    chars.next();
                }
                if buf.is_empty() {
                    buf.push('1');
                }
                let kind = if c == '^' {
                    TokenKind::Boost(buf)
                } else {
                    TokenKind::Tilde(buf)
                };
                tokens.push(Token {
                    kind,
                    offset: start,
                });
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            _ => {
                // A word or a number. Numbers start with a digit and stay
                // numbers while only digits and a single dot follow.
                let mut buf = String::new();
                let mut number = c.is_ascii_digit();
                let mut seen_dot = false;
                let mut escaped = false;
                while let Some(&(_, c)) = chars.peek() {
                    if escaped {
                        escaped = false;
                        number = false;
                        push_escaped(&mut buf, c);
                    } else if c == '\\' {
                        escaped = true;
                    } else if ends_word(c) && !buf.is_empty() {
                        break;
                    } else {
                        if number {
                            if c == '.' && !seen_dot {
                                seen_dot = true;
                            } else if !c.is_ascii_digit() {
                                number = false;
                            }
                        }
                        buf.push(c);
                    }
                    chars.next();
                }
                if !buf.is_empty() {
                    let kind = if number {
                        TokenKind::Number(buf)
                    } else {
                        TokenKind::Word(buf)
                    };
                    tokens.push(Token {
                        kind,
                        offset: start,
                    });
                }
            }
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn words_numbers_and_operators() {
        use TokenKind::*;
        assert_eq!(
            kinds("+label.level:>=-5 name:ro*"),
            vec![
                Plus,
                Word("label.level".into()),
                Colon,
                Greater,
                Equal,
                Minus,
                Number("5".into()),
                Word("name".into()),
                Colon,
                Word("ro*".into()),
            ]
        );
        assert_eq!(
            kinds("1.5 1.5.2 5a a-b"),
            vec![
                Number("1.5".into()),
                Word("1.5.2".into()),
                Word("5a".into()),
                Word("a-b".into())
            ]
        );
    }

    #[test]
    fn escapes() {
        use TokenKind::*;
        assert_eq!(kinds(r"free\:for\:all"), vec![Word("free:for:all".into())]);
        assert_eq!(
            kinds(r"a\d \+x"),
            vec![Word(r"a\d".into()), Word("+x".into())]
        );
        assert_eq!(kinds(r"1\ 2"), vec![Word("1 2".into())]);
        assert_eq!(kinds(r#""a \"b\" \q""#), vec![Phrase(r#"a "b" \q"#.into())]);
        assert_eq!(kinds("a\\"), vec![Word("a".into())]);
    }

    #[test]
    fn boost_and_tilde_run_to_space() {
        use TokenKind::*;
        assert_eq!(
            kinds("a^2 b~ c~1^3"),
            vec![
                Word("a".into()),
                Boost("2".into()),
                Word("b".into()),
                Tilde("1".into()),
                Word("c".into()),
                Tilde("1^3".into())
            ]
        );
    }

    #[test]
    fn tab_is_part_of_a_word_but_separates_tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds("\ta\tb c"),
            vec![Word("a\tb".into()), Word("c".into())]
        );
    }

    #[test]
    fn unterminated_phrase() {
        assert_eq!(
            tokenize("a \"bc").unwrap_err().kind(),
            &ParseErrorKind::UnterminatedPhrase
        );
    }
}
