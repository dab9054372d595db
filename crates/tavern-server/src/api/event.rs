//! `POST /v2/event`: a client reports an event for the modules' event handlers, as Nakama's
//! `Event` operation. The event is marked `external`; the reply does not wait for the handlers.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tavern_proto::api;
use tavern_runtime::ExecutionMode;
use tavern_runtime::operation::Event;

use super::call_info::CallInfo;
use super::error::ApiError;
use super::extract::{Body, Session};
use super::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;

pub async fn event(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(body): Body<api::Event>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = session_caller(&session);
    let mut request = hooks::before(&state, &call, caller.clone(), Event, body).await?;
    request.external = true;
    let ctx = call.context(&state.runtime, ExecutionMode::Event, caller.clone());
    state.runtime.event(&state, ctx, request.clone());
    hooks::after(&state, &call, caller, Event, request, &()).await;
    Ok(Json(serde_json::json!({})))
}
