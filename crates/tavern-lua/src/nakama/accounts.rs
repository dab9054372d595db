//! The `nakama` functions for an account's ways to log in and bans: `link_*`, `unlink_*`
//! (device, custom, email), `users_get_random`, `users_ban_id` and `users_unban_id`.

use mlua::{Lua, Table, Value};

use super::{block, nk_of, strings, user_value};

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "link_device",
        lua.create_function(|lua, (user_id, id): (String, String)| {
            block(nk_of(lua)?.link_device(&user_id, &id))
        })?,
    )?;
    nk.set(
        "link_custom",
        lua.create_function(|lua, (user_id, id): (String, String)| {
            block(nk_of(lua)?.link_custom(&user_id, &id))
        })?,
    )?;
    nk.set(
        "link_email",
        lua.create_function(
            |lua, (user_id, email, password): (String, String, String)| {
                block(nk_of(lua)?.link_email(&user_id, &email, &password))
            },
        )?,
    )?;
    nk.set(
        "unlink_device",
        lua.create_function(|lua, (user_id, id): (String, String)| {
            block(nk_of(lua)?.unlink_device(&user_id, &id))
        })?,
    )?;
    nk.set(
        "unlink_custom",
        lua.create_function(|lua, (user_id, id): (String, Option<String>)| {
            block(nk_of(lua)?.unlink_custom(&user_id, id.as_deref().unwrap_or_default()))
        })?,
    )?;
    nk.set(
        "unlink_email",
        lua.create_function(|lua, (user_id, email): (String, Option<String>)| {
            block(nk_of(lua)?.unlink_email(&user_id, email.as_deref().unwrap_or_default()))
        })?,
    )?;
    nk.set(
        "users_get_random",
        lua.create_function(|lua, count: Option<i64>| {
            let count = count.unwrap_or(0);
            if !(0..=1000).contains(&count) {
                return Err(mlua::Error::runtime("count must be 0-1000"));
            }
            let users = block(nk_of(lua)?.users_get_random(count as usize))?;
            let list = lua.create_table()?;
            for user in &users {
                list.push(user_value(lua, user)?)?;
            }
            Ok(list)
        })?,
    )?;
    nk.set(
        "users_ban_id",
        lua.create_function(|lua, ids: Value| block(nk_of(lua)?.users_ban_id(&strings(ids)?)))?,
    )?;
    nk.set(
        "users_unban_id",
        lua.create_function(|lua, ids: Value| block(nk_of(lua)?.users_unban_id(&strings(ids)?)))?,
    )?;
    Ok(())
}
