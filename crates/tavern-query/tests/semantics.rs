//! Matching and scoring of every syntax form, the MUST / SHOULD / MUST NOT
//! rules, and the index's bookkeeping, checked on small hand-made documents.

use serde_json::json;
use tavern_query::{Clause, Document, Index, Query, RangeOp};

fn label(v: serde_json::Value) -> Document {
    let mut doc = Document::new();
    doc.add_json("label", &v);
    doc
}

#[track_caller]
fn score(q: &str, doc: &Document) -> Option<f64> {
    let query = Query::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    let direct = query.score(doc);
    // The index must agree with direct evaluation.
    let mut index = Index::new();
    index.insert(0u8, doc.clone());
    let hits: Vec<_> = index.search(&query).collect();
    assert_eq!(
        hits,
        direct.map(|s| (&0u8, s)).into_iter().collect::<Vec<_>>(),
        "index vs direct for {q}"
    );
    direct
}

#[test]
fn keywords_are_exact_and_case_sensitive() {
    let doc = label(json!({"mode": "Free for all", "region": "eu"}));
    assert_eq!(score("label.region:eu", &doc), Some(1.0));
    assert_eq!(score("label.region:EU", &doc), None);
    assert_eq!(score("label.region:e", &doc), None);
    assert_eq!(score(r"label.mode:Free\ for\ all", &doc), Some(1.0));
    assert_eq!(score("label.mode:Free", &doc), None);
    assert_eq!(score("label.missing:eu", &doc), None);
}

#[test]
fn bare_terms_search_a_default_field_no_document_has() {
    let doc = label(json!({"mode": "ranked", "level": 5}));
    assert_eq!(score("ranked", &doc), None);
    assert_eq!(score("5", &doc), None);
    assert_eq!(score("ran*", &doc), None);
    assert_eq!(score("+label.mode:ranked ranked", &doc), Some(1.0));
}

#[test]
fn match_all_and_match_none() {
    let doc = label(json!({"mode": "ranked"}));
    assert_eq!(score("*", &doc), Some(1.0));
    assert_eq!(score("", &doc), None);
    // Only the exact string "*" is special.
    assert_eq!(score(" *", &doc), None);
    assert_eq!(score("label.mode:*", &doc), Some(1.0));
}

#[test]
fn must_should_must_not() {
    let doc = label(json!({"a": "x", "b": "y"}));
    // Without MUST, at least one SHOULD has to match.
    assert_eq!(score("label.a:x label.b:nope", &doc), Some(1.0));
    assert_eq!(score("label.a:nope label.b:nope", &doc), None);
    // With a MUST, SHOULDs are optional and add to the score.
    assert_eq!(score("+label.a:x label.b:nope", &doc), Some(1.0));
    assert_eq!(score("+label.a:x label.b:y", &doc), Some(2.0));
    assert_eq!(score("+label.a:x +label.b:nope", &doc), None);
    // MUST NOT excludes; alone it matches everything else with score 1.
    assert_eq!(score("+label.a:x -label.b:y", &doc), None);
    assert_eq!(score("-label.b:nope", &doc), Some(1.0));
    assert_eq!(score("-label.b:y", &doc), None);
    assert_eq!(score("-label.b:nope label.a:nope", &doc), None);
    assert_eq!(score("-label.b:nope label.a:x^3", &doc), Some(9.0));
}

#[test]
fn booleans_are_t_and_f() {
    let doc = label(json!({"open": true, "locked": false}));
    assert_eq!(score("+label.open:T -label.locked:T", &doc), Some(1.0));
    assert_eq!(score("label.open:true", &doc), None);
}

#[test]
fn numbers() {
    let doc = label(json!({"level": 5, "temp": -2.5, "code": "7"}));
    assert_eq!(score("label.level:5", &doc), Some(1.0));
    assert_eq!(score("label.level:5.0", &doc), Some(1.0));
    assert_eq!(score("label.level:05", &doc), Some(1.0));
    assert_eq!(score("label.level:6", &doc), None);
    assert_eq!(score("label.temp:-2.5", &doc), Some(1.0));
    // `field:N` also matches the keyword "N".
    assert_eq!(score("label.code:7", &doc), Some(1.0));
    assert_eq!(score("label.code:7.0", &doc), None);
    assert_eq!(score("label.level:>4", &doc), Some(1.0));
    assert_eq!(score("label.level:>5", &doc), None);
    assert_eq!(score("label.level:>=5", &doc), Some(1.0));
    assert_eq!(score("label.level:<5", &doc), None);
    assert_eq!(score("label.level:<=5", &doc), Some(1.0));
    assert_eq!(score("label.temp:>-3", &doc), Some(1.0));
    assert_eq!(score("label.temp:<-2.5", &doc), None);
    // Ranges see numbers only.
    assert_eq!(score("label.code:>1", &doc), None);
    // Arrays are multi-valued fields.
    let doc = label(json!({"ranks": [1, 10]}));
    assert_eq!(score("+label.ranks:>5 +label.ranks:<5", &doc), Some(2.0));
    assert_eq!(score("label.ranks:10", &doc), Some(1.0));
}

#[test]
fn dates() {
    let doc = label(json!({"start": "2024-03-01T12:00:00Z", "day": "2024-03-01"}));
    assert_eq!(
        score(r#"label.start:>"2024-01-01T00:00:00Z""#, &doc),
        Some(1.0)
    );
    assert_eq!(score(r#"label.start:<"2024-01-01T00:00:00Z""#, &doc), None);
    assert_eq!(
        score(r#"label.start:>="2024-03-01T12:00:00Z""#, &doc),
        Some(1.0)
    );
    assert_eq!(score(r#"label.start:>"2024-03-01T12:00:00Z""#, &doc), None);
    assert_eq!(
        score(r#"label.start:<="2024-03-01T13:00:00+01:00""#, &doc),
        Some(1.0)
    );
    assert_eq!(
        score(r#"label.day:<"2024-03-01T00:00:01Z""#, &doc),
        Some(1.0)
    );
    // Date-like strings are indexed as date-times, not keywords.
    assert_eq!(score(r"label.day:2024-03-01", &doc), None);
    // The boost does not change a date range's score.
    assert_eq!(
        score(r#"label.start:>"2024-01-01T00:00:00Z"^5"#, &doc),
        Some(1.0)
    );
}

#[test]
fn wildcards_regexes_and_fuzzy() {
    let doc = label(json!({"name": "roomba", "maps": ["map1", "map2", "other"]}));
    assert_eq!(score("label.name:ro*", &doc), Some(1.0));
    assert_eq!(score("label.name:r?omba", &doc), Some(1.0));
    assert_eq!(score("label.name:ro", &doc), None);
    assert_eq!(score("label.name:*mb", &doc), None);
    assert_eq!(score("label.name:/r.*a/", &doc), Some(1.0));
    assert_eq!(score("label.name:/r.*m/", &doc), None);
    assert_eq!(score(r"label.name:/\^roomba/", &doc), Some(1.0));
    // An unescaped `^` ends the word, as in Bluge.
    assert!(Query::parse("label.name:/^roomba/").is_err());
    assert_eq!(score(r"label.name:/\w+/", &doc), Some(1.0));
    // A wildcard or regex scores once per matching value.
    assert_eq!(score("label.maps:map?", &doc), Some(2.0));
    assert_eq!(score("label.maps:/.*(map2|other).*/^2", &doc), Some(4.0));
    // Fuzzy: exact 1; otherwise 1 - distance / shorter length; boost squared.
    assert_eq!(score("label.name:roomba~1", &doc), Some(1.0));
    assert_eq!(score("label.name:roomab~1", &doc), Some(1.0 - 1.0 / 6.0));
    assert_eq!(score("label.name:rooma~", &doc), Some(1.0 - 1.0 / 5.0));
    assert_eq!(score("label.name:room~1", &doc), None);
    assert_eq!(score("label.name:roomba~0 ^3", &doc), Some(9.0));
    assert_eq!(score("label.name:ro*~0", &doc), None);
    assert_eq!(
        score("label.name:room~2 ^2", &doc),
        Some(4.0 * (1.0 - 2.0 / 4.0))
    );
}

#[test]
fn phrases_never_match() {
    let doc = label(json!({"mode": "ranked", "title": "a b"}));
    assert_eq!(score(r#"label.mode:"ranked""#, &doc), None);
    assert_eq!(score(r#"label.title:"a b""#, &doc), None);
    assert_eq!(
        score(r#"+label.mode:ranked -label.mode:"ranked""#, &doc),
        Some(1.0)
    );
}

#[test]
fn boosts() {
    let doc = label(json!({"mode": "ranked", "level": 5}));
    assert_eq!(score("label.mode:ranked^2", &doc), Some(4.0));
    assert_eq!(score("label.level:>1^3", &doc), Some(3.0));
    assert_eq!(score("label.level:5^3", &doc), Some(3.0));
    assert_eq!(
        score("+label.mode:ranked label.level:5^10 label.level:4^5", &doc),
        Some(11.0)
    );
}

#[test]
fn escapes() {
    let doc = label(json!({"mode": "free:for:all", "id": "a-b", "neg": "-x"}));
    assert_eq!(score(r"label.mode:free\:for\:all", &doc), Some(1.0));
    assert_eq!(score("label.id:a-b", &doc), Some(1.0));
    assert_eq!(score(r"label.neg:\-x", &doc), Some(1.0));
    assert!(Query::parse("label.neg:-x").is_err());
}

/// The ordering cases of Nakama's match registry tests.
#[test]
fn nakama_registry_ordering() {
    let labels = [
        json!({"foo": 5, "bar": 1, "option": "a", "baz": 4}),
        json!({"foo": 5, "bar": 1, "option": "b", "baz": 4}),
        json!({"foo": 5, "bar": 1, "option": "a", "baz": 3}),
        json!({"foo": 5, "bar": 1, "option": "b", "baz": 3}),
        json!({"foo": 5, "bar": 1, "option": "a", "baz": 2}),
        json!({"foo": 5, "bar": 1, "option": "b", "baz": 2}),
    ];
    let mut index = Index::new();
    for (i, l) in labels.iter().enumerate() {
        index.insert(i, label(l.clone()));
    }
    let ranked = |q: &str| {
        let q = Query::parse(q).unwrap();
        let mut hits: Vec<_> = index.search(&q).map(|(k, s)| (*k, s)).collect();
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.into_iter().map(|(k, _)| k).collect::<Vec<_>>()
    };
    assert_eq!(
        ranked("+label.foo:5 +label.bar:1 label.baz:4^10 label.baz:2^5")[..4],
        [0, 1, 4, 5]
    );
    assert_eq!(
        ranked("+label.foo:5 +label.bar:1 +label.option:a label.baz:4^10 label.baz:2^5"),
        [0, 4, 2]
    );
    assert_eq!(
        ranked("+label.foo:5 +label.bar:1 label.option:a label.baz:4^10 label.baz:2^5")[..4],
        [0, 1, 4, 5]
    );
}

#[test]
fn matchmaker_style_documents_and_composition() {
    let mut doc = Document::new();
    doc.add_keyword("ticket", "t1");
    doc.add_number("min_count", 2.0);
    doc.add_number("max_count", 4.0);
    doc.add_keyword("party_id", "");
    doc.add_string("properties.region", "eu");
    doc.add_string(
        "properties.blocked",
        "x-4bd6667a-2659-4888-b245-e13690ff4a9b-y",
    );
    doc.add_number("properties.rank", 7.0);
    let q = Query::parse(
        r"+properties.region:eu -properties.blocked:/.*4bd6667a\-2659\-4888\-b245\-e13690ff4a9b.*/",
    )
    .unwrap();
    assert!(!q.matches(&doc));

    // A ticket query without MUST keeps needing a SHOULD after the
    // matchmaker adds its own MUST clauses.
    let q = Query::parse("properties.region:us").unwrap();
    let q = q
        .require(Clause::range("min_count", RangeOp::Ge, 2.0))
        .require(Clause::range("max_count", RangeOp::Le, 4.0))
        .exclude(Clause::term("party_id", "p1"));
    assert!(!q.matches(&doc));
    let q = Query::parse("properties.region:eu properties.rank:>=5")
        .unwrap()
        .require(Clause::range("min_count", RangeOp::Ge, 2.0));
    assert_eq!(q.score(&doc), Some(3.0));
    let all = Query::match_all().require(Clause::range("max_count", RangeOp::Le, 3.0));
    assert!(!all.matches(&doc));
    assert!(
        !Query::match_none()
            .require(Clause::term("ticket", "t1"))
            .matches(&doc)
    );
    let excluded = Query::match_all().exclude(Clause::term("ticket", "t1"));
    assert!(!excluded.matches(&doc));
}

#[test]
fn index_order_replace_remove() {
    let mut index = Index::new();
    for i in 0..10 {
        index.insert(
            i,
            label(json!({"mode": if i % 2 == 0 { "even" } else { "odd" }, "i": i})),
        );
    }
    let q = Query::parse("+label.mode:even").unwrap();
    let keys = |index: &Index<i32>, q: &Query| index.search(q).map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(keys(&index, &q), [0, 2, 4, 6, 8]);
    // Replacing keeps the insertion position.
    index.insert(3, label(json!({"mode": "even"})));
    index.insert(4, label(json!({"mode": "odd"})));
    assert_eq!(keys(&index, &q), [0, 2, 3, 6, 8]);
    assert!(index.remove(&0));
    assert!(!index.remove(&0));
    assert_eq!(keys(&index, &q), [2, 3, 6, 8]);
    assert_eq!(index.len(), 9);
    assert_eq!(index.get(&3), Some(&label(json!({"mode": "even"}))));
    assert!(index.get(&0).is_none());
    // Lots of churn forces rebuilds; results stay those of a plain scan in
    // insertion order (a removed key inserted again goes to the end).
    let mut order: Vec<i32> = (1..10).collect();
    let mut docs: std::collections::HashMap<i32, Document> = (1..10)
        .map(|i| (i, index.get(&i).unwrap().clone()))
        .collect();
    for round in 0..50 {
        for i in 0..10 {
            let doc = label(json!({"mode": if (i + round) % 3 == 0 { "even" } else { "odd" }}));
            if !docs.contains_key(&i) {
                order.push(i);
            }
            docs.insert(i, doc.clone());
            index.insert(i, doc);
        }
        let gone = round % 10;
        index.remove(&gone);
        docs.remove(&gone);
        order.retain(|k| *k != gone);
        let expected: Vec<i32> = order
            .iter()
            .copied()
            .filter(|k| q.matches(&docs[k]))
            .collect();
        assert_eq!(keys(&index, &q), expected);
    }
    assert_eq!(keys(&index, &Query::match_all()), order);
}
