//! RPCs over the leaderboard functions of `Nk`, each taking its arguments as a JSON payload and
//! answering with the result in Nakama's JSON, so clients (and Tavern's tests) can drive them:
//!
//! * `rust_leaderboard_create` `{"id", "authoritative", "sort_order", "operator",
//!   "reset_schedule", "metadata"}`, `rust_leaderboard_delete` `{"id"}`;
//! * `rust_leaderboard_list` `{"category_start", "category_end", "limit", "cursor"}`,
//!   `rust_leaderboards_get_id` `{"ids"}`;
//! * `rust_leaderboard_record_write` `{"id", "owner_id", "username", "score", "subscore",
//!   "metadata", "operator"}`, `rust_leaderboard_record_delete` `{"id", "owner_id"}`;
//! * `rust_leaderboard_records_list` `{"id", "owner_ids", "limit", "cursor", "expiry"}`,
//!   `rust_leaderboard_records_haystack` `{"id", "owner_id", "limit", "cursor", "expiry"}`;
//! * `rust_leaderboard_resets`: the latest resets the module's reset callback saw, oldest
//!   first, as `{"resets": [{"id", "reset", "next_reset"}]}`;
//! * `rust_tournament_create` `{"id", "authoritative", "sort_order", "operator", "duration",
//!   "reset_schedule", "metadata", "title", "description", "category", "start_time",
//!   "end_time", "max_size", "max_num_score", "join_required"}`, `rust_tournament_delete`
//!   `{"id"}`, `rust_tournament_add_attempt` `{"id", "owner_id", "count"}`,
//!   `rust_tournament_join` `{"id", "owner_id", "username"}`, `rust_tournament_list`
//!   `{"category_start", "category_end", "start_time", "end_time", "limit", "cursor"}`,
//!   `rust_tournaments_get_id` `{"ids"}`, `rust_tournament_record_write` (as the leaderboard
//!   one), `rust_tournament_records_list` and `rust_tournament_records_haystack` (as the
//!   leaderboard ones);
//! * `rust_tournament_events`: the latest tournament end and reset callbacks, as
//!   `{"events": [{"kind", "id", "end", "reset"}]}`.
//!
//! They act on any board and owner, so they answer only server-to-server calls made with the
//! runtime HTTP key (`POST /v2/rpc/<id>?http_key=...`), never a player's session.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::Value;
use tavern_runtime::{
    Code, Context, Initializer, LeaderboardCreate, LeaderboardRecordWrite, Module, RuntimeError,
    TournamentCreate, TournamentListFilter,
};

/// The `leaderboards_api` module.
pub const MODULE: Module = Module::new("leaderboards_api", init);

/// How many resets [`RESETS`] remembers.
const RESETS_KEPT: usize = 100;

/// The latest resets the reset callback saw: (board id, reset time, the board's next reset as
/// the callback got it).
static RESETS: Mutex<VecDeque<(String, i64, u32)>> = Mutex::new(VecDeque::new());

/// The latest tournament callbacks: (kind, tournament id, end of the active period, reset).
static TOURNAMENT_EVENTS: Mutex<VecDeque<(&'static str, String, i64, i64)>> =
    Mutex::new(VecDeque::new());

fn remember(kind: &'static str, id: String, end: i64, reset: i64) {
    let mut events = TOURNAMENT_EVENTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if events.len() == RESETS_KEPT {
        events.pop_front();
    }
    events.push_back((kind, id, end, reset));
}

/// The arguments of every RPC here; each reads the fields it needs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Args {
    id: String,
    authoritative: bool,
    sort_order: String,
    operator: Option<String>,
    reset_schedule: String,
    metadata: Option<Value>,
    category_start: i64,
    category_end: i64,
    limit: Option<i64>,
    cursor: String,
    ids: Vec<String>,
    owner_id: String,
    owner_ids: Vec<String>,
    username: String,
    score: i64,
    subscore: i64,
    expiry: i64,
    duration: i64,
    title: String,
    description: String,
    category: i64,
    start_time: i64,
    end_time: Option<i64>,
    max_size: i64,
    max_num_score: i64,
    join_required: bool,
    count: i64,
}

/// The arguments of a call made with the HTTP key; a player's call is refused.
fn args(ctx: &Context, payload: &str) -> Result<Args, RuntimeError> {
    if ctx.user_id().is_some() {
        return Err(RuntimeError::new(
            "only server-to-server calls (with the HTTP key) may use this RPC",
            Code::PermissionDenied,
        ));
    }
    serde_json::from_value(crate::params(payload)?)
        .map_err(|e| RuntimeError::invalid_argument(format!("bad arguments: {e}")))
}

/// A result as the RPC's answer.
fn reply<T: serde::Serialize>(value: &T) -> Result<String, RuntimeError> {
    serde_json::to_string(value).map_err(|e| RuntimeError::internal(e.to_string()))
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("rust_leaderboard_create", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        nk.leaderboard_create(LeaderboardCreate {
            id: a.id,
            authoritative: a.authoritative,
            sort_order: a.sort_order,
            operator: a.operator.unwrap_or_default(),
            reset_schedule: a.reset_schedule,
            metadata: a.metadata.unwrap_or(Value::Null),
        })
        .await?;
        Ok("{}".to_owned())
    });
    init.register_leaderboard_reset(|ctx, _nk, leaderboard, reset| async move {
        ctx.logger.info(format_args!(
            "leaderboard {} reset at {reset}",
            leaderboard.id
        ));
        let mut resets = RESETS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if resets.len() == RESETS_KEPT {
            resets.pop_front();
        }
        resets.push_back((leaderboard.id, reset, leaderboard.next_reset));
        Ok(())
    });
    init.register_rpc("rust_leaderboard_resets", |ctx, _nk, payload| async move {
        args(&ctx, &payload)?;
        let resets = RESETS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let list: Vec<Value> = resets
            .iter()
            .map(|(id, reset, next)| serde_json::json!({"id": id, "reset": reset, "next_reset": next}))
            .collect();
        reply(&serde_json::json!({ "resets": list }))
    });
    init.register_tournament_end(|_ctx, _nk, t, end, reset| async move {
        remember("end", t.id, end, reset);
        Ok(())
    });
    init.register_tournament_reset(|_ctx, _nk, t, end, reset| async move {
        remember("reset", t.id, end, reset);
        Ok(())
    });
    init.register_rpc("rust_tournament_events", |ctx, _nk, payload| async move {
        args(&ctx, &payload)?;
        let events = TOURNAMENT_EVENTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list: Vec<Value> = events
            .iter()
            .map(|(kind, id, end, reset)| {
                serde_json::json!({"kind": kind, "id": id, "end": end, "reset": reset})
            })
            .collect();
        reply(&serde_json::json!({ "events": list }))
    });
    init.register_rpc("rust_tournament_create", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        nk.tournament_create(TournamentCreate {
            id: a.id,
            authoritative: a.authoritative,
            sort_order: a.sort_order,
            operator: a.operator.unwrap_or_default(),
            duration: a.duration,
            reset_schedule: a.reset_schedule,
            metadata: a.metadata.unwrap_or(Value::Null),
            title: a.title,
            description: a.description,
            category: a.category,
            start_time: a.start_time,
            end_time: a.end_time.unwrap_or(0),
            max_size: a.max_size,
            max_num_score: a.max_num_score,
            join_required: a.join_required,
        })
        .await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_tournament_delete", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        nk.tournament_delete(&a.id).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc(
        "rust_tournament_add_attempt",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            nk.tournament_add_attempt(&a.id, &a.owner_id, a.count)
                .await?;
            Ok("{}".to_owned())
        },
    );
    init.register_rpc("rust_tournament_join", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        nk.tournament_join(&a.id, &a.owner_id, &a.username).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_tournament_list", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        let list = nk
            .tournament_list(TournamentListFilter {
                category_start: a.category_start,
                category_end: if a.category_end == 0 {
                    127
                } else {
                    a.category_end
                },
                start_time: a.start_time,
                end_time: a.end_time.unwrap_or(-1),
                limit: a.limit.unwrap_or(10),
                cursor: a.cursor,
            })
            .await?;
        reply(&list)
    });
    init.register_rpc("rust_tournaments_get_id", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        let list = nk.tournaments_get_id(&a.ids).await?;
        reply(&serde_json::json!({ "tournaments": list }))
    });
    init.register_rpc(
        "rust_tournament_record_write",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            let record = nk
                .tournament_record_write(LeaderboardRecordWrite {
                    id: a.id,
                    owner_id: a.owner_id,
                    username: a.username,
                    score: a.score,
                    subscore: a.subscore,
                    metadata: a.metadata,
                    operator: a.operator,
                })
                .await?;
            reply(&record)
        },
    );
    init.register_rpc(
        "rust_tournament_records_list",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            let list = nk
                .tournament_records_list(
                    &a.id,
                    &a.owner_ids,
                    a.limit.unwrap_or(0),
                    &a.cursor,
                    a.expiry,
                )
                .await?;
            reply(&list)
        },
    );
    init.register_rpc(
        "rust_tournament_records_haystack",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            let list = nk
                .tournament_records_haystack(
                    &a.id,
                    &a.owner_id,
                    a.limit.unwrap_or(10),
                    &a.cursor,
                    a.expiry,
                )
                .await?;
            reply(&list)
        },
    );
    init.register_rpc("rust_leaderboard_delete", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        nk.leaderboard_delete(&a.id).await?;
        Ok("{}".to_owned())
    });
    init.register_rpc("rust_leaderboard_list", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        let list = nk
            .leaderboard_list(
                a.category_start,
                a.category_end,
                a.limit.unwrap_or(10),
                &a.cursor,
            )
            .await?;
        reply(&list)
    });
    init.register_rpc("rust_leaderboards_get_id", |ctx, nk, payload| async move {
        let a = args(&ctx, &payload)?;
        let boards = nk.leaderboards_get_id(&a.ids).await?;
        reply(&serde_json::json!({ "leaderboards": boards }))
    });
    init.register_rpc(
        "rust_leaderboard_record_write",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            let record = nk
                .leaderboard_record_write(LeaderboardRecordWrite {
                    id: a.id,
                    owner_id: a.owner_id,
                    username: a.username,
                    score: a.score,
                    subscore: a.subscore,
                    metadata: a.metadata,
                    operator: a.operator,
                })
                .await?;
            reply(&record)
        },
    );
    init.register_rpc(
        "rust_leaderboard_record_delete",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            nk.leaderboard_record_delete(&a.id, &a.owner_id).await?;
            Ok("{}".to_owned())
        },
    );
    init.register_rpc(
        "rust_leaderboard_records_list",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            let list = nk
                .leaderboard_records_list(
                    &a.id,
                    &a.owner_ids,
                    a.limit.unwrap_or(0),
                    &a.cursor,
                    a.expiry,
                )
                .await?;
            reply(&list)
        },
    );
    init.register_rpc(
        "rust_leaderboard_records_haystack",
        |ctx, nk, payload| async move {
            let a = args(&ctx, &payload)?;
            let list = nk
                .leaderboard_records_haystack(
                    &a.id,
                    &a.owner_id,
                    a.limit.unwrap_or(10),
                    &a.cursor,
                    a.expiry,
                )
                .await?;
            reply(&list)
        },
    );
    Ok(())
}
