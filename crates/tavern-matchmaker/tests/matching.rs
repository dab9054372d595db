//! Matching behaviour: group sizes, intervals, count multiples, queries,
//! mutual acceptance, sessions, removal and stats.

use std::collections::HashMap;

use tavern_matchmaker::{Config, Entry, Matchmaker, Presence, TicketRequest};
use uuid::Uuid;

const T0: i64 = 1_700_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;

/// A ticket from session `n`.
fn ticket(n: u64, min: i32, max: i32, query: &str) -> TicketRequest {
    TicketRequest {
        presence: Presence {
            user_id: Uuid::from_u64_pair(1, n),
            session_id: Uuid::from_u64_pair(2, n),
            username: format!("user{n}"),
            node: "tavern".into(),
        },
        party_id: None,
        others: Vec::new(),
        min_count: min,
        max_count: max,
        count_multiple: None,
        query: query.into(),
        string_properties: HashMap::new(),
        numeric_properties: HashMap::new(),
    }
}

fn with_string(mut req: TicketRequest, key: &str, value: &str) -> TicketRequest {
    req.string_properties.insert(key.into(), value.into());
    req
}

fn with_number(mut req: TicketRequest, key: &str, value: f64) -> TicketRequest {
    req.numeric_properties.insert(key.into(), value);
    req
}

fn with_multiple(mut req: TicketRequest, multiple: i32) -> TicketRequest {
    req.count_multiple = Some(multiple);
    req
}

fn add_all(mm: &mut Matchmaker, reqs: impl IntoIterator<Item = TicketRequest>) -> Vec<String> {
    reqs.into_iter()
        .enumerate()
        .map(|(i, req)| mm.add(req, T0 + i as i64).unwrap())
        .collect()
}

fn sizes(groups: &[Vec<Entry>]) -> Vec<usize> {
    groups.iter().map(Vec::len).collect()
}

fn users(group: &[Entry]) -> Vec<String> {
    let mut names: Vec<_> = group.iter().map(|e| e.presence.username.clone()).collect();
    names.sort();
    names
}

#[test]
fn two_tickets_two_two_match_in_one_pass() {
    let mut mm = Matchmaker::new(Config::default());
    let tickets = add_all(&mut mm, [ticket(1, 2, 2, "*"), ticket(2, 2, 2, "")]);
    let groups = mm.process(T0 + 15 * SEC);
    assert_eq!(sizes(&groups), [2]);
    let mut got: Vec<_> = groups[0].iter().map(|e| e.ticket.clone()).collect();
    got.sort();
    let mut want = tickets;
    want.sort();
    assert_eq!(got, want);
    assert!(mm.is_empty());
}

#[test]
fn entries_carry_the_ticket_data() {
    let mut mm = Matchmaker::new(Config::default());
    let a = with_number(
        with_string(ticket(1, 2, 2, "*"), "region", "eu"),
        "skill",
        7.0,
    );
    let ticket_a = mm.add(a, T0).unwrap();
    mm.add(ticket(2, 2, 2, "*"), T0 + SEC).unwrap();
    let groups = mm.process(T0 + 15 * SEC);
    let entry = groups[0].iter().find(|e| e.ticket == ticket_a).unwrap();
    assert_eq!(entry.presence.username, "user1");
    assert_eq!(entry.presence.session_id, Uuid::from_u64_pair(2, 1));
    assert_eq!(entry.string_properties["region"], "eu");
    assert_eq!(entry.numeric_properties["skill"], 7.0);
    assert_eq!(entry.create_time, T0);
    assert_eq!(entry.party_id, None);
}

#[test]
fn three_of_two_to_three_match_as_three() {
    let mut mm = Matchmaker::new(Config::default());
    add_all(&mut mm, (1..=3).map(|n| ticket(n, 2, 3, "*")));
    let groups = mm.process(T0 + 15 * SEC);
    assert_eq!(sizes(&groups), [3]);
}

#[test]
fn two_of_two_to_three_wait_max_intervals() {
    let mut mm = Matchmaker::new(Config::default());
    add_all(&mut mm, (1..=2).map(|n| ticket(n, 2, 3, "*")));
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    assert_eq!(mm.len(), 2);
    let groups = mm.process(T0 + 30 * SEC);
    assert_eq!(sizes(&groups), [2]);

    let mut mm = Matchmaker::new(Config {
        max_intervals: 4,
        ..Config::default()
    });
    add_all(&mut mm, (1..=2).map(|n| ticket(n, 2, 3, "*")));
    for pass in 1..4 {
        assert!(mm.process(T0 + pass * 15 * SEC).is_empty(), "pass {pass}");
    }
    assert_eq!(sizes(&mm.process(T0 + 60 * SEC)), [2]);
}

#[test]
fn a_third_ticket_arriving_in_time_makes_three() {
    let mut mm = Matchmaker::new(Config::default());
    add_all(&mut mm, (1..=2).map(|n| ticket(n, 2, 3, "*")));
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    mm.add(ticket(3, 2, 3, "*"), T0 + 20 * SEC).unwrap();
    assert_eq!(sizes(&mm.process(T0 + 30 * SEC)), [3]);
}

#[test]
fn expired_tickets_stay_in_the_pool_for_others() {
    let mut mm = Matchmaker::new(Config::default());
    // Searches once only (min == max), finds nothing that fits.
    mm.add(ticket(1, 2, 2, "+properties.mode:duel"), T0)
        .unwrap();
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    assert!(mm.process(T0 + 30 * SEC).is_empty());
    // A newcomer finds the passive ticket.
    mm.add(
        with_string(ticket(2, 2, 2, "*"), "mode", "duel"),
        T0 + 40 * SEC,
    )
    .unwrap();
    // Still one-sided: the passive ticket's query must accept the newcomer,
    // which it does.
    assert_eq!(sizes(&mm.process(T0 + 45 * SEC)), [2]);
}

#[test]
fn count_multiple_rounds_groups() {
    // Four tickets, 2-4 in multiples of 2: one group of 4.
    let mut mm = Matchmaker::new(Config::default());
    add_all(
        &mut mm,
        (1..=4).map(|n| with_multiple(ticket(n, 2, 4, "*"), 2)),
    );
    assert_eq!(sizes(&mm.process(T0 + 15 * SEC)), [4]);

    // Three tickets: nothing until the last interval, then 2, leaving one.
    let mut mm = Matchmaker::new(Config::default());
    let tickets = add_all(
        &mut mm,
        (1..=3).map(|n| with_multiple(ticket(n, 2, 4, "*"), 2)),
    );
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    let groups = mm.process(T0 + 30 * SEC);
    assert_eq!(sizes(&groups), [2]);
    assert_eq!(mm.len(), 1);
    // As Nakama does, the oldest of the searcher's picks is the one dropped:
    // the oldest ticket searched first and picked the other two.
    let left = &tickets[1];
    assert!(groups[0].iter().all(|e| &e.ticket != left));
}

#[test]
fn every_member_must_accept_the_size() {
    // A 2-4 searcher finds a 2-2 ticket, but a group of 3 or 4 does not suit
    // it; the 2-2 ticket then pairs with another 2-2 ticket.
    let mut mm = Matchmaker::new(Config::default());
    mm.add(ticket(1, 2, 4, "*"), T0).unwrap();
    mm.add(ticket(2, 2, 2, "*"), T0 + 1).unwrap();
    mm.add(ticket(3, 3, 4, "*"), T0 + 2).unwrap();
    mm.add(ticket(4, 2, 4, "*"), T0 + 3).unwrap();
    mm.add(ticket(5, 2, 2, "*"), T0 + 4).unwrap();
    let groups = mm.process(T0 + 15 * SEC);
    for group in &groups {
        let size = group.len() as i32;
        for entry in group {
            let n = entry.presence.username[4..].parse::<u32>().unwrap();
            let (min, max) = [(2, 4), (2, 2), (3, 4), (2, 4), (2, 2)][n as usize - 1];
            assert!(min <= size && size <= max, "{:?}", users(group));
        }
    }
    assert!(groups.iter().any(|g| users(g) == ["user2", "user5"]));
}

#[test]
fn queries_keep_regions_apart() {
    let mut mm = Matchmaker::new(Config::default());
    add_all(
        &mut mm,
        [
            with_string(ticket(1, 2, 2, "+properties.region:eu"), "region", "eu"),
            with_string(ticket(2, 2, 2, "+properties.region:us"), "region", "us"),
            with_string(ticket(3, 2, 2, "+properties.region:eu"), "region", "eu"),
            with_string(ticket(4, 2, 2, "+properties.region:us"), "region", "us"),
        ],
    );
    let groups = mm.process(T0 + 15 * SEC);
    let mut pairs: Vec<_> = groups.iter().map(|g| users(g)).collect();
    pairs.sort();
    assert_eq!(pairs, [["user1", "user3"], ["user2", "user4"]]);

    let mut mm = Matchmaker::new(Config::default());
    add_all(
        &mut mm,
        [
            with_string(ticket(1, 2, 2, "+properties.region:eu"), "region", "eu"),
            with_string(ticket(2, 2, 2, "+properties.region:us"), "region", "us"),
        ],
    );
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    assert!(mm.process(T0 + 30 * SEC).is_empty());
    assert_eq!(mm.len(), 2);
}

#[test]
fn numeric_ranges() {
    let q = "+properties.skill:>=10 +properties.skill:<=20";
    let mut mm = Matchmaker::new(Config::default());
    add_all(
        &mut mm,
        [
            with_number(ticket(1, 2, 2, q), "skill", 15.0),
            with_number(ticket(2, 2, 2, q), "skill", 25.0),
            with_number(ticket(3, 2, 2, q), "skill", 9.5),
            with_number(ticket(4, 2, 2, q), "skill", 20.0),
        ],
    );
    let groups = mm.process(T0 + 15 * SEC);
    assert_eq!(
        groups.iter().map(|g| users(g)).collect::<Vec<_>>(),
        [["user1", "user4"]]
    );
}

#[test]
fn a_numeric_property_hides_a_string_one_of_the_same_name() {
    let mut mm = Matchmaker::new(Config::default());
    let both = with_number(
        with_string(ticket(1, 2, 2, "*"), "level", "high"),
        "level",
        9.0,
    );
    mm.add(both, T0).unwrap();
    mm.add(ticket(2, 2, 2, "+properties.level:high"), T0 + 1)
        .unwrap();
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    mm.add(ticket(3, 2, 2, "+properties.level:>=9"), T0 + 2)
        .unwrap();
    assert_eq!(
        mm.process(T0 + 30 * SEC)
            .iter()
            .map(|g| users(g))
            .collect::<Vec<_>>(),
        [["user1", "user3"]]
    );
}

#[test]
fn mutual_acceptance() {
    // 1 accepts everyone, but 2 only wants ranked players and 1 is casual.
    let reqs = || {
        [
            with_string(ticket(1, 2, 2, "*"), "mode", "casual"),
            with_string(ticket(2, 2, 2, "+properties.mode:ranked"), "mode", "ranked"),
        ]
    };
    let mut mm = Matchmaker::new(Config::default());
    add_all(&mut mm, reqs());
    assert!(mm.process(T0 + 15 * SEC).is_empty());

    // Nakama's default (one-way): 1 searches first and takes 2.
    let mut mm = Matchmaker::new(Config {
        rev_precision: false,
        ..Config::default()
    });
    add_all(&mut mm, reqs());
    assert_eq!(sizes(&mm.process(T0 + 15 * SEC)), [2]);
}

#[test]
fn mutual_acceptance_within_a_group() {
    // The searcher accepts 2 and 3, and they accept it, but 3 rejects 2.
    let mut mm = Matchmaker::new(Config::default());
    add_all(
        &mut mm,
        [
            with_string(ticket(1, 3, 3, "*"), "tag", "a"),
            with_string(ticket(2, 3, 3, "*"), "tag", "b"),
            with_string(ticket(3, 3, 3, "-properties.tag:b"), "tag", "c"),
        ],
    );
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    mm.add(with_string(ticket(4, 3, 3, "*"), "tag", "d"), T0 + 20 * SEC)
        .unwrap();
    // 4 searches: picks 1, then 2, then 3 conflicts with 2 ... 1+2+4 = 3.
    let groups = mm.process(T0 + 30 * SEC);
    assert_eq!(
        groups.iter().map(|g| users(g)).collect::<Vec<_>>(),
        [["user1", "user2", "user4"]]
    );
}

#[test]
fn same_session_never_matches_itself() {
    let mut mm = Matchmaker::new(Config::default());
    mm.add(ticket(1, 2, 2, "*"), T0).unwrap();
    mm.add(ticket(1, 2, 2, "*"), T0 + 1).unwrap();
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    assert_eq!(mm.len(), 2);

    // Two tickets of session 1 and one of session 2, all 2-3: session 1's
    // tickets never share a group, so a pair forms on the last interval and
    // the other ticket of session 1 stays.
    let mut mm = Matchmaker::new(Config::default());
    mm.add(ticket(1, 2, 3, "*"), T0).unwrap();
    let b = mm.add(ticket(1, 2, 3, "*"), T0 + 1).unwrap();
    mm.add(ticket(2, 2, 3, "*"), T0 + 2).unwrap();
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    let groups = mm.process(T0 + 30 * SEC);
    assert_eq!(
        groups.iter().map(|g| users(g)).collect::<Vec<_>>(),
        [["user1", "user2"]]
    );
    assert!(groups[0].iter().all(|e| e.ticket != b));
    assert_eq!(mm.len(), 1);
}

#[test]
fn remove_and_remove_session_take_tickets_out() {
    let mut mm = Matchmaker::new(Config::default());
    let a = mm.add(ticket(1, 2, 2, "*"), T0).unwrap();
    mm.add(ticket(1, 2, 2, "*"), T0 + 1).unwrap();
    mm.add(ticket(2, 2, 2, "*"), T0 + 2).unwrap();
    assert_eq!(mm.len(), 3);
    mm.remove(Uuid::from_u64_pair(2, 1), &a).unwrap();
    assert_eq!(mm.len(), 2);
    assert_eq!(mm.remove_session(Uuid::from_u64_pair(2, 1)), 1);
    assert_eq!(mm.remove_session(Uuid::from_u64_pair(2, 1)), 0);
    assert_eq!(mm.len(), 1);
    assert!(mm.process(T0 + 15 * SEC).is_empty());
    // The session may add again up to the limit.
    for _ in 0..3 {
        mm.add(ticket(1, 2, 2, "+properties.x:y"), T0 + 3).unwrap();
    }
    assert!(mm.add(ticket(1, 2, 2, "*"), T0 + 4).is_err());
    assert_eq!(mm.remove_session(Uuid::from_u64_pair(2, 1)), 3);
    assert!(mm.add(ticket(1, 2, 2, "*"), T0 + 5).is_ok());
}

#[test]
fn matched_tickets_free_the_session_limit() {
    let mut mm = Matchmaker::new(Config {
        max_tickets: 1,
        ..Config::default()
    });
    mm.add(ticket(1, 2, 2, "*"), T0).unwrap();
    mm.add(ticket(2, 2, 2, "*"), T0).unwrap();
    assert!(mm.add(ticket(1, 2, 2, "*"), T0).is_err());
    assert_eq!(sizes(&mm.process(T0 + 15 * SEC)), [2]);
    assert!(mm.add(ticket(1, 2, 2, "*"), T0).is_ok());
}

#[test]
fn higher_scores_first_then_oldest() {
    let mut mm = Matchmaker::new(Config::default());
    // The searcher prefers map "forest" (boost) but takes anyone.
    mm.add(
        ticket(9, 2, 2, "+properties.mode:duel properties.map:forest^3"),
        T0,
    )
    .unwrap();
    mm.add(
        with_string(
            with_string(ticket(1, 2, 2, "*"), "mode", "duel"),
            "map",
            "desert",
        ),
        T0 + 1,
    )
    .unwrap();
    mm.add(
        with_string(
            with_string(ticket(2, 2, 2, "*"), "mode", "duel"),
            "map",
            "forest",
        ),
        T0 + 2,
    )
    .unwrap();
    mm.add(
        with_string(
            with_string(ticket(3, 2, 2, "*"), "mode", "duel"),
            "map",
            "forest",
        ),
        T0 + 3,
    )
    .unwrap();
    let groups = mm.process(T0 + 15 * SEC);
    assert_eq!(users(&groups[0]), ["user2", "user9"]);
    // The searcher comes last in its group.
    assert_eq!(groups[0].last().unwrap().presence.username, "user9");
}

#[test]
fn stats() {
    let mut mm = Matchmaker::new(Config::default());
    assert_eq!(mm.stats().ticket_count, 0);
    assert_eq!(mm.stats().oldest_ticket_create_time, None);
    for n in 0..12 {
        mm.add(ticket(n, 2, 2, "*"), T0 + n as i64).unwrap();
    }
    mm.add(ticket(99, 5, 5, "*"), T0 + 100).unwrap();
    let stats = mm.stats();
    assert_eq!(stats.ticket_count, 13);
    assert_eq!(stats.oldest_ticket_create_time, Some(T0));
    // A clock going backwards does not reorder the pool.
    mm.add(ticket(98, 5, 5, "*"), T0 - SEC).unwrap();
    assert_eq!(mm.stats().oldest_ticket_create_time, Some(T0));
    let done = T0 + 15 * SEC;
    assert_eq!(sizes(&mm.process(done)), [2; 6]);
    let stats = mm.stats();
    assert_eq!(stats.ticket_count, 2);
    assert_eq!(stats.oldest_ticket_create_time, Some(T0 + 100));
    assert_eq!(stats.completions.len(), 10);
    assert!(stats.completions.iter().all(|c| c.complete_time == done));
    // The last ten of twelve: the first group's two are gone.
    let mut created: Vec<_> = stats
        .completions
        .iter()
        .map(|c| c.create_time - T0)
        .collect();
    created.sort();
    assert_eq!(created, (2..12).collect::<Vec<_>>());
}

/// A party ticket: session `first` leads, sessions `others` are members.
fn party_ticket(party: &str, first: u64, others: &[u64], min: i32, max: i32) -> TicketRequest {
    let mut req = ticket(first, min, max, "*");
    req.party_id = Some(party.into());
    req.others = others
        .iter()
        .map(|&n| ticket(n, min, max, "*").presence)
        .collect();
    req
}

#[test]
fn a_party_of_two_and_two_solo_tickets_make_four() {
    let mut mm = Matchmaker::new(Config::default());
    let tickets = add_all(
        &mut mm,
        [
            ticket(1, 4, 4, "*"),
            party_ticket("p.n", 10, &[11], 4, 4),
            ticket(2, 4, 4, "*"),
        ],
    );
    assert_eq!(mm.len(), 3);
    let groups = mm.process(T0 + SEC);
    assert_eq!(sizes(&groups), [4]);
    assert_eq!(users(&groups[0]), ["user1", "user10", "user11", "user2"]);
    let party: Vec<&Entry> = groups[0].iter().filter(|e| e.party_id.is_some()).collect();
    assert_eq!(party.len(), 2);
    assert!(party.iter().all(|e| e.ticket == tickets[1]));
    assert!(mm.is_empty());
}

#[test]
fn a_party_too_big_for_the_room_left_waits() {
    let mut mm = Matchmaker::new(Config::default());
    add_all(
        &mut mm,
        [
            ticket(1, 3, 3, "*"),
            ticket(2, 3, 3, "*"),
            party_ticket("p.n", 10, &[11], 3, 3),
        ],
    );
    let groups = mm.process(T0 + SEC);
    // 1 + 1 + 2 overshoots 3: the party matches one solo ticket.
    assert_eq!(sizes(&groups), [3]);
    assert_eq!(groups[0].iter().filter(|e| e.party_id.is_some()).count(), 2);
    assert_eq!(mm.len(), 1);
}

#[test]
fn party_tickets_belong_to_the_party() {
    let mut mm = Matchmaker::new(Config::default());
    let ids = add_all(
        &mut mm,
        [
            party_ticket("p.n", 10, &[11], 2, 4),
            party_ticket("p.n", 10, &[11], 2, 4),
            party_ticket("q.n", 20, &[21], 2, 4),
        ],
    );
    // Not a session's to remove, nor another party's.
    let leader = Uuid::from_u64_pair(2, 10);
    assert!(mm.remove(leader, &ids[0]).is_err());
    assert!(mm.remove_party("q.n", &ids[0]).is_err());
    assert!(mm.remove_party("p.n", "unknown").is_err());
    mm.remove_party("p.n", &ids[0]).unwrap();
    assert_eq!(mm.len(), 2);
    assert_eq!(mm.remove_party_all("p.n"), 1);
    // A member's socket closing takes the party's tickets with it.
    assert_eq!(mm.remove_session(Uuid::from_u64_pair(2, 21)), 1);
    assert!(mm.is_empty());
}

#[test]
fn a_party_ticket_counts_towards_every_members_limit() {
    let mut mm = Matchmaker::new(Config {
        max_tickets: 1,
        ..Config::default()
    });
    mm.add(ticket(11, 2, 2, "*"), T0).unwrap();
    let err = mm
        .add(party_ticket("p.n", 10, &[11], 2, 4), T0)
        .unwrap_err();
    assert_eq!(err, tavern_matchmaker::AddError::TooManyTickets);
    mm.add(party_ticket("q.n", 20, &[21], 2, 4), T0).unwrap();
    let err = mm
        .add(party_ticket("q.n", 22, &[23], 2, 4), T0)
        .unwrap_err();
    assert_eq!(err, tavern_matchmaker::AddError::TooManyTickets);
}

#[test]
fn two_tickets_of_one_party_never_match_each_other() {
    let mut mm = Matchmaker::new(Config::default());
    add_all(
        &mut mm,
        [
            party_ticket("p.n", 10, &[], 2, 2),
            party_ticket("p.n", 11, &[], 2, 2),
        ],
    );
    assert!(mm.process(T0 + SEC).is_empty());
}
