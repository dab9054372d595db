//! RPCs that fail on purpose: `rpc_error` with the gRPC code its JSON payload names
//! (`{"code":7}` becomes HTTP 403 over REST), and `panic`, which panics and so fails with code 13
//! while the server goes on serving.

use serde::Deserialize;
use tavern_runtime::{Code, Context, Initializer, Module, Nk, RuntimeError};

/// The `errors` module.
pub const MODULE: Module = Module::new("errors", init);

/// The payload of `rpc_error`.
#[derive(Deserialize)]
struct ErrorRequest {
    code: u16,
    #[serde(default)]
    message: Option<String>,
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("rpc_error", |_ctx, _nk, payload| async move {
        let request: ErrorRequest = serde_json::from_str(&payload).map_err(|_| {
            RuntimeError::invalid_argument(
                r#"payload must be like {"code": 7, "message": "optional"}"#,
            )
        })?;
        let code = Code::from_u16(request.code)
            .filter(|code| *code != Code::Ok)
            .ok_or_else(|| RuntimeError::invalid_argument("code must be between 1 and 16"))?;
        let message = request
            .message
            .unwrap_or_else(|| format!("rpc_error failed with code {}", request.code));
        Err::<String, RuntimeError>(RuntimeError::new(message, code))
    });
    init.register_rpc("panic", panic);
    Ok(())
}

async fn panic(_ctx: Context, _nk: Nk, _payload: String) -> Result<String, RuntimeError> {
    panic!("the panic RPC panics, as asked")
}
