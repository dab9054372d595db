//! A fake ODIN Fleet API for tests. It serves, under `/api`, the endpoints Tavern's ODIN
//! adapter and the example game server call, with the spec's shapes:
//!
//! * `GET /api/v1/apps/{app}/services` — paginated (`perPage` 1..=100, `page`), filtered by
//!   `filter[status]`, `filter[locationCity|Country|Continent]` and `filter[metadata]`;
//! * `GET /api/v1/apps/{app}/services/{id}`;
//! * `PATCH` and `PUT /api/v1/services/{id}/metadata`;
//! * `POST /api/v1/services/{id}/restart|stop|start` (202).
//!
//! Every `/api` request needs `Authorization: Bearer <token>`. A control API under `/_fake`
//! sets the scene: `POST /_fake/servers` adds a server, `POST /_fake/faults` queues faults
//! (`{"status": 429, "count": 2, "delay_ms": 0, "path": "metadata"}`; status 0 with a delay
//! makes slow answers), `GET /_fake/requests` lists the API requests received (for contract
//! tests), `DELETE` on either clears it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The fake's app and token.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub app_id: i64,
    pub token: String,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            app_id: 1,
            token: "fake-token".to_owned(),
        }
    }
}

/// A queued fault: answers `status` (0: answer normally) after `delay_ms`, `count` times, to
/// API requests whose path contains `path` (empty: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    pub status: u16,
    pub count: u32,
    pub delay_ms: u64,
    pub path: String,
}

/// One API request the fake received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub method: String,
    /// Path without the `/api` prefix, e.g. `/v1/apps/1/services`.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<Value>,
    pub status: u16,
    /// The JSON answer, if any.
    pub response: Option<Value>,
}

/// What a test adds with `POST /_fake/servers`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewServer {
    /// Next free id when absent.
    pub id: Option<i64>,
    pub name: String,
    pub status: Option<String>,
    /// The node's address; no `node` key when absent.
    pub address: Option<String>,
    pub ports: Vec<NewPort>,
    pub metadata: Map<String, Value>,
    pub city: String,
    pub country: String,
    pub continent: String,
}

/// A port of a [`NewServer`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewPort {
    pub name: String,
    pub protocol: Option<String>,
    pub target_port: i64,
    pub published_port: Option<i64>,
}

#[derive(Default)]
struct Store {
    servers: BTreeMap<i64, Value>,
    faults: VecDeque<Fault>,
    requests: Vec<Recorded>,
}

/// The fake's shared state.
#[derive(Clone)]
pub struct Fake {
    config: Arc<FakeConfig>,
    store: Arc<Mutex<Store>>,
}

impl Fake {
    /// An empty fake.
    pub fn new(config: FakeConfig) -> Fake {
        Fake {
            config: Arc::new(config),
            store: Arc::new(Mutex::new(Store::default())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a server; returns it as the API shows it.
    pub fn add_server(&self, new: NewServer) -> Value {
        let mut store = self.lock();
        let id = new
            .id
            .unwrap_or_else(|| store.servers.keys().next_back().map_or(1, |id| id + 1));
        let server = server_json(id, &new);
        store.servers.insert(id, server.clone());
        server
    }

    /// Queues a fault.
    pub fn add_fault(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// The API requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// One server as the API shows it.
    pub fn server(&self, id: i64) -> Option<Value> {
        self.lock().servers.get(&id).cloned()
    }

    /// The router: the API under `/api`, the control API under `/_fake`.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/v1/apps/{app}/services", get(list))
            .route("/v1/apps/{app}/services/{id}", get(get_one))
            .route(
                "/v1/services/{id}/metadata",
                axum::routing::patch(patch_metadata).put(put_metadata),
            )
            .route("/v1/services/{id}/{action}", post(action))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") })
            .layer(axum::middleware::from_fn_with_state(self.clone(), gate));
        Router::new()
            .nest("/api", api)
            .route("/_fake/servers", get(fake_servers).post(fake_add_server))
            .route(
                "/_fake/faults",
                post(fake_add_fault).delete(fake_clear_faults),
            )
            .route(
                "/_fake/requests",
                get(fake_requests).delete(fake_clear_requests),
            )
            .with_state(self.clone())
    }
}

/// Serves a fresh fake with `config` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: FakeConfig) -> std::io::Result<()> {
    axum::serve(listener, Fake::new(config).router()).await
}

/// Starts a fake on a free loopback port in the background; returns it and its API base URL
/// (`http://127.0.0.1:PORT/api`).
pub async fn start(config: FakeConfig) -> std::io::Result<(Fake, String)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let fake = Fake::new(config);
    let router = fake.router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((fake, format!("http://{addr}/api")))
}

fn server_json(id: i64, new: &NewServer) -> Value {
    let ports: Vec<Value> = new
        .ports
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "protocol": p.protocol.clone().unwrap_or_else(|| "udp".to_owned()),
                "targetPort": p.target_port,
                "publishedPort": p.published_port,
            })
        })
        .collect();
    let mut server = json!({
        "id": id,
        "appLocationSettingId": 1,
        "instance": id,
        "serverConfigId": 1,
        "serverConfigName": "fake",
        "name": if new.name.is_empty() { format!("server-{id}") } else { new.name.clone() },
        "status": new.status.clone().unwrap_or_else(|| "running".to_owned()),
        "status_message": null,
        "isBackupable": false,
        "isRestorable": false,
        "isPending": false,
        "isNotFound": false,
        "isHealthy": true,
        "isStopped": false,
        "maintenance": false,
        "ports": ports,
        "env": {},
        "restartPolicy": {"condition": "any"},
        "location": {
            "city": new.city,
            "cityDisplay": new.city,
            "continent": new.continent,
            "country": new.country,
            "isProtected": false,
        },
        "resources": {
            "id": 1,
            "name": "small",
            "slug": "small",
            "type": "shared",
            "cpuLimit": "1",
            "cpuReservation": "0.5",
            "memoryLimitBytes": 536_870_912_i64,
            "memoryLimitMiB": 512,
            "memoryLimitFileSizeString": "512 MiB",
            "memoryReservationBytes": 268_435_456_i64,
            "memoryReservationMiB": 256,
            "memoryReservationFileSizeString": "256 MiB",
        },
        "backups": [],
        "metadata": new.metadata,
        "createdAt": "2026-01-01T00:00:00.000000Z",
        "updatedAt": "2026-01-01T00:00:00.000000Z",
    });
    if let Some(address) = &new.address {
        server["node"] = json!({"address": address, "os": "linux", "architecture": "x86_64"});
    }
    server
}

/// An API error answer, built lazily (a `Response` is too large to pass around in `Err`).
enum Failure {
    NotFound(&'static str),
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::NotFound(message) => error(StatusCode::NOT_FOUND, message),
            Failure::Invalid { field, message } => validation(field, &message),
        }
    }
}

const NO_SERVER: &str = "No query results for model [DockerService].";

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

fn validation(field: &str, problem: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"message": problem, "errors": { field: [problem] }})),
    )
        .into_response()
}

/// Checks the token, applies queued faults and records each request with its answer.
async fn gate(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = uri.path().to_owned();
    let query: Vec<(String, String)> = uri.query().map(query_pairs).unwrap_or_default();
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let body_json: Option<Value> = serde_json::from_slice(&bytes).ok();
    let fault = {
        let mut store = fake.lock();
        let index = store
            .faults
            .iter()
            .position(|f| f.path.is_empty() || path.contains(&f.path));
        index.map(|i| {
            let fault = store.faults[i].clone();
            if store.faults[i].count <= 1 {
                store.faults.remove(i);
            } else {
                store.faults[i].count -= 1;
            }
            fault
        })
    };
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        == Some(fake.config.token.as_str());
    let response = if let Some(fault) = fault.as_ref().filter(|f| f.delay_ms > 0 || f.status > 0) {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        match StatusCode::from_u16(fault.status) {
            Ok(StatusCode::UNPROCESSABLE_ENTITY) => {
                validation("fault", "Injected validation fault.")
            }
            Ok(status) if fault.status >= 400 => error(status, "Injected fault."),
            _ => forward(authorised, parts, bytes, next).await,
        }
    } else {
        forward(authorised, parts, bytes, next).await
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20)
        .await
        .unwrap_or_default();
    fake.lock().requests.push(Recorded {
        method: method.to_string(),
        path,
        query,
        body: body_json,
        status: parts.status.as_u16(),
        response: serde_json::from_slice(&bytes).ok(),
    });
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

async fn forward(
    authorised: bool,
    parts: axum::http::request::Parts,
    bytes: Bytes,
    next: axum::middleware::Next,
) -> Response {
    if !authorised {
        return error(StatusCode::UNAUTHORIZED, "Unauthenticated.");
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 2;
            }
            (byte, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn app_check(fake: &Fake, app: &str) -> Result<(), Failure> {
    if app.parse::<i64>().ok() == Some(fake.config.app_id) {
        Ok(())
    } else {
        Err(Failure::NotFound("No query results for model [App]."))
    }
}

async fn list(
    State(fake): State<Fake>,
    Path(app): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    uri: Uri,
) -> Response {
    if let Err(failure) = app_check(&fake, &app) {
        return failure.into_response();
    }
    let param = |name: &str| {
        query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let per_page = match param("perPage").map(|v| v.parse::<i64>()) {
        None => 15,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return validation("perPage", "The per page field must be between 1 and 100."),
    };
    let page = match param("page").map(|v| v.parse::<i64>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return validation("page", "The page field must be at least 1."),
    };
    let conditions = match param("filter[metadata]").map(|f| parse_filter(&f)) {
        None => Vec::new(),
        Some(Ok(conditions)) => conditions,
        Some(Err(problem)) => return validation("filter.metadata", &problem),
    };
    let exact = [
        ("filter[status]", "/status"),
        ("filter[locationCity]", "/location/city"),
        ("filter[locationCountry]", "/location/country"),
        ("filter[locationContinent]", "/location/continent"),
    ];
    let matching: Vec<Value> = fake
        .lock()
        .servers
        .values()
        .filter(|server| {
            exact.iter().all(|(name, pointer)| match param(name) {
                Some(want) => server.pointer(pointer).and_then(Value::as_str) == Some(&want),
                None => true,
            })
        })
        .filter(|server| conditions.iter().all(|c| c.matches(&server["metadata"])))
        .cloned()
        .collect();
    let total = matching.len() as i64;
    let last_page = ((total + per_page - 1) / per_page).max(1);
    let start = ((page - 1) * per_page).min(total);
    let end = (start + per_page).min(total);
    let data: Vec<Value> = matching[start as usize..end as usize].to_vec();
    let base = format!("http://fake{}", uri.path());
    let link = |p: i64| Value::String(format!("{base}?page={p}"));
    let (from, to) = if data.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (json!(start + 1), json!(end))
    };
    let mut links = vec![
        json!({"url": if page > 1 { link(page - 1) } else { Value::Null }, "label": "&laquo; Previous", "active": false}),
    ];
    for p in 1..=last_page {
        links.push(json!({"url": link(p), "label": p.to_string(), "active": p == page}));
    }
    links.push(json!({"url": if page < last_page { link(page + 1) } else { Value::Null }, "label": "Next &raquo;", "active": false}));
    axum::Json(json!({
        "data": data,
        "links": {
            "first": link(1),
            "last": link(last_page),
            "prev": if page > 1 { link(page - 1) } else { Value::Null },
            "next": if page < last_page { link(page + 1) } else { Value::Null },
        },
        "meta": {
            "current_page": page,
            "from": from,
            "last_page": last_page,
            "links": links,
            "path": base,
            "per_page": per_page,
            "to": to,
            "total": total,
        }
    }))
    .into_response()
}

/// One `path=value` condition of `filter[metadata]`.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    path: Vec<String>,
    value: Value,
}

impl Condition {
    fn matches(&self, metadata: &Value) -> bool {
        let mut at = metadata;
        for key in &self.path {
            match at.get(key) {
                Some(next) => at = next,
                None => return self.value.is_null(),
            }
        }
        match at {
            Value::Array(items) => items.contains(&self.value),
            other => other == &self.value,
        }
    }
}

/// Splits on commas outside double quotes; each part is `dot.path=<JSON scalar>`.
fn parse_filter(text: &str) -> Result<Vec<Condition>, String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ',' && !quoted {
            parts.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    if quoted {
        return Err("The metadata filter has an unterminated string.".to_owned());
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (path, value) = part
                .split_once('=')
                .ok_or_else(|| format!("The metadata filter condition {part:?} has no '='."))?;
            let value: Value = serde_json::from_str(value).map_err(|_| {
                format!(
                    "The metadata filter value {value:?} is not a string, number, boolean or null."
                )
            })?;
            if value.is_array() || value.is_object() || path.is_empty() {
                return Err(format!(
                    "The metadata filter condition {part:?} is invalid."
                ));
            }
            Ok(Condition {
                path: path.split('.').map(str::to_owned).collect(),
                value,
            })
        })
        .collect()
}

fn server_id(id: &str) -> Result<i64, Failure> {
    id.parse().map_err(|_| Failure::NotFound(NO_SERVER))
}

async fn get_one(State(fake): State<Fake>, Path((app, id)): Path<(String, String)>) -> Response {
    if let Err(failure) = app_check(&fake, &app) {
        return failure.into_response();
    }
    let id = match server_id(&id) {
        Ok(id) => id,
        Err(failure) => return failure.into_response(),
    };
    match fake.server(id) {
        Some(server) => axum::Json(server).into_response(),
        None => error(StatusCode::NOT_FOUND, NO_SERVER),
    }
}

fn metadata_body(body: &Bytes) -> Result<Map<String, Value>, Failure> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| Failure::Invalid {
        field: "metadata",
        message: "The request body must be JSON.".to_owned(),
    })?;
    match value.get("metadata") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(Failure::Invalid {
            field: "metadata",
            message: "The metadata field must be an array.".to_owned(),
        }),
    }
}

fn write_metadata(fake: &Fake, id: &str, body: &Bytes, replace: bool) -> Response {
    let id = match server_id(id) {
        Ok(id) => id,
        Err(failure) => return failure.into_response(),
    };
    let metadata = match metadata_body(body) {
        Ok(metadata) => metadata,
        Err(failure) => return failure.into_response(),
    };
    let mut store = fake.lock();
    let Some(server) = store.servers.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, NO_SERVER);
    };
    if replace || !server["metadata"].is_object() {
        server["metadata"] = Value::Object(Map::new());
    }
    if let Value::Object(existing) = &mut server["metadata"] {
        existing.extend(metadata);
    }
    axum::Json(server.clone()).into_response()
}

async fn patch_metadata(State(fake): State<Fake>, Path(id): Path<String>, body: Bytes) -> Response {
    write_metadata(&fake, &id, &body, false)
}

async fn put_metadata(State(fake): State<Fake>, Path(id): Path<String>, body: Bytes) -> Response {
    write_metadata(&fake, &id, &body, true)
}

async fn action(State(fake): State<Fake>, Path((id, action)): Path<(String, String)>) -> Response {
    let id = match server_id(&id) {
        Ok(id) => id,
        Err(failure) => return failure.into_response(),
    };
    let mut store = fake.lock();
    let Some(server) = store.servers.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, NO_SERVER);
    };
    match action.as_str() {
        // A restarted game server starts with empty metadata and announces itself again.
        "restart" => {
            server["metadata"] = json!({});
            server["isStopped"] = json!(false);
            server["status"] = json!("running");
        }
        "stop" => {
            server["isStopped"] = json!(true);
            server["status"] = json!("stopped");
        }
        "start" => {
            server["isStopped"] = json!(false);
            server["status"] = json!("running");
        }
        _ => return error(StatusCode::NOT_FOUND, "Not Found"),
    }
    StatusCode::ACCEPTED.into_response()
}

async fn fake_servers(State(fake): State<Fake>) -> Response {
    let servers: Vec<Value> = fake.lock().servers.values().cloned().collect();
    axum::Json(servers).into_response()
}

async fn fake_add_server(State(fake): State<Fake>, body: Bytes) -> Response {
    match serde_json::from_slice::<NewServer>(&body) {
        Ok(new) => axum::Json(fake.add_server(new)).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn fake_add_fault(State(fake): State<Fake>, body: Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(fault) => {
            fake.add_fault(Fault {
                count: fault.count.max(1),
                ..fault
            });
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn fake_clear_faults(State(fake): State<Fake>) -> Response {
    fake.lock().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn fake_requests(State(fake): State<Fake>) -> Response {
    axum::Json(fake.requests()).into_response()
}

async fn fake_clear_requests(State(fake): State<Fake>) -> Response {
    fake.lock().requests.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_match() {
        let conditions =
            parse_filter(r#"instance_state="idle",ranked=true,g.mode="a,\"b\"",tags="x""#).unwrap();
        assert_eq!(conditions.len(), 4);
        let metadata = json!({"instance_state": "idle", "ranked": true, "g": {"mode": "a,\"b\""}, "tags": ["x", "y"]});
        assert!(conditions.iter().all(|c| c.matches(&metadata)));
        let other = json!({"instance_state": "idle", "ranked": "true"});
        assert!(!conditions[1].matches(&other));
        assert!(parse_filter(r#"a="x"b="y""#).is_err());
        assert!(parse_filter("a=idle").is_err());
        assert!(parse_filter(r#"a="open"#).is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("filter%5Bmetadata%5D"), "filter[metadata]");
        assert_eq!(percent_decode("a+b%2C%22"), "a b,\"");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
