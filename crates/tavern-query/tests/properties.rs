//! Property tests: the parser never panics, rendering round-trips, and the
//! index returns exactly what a brute-force scan with `Query::score` does,
//! through arbitrary inserts, replacements and removals.

use std::collections::HashMap;

use proptest::prelude::*;
use tavern_query::{Document, Index, Query};

/// Pieces that make up plausible (and implausible) query strings.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "+",
        "-",
        " ",
        "  ",
        ":",
        ">",
        ">=",
        "<",
        "<=",
        "=",
        "^",
        "^2",
        "^0.5",
        "~",
        "~1",
        "~2",
        "\\",
        "\\ ",
        "\\:",
        "\"",
        "\"a b\"",
        "\"2024-01-01T00:00:00Z\"",
        "f",
        "g",
        "label.mode",
        "ranked",
        "r*",
        "?x",
        "/r.*/",
        "/",
        "5",
        "-5",
        "1.5",
        "0",
        "T",
        "*",
        "é",
        "\t",
    ])
}

fn query_text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..12).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = Query::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_query_like_text(s in query_text()) {
        let _ = Query::parse(&s);
    }

    #[test]
    fn rendering_round_trips(s in query_text()) {
        if let Ok(q) = Query::parse(&s) {
            let rendered = q.to_string();
            let again = Query::parse(&rendered);
            prop_assert_eq!(again.as_ref(), Ok(&q), "{:?} rendered as {:?}", s, rendered);
        }
    }
}

/// A small random document over a few fields and values, so that queries
/// hit often.
fn document() -> impl Strategy<Value = Document> {
    let value = prop_oneof![
        prop::sample::select(vec!["a", "b", "ab", "ba", "5", "T"])
            .prop_map(|s| serde_json::json!(s)),
        (-3i32..8).prop_map(|n| serde_json::json!(n)),
        Just(serde_json::json!("2024-01-02T00:00:00Z")),
        Just(serde_json::json!(true)),
    ];
    let field = prop::sample::select(vec!["x", "y", "z"]);
    prop::collection::vec((field, prop::collection::vec(value, 1..3)), 0..5).prop_map(|fields| {
        let mut doc = Document::new();
        for (name, values) in fields {
            doc.add_json(&format!("label.{name}"), &serde_json::Value::Array(values));
        }
        doc
    })
}

/// A random query over the same fields and values.
fn query() -> impl Strategy<Value = Query> {
    let field = prop::sample::select(vec!["label.x", "label.y", "label.z", "label.w"]);
    let value = prop::sample::select(vec![
        "a",
        "b",
        "ab",
        "T",
        "F",
        "5",
        "-2",
        "3",
        ">2",
        ">=5",
        "<0",
        "<=-1",
        "a*",
        "?",
        "/b.*/",
        "ab~1",
        "ba~2",
        "\"a\"",
        ">\"2024-01-01T00:00:00Z\"",
        "<=\"2024-01-02T00:00:00Z\"",
    ]);
    let prefix = prop::sample::select(vec!["", "", "+", "-"]);
    let boost = prop::sample::select(vec!["", "", "^2", "^0.5"]);
    prop::collection::vec((prefix, field, value, boost), 1..5).prop_map(|clauses| {
        let text: Vec<String> = clauses
            .into_iter()
            .map(|(p, f, v, b)| {
                let sep = if v.contains('~') && !b.is_empty() {
                    " "
                } else {
                    ""
                };
                format!("{p}{f}:{v}{sep}{b}")
            })
            .collect();
        Query::parse(&text.join(" ")).unwrap()
    })
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, Document),
    Remove(u8),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => (0u8..24, document()).prop_map(|(k, d)| Op::Insert(k, d)),
        1 => (0u8..24).prop_map(Op::Remove),
    ];
    prop::collection::vec(op, 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn structured_queries_round_trip(q in query()) {
        prop_assert_eq!(Query::parse(&q.to_string()), Ok(q));
    }

    #[test]
    fn index_equals_brute_force(ops in ops(), queries in prop::collection::vec(query(), 1..6)) {
        let mut index = Index::new();
        let mut order: Vec<u8> = Vec::new();
        let mut docs: HashMap<u8, Document> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, d) => {
                    if !docs.contains_key(&k) {
                        order.push(k);
                    }
                    docs.insert(k, d.clone());
                    index.insert(k, d);
                }
                Op::Remove(k) => {
                    prop_assert_eq!(index.remove(&k), docs.remove(&k).is_some());
                    order.retain(|o| *o != k);
                }
            }
        }
        prop_assert_eq!(index.len(), docs.len());
        for q in queries.iter().chain([&Query::match_all(), &Query::match_none()]) {
            let got: Vec<(u8, f64)> = index.search(q).map(|(k, s)| (*k, s)).collect();
            let expected: Vec<(u8, f64)> =
                order.iter().filter_map(|k| q.score(&docs[k]).map(|s| (*k, s))).collect();
            prop_assert_eq!(got, expected, "query {}", q);
        }
    }
}
