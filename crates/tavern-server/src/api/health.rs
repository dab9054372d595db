//! `GET /` and `GET /healthcheck`: liveness, no authentication.

use axum::Json;

/// `GET /`: an empty 200, what `tavern healthcheck` probes.
pub async fn root() {}

/// `GET /healthcheck`: `{}`.
pub async fn healthcheck() -> Json<serde_json::Value> {
    Json(serde_json::json!({}))
}
