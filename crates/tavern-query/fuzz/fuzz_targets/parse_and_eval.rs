//! Fuzz target: parse arbitrary text as a query; when it parses, check that
//! its rendering parses back to the same query, and that evaluating it
//! directly and through the index agree on a few fixed documents.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tavern_query::{Document, Index, Query};

fn documents() -> Vec<Document> {
    let labels = [
        serde_json::json!({"mode": "ranked", "level": 5, "open": true, "tags": ["a", "b"]}),
        serde_json::json!({"mode": "casual", "level": -2.5, "start": "2024-01-01T00:00:00Z"}),
        serde_json::json!({"f": "x", "g": ["1", 1], "h": {"i": "ro*"}}),
    ];
    labels
        .iter()
        .map(|l| {
            let mut doc = Document::new();
            doc.add_json("label", l);
            doc.add_json("", l);
            doc
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(query) = Query::parse(text) else { return };
    let rendered = query.to_string();
    assert_eq!(Query::parse(&rendered).as_ref(), Ok(&query), "{text:?} rendered as {rendered:?}");
    let docs = documents();
    let mut index = Index::new();
    for (i, doc) in docs.iter().enumerate() {
        index.insert(i, doc.clone());
    }
    let expected: Vec<(usize, f64)> =
        docs.iter().enumerate().filter_map(|(i, d)| query.score(d).map(|s| (i, s))).collect();
    let got: Vec<(usize, f64)> = index.search(&query).map(|(k, s)| (*k, s)).collect();
    assert_eq!(
        got.iter().map(|(k, s)| (*k, s.to_bits())).collect::<Vec<_>>(),
        expected.iter().map(|(k, s)| (*k, s.to_bits())).collect::<Vec<_>>()
    );
});
