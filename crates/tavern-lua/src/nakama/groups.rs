//! The `nakama` functions for groups.

use mlua::{Lua, Table};

/// Adds this domain's functions to the module table.
pub(super) fn register(_lua: &Lua, _nk: &Table) -> mlua::Result<()> {
    Ok(())
}
