//! The matchmaker in the running server: the ticket pool behind a lock, the pass that runs every
//! `matchmaker.interval_sec`, the matched hook, and the `matchmaker_matched` each player gets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tavern_matchmaker::{Config, Entry, Matchmaker};
use tavern_proto::realtime::matchmaker_matched::{Id, MatchmakerUser};
use tavern_proto::realtime::{Envelope, MatchmakerMatched, UserPresence, envelope::Message};
use tavern_runtime::{ExecutionMode, MatchmakerEntry, Presence};
use uuid::Uuid;

use crate::state::AppState;
use crate::storage::now_unix;

/// The pool of tickets on this node.
pub struct MatchmakerHost {
    pool: Mutex<Matchmaker>,
}

impl MatchmakerHost {
    pub fn new(config: &tavern_config::Matchmaker) -> MatchmakerHost {
        MatchmakerHost {
            pool: Mutex::new(Matchmaker::new(Config {
                max_tickets: config.max_tickets,
                max_intervals: config.max_intervals,
                rev_precision: config.rev_precision,
            })),
        }
    }

    /// The pool, for adding and removing tickets.
    pub fn pool(&self) -> MutexGuard<'_, Matchmaker> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a pass every `interval`, for as long as the server runs.
    pub fn start(state: Arc<AppState>, interval: Duration) {
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let started = std::time::Instant::now();
                let now = now_unix_nanos();
                // Off the async workers: a pass over a large pool with costly queries
                // must not hold up requests, sockets and match ticks.
                let pass = state.clone();
                let Ok(groups) =
                    tokio::task::spawn_blocking(move || pass.matchmaker.pool().process(now)).await
                else {
                    continue;
                };
                if let Some(metrics) = crate::telemetry::get() {
                    metrics
                        .matchmaker_pass
                        .record(started.elapsed().as_secs_f64());
                    for entry in groups.iter().flatten() {
                        let waited = now.saturating_sub(entry.create_time) as f64 / 1e9;
                        metrics.matchmaker_time_to_match.record(waited);
                    }
                }
                for group in groups {
                    deliver(&state, group).await;
                }
            }
        });
    }
}

/// Nanoseconds since the unix epoch, the matchmaker's clock.
pub fn now_unix_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// Tells every player of a matched group where to play: the match the hook chose, or one shared
/// relayed-match token.
async fn deliver(state: &Arc<AppState>, group: Vec<Entry>) {
    let registry = state.runtime.registry();
    let mut match_id = None;
    if registry.has_matchmaker_matched() {
        let ctx = state.runtime.context(ExecutionMode::Matchmaker);
        let entries = group.iter().map(runtime_entry).collect();
        match_id = registry
            .matchmaker_matched(ctx, entries)
            .await
            .filter(|id| !id.is_empty());
    }
    let id = match match_id {
        Some(match_id) => Id::MatchId(match_id),
        None => Id::Token(
            state
                .tokens
                .issue_match_token(&format!("{}.", Uuid::new_v4()), now_unix()),
        ),
    };
    let users: Vec<MatchmakerUser> = group.iter().map(matchmaker_user).collect();
    for (entry, user) in group.iter().zip(&users) {
        if let Some(session) = state.realtime.sessions.get(entry.presence.session_id) {
            session.send(Envelope {
                cid: String::new(),
                message: Some(Message::MatchmakerMatched(MatchmakerMatched {
                    ticket: entry.ticket.clone(),
                    users: users.clone(),
                    self_: Some(user.clone()),
                    id: Some(id.clone()),
                })),
            });
        }
    }
}

fn matchmaker_user(entry: &Entry) -> MatchmakerUser {
    MatchmakerUser {
        presence: Some(UserPresence {
            user_id: entry.presence.user_id.to_string(),
            session_id: entry.presence.session_id.to_string(),
            username: entry.presence.username.clone(),
            persistence: false,
            status: None,
        }),
        party_id: entry.party_id.clone().unwrap_or_default(),
        string_properties: entry.string_properties.clone(),
        numeric_properties: entry.numeric_properties.clone(),
    }
}

fn runtime_entry(entry: &Entry) -> MatchmakerEntry {
    let mut properties: HashMap<String, serde_json::Value> = entry
        .string_properties
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone())))
        .collect();
    for (k, v) in &entry.numeric_properties {
        properties.insert(k.clone(), serde_json::Value::from(*v));
    }
    MatchmakerEntry {
        presence: Presence {
            user_id: entry.presence.user_id.to_string(),
            session_id: entry.presence.session_id.to_string(),
            username: entry.presence.username.clone(),
            node: entry.presence.node.clone(),
        },
        ticket: entry.ticket.clone(),
        properties,
        party_id: entry.party_id.clone(),
    }
}
