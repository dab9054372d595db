//! Evaluating queries against documents, and the score each clause gives.
//!
//! The score rules are listed in the crate documentation.

use crate::document::{Document, FieldValues};
use crate::query::{Clause, ClauseKind, Occur, Query, QueryKind, RangeBound};

/// Boolean rules of a clause list, computed once per query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// Some SHOULD clause has to match.
    pub(crate) require_should: bool,
    /// No MUST and no SHOULD clause: only exclusions, every other document
    /// matches with score 1.
    pub(crate) only_exclusions: bool,
}

impl Rules {
    pub(crate) fn of(clauses: &[Clause], need_should: bool) -> Rules {
        let has = |o: Occur| clauses.iter().any(|c| c.occur == o);
        let has_should = has(Occur::Should);
        Rules {
            require_should: need_should && has_should,
            only_exclusions: !has(Occur::Must) && !has_should,
        }
    }
}

/// Accumulates clause results for one document.
pub(crate) struct Tally {
    score: f64,
    should_hit: bool,
}

impl Tally {
    pub(crate) fn new() -> Tally {
        Tally {
            score: 0.0,
            should_hit: false,
        }
    }

    /// Records a clause's result; `false` means the document is out.
    #[inline]
    pub(crate) fn record(&mut self, occur: Occur, score: Option<f64>) -> bool {
        match (occur, score) {
            (Occur::Must, None) | (Occur::MustNot, Some(_)) => false,
            (Occur::Must, Some(s)) => {
                self.score += s;
                true
            }
            (Occur::Should, Some(s)) => {
                self.score += s;
                self.should_hit = true;
                true
            }
            (Occur::Should | Occur::MustNot, None) => true,
        }
    }

    pub(crate) fn finish(self, rules: Rules) -> Option<f64> {
        if rules.only_exclusions {
            Some(1.0)
        } else if rules.require_should && !self.should_hit {
            None
        } else {
            Some(self.score)
        }
    }
}

/// The score of a range clause that matched.
pub(crate) fn range_score(bound: &RangeBound, boost: f64) -> f64 {
    match bound {
        RangeBound::Number(_) => boost,
        RangeBound::Date(_) => 1.0,
    }
}

/// The score a clause gives to a field's values, `None` if it does not match.
pub(crate) fn clause_score(
    kind: &ClauseKind,
    boost: Option<f64>,
    values: &FieldValues,
) -> Option<f64> {
    let b = boost.unwrap_or(1.0);
    let hit = |matched: bool, score: f64| matched.then_some(score);
    match kind {
        ClauseKind::Term(term) => hit(values.keywords.iter().any(|k| **k == **term), b * b),
        ClauseKind::Fuzzy { term, distance } => {
            let query: Vec<char> = term.chars().collect();
            let mut total = 0.0;
            let mut matched = false;
            for k in &values.keywords {
                if let Some(weight) = fuzzy_weight(&query, k, *distance) {
                    matched = true;
                    total += weight;
                }
            }
            hit(matched, b * b * total)
        }
        ClauseKind::Wildcard { regex, .. } | ClauseKind::Regex { regex, .. } => {
            let count = values.keywords.iter().filter(|k| regex.is_match(k)).count();
            hit(count > 0, b * count as f64)
        }
        ClauseKind::Phrase(_) => None,
        ClauseKind::Number { text, key } => {
            let count = usize::from(values.keywords.iter().any(|k| **k == **text))
                + usize::from(values.numbers.binary_search(key).is_ok());
            hit(count > 0, b * count as f64)
        }
        ClauseKind::Range { bound, lo, hi, .. } => {
            hit(values.has_number_in(*lo, *hi), range_score(bound, b))
        }
    }
}

/// Bluge's weight for a fuzzy candidate: 1 for an exact match, otherwise
/// `1 - d / min(len)` where `d` is the edit distance (with transpositions)
/// in characters, or `None` beyond `max`.
fn fuzzy_weight(query: &[char], candidate: &str, max: u8) -> Option<f64> {
    let candidate: Vec<char> = candidate.chars().collect();
    if candidate == query {
        return Some(1.0);
    }
    let d = osa_distance(query, &candidate, usize::from(max))?;
    let min_len = query.len().min(candidate.len());
    Some(1.0 - d as f64 / min_len as f64)
}

/// Optimal-string-alignment distance, or `None` when above `max`.
fn osa_distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut rows = vec![0usize; 3 * width];
    let (mut prev2, mut prev, mut cur) = (0, width, 2 * width);
    for (j, cell) in rows[prev..prev + width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[cur] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[prev + j] + 1)
                .min(rows[cur + j - 1] + 1)
                .min(rows[prev + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[prev2 + j - 2] + 1);
            }
            rows[cur + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        (prev2, prev, cur) = (prev, cur, prev2);
    }
    let d = rows[prev + b.len()];
    (d <= max).then_some(d)
}

impl Query {
    /// The score of `doc` under this query, `None` if it does not match.
    pub fn score(&self, doc: &Document) -> Option<f64> {
        match &self.kind {
            QueryKind::All => Some(1.0),
            QueryKind::None => None,
            QueryKind::Clauses {
                clauses,
                need_should,
            } => {
                let mut tally = Tally::new();
                // MUST, then MUST NOT, then SHOULD: decides early, and sums
                // scores in the same order as the index does.
                let ordered = [Occur::Must, Occur::MustNot, Occur::Should]
                    .into_iter()
                    .flat_map(|occur| clauses.iter().filter(move |c| c.occur == occur));
                for clause in ordered {
                    let values = clause.field.as_deref().and_then(|name| doc.field(name));
                    let score = values.and_then(|v| clause_score(&clause.kind, clause.boost, v));
                    if !tally.record(clause.occur, score) {
                        return None;
                    }
                }
                tally.finish(Rules::of(clauses, *need_should))
            }
        }
    }

    /// True if `doc` matches.
    pub fn matches(&self, doc: &Document) -> bool {
        self.score(doc).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osa() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(osa_distance(&c("abc"), &c("abc"), 2), Some(0));
        assert_eq!(osa_distance(&c("abc"), &c("acb"), 2), Some(1));
        assert_eq!(osa_distance(&c("abc"), &c("xbcd"), 2), Some(2));
        assert_eq!(osa_distance(&c("abc"), &c("xyz"), 2), None);
        assert_eq!(osa_distance(&c(""), &c("ab"), 2), Some(2));
        assert_eq!(osa_distance(&c("ça"), &c("ca"), 1), Some(1));
    }
}
