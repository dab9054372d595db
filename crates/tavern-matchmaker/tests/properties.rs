//! Property tests over random pools and several passes: no ticket is
//! matched twice, every group's size suits every member (range and count
//! multiple), members hold distinct sessions, and with mutual matching every
//! member's query accepts every other member (without it, the searcher's
//! query accepts the rest).

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use tavern_matchmaker::{Config, Matchmaker, Presence, TicketRequest};
use tavern_query::{Document, Query};
use uuid::Uuid;

const T0: i64 = 1_700_000_000_000_000_000;
const QUERIES: [&str; 8] = [
    "*",
    "",
    "+properties.region:a",
    "+properties.region:b properties.skill:>=5^2",
    "-properties.region:c",
    "+properties.skill:>=3 +properties.skill:<=7",
    "properties.region:a properties.region:b",
    "properties.region:c^3 +properties.skill:<6",
];

#[derive(Debug, Clone)]
struct Spec {
    session: u64,
    multiple: i32,
    min: i32,
    extra: i32,
    region: &'static str,
    skill: f64,
    query: usize,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..6u64,
        1..=3i32,
        1..=3i32,
        0..=2i32,
        prop::sample::select(vec!["a", "b", "c"]),
        0..10u8,
        0..QUERIES.len(),
    )
        .prop_map(
            |(session, multiple, min, extra, region, skill, query)| Spec {
                session,
                multiple,
                // Multiples of `multiple`, at least 2.
                min: if multiple == 1 {
                    min + 1
                } else {
                    min * multiple
                },
                extra: extra * multiple,
                region,
                skill: f64::from(skill),
                query,
            },
        )
}

struct Held {
    min: i32,
    max: i32,
    multiple: i32,
    query: Query,
    doc: Document,
}

fn check(specs: Vec<Vec<Spec>>, rev_precision: bool, max_intervals: u32) {
    let mut mm = Matchmaker::new(Config {
        max_tickets: 100,
        max_intervals,
        rev_precision,
    });
    let mut held: HashMap<String, Held> = HashMap::new();
    let mut matched = HashSet::new();
    let mut now = T0;
    for batch in specs {
        for s in batch {
            let req = TicketRequest {
                presence: Presence {
                    user_id: Uuid::from_u64_pair(1, s.session),
                    session_id: Uuid::from_u64_pair(2, s.session),
                    username: format!("user{}", s.session),
                    node: "tavern".into(),
                },
                party_id: None,
                others: Vec::new(),
                min_count: s.min,
                max_count: s.min + s.extra,
                count_multiple: Some(s.multiple),
                query: QUERIES[s.query].into(),
                string_properties: HashMap::from([("region".into(), s.region.into())]),
                numeric_properties: HashMap::from([("skill".into(), s.skill)]),
            };
            let id = mm.add(req, now).expect("valid ticket");
            let mut doc = Document::new();
            doc.add_string("properties.region", s.region);
            doc.add_number("properties.skill", s.skill);
            let text = if QUERIES[s.query].is_empty() {
                "*"
            } else {
                QUERIES[s.query]
            };
            held.insert(
                id,
                Held {
                    min: s.min,
                    max: s.min + s.extra,
                    multiple: s.multiple,
                    query: Query::parse(text).unwrap(),
                    doc,
                },
            );
            now += 1_000;
        }
        now += 15_000_000_000;
        let before = mm.len();
        let groups = mm.process(now);
        let members: usize = groups.iter().map(Vec::len).sum();
        assert_eq!(mm.len(), before - members);
        for group in groups {
            let size = group.len() as i32;
            let sessions: HashSet<_> = group.iter().map(|e| e.presence.session_id).collect();
            assert_eq!(sessions.len(), group.len(), "sessions repeat");
            for e in &group {
                assert!(matched.insert(e.ticket.clone()), "ticket matched twice");
                let t = &held[&e.ticket];
                assert!(
                    t.min <= size && size <= t.max,
                    "size {size} outside {}-{}",
                    t.min,
                    t.max
                );
                assert_eq!(
                    size % t.multiple,
                    0,
                    "size {size} not a multiple of {}",
                    t.multiple
                );
                if rev_precision {
                    for other in &group {
                        if other.ticket != e.ticket {
                            assert!(
                                t.query.matches(&held[&other.ticket].doc),
                                "query rejects a member"
                            );
                        }
                    }
                }
            }
            // The searcher comes last; its query accepts everyone it picked.
            let (searcher, picked) = group.split_last().unwrap();
            for e in picked {
                assert!(
                    held[&searcher.ticket].query.matches(&held[&e.ticket].doc),
                    "searcher rejects a member"
                );
            }
        }
    }
    assert_eq!(mm.len(), held.len() - matched.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutual_groups_are_sound(specs in prop::collection::vec(prop::collection::vec(spec(), 0..25), 1..5), intervals in 1..4u32) {
        check(specs, true, intervals);
    }

    #[test]
    fn one_way_groups_are_sound(specs in prop::collection::vec(prop::collection::vec(spec(), 0..25), 1..5), intervals in 1..4u32) {
        check(specs, false, intervals);
    }
}
