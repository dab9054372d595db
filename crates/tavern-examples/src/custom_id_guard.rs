//! A before hook on custom-id authentication that only admits ids shaped like `cid-000000`
//! (`cid-` and six digits), rejecting any other with code 3 before an account is looked up.
//! Like any module it can be configured through `runtime.env`: `custom_id_guard=off` leaves
//! custom ids to the server's own rules.

use regex::Regex;
use tavern_runtime::operation::AuthenticateCustom;
use tavern_runtime::{Initializer, Module, RuntimeError};

/// The `custom_id_guard` module.
pub const MODULE: Module = Module::new("custom_id_guard", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    if init.env().get("custom_id_guard").map(String::as_str) == Some("off") {
        init.logger()
            .info("custom id guard switched off by runtime.env");
        return Ok(());
    }
    let shape =
        Regex::new("^cid-([0-9]{6})$").map_err(|e| RuntimeError::internal(e.to_string()))?;
    init.register_before(AuthenticateCustom, move |ctx, _nk, request| {
        let admitted = request
            .account
            .as_ref()
            .is_some_and(|account| shape.is_match(&account.id));
        async move {
            if !admitted {
                ctx.logger.debug("rejected a custom id of the wrong shape");
                return Err(RuntimeError::invalid_argument(
                    "Custom ID must look like cid-000000.",
                ));
            }
            Ok(Some(request))
        }
    });
    Ok(())
}
