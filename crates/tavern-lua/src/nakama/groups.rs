//! The `nakama` functions for groups: `group_create`, `group_update`, `group_delete`,
//! `group_user_join`, `group_user_leave`, `group_users_add`, `group_users_kick`,
//! `group_users_ban`, `group_users_promote`, `group_users_demote`, `group_users_list`,
//! `user_groups_list`, `groups_get_id`, `groups_list` and `groups_get_random`, with Nakama's
//! argument order, checks and table shapes (times as unix seconds, metadata decoded).

use mlua::{Lua, Table, Value};
use tavern_runtime::{GroupCreate, GroupUpdate, GroupsFilter, RuntimeError, api};

use super::storage::{arg_error, whole};
use super::{json_object, nk_of, set_user_fields, wait};
use crate::convert::to_json;

/// A required id argument.
fn id_arg(value: &Value, n: usize, function: &str, what: &str) -> mlua::Result<String> {
    match value {
        Value::String(s) if uuid::Uuid::parse_str(&s.to_string_lossy()).is_ok() => {
            Ok(s.to_string_lossy())
        }
        _ => Err(arg_error(
            n,
            function,
            &format!("expects {what} to be a valid identifier"),
        )),
    }
}

/// An optional id argument: `nil` or `""` is none.
fn opt_id(value: &Value, n: usize, function: &str, what: &str) -> mlua::Result<String> {
    match value {
        Value::Nil => Ok(String::new()),
        Value::String(s) if s.as_bytes().is_empty() => Ok(String::new()),
        other => id_arg(other, n, function, what),
    }
}

/// An optional string argument: `nil` is `""`.
fn opt_text(value: &Value, n: usize, function: &str) -> mlua::Result<String> {
    match value {
        Value::Nil => Ok(String::new()),
        Value::String(s) => Ok(s.to_string_lossy()),
        other => Err(arg_error(
            n,
            function,
            &format!("string expected, got {}", other.type_name()),
        )),
    }
}

/// An optional whole-number argument.
fn opt_int(value: &Value, n: usize, function: &str) -> mlua::Result<Option<i32>> {
    match value {
        Value::Nil => Ok(None),
        other => whole(other)
            .and_then(|v| i32::try_from(v).ok())
            .map(Some)
            .ok_or_else(|| {
                arg_error(
                    n,
                    function,
                    &format!("number expected, got {}", other.type_name()),
                )
            }),
    }
}

/// An optional table argument as a JSON object.
fn opt_object(
    value: &Value,
    n: usize,
    function: &str,
) -> mlua::Result<Option<serde_json::Map<String, serde_json::Value>>> {
    match value {
        Value::Nil => Ok(None),
        table @ Value::Table(_) => match to_json(table)? {
            serde_json::Value::Object(map) => Ok(Some(map)),
            _ => Ok(Some(serde_json::Map::new())),
        },
        other => Err(arg_error(
            n,
            function,
            &format!("table expected, got {}", other.type_name()),
        )),
    }
}

/// The user ids of a table argument.
fn user_ids(value: &Value, function: &str) -> mlua::Result<Vec<String>> {
    let Value::Table(table) = value else {
        return Err(arg_error(2, function, "expects user IDs to be a table"));
    };
    let mut ids = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        let (_, v) = pair?;
        let Value::String(s) = v else {
            return Err(arg_error(
                2,
                function,
                "expects each user ID to be a string",
            ));
        };
        let id = uuid::Uuid::parse_str(&s.to_string_lossy())
            .map_err(|_| arg_error(2, function, "expects each user ID to be a valid identifier"))?;
        if id.is_nil() {
            return Err(arg_error(2, function, "cannot add the root user"));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// A server error as Nakama raises it: `<context>: <message>`.
fn failed(context: &'static str) -> impl Fn(RuntimeError) -> mlua::Error {
    move |e| mlua::Error::runtime(format!("{context}: {}", e.message))
}

/// A group as Nakama's Lua runtime shapes it.
fn group_table(lua: &Lua, g: &api::Group) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 12)?;
    t.raw_set("id", g.id.as_str())?;
    t.raw_set("creator_id", g.creator_id.as_str())?;
    t.raw_set("name", g.name.as_str())?;
    t.raw_set("description", g.description.as_str())?;
    t.raw_set("avatar_url", g.avatar_url.as_str())?;
    t.raw_set("lang_tag", g.lang_tag.as_str())?;
    t.raw_set("metadata", json_object(lua, &g.metadata)?)?;
    t.raw_set("open", g.open.unwrap_or_default())?;
    t.raw_set("edge_count", g.edge_count)?;
    t.raw_set("max_count", g.max_count)?;
    t.raw_set(
        "create_time",
        g.create_time.as_ref().map_or(0, |t| t.seconds),
    )?;
    t.raw_set(
        "update_time",
        g.update_time.as_ref().map_or(0, |t| t.seconds),
    )?;
    Ok(t)
}

fn groups_table(lua: &Lua, groups: &[api::Group]) -> mlua::Result<Table> {
    let list = lua.create_table_with_capacity(groups.len(), 0)?;
    for g in groups {
        list.raw_push(group_table(lua, g)?)?;
    }
    Ok(list)
}

/// A cursor as Lua gets it: `nil` after the last page.
fn cursor_value(cursor: &str) -> Option<String> {
    (!cursor.is_empty()).then(|| cursor.to_owned())
}

/// Limit (default 100, 1..=100), state (`nil` or -1: all but banned; 0..=4) and cursor of a
/// membership listing.
fn edge_args(
    limit: &Value,
    state: &Value,
    cursor: &Value,
    function: &str,
) -> mlua::Result<(i32, Option<i32>, String)> {
    let limit = opt_int(limit, 2, function)?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(arg_error(2, function, "expects limit to be 1-100"));
    }
    let state = match opt_int(state, 3, function)? {
        None | Some(-1) => None,
        Some(s) if (0..=4).contains(&s) => Some(s),
        Some(_) => return Err(arg_error(3, function, "expects state to be 0-4")),
    };
    Ok((limit, state, opt_text(cursor, 4, function)?))
}

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "group_create",
        lua.create_function(|lua, args: mlua::MultiValue| {
            const F: &str = "group_create";
            let a: Vec<Value> = args.into_iter().collect();
            let arg = |i: usize| a.get(i).cloned().unwrap_or(Value::Nil);
            let user_id = id_arg(&arg(0), 1, F, "user ID")?;
            let name = opt_text(&arg(1), 2, F)?;
            if name.is_empty() {
                return Err(arg_error(2, F, "expects group name not be empty"));
            }
            let creator_id = opt_id(&arg(2), 3, F, "owner ID")?;
            let open = match arg(6) {
                Value::Nil => false,
                Value::Boolean(b) => b,
                other => {
                    return Err(arg_error(
                        7,
                        F,
                        &format!("boolean expected, got {}", other.type_name()),
                    ));
                }
            };
            let max_count = opt_int(&arg(8), 9, F)?.unwrap_or(100);
            if max_count < 1 {
                return Err(arg_error(9, F, "expects max_count to be >= 1"));
            }
            let group = GroupCreate {
                user_id,
                name,
                creator_id,
                lang_tag: opt_text(&arg(3), 4, F)?,
                description: opt_text(&arg(4), 5, F)?,
                avatar_url: opt_text(&arg(5), 6, F)?,
                open,
                metadata: opt_object(&arg(7), 8, F)?.unwrap_or_default(),
                max_count,
            };
            let group = wait(nk_of(lua)?.group_create(group))?
                .map_err(failed("error while trying to create group"))?;
            group_table(lua, &group)
        })?,
    )?;
    nk.set(
        "group_update",
        lua.create_function(|lua, args: mlua::MultiValue| {
            const F: &str = "group_update";
            let a: Vec<Value> = args.into_iter().collect();
            let arg = |i: usize| a.get(i).cloned().unwrap_or(Value::Nil);
            let group_id = id_arg(&arg(0), 1, F, "group ID")?;
            let caller = opt_id(&arg(1), 2, F, "user ID")?;
            let text = |i: usize| -> mlua::Result<Option<String>> {
                Ok(Some(opt_text(&arg(i), i + 1, F)?).filter(|s| !s.is_empty()))
            };
            let creator_id = Some(opt_id(&arg(3), 4, F, "creator ID")?).filter(|s| !s.is_empty());
            let open = match arg(7) {
                Value::Nil => None,
                Value::Boolean(b) => Some(b),
                other => {
                    return Err(arg_error(
                        8,
                        F,
                        &format!("boolean expected, got {}", other.type_name()),
                    ));
                }
            };
            let update = GroupUpdate {
                name: text(2)?,
                creator_id,
                lang_tag: text(4)?,
                description: text(5)?,
                avatar_url: text(6)?,
                open,
                metadata: opt_object(&arg(8), 9, F)?,
                max_count: opt_int(&arg(9), 10, F)?.filter(|&n| n > 0),
            };
            wait(nk_of(lua)?.group_update(&group_id, &caller, update))?
                .map_err(failed("error while trying to update group"))
        })?,
    )?;
    nk.set(
        "group_delete",
        lua.create_function(|lua, group_id: Value| {
            let group_id = id_arg(&group_id, 1, "group_delete", "group ID")?;
            wait(nk_of(lua)?.group_delete(&group_id))?
                .map_err(failed("error while trying to delete group"))
        })?,
    )?;
    for (name, join) in [("group_user_join", true), ("group_user_leave", false)] {
        nk.set(
            name,
            lua.create_function(
                move |lua, (group_id, user_id, username): (Value, Value, Value)| {
                    let group_id = id_arg(&group_id, 1, name, "group ID")?;
                    let user_id = id_arg(&user_id, 2, name, "user ID")?;
                    let username = opt_text(&username, 3, name)?;
                    if username.is_empty() {
                        return Err(arg_error(3, name, "expects username string"));
                    }
                    let nk = nk_of(lua)?;
                    if join {
                        wait(nk.group_user_join(&group_id, &user_id, &username))?
                            .map_err(failed("error while trying to join a group"))
                    } else {
                        wait(nk.group_user_leave(&group_id, &user_id, &username))?
                            .map_err(failed("error while trying to leave a group"))
                    }
                },
            )?,
        )?;
    }
    type Change = fn(
        &tavern_runtime::Nk,
        String,
        Vec<String>,
        String,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<(), RuntimeError>>>,
    >;
    let changes: [(&str, &'static str, Change); 5] = [
        (
            "group_users_add",
            "error while trying to add users into a group",
            |nk, g, u, c| {
                let nk = nk.clone();
                Box::pin(async move { nk.group_users_add(&g, &u, &c).await })
            },
        ),
        (
            "group_users_kick",
            "error while trying to kick users from a group",
            |nk, g, u, c| {
                let nk = nk.clone();
                Box::pin(async move { nk.group_users_kick(&g, &u, &c).await })
            },
        ),
        (
            "group_users_ban",
            "error while trying to ban users from a group",
            |nk, g, u, c| {
                let nk = nk.clone();
                Box::pin(async move { nk.group_users_ban(&g, &u, &c).await })
            },
        ),
        (
            "group_users_promote",
            "error while trying to promote users in a group",
            |nk, g, u, c| {
                let nk = nk.clone();
                Box::pin(async move { nk.group_users_promote(&g, &u, &c).await })
            },
        ),
        (
            "group_users_demote",
            "error while trying to demote users in a group",
            |nk, g, u, c| {
                let nk = nk.clone();
                Box::pin(async move { nk.group_users_demote(&g, &u, &c).await })
            },
        ),
    ];
    for (name, context, change) in changes {
        nk.set(
            name,
            lua.create_function(
                move |lua, (group_id, users, caller): (Value, Value, Value)| {
                    let group_id = id_arg(&group_id, 1, name, "group ID")?;
                    let users = user_ids(&users, name)?;
                    let caller = opt_id(&caller, 3, name, "caller ID")?;
                    if users.is_empty() {
                        return Ok(());
                    }
                    wait(change(&nk_of(lua)?, group_id, users, caller))?.map_err(failed(context))
                },
            )?,
        )?;
    }
    nk.set(
        "group_users_list",
        lua.create_function(
            |lua, (group_id, limit, state, cursor): (Value, Value, Value, Value)| {
                const F: &str = "group_users_list";
                let group_id = id_arg(&group_id, 1, F, "group ID")?;
                let (limit, state, cursor) = edge_args(&limit, &state, &cursor, F)?;
                let list = wait(nk_of(lua)?.group_users_list(&group_id, limit, state, &cursor))?
                    .map_err(failed("error while trying to list users in a group"))?;
                let users = lua.create_table_with_capacity(list.group_users.len(), 0)?;
                for gu in &list.group_users {
                    let user = lua.create_table()?;
                    set_user_fields(lua, &user, &gu.user.clone().unwrap_or_default())?;
                    let entry = lua.create_table_with_capacity(0, 2)?;
                    entry.raw_set("user", user)?;
                    entry.raw_set("state", gu.state.unwrap_or_default())?;
                    users.raw_push(entry)?;
                }
                Ok((users, cursor_value(&list.cursor)))
            },
        )?,
    )?;
    nk.set(
        "user_groups_list",
        lua.create_function(
            |lua, (user_id, limit, state, cursor): (Value, Value, Value, Value)| {
                const F: &str = "user_groups_list";
                let user_id = id_arg(&user_id, 1, F, "user ID")?;
                let (limit, state, cursor) = edge_args(&limit, &state, &cursor, F)?;
                let list = wait(nk_of(lua)?.user_groups_list(&user_id, limit, state, &cursor))?
                    .map_err(failed("error while trying to list groups for a user"))?;
                let groups = lua.create_table_with_capacity(list.user_groups.len(), 0)?;
                for ug in &list.user_groups {
                    let entry = lua.create_table_with_capacity(0, 2)?;
                    entry.raw_set(
                        "group",
                        group_table(lua, &ug.group.clone().unwrap_or_default())?,
                    )?;
                    entry.raw_set("state", ug.state.unwrap_or_default())?;
                    groups.raw_push(entry)?;
                }
                Ok((groups, cursor_value(&list.cursor)))
            },
        )?,
    )?;
    nk.set(
        "groups_get_id",
        lua.create_function(|lua, ids: Value| {
            const F: &str = "groups_get_id";
            let Value::Table(table) = ids else {
                return Err(arg_error(1, F, "invalid group id list"));
            };
            let mut group_ids = Vec::new();
            for pair in table.pairs::<Value, Value>() {
                let (_, v) = pair?;
                let Value::String(s) = v else {
                    return Err(arg_error(1, F, "each group id must be a string"));
                };
                let s = s.to_string_lossy();
                if uuid::Uuid::parse_str(&s).is_err() {
                    return Err(arg_error(1, F, "each group id must be a valid id string"));
                }
                group_ids.push(s);
            }
            if group_ids.is_empty() {
                return lua.create_table();
            }
            let groups = wait(nk_of(lua)?.groups_get_id(&group_ids))?
                .map_err(failed("failed to get groups"))?;
            groups_table(lua, &groups)
        })?,
    )?;
    nk.set(
        "groups_list",
        lua.create_function(|lua, args: mlua::MultiValue| {
            const F: &str = "groups_list";
            let a: Vec<Value> = args.into_iter().collect();
            let arg = |i: usize| a.get(i).cloned().unwrap_or(Value::Nil);
            let open = match arg(2) {
                Value::Nil => None,
                Value::Boolean(b) => Some(b),
                _ => return Err(arg_error(3, F, "expects open true/false or nil")),
            };
            let filter = GroupsFilter {
                name: opt_text(&arg(0), 1, F)?,
                lang_tag: opt_text(&arg(1), 2, F)?,
                open,
                members: opt_int(&arg(3), 4, F)?.filter(|&m| m >= 0),
                limit: opt_int(&arg(4), 5, F)?.unwrap_or(100),
                cursor: opt_text(&arg(5), 6, F)?,
            };
            let list =
                wait(nk_of(lua)?.groups_list(filter))?.map_err(failed("error listing groups"))?;
            Ok((groups_table(lua, &list.groups)?, cursor_value(&list.cursor)))
        })?,
    )?;
    nk.set(
        "groups_get_random",
        lua.create_function(|lua, count: Value| {
            const F: &str = "groups_get_random";
            let count = opt_int(&count, 1, F)?.unwrap_or(0);
            if !(0..=1000).contains(&count) {
                return Err(arg_error(1, F, "count must be 0-1000"));
            }
            let groups = wait(nk_of(lua)?.groups_get_random(count))?
                .map_err(failed("failed to get groups"))?;
            groups_table(lua, &groups)
        })?,
    )?;
    Ok(())
}
