//! `GET` and `POST /v2/rpc/{id}`: calling a module's RPC over HTTP, with a session token or the
//! runtime HTTP key, answering with Nakama's RPC bodies (`{"error","message","code"}`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tavern_runtime::registry::RpcError;
use tavern_runtime::{Caller, ExecutionMode, RuntimeError};

use super::call_info::CallInfo;
use super::extract::basic_username;
use crate::runtime::session_caller;
use crate::state::AppState;

/// The message of a POST body that is not a JSON string; Nakama sends this text for any such body.
const NOT_A_STRING: &str = "json: cannot unmarshal object into Go value of type string";

/// `/v2/rpc/{id}` with any id, including ids with slashes.
pub async fn call_with_id(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    method: Method,
    call: CallInfo,
    headers: HeaderMap,
    body: Body,
) -> Response {
    call_rpc(&state, &id, method, call, headers, body).await
}

/// `/v2/rpc/`: no id.
pub async fn call_without_id(
    State(state): State<Arc<AppState>>,
    method: Method,
    call: CallInfo,
    headers: HeaderMap,
    body: Body,
) -> Response {
    call_rpc(&state, "", method, call, headers, body).await
}

async fn call_rpc(
    state: &AppState,
    id: &str,
    method: Method,
    call: CallInfo,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match authorize(state, &call, &headers) {
        Ok(caller) => caller,
        Err(message) => return fixed_error(StatusCode::UNAUTHORIZED, 16, message),
    };
    if id.is_empty() {
        return fixed_error(StatusCode::BAD_REQUEST, 3, "RPC ID must be set");
    }
    let unwrap = call.has_query("unwrap");
    let payload = if method == Method::POST {
        let limit = state.config.socket.max_request_size_bytes;
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return json_response(
                StatusCode::BAD_REQUEST,
                r#"{"code":3,"message":"http: request body too large"}"#.to_owned(),
            );
        };
        if unwrap || bytes.is_empty() {
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            match serde_json::from_slice::<String>(&bytes) {
                Ok(payload) => payload,
                Err(_) => return fixed_error(StatusCode::BAD_REQUEST, 3, NOT_A_STRING),
            }
        }
    } else {
        // Nakama drops a GET's payload; we take the `payload` query parameter
        // (docs/COMPATIBILITY.md).
        call.query("payload").unwrap_or_default().to_owned()
    };
    let ctx = call.context(&state.runtime, ExecutionMode::Rpc, caller);
    match state.runtime.call_rpc(ctx, id, payload).await {
        Ok(result) if unwrap => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .cloned()
                .unwrap_or_else(|| HeaderValue::from_static("text/plain"));
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, content_type)],
                result,
            )
                .into_response()
        }
        Ok(result) => json_response(
            StatusCode::OK,
            serde_json::json!({ "payload": result }).to_string(),
        ),
        Err(RpcError::MissingId) => fixed_error(StatusCode::BAD_REQUEST, 3, "RPC ID must be set"),
        Err(RpcError::NotFound) => fixed_error(StatusCode::NOT_FOUND, 5, "RPC function not found"),
        Err(RpcError::Failed(e)) => runtime_error(&e),
    }
}

/// The caller, checked in Nakama's order: `http_key` query, then the `Authorization` header
/// (Basic with the HTTP key, or a Bearer session token), else nothing. The error is the message
/// of the 401.
fn authorize(
    state: &AppState,
    call: &CallInfo,
    headers: &HeaderMap,
) -> Result<Caller, &'static str> {
    const KEY_INVALID: &str = "HTTP key invalid";
    let http_key = state.config.runtime.http_key.as_str();
    if let Some(key) = call.http_key().filter(|k| !k.is_empty()) {
        return if key == http_key {
            Ok(Caller::HttpKey)
        } else {
            Err(KEY_INVALID)
        };
    }
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err("Auth token or HTTP key required");
    };
    let value = value.to_str().unwrap_or_default();
    if let Some(key) = basic_username(value) {
        return if key == http_key {
            Ok(Caller::HttpKey)
        } else {
            Err(KEY_INVALID)
        };
    }
    value
        .strip_prefix("Bearer ")
        .and_then(|token| state.verify_session(token))
        .map(|session| session_caller(&session))
        .ok_or("Auth token invalid")
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// One of the RPC handler's own errors: the message under both `error` and `message`.
fn fixed_error(status: StatusCode, code: u16, message: &str) -> Response {
    let body = serde_json::json!({ "error": message, "message": message, "code": code });
    json_response(status, body.to_string())
}

/// An error returned by the function: its code picks the status; `error` holds the error the
/// way Nakama's Go runtime encodes its errors.
fn runtime_error(e: &RuntimeError) -> Response {
    let code = e.code.as_u16();
    let status =
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({
        "code": code,
        "error": { "Message": e.message, "Code": code },
        "message": e.message,
    });
    json_response(status, body.to_string())
}
