//! RPC `echo`: answers with the payload it was given.

use tavern_runtime::{Initializer, Module, RuntimeError};

/// The `echo` module.
pub const MODULE: Module = Module::new("echo", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_rpc("echo", |_ctx, _nk, payload| async move { Ok(payload) });
    Ok(())
}
