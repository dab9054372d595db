//! Criterion benchmark: one matching pass over a fresh pool of 1k, 10k and
//! 100k tickets with realistic queries (region of 5, mode of 3, a skill
//! window of ±10 on 0..100; half the tickets 2-2, half 2-4), mutual
//! matching on.
//!
//! Short timings on shared machines:
//! `cargo bench -p tavern-matchmaker -- --warm-up-time 1 --measurement-time 3`

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use tavern_matchmaker::{Config, Matchmaker, Presence, TicketRequest};
use uuid::Uuid;

const REGIONS: [&str; 5] = ["eu", "us", "asia", "sa", "oc"];
const MODES: [&str; 3] = ["ranked", "casual", "custom"];
const START: i64 = 1_700_000_000_000_000_000;

/// A cheap deterministic generator, so every run builds the same pool.
fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64)
        .wrapping_add(salt)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn request(i: usize) -> TicketRequest {
    let region = REGIONS[(mix(i, 1) % 5) as usize];
    let mode = MODES[(mix(i, 2) % 3) as usize];
    let skill = (mix(i, 3) % 100) as f64;
    TicketRequest {
        presence: Presence {
            user_id: Uuid::from_u64_pair(1, i as u64),
            session_id: Uuid::from_u64_pair(2, i as u64),
            username: format!("user{i}"),
            node: "tavern".into(),
        },
        party_id: None,
        others: Vec::new(),
        min_count: 2,
        max_count: if i.is_multiple_of(2) { 2 } else { 4 },
        count_multiple: None,
        query: format!(
            "+properties.region:{region} +properties.mode:{mode} \
             +properties.skill:>={} +properties.skill:<={}",
            skill - 10.0,
            skill + 10.0
        ),
        string_properties: HashMap::from([
            ("region".into(), region.into()),
            ("mode".into(), mode.into()),
        ]),
        numeric_properties: HashMap::from([("skill".into(), skill)]),
    }
}

fn pool(n: usize) -> Matchmaker {
    let mut mm = Matchmaker::new(Config::default());
    for i in 0..n {
        mm.add(request(i), START + i as i64).expect("valid ticket");
    }
    mm
}

fn process(c: &mut Criterion) {
    let mut group = c.benchmark_group("process");
    for n in [1_000, 10_000, 100_000] {
        if n == 100_000 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_batched(
                || pool(n),
                |mut mm| black_box(mm.process(START + 15_000_000_000)),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = process
}
criterion_main!(benches);
