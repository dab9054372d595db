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
//!   `rust_leaderboard_records_haystack` `{"id", "owner_id", "limit", "cursor", "expiry"}`.
//!
//! They act on any board and owner, so they answer only server-to-server calls made with the
//! runtime HTTP key (`POST /v2/rpc/<id>?http_key=...`), never a player's session.

use serde::Deserialize;
use serde_json::Value;
use tavern_runtime::{
    Code, Context, Initializer, LeaderboardCreate, LeaderboardRecordWrite, Module, RuntimeError,
};

/// The `leaderboards_api` module.
pub const MODULE: Module = Module::new("leaderboards_api", init);

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
