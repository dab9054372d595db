//! The benchmark cases of `benches/search.rs` timed in CPU time of this
//! thread (from `/proc/thread-self/schedstat`, Linux only) rather than wall
//! time, so figures stay meaningful on a machine shared with other builds.
//!
//! `cargo run --release -p tavern-query --example cpu_bench`

use std::hint::black_box;

use tavern_query::{Clause, Document, Index, Query, RangeOp};

const REGIONS: [&str; 6] = ["eu", "us", "asia", "sa", "oc", "af"];
const MODES: [&str; 3] = ["ranked", "casual", "custom"];

fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64)
        .wrapping_add(salt)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

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

/// CPU time this thread has used, in nanoseconds.
fn cpu_nanos() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux schedstat");
    stat.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("run time field")
}

/// Runs `f` in growing batches for about 0.3 s of CPU time and prints the
/// CPU time per run (reading the clock costs microseconds, so it is read
/// once per batch).
fn time<R>(name: &str, mut f: impl FnMut() -> R) {
    let budget = 300_000_000;
    black_box(f());
    let start = cpu_nanos();
    let mut runs = 0u64;
    let mut batch = 1u64;
    while cpu_nanos() - start < budget {
        for _ in 0..batch {
            black_box(f());
        }
        runs += batch;
        batch *= 2;
    }
    let per = (cpu_nanos() - start) as f64 / runs as f64;
    let (value, unit) = if per >= 1e6 {
        (per / 1e6, "ms")
    } else if per >= 1e3 {
        (per / 1e3, "µs")
    } else {
        (per, "ns")
    };
    println!("{name:<48} {value:>10.2} {unit}");
}

fn main() {
    let index = tickets(10_000);
    for (name, text) in [
        (
            "search_10k/selective_3_clause",
            "+properties.region:eu +properties.mode:ranked properties.rank:>=5",
        ),
        ("search_10k/single_must_term", "+ticket:ticket-5000"),
        (
            "search_10k/full_scan_3_clause",
            "properties.region:eu properties.mode:ranked properties.rank:>=5",
        ),
        (
            "search_10k/full_scan_no_hits",
            "+properties.rank:>=100 -properties.mode:ranked",
        ),
        ("search_10k/full_scan_regex", "+properties.region:/e.*/"),
        ("search_10k/match_all", "*"),
    ] {
        let q = Query::parse(text).unwrap();
        time(name, || index.search(&q).count());
    }
    for n in [1_000, 10_000, 100_000] {
        let index = tickets(n);
        let queries: Vec<Query> = (0..n).map(ticket_query).collect();
        time(
            &format!("matchmaker_pass/search_per_ticket_first_8/{n}"),
            || {
                queries
                    .iter()
                    .map(|q| index.search(q).take(8).count())
                    .sum::<usize>()
            },
        );
        let q = Query::parse("properties.rank:>=5").unwrap();
        time(
            &format!("matchmaker_pass/scan_query_first_8_x_n/{n}"),
            || {
                (0..n)
                    .map(|_| index.search(&q).take(8).count())
                    .sum::<usize>()
            },
        );
    }
    let mut index = tickets(10_000);
    let mut round = 0usize;
    time("updates_10k/replace_changed_label", || {
        round += 1;
        let i = mix(round, 7) as usize % 10_000;
        index.insert(i, ticket(i + round));
    });
    time("updates_10k/remove_and_insert", || {
        round += 1;
        let i = mix(round, 8) as usize % 10_000;
        index.remove(&i);
        index.insert(i, ticket(i));
    });
    time("updates_10k/build_document", || ticket(black_box(42)));
    time("parse_3_clause", || {
        Query::parse(black_box(
            "+properties.region:eu +properties.mode:ranked properties.rank:>=5",
        ))
    });
}
