//! Running a REST operation's before and after hooks from its handler.

use tavern_runtime::operation::Operation;
use tavern_runtime::{Caller, ExecutionMode};

use super::call_info::CallInfo;
use super::error::ApiError;
use crate::state::AppState;

/// The message of an operation a before hook disabled.
const DISABLED: &str = "Requested resource was not found.";

/// The request the operation goes on with: as sent, or as the before hook rewrote it. A hook
/// that disabled the operation is a 404; a hook's error (or panic, code 13) is the response.
pub async fn before<Op: Operation>(
    state: &AppState,
    call: &CallInfo,
    caller: Caller,
    operation: Op,
    request: Op::Request,
) -> Result<Op::Request, ApiError> {
    let registry = state.runtime.registry();
    if !registry.has_before(operation) {
        return Ok(request);
    }
    let ctx = call.context(&state.runtime, ExecutionMode::Before, caller);
    match registry.before(ctx, operation, request).await {
        Ok(Some(request)) => Ok(request),
        Ok(None) => {
            tracing::warn!(operation = Op::NAME, "Intercepted a disabled resource");
            Err(ApiError::not_found(DISABLED))
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs the after hook, if any, with the request and a copy of the response.
pub async fn after<Op: Operation>(
    state: &AppState,
    call: &CallInfo,
    caller: Caller,
    operation: Op,
    request: Op::Request,
    response: &Op::Response,
) {
    let registry = state.runtime.registry();
    if !registry.has_after(operation) {
        return;
    }
    let ctx = call.context(&state.runtime, ExecutionMode::After, caller);
    registry
        .after(ctx, operation, request, response.clone())
        .await;
}
