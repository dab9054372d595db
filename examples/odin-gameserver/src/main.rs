//! An example dedicated game server for ODIN Fleet, the counterpart of Tavern's ODIN fleet
//! manager. It plays no game; it shows the life cycle a real server follows:
//!
//! * on start it writes `instance_state = "idle"`, its `game_port` and its `control_port`
//!   (the port of its HTTP control API) into its ODIN metadata;
//! * `POST /match/start` with `{"match_id", "game_mode"?, "map_guid"?, "join_mode"? (default
//!   "free"), "user_ids"?}` marks it `occupied` with those values;
//! * `POST /match/finish` marks it `idle` again, ready for the next claim;
//! * `GET /health` answers `{"status":"ok","instance_state":...}`.
//!
//! Environment: `ODIN_API_TOKEN` (required), `ODIN_SERVICE_ID` (required, this server's id),
//! `ODIN_GAME_PORT` (default 7777), `LISTEN_ADDR` (default `:8080`), `ODIN_API_URL` (default
//! ODIN's production API). A malformed request is a 400 with a message, an ODIN failure a
//! 502, a wrong method a 405.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tavern_odin::model::Metadata;
use tavern_odin::{DEFAULT_API_URL, OdinClient, STATE_IDLE, STATE_KEY};

/// The state a server in a match announces.
const STATE_OCCUPIED: &str = "occupied";

struct GameServer {
    odin: OdinClient,
    service_id: i64,
    game_port: u16,
    control_port: u16,
    state: Mutex<String>,
}

#[derive(Debug, Deserialize)]
struct MatchStart {
    #[serde(default)]
    match_id: String,
    #[serde(default)]
    game_mode: String,
    #[serde(default)]
    map_guid: String,
    #[serde(default)]
    join_mode: Option<String>,
    #[serde(default)]
    user_ids: Vec<String>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("odin-gameserver: {message}");
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

async fn run() -> Result<(), String> {
    let token = env("ODIN_API_TOKEN").ok_or("ODIN_API_TOKEN is required")?;
    let service_id = env("ODIN_SERVICE_ID")
        .ok_or("ODIN_SERVICE_ID is required")?
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or("ODIN_SERVICE_ID must be a positive integer")?;
    let game_port = match env("ODIN_GAME_PORT") {
        Some(port) => port
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or("ODIN_GAME_PORT must be a port number 1-65535")?,
        None => 7777,
    };
    let listen = env("LISTEN_ADDR").unwrap_or_else(|| ":8080".to_owned());
    // Go style ":8080" means every interface.
    let bind = if listen.starts_with(':') {
        format!("0.0.0.0{listen}")
    } else {
        listen.clone()
    };
    let api_url = env("ODIN_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_owned());
    let odin = OdinClient::new(&api_url, &token, Duration::from_secs(10))
        .map_err(|e| format!("ODIN_API_URL: {e}"))?;
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let server = Arc::new(GameServer {
        odin,
        service_id,
        game_port,
        control_port: local.port(),
        state: Mutex::new(String::new()),
    });
    server
        .announce(idle_metadata(&server))
        .await
        .map_err(|e| format!("cannot mark service {service_id} idle: {e}"))?;
    tracing::info!(service_id, game_port, "marked idle");
    println!("listening on http://{local}");
    let app = Router::new()
        .route("/match/start", post(start))
        .route("/match/finish", post(finish))
        .route("/health", get(health))
        .with_state(server);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("server error: {e}"))
}

fn idle_metadata(server: &GameServer) -> Metadata {
    let value = json!({
        STATE_KEY: STATE_IDLE,
        "game_port": server.game_port,
        "control_port": server.control_port,
        "match_id": null,
        "game_mode": null,
        "map_guid": null,
        "join_mode": null,
        "user_ids": [],
        "player_count": 0,
    });
    match value {
        Value::Object(map) => map,
        _ => Metadata::new(),
    }
}

impl GameServer {
    async fn announce(&self, metadata: Metadata) -> Result<(), tavern_odin::OdinError> {
        let state = metadata
            .get(STATE_KEY)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.odin.patch_metadata(self.service_id, &metadata).await?;
        *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = state;
        Ok(())
    }

    fn state(&self) -> String {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn start(State(server): State<Arc<GameServer>>, body: Bytes) -> Response {
    let request: MatchStart = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": format!("invalid JSON body: {e}")}),
            );
        }
    };
    if request.match_id.trim().is_empty() {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"error": "match_id is required"}),
        );
    }
    let join_mode = request
        .join_mode
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "free".to_owned());
    let mut metadata = Metadata::new();
    metadata.insert(STATE_KEY.to_owned(), json!(STATE_OCCUPIED));
    metadata.insert("match_id".to_owned(), json!(request.match_id));
    metadata.insert("game_mode".to_owned(), json!(request.game_mode));
    metadata.insert("map_guid".to_owned(), json!(request.map_guid));
    metadata.insert("join_mode".to_owned(), json!(join_mode));
    metadata.insert("player_count".to_owned(), json!(request.user_ids.len()));
    metadata.insert("user_ids".to_owned(), json!(request.user_ids));
    if let Err(e) = server.announce(metadata).await {
        return reply(
            StatusCode::BAD_GATEWAY,
            json!({"error": format!("ODIN: {e}")}),
        );
    }
    tracing::info!(match_id = %request.match_id, "match started");
    reply(
        StatusCode::OK,
        json!({"status": STATE_OCCUPIED, "match_id": request.match_id, "join_mode": join_mode}),
    )
}

async fn finish(State(server): State<Arc<GameServer>>) -> Response {
    if let Err(e) = server.announce(idle_metadata(&server)).await {
        return reply(
            StatusCode::BAD_GATEWAY,
            json!({"error": format!("ODIN: {e}")}),
        );
    }
    tracing::info!("match finished; idle");
    reply(StatusCode::OK, json!({"status": STATE_IDLE}))
}

async fn health(State(server): State<Arc<GameServer>>) -> Response {
    reply(
        StatusCode::OK,
        json!({"status": "ok", "instance_state": server.state()}),
    )
}
