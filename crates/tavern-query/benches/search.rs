//! Criterion benchmarks: selective searches, full scans, a matchmaker-style
//! pass (one search per ticket, stopping after 8 hits) at 1k/10k/100k
//! tickets, label updates, and parsing.
//!
//! Run with short timings on shared machines:
//! `cargo bench -p tavern-query -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use tavern_query::{Clause, Document, Index, Query, RangeOp};

const REGIONS: [&str; 6] = ["eu", "us", "asia", "sa", "oc", "af"];
const MODES: [&str; 3] = ["ranked", "casual", "custom"];

/// A cheap deterministic generator, so every run indexes the same data.
fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64)
        .wrapping_add(salt)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

/// A matchmaker ticket document, as Nakama builds it.
fn ticket(i: usize) -> Document {
    let mut doc = Document::new();
    doc.add_keyword("ticket", &format!("ticket-{i}"));
    doc.add_number("min_count", 2.0);
    doc.add_number("max_count", (2 + mix(i, 1) % 3 * 2) as f64);
    doc.add_keyword("party_id", "");
    doc.add_number("created_at", 1.7e18 + i as f64);
    doc.add_string("properties.region", REGIONS[(mix(i, 2) % 6) as usize]);
    doc.add_string("properties.mode", MODES[(mix(i, 3) % 3) as usize]);
    doc.add_number("properties.rank", (mix(i, 4) % 20) as f64);
    doc
}

fn tickets(n: usize) -> Index<usize> {
    let mut index = Index::new();
    for i in 0..n {
        index.insert(i, ticket(i));
    }
    index
}

/// The query ticket `i` searches with: its own region and mode, a rank
/// floor, and the matchmaker's own count ranges.
fn ticket_query(i: usize) -> Query {
    let text = format!(
        "+properties.region:{} +properties.mode:{} properties.rank:>={}",
        REGIONS[(mix(i, 2) % 6) as usize],
        MODES[(mix(i, 3) % 3) as usize],
        mix(i, 5) % 10
    );
    Query::parse(&text)
        .unwrap()
        .require(Clause::range("min_count", RangeOp::Ge, 2.0))
        .require(Clause::range("max_count", RangeOp::Le, 8.0))
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("search_10k");
    let index = tickets(10_000);
    let cases = [
        (
            "selective_3_clause",
            "+properties.region:eu +properties.mode:ranked properties.rank:>=5",
        ),
        ("single_must_term", "+ticket:ticket-5000"),
        (
            "full_scan_3_clause",
            "properties.region:eu properties.mode:ranked properties.rank:>=5",
        ),
        (
            "full_scan_no_hits",
            "+properties.rank:>=100 -properties.mode:ranked",
        ),
        ("full_scan_regex", "+properties.region:/e.*/"),
        ("match_all", "*"),
    ];
    for (name, text) in cases {
        let q = Query::parse(text).unwrap();
        group.bench_function(name, |b| b.iter(|| index.search(black_box(&q)).count()));
    }
    group.finish();
}

fn matchmaker_pass(c: &mut Criterion) {
    let mut group = c.benchmark_group("matchmaker_pass");
    group.sample_size(10);
    for n in [1_000, 10_000, 100_000] {
        let index = tickets(n);
        let queries: Vec<Query> = (0..n).map(ticket_query).collect();
        group.bench_with_input(
            BenchmarkId::new("search_per_ticket_first_8", n),
            &n,
            |b, _| {
                b.iter(|| {
                    let mut hits = 0;
                    for q in &queries {
                        hits += index.search(q).take(8).count();
                    }
                    hits
                })
            },
        );
    }
    // Without a MUST keyword every search scans from the start until it has
    // 8 hits; with hits common that stays cheap too.
    for n in [1_000, 10_000, 100_000] {
        let index = tickets(n);
        let q = Query::parse("properties.rank:>=5").unwrap();
        group.bench_with_input(
            BenchmarkId::new("scan_query_first_8_x_n", n),
            &n,
            |b, &n| {
                b.iter(|| {
                    (0..n)
                        .map(|_| index.search(&q).take(8).count())
                        .sum::<usize>()
                })
            },
        );
    }
    group.finish();
}

fn updates(c: &mut Criterion) {
    let mut group = c.benchmark_group("updates_10k");
    let mut index = tickets(10_000);
    let mut round = 0usize;
    group.bench_function("replace_changed_label", |b| {
        b.iter(|| {
            round += 1;
            let i = mix(round, 7) as usize % 10_000;
            index.insert(i, ticket(i + round));
        })
    });
    group.bench_function("remove_and_insert", |b| {
        b.iter(|| {
            round += 1;
            let i = mix(round, 8) as usize % 10_000;
            index.remove(&i);
            index.insert(i, ticket(i));
        })
    });
    group.bench_function("build_document", |b| b.iter(|| ticket(black_box(42))));
    group.finish();
}

fn parse(c: &mut Criterion) {
    c.bench_function("parse_3_clause", |b| {
        b.iter(|| {
            Query::parse(black_box(
                "+properties.region:eu +properties.mode:ranked properties.rank:>=5",
            ))
        })
    });
}

criterion_group!(benches, search, matchmaker_pass, updates, parse);
criterion_main!(benches);
