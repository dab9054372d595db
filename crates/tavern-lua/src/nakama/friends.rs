//! The `nakama` functions for friends: `friends_list`, `friends_add`, `friends_delete` and
//! `friends_block`, with Nakama's argument order, messages and table shapes.

use mlua::{Lua, Table, Value};

use super::storage::{arg_error, whole};
use super::{block, nk_of, strings, user_value, wait};

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "friends_list",
        lua.create_function(
            |lua, (user_id, limit, state, cursor): (String, Value, Value, Option<String>)| {
                const F: &str = "friends_list";
                let limit = match &limit {
                    Value::Nil => 100,
                    other => match whole(other) {
                        Some(n) if (1..=100).contains(&n) => n as usize,
                        _ => return Err(arg_error(2, F, "expects limit to be 1-100")),
                    },
                };
                let state = match &state {
                    Value::Nil => None,
                    other => match whole(other) {
                        Some(-1) => None,
                        Some(n) if (0..=3).contains(&n) => Some(n as i32),
                        _ => return Err(arg_error(3, F, "expects state to be 0-3")),
                    },
                };
                let (friends, cursor) = wait(nk_of(lua)?.friends_list(
                    &user_id,
                    limit,
                    state,
                    cursor.as_deref().unwrap_or_default(),
                ))?
                .map_err(|e| {
                    mlua::Error::runtime(format!(
                        "error while trying to list friends for a user: {}",
                        e.message
                    ))
                })?;
                let list = lua.create_table()?;
                for friend in &friends {
                    let entry = lua.create_table()?;
                    entry.raw_set("state", friend.state.unwrap_or_default())?;
                    entry.raw_set("update_time", friend.update_time.map_or(0, |t| t.seconds))?;
                    if let Some(user) = &friend.user {
                        entry.raw_set("user", user_value(lua, user)?)?;
                    }
                    list.push(entry)?;
                }
                let cursor = if cursor.is_empty() {
                    Value::Nil
                } else {
                    Value::String(lua.create_string(&cursor)?)
                };
                Ok((list, cursor))
            },
        )?,
    )?;
    for name in ["friends_add", "friends_delete", "friends_block"] {
        nk.set(
            name,
            lua.create_function(
                move |lua, (user_id, username, ids, usernames): (String, String, Value, Value)| {
                    if username.is_empty() {
                        return Err(arg_error(2, name, "expects username string"));
                    }
                    let nk = nk_of(lua)?;
                    let (ids, usernames) = (strings(ids)?, strings(usernames)?);
                    match name {
                        "friends_add" => {
                            block(nk.friends_add(&user_id, &username, &ids, &usernames))
                        }
                        "friends_delete" => {
                            block(nk.friends_delete(&user_id, &username, &ids, &usernames))
                        }
                        _ => block(nk.friends_block(&user_id, &username, &ids, &usernames)),
                    }
                },
            )?,
        )?;
    }
    Ok(())
}
