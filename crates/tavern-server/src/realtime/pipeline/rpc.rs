//! The realtime `rpc` message: calls a registered RPC as the socket's user. Errors never show
//! the function's own code over the socket: unknown id 6, missing id 3, failure 7.

use std::sync::Arc;

use tavern_proto::api::Rpc;
use tavern_proto::realtime::envelope::Message;
use tavern_runtime::{Caller, Context, ExecutionMode, UserSession};

use super::Reply;
use crate::realtime::session::SessionHandle;
use crate::runtime::rpc_realtime_error;
use crate::state::AppState;

/// A runtime context for a call made over this socket.
pub fn context(state: &AppState, session: &SessionHandle, mode: ExecutionMode) -> Context {
    let info = &session.info;
    let mut ctx = state.runtime.context(mode);
    ctx.caller = Caller::User(UserSession {
        user_id: info.user_id.to_string(),
        username: info.username.clone(),
        vars: info.vars.clone(),
        expiry: info.expiry,
        session_id: Some(info.id.to_string()),
    });
    ctx.client_ip = Some(info.client.ip());
    ctx.client_port = Some(info.client.port());
    ctx
}

/// `rpc`: the reply echoes the id as sent, with the function's result as payload.
pub async fn call(state: &Arc<AppState>, reply: &Reply<'_>, request: Rpc) {
    let ctx = context(state, reply.session, ExecutionMode::Rpc);
    match state
        .runtime
        .call_rpc(ctx, &request.id, request.payload)
        .await
    {
        Ok(payload) => reply.send(Message::Rpc(Rpc {
            id: request.id,
            payload,
            http_key: String::new(),
        })),
        Err(e) => reply.send(Message::Error(rpc_realtime_error(&e))),
    }
}
