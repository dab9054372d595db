//! My Game's server logic: one module with two RPCs, written against `tavern-runtime` only.
//!
//! * `greet` — says hello to the signed-in player by their account's display name or username.
//! * `submit_score` — keeps each player's best score in the game's own table and returns it.

use serde::Deserialize;
use tavern_runtime::{Code, Context, Database, Initializer, Module, Nk, RuntimeError, sqlx};

/// The module to hand to `tavern::run`.
pub fn module() -> Module {
    Module::new("my_game", init)
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("greet", greet);
    init.register_rpc("submit_score", submit_score);
    init.logger().info("my_game ready");
    Ok(())
}

/// The signed-in player's id, or an error telling the client to sign in.
fn player(ctx: &Context) -> Result<String, RuntimeError> {
    ctx.user_id()
        .map(str::to_owned)
        .ok_or_else(|| RuntimeError::new("Sign in to play.", Code::Unauthenticated))
}

async fn greet(ctx: Context, nk: Nk, _payload: String) -> Result<String, RuntimeError> {
    let account = nk.account_get_id(&player(&ctx)?).await?;
    let user = account.user.unwrap_or_default();
    let name = if user.display_name.is_empty() {
        user.username
    } else {
        user.display_name
    };
    Ok(serde_json::json!({ "message": format!("Hello, {name}!"), "node": ctx.node }).to_string())
}

#[derive(Deserialize)]
struct Score {
    score: i64,
}

/// SQL both SQLite and PostgreSQL understand.
const CREATE: &str =
    "CREATE TABLE IF NOT EXISTS my_game_scores (user_id TEXT PRIMARY KEY, score BIGINT NOT NULL)";
const UPSERT: &str = "INSERT INTO my_game_scores (user_id, score) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET score = CASE
         WHEN excluded.score > my_game_scores.score THEN excluded.score
         ELSE my_game_scores.score END
     RETURNING score";

async fn submit_score(ctx: Context, nk: Nk, payload: String) -> Result<String, RuntimeError> {
    let user_id = player(&ctx)?;
    let Score { score } = serde_json::from_str(&payload)
        .map_err(|_| RuntimeError::invalid_argument(r#"Send {"score": <number>}."#))?;
    let best = save_best(nk.database(), &user_id, score).await;
    let best = best.map_err(|e| {
        ctx.logger.error(format_args!("saving a score failed: {e}"));
        RuntimeError::internal("Could not save the score.")
    })?;
    Ok(serde_json::json!({ "best": best }).to_string())
}

/// Stores `score` if it beats the player's best, and returns the best.
async fn save_best(db: &Database, user_id: &str, score: i64) -> Result<i64, sqlx::Error> {
    match db {
        Database::Sqlite(pool) => {
            sqlx::query(CREATE).execute(pool).await?;
            sqlx::query_scalar(UPSERT)
                .bind(user_id)
                .bind(score)
                .fetch_one(pool)
                .await
        }
        Database::Postgres(pool) => {
            sqlx::query(CREATE).execute(pool).await?;
            sqlx::query_scalar(UPSERT)
                .bind(user_id)
                .bind(score)
                .fetch_one(pool)
                .await
        }
    }
}
