//! The `nakama` functions for leaderboards: `leaderboard_create`, `leaderboard_delete`,
//! `leaderboard_list`, `leaderboards_get_id`, `leaderboard_record_write`,
//! `leaderboard_record_delete`, `leaderboard_records_list` and
//! `leaderboard_records_haystack`, with Nakama's argument checks and table shapes (times as
//! unix seconds, metadata as tables).

use mlua::{Lua, Table, Value};
use tavern_runtime::{LeaderboardCreate, LeaderboardRecordWrite, api};

use super::storage::{arg_error, whole};
use super::{block, json_object, nk_of};
use crate::convert::to_json;

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "leaderboard_create",
        lua.create_function(
            |lua,
             (id, authoritative, sort, operator, reset, metadata): (
                Value,
                Value,
                Value,
                Value,
                Value,
                Value,
            )| {
                const F: &str = "leaderboard_create";
                let create = LeaderboardCreate {
                    id: id_arg(&id, 1, F, "expects a leaderboard ID string")?,
                    authoritative: opt_bool(&authoritative, false),
                    sort_order: opt_string(&sort, 3, F, "desc")?,
                    operator: opt_string(&operator, 4, F, "best")?,
                    reset_schedule: opt_string(&reset, 5, F, "")?,
                    metadata: opt_object(&metadata, 6, F)?.unwrap_or(serde_json::Value::Null),
                };
                block(nk_of(lua)?.leaderboard_create(create))
            },
        )?,
    )?;
    nk.set(
        "leaderboard_delete",
        lua.create_function(|lua, id: Value| {
            let id = id_arg(
                &id,
                1,
                "leaderboard_delete",
                "expects a leaderboard ID string",
            )?;
            block(nk_of(lua)?.leaderboard_delete(&id))
        })?,
    )?;
    nk.set(
        "leaderboard_list",
        lua.create_function(
            |lua, (start, end, limit, cursor): (Value, Value, Value, Value)| {
                const F: &str = "leaderboard_list";
                let start = opt_int(&start, 1, F, 0)?;
                let end = opt_int(&end, 2, F, 0)?;
                let limit = opt_int(&limit, 3, F, 10)?;
                let cursor = opt_string(&cursor, 4, F, "")?;
                let list = block(nk_of(lua)?.leaderboard_list(start, end, limit, &cursor))?;
                let boards = lua.create_table_with_capacity(list.leaderboards.len(), 0)?;
                for (i, b) in list.leaderboards.iter().enumerate() {
                    boards.raw_set(i + 1, leaderboard_table(lua, b)?)?;
                }
                let cursor = if list.cursor.is_empty() {
                    Value::Nil
                } else {
                    Value::String(lua.create_string(&list.cursor)?)
                };
                Ok((boards, cursor))
            },
        )?,
    )?;
    nk.set(
        "leaderboards_get_id",
        lua.create_function(|lua, ids: Value| {
            let ids = id_list(&ids, "leaderboards_get_id")?;
            let boards = if ids.is_empty() {
                Vec::new()
            } else {
                block(nk_of(lua)?.leaderboards_get_id(&ids))?
            };
            let table = lua.create_table_with_capacity(boards.len(), 0)?;
            for (i, b) in boards.iter().enumerate() {
                table.raw_set(i + 1, leaderboard_table(lua, b)?)?;
            }
            Ok(table)
        })?,
    )?;
    nk.set(
        "leaderboard_record_write",
        lua.create_function(|lua, args: mlua::Variadic<Value>| {
            let write = record_write(
                &args,
                "leaderboard_record_write",
                "expects a leaderboard ID string",
                "expects owner ID to be a valid identifier",
            )?;
            let record = block(nk_of(lua)?.leaderboard_record_write(write))?;
            record_table(lua, &record)
        })?,
    )?;
    nk.set(
        "leaderboard_record_delete",
        lua.create_function(|lua, (id, owner): (Value, Value)| {
            const F: &str = "leaderboard_record_delete";
            let id = id_arg(&id, 1, F, "expects a leaderboard ID string")?;
            let owner = uuid_arg(&owner, 2, F, "expects owner ID to be a valid identifier")?;
            block(nk_of(lua)?.leaderboard_record_delete(&id, &owner))
        })?,
    )?;
    nk.set(
        "leaderboard_records_list",
        lua.create_function(
            |lua, (id, owners, limit, cursor, expiry): (Value, Value, Value, Value, Value)| {
                const F: &str = "leaderboard_records_list";
                let id = id_arg(&id, 1, F, "expects a leaderboard ID string")?;
                let Some(owners) = owner_list(&owners, 2, F)? else {
                    return Ok(mlua::MultiValue::from_vec(vec![Value::Table(
                        lua.create_table()?,
                    )]));
                };
                let limit = opt_int(&limit, 3, F, 0)?;
                let cursor = opt_string(&cursor, 4, F, "")?;
                let expiry = opt_int(&expiry, 5, F, 0)?;
                let list = block(
                    nk_of(lua)?.leaderboard_records_list(&id, &owners, limit, &cursor, expiry),
                )?;
                records_values(
                    lua,
                    &list.records,
                    Some(&list.owner_records),
                    &list.next_cursor,
                    &list.prev_cursor,
                )
            },
        )?,
    )?;
    nk.set(
        "leaderboard_records_haystack",
        lua.create_function(
            |lua, (id, owner, limit, cursor, expiry): (Value, Value, Value, Value, Value)| {
                const F: &str = "leaderboard_records_haystack";
                let id = id_arg(&id, 1, F, "expects a leaderboard ID string")?;
                let owner = uuid_arg(&owner, 2, F, "expects user ID to be a valid identifier")?;
                let limit = opt_int(&limit, 3, F, 10)?;
                let cursor = opt_string(&cursor, 4, F, "")?;
                let expiry = opt_int(&expiry, 5, F, 0)?;
                let list = block(
                    nk_of(lua)?.leaderboard_records_haystack(&id, &owner, limit, &cursor, expiry),
                )?;
                records_values(
                    lua,
                    &list.records,
                    None,
                    &list.next_cursor,
                    &list.prev_cursor,
                )
            },
        )?,
    )?;
    Ok(())
}

/// A score write from `(id, owner, username, score, subscore, metadata, operator)`.
pub(super) fn record_write(
    args: &[Value],
    function: &str,
    bad_id: &str,
    bad_owner: &str,
) -> mlua::Result<LeaderboardRecordWrite> {
    let arg = |n: usize| args.get(n - 1).cloned().unwrap_or(Value::Nil);
    let operator = opt_string(&arg(7), 7, function, "")?;
    Ok(LeaderboardRecordWrite {
        id: id_arg(&arg(1), 1, function, bad_id)?,
        owner_id: uuid_arg(&arg(2), 2, function, bad_owner)?,
        username: opt_string(&arg(3), 3, function, "")?,
        score: opt_int(&arg(4), 4, function, 0)?,
        subscore: opt_int(&arg(5), 5, function, 0)?,
        metadata: opt_object(&arg(6), 6, function)?,
        operator: match operator.to_lowercase().as_str() {
            "" | "no_override" => None,
            _ => Some(operator.to_lowercase()),
        },
    })
}

/// A required, non-empty string argument.
pub(super) fn id_arg(
    value: &Value,
    n: usize,
    function: &str,
    message: &str,
) -> mlua::Result<String> {
    match value {
        Value::String(s) if !s.as_bytes().is_empty() => Ok(s.to_string_lossy()),
        Value::String(_) => Err(arg_error(n, function, message)),
        other => Err(arg_error(
            n,
            function,
            &format!("string expected, got {}", type_name(other)),
        )),
    }
}

/// A required UUID argument, in its canonical text.
pub(super) fn uuid_arg(
    value: &Value,
    n: usize,
    function: &str,
    message: &str,
) -> mlua::Result<String> {
    let text = id_arg(value, n, function, message)?;
    uuid::Uuid::parse_str(&text)
        .map(|u| u.to_string())
        .map_err(|_| arg_error(n, function, message))
}

/// An optional string argument.
pub(super) fn opt_string(
    value: &Value,
    n: usize,
    function: &str,
    default: &str,
) -> mlua::Result<String> {
    match value {
        Value::Nil => Ok(default.to_owned()),
        Value::String(s) => Ok(s.to_string_lossy()),
        other => Err(arg_error(
            n,
            function,
            &format!("string expected, got {}", type_name(other)),
        )),
    }
}

/// An optional whole-number argument.
pub(super) fn opt_int(value: &Value, n: usize, function: &str, default: i64) -> mlua::Result<i64> {
    match value {
        Value::Nil => Ok(default),
        other => whole(other).ok_or_else(|| {
            arg_error(
                n,
                function,
                &format!("number expected, got {}", type_name(other)),
            )
        }),
    }
}

/// An optional boolean argument (Lua truthiness of a non-nil value).
pub(super) fn opt_bool(value: &Value, default: bool) -> bool {
    match value {
        Value::Nil => default,
        Value::Boolean(b) => *b,
        _ => true,
    }
}

/// An optional table argument as a JSON object.
pub(super) fn opt_object(
    value: &Value,
    n: usize,
    function: &str,
) -> mlua::Result<Option<serde_json::Value>> {
    match value {
        Value::Nil => Ok(None),
        Value::Table(_) => match to_json(value)? {
            // An empty Lua table is an empty object.
            serde_json::Value::Array(a) if a.is_empty() => Ok(Some(serde_json::json!({}))),
            object @ serde_json::Value::Object(_) => Ok(Some(object)),
            _ => Err(arg_error(
                n,
                function,
                "expects metadata to be a table of keys",
            )),
        },
        other => Err(arg_error(
            n,
            function,
            &format!("table expected, got {}", type_name(other)),
        )),
    }
}

/// Owner ids to filter by: `None` for an empty table (the call lists nothing), otherwise the
/// ids (none for `nil`).
pub(super) fn owner_list(
    value: &Value,
    n: usize,
    function: &str,
) -> mlua::Result<Option<Vec<String>>> {
    match value {
        Value::Nil => Ok(Some(Vec::new())),
        Value::Table(t) => {
            if t.raw_len() == 0 {
                return Ok(None);
            }
            let mut ids = Vec::new();
            for pair in t.clone().pairs::<Value, Value>() {
                match pair?.1 {
                    Value::String(s) => {
                        let text = s.to_string_lossy();
                        if uuid::Uuid::parse_str(&text).is_err() {
                            return Err(arg_error(
                                n,
                                function,
                                "expects each owner ID to be a valid identifier",
                            ));
                        }
                        ids.push(text);
                    }
                    _ => return Err(arg_error(n, function, "expects each owner ID to be string")),
                }
            }
            Ok(Some(ids))
        }
        other => Err(arg_error(
            n,
            function,
            &format!("table expected, got {}", type_name(other)),
        )),
    }
}

/// A table of ids for the `*_get_id` functions.
pub(super) fn id_list(value: &Value, function: &str) -> mlua::Result<Vec<String>> {
    let Value::Table(t) = value else {
        return Err(arg_error(1, function, "invalid tournament id list"));
    };
    let mut ids = Vec::new();
    for v in t.clone().sequence_values::<Value>() {
        match v? {
            Value::String(s) if !s.as_bytes().is_empty() => ids.push(s.to_string_lossy()),
            _ => {
                return Err(arg_error(
                    1,
                    function,
                    "each tournament id must be a string",
                ));
            }
        }
    }
    Ok(ids)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "no value",
        other => other.type_name(),
    }
}

/// Records and cursors as Nakama's Lua functions return them: the records, the owner records
/// (unless `None`), then the next and the previous cursor (`nil` when empty).
pub(super) fn records_values(
    lua: &Lua,
    records: &[api::LeaderboardRecord],
    owner_records: Option<&[api::LeaderboardRecord]>,
    next: &str,
    prev: &str,
) -> mlua::Result<mlua::MultiValue> {
    let list = |records: &[api::LeaderboardRecord]| -> mlua::Result<Value> {
        let t = lua.create_table_with_capacity(records.len(), 0)?;
        for (i, r) in records.iter().enumerate() {
            t.raw_set(i + 1, record_table(lua, r)?)?;
        }
        Ok(Value::Table(t))
    };
    let cursor = |c: &str| -> mlua::Result<Value> {
        Ok(if c.is_empty() {
            Value::Nil
        } else {
            Value::String(lua.create_string(c)?)
        })
    };
    let mut values = vec![list(records)?];
    if let Some(owners) = owner_records {
        values.push(list(owners)?);
    }
    values.push(cursor(next)?);
    values.push(cursor(prev)?);
    Ok(mlua::MultiValue::from_vec(values))
}

/// A record as Nakama's Lua runtime shapes it.
pub(super) fn record_table(lua: &Lua, r: &api::LeaderboardRecord) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("leaderboard_id", r.leaderboard_id.as_str())?;
    t.raw_set("owner_id", r.owner_id.as_str())?;
    t.raw_set("username", r.username.as_deref())?;
    t.raw_set("score", r.score)?;
    t.raw_set("subscore", r.subscore)?;
    t.raw_set("num_score", r.num_score)?;
    t.raw_set("max_num_score", r.max_num_score)?;
    t.raw_set("metadata", json_object(lua, &r.metadata)?)?;
    t.raw_set("create_time", r.create_time.map_or(0, |t| t.seconds))?;
    t.raw_set("update_time", r.update_time.map_or(0, |t| t.seconds))?;
    t.raw_set("expiry_time", r.expiry_time.map(|t| t.seconds))?;
    t.raw_set("rank", r.rank)?;
    Ok(t)
}

/// The lower-case name of a wire operator, as Nakama's Lua runtime shows it.
pub(crate) fn operator_name(operator: i32) -> &'static str {
    match operator {
        1 => "best",
        2 => "set",
        3 => "increment",
        4 => "decrement",
        _ => "no_override",
    }
}

/// A leaderboard as Nakama's Lua runtime shapes it.
pub(crate) fn leaderboard_table(lua: &Lua, b: &api::Leaderboard) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("id", b.id.as_str())?;
    t.raw_set("authoritative", b.authoritative)?;
    t.raw_set("operator", operator_name(b.operator))?;
    t.raw_set("sort_order", b.sort_order.to_string())?;
    t.raw_set("metadata", json_object(lua, &b.metadata)?)?;
    t.raw_set("create_time", b.create_time.map_or(0, |t| t.seconds))?;
    if b.next_reset != 0 {
        t.raw_set("next_reset", b.next_reset)?;
    }
    if b.prev_reset != 0 {
        t.raw_set("prev_reset", b.prev_reset)?;
    }
    Ok(t)
}

/// A tournament as Nakama's Lua runtime shapes it.
pub(crate) fn tournament_table(lua: &Lua, x: &api::Tournament) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("id", x.id.as_str())?;
    t.raw_set("title", x.title.as_str())?;
    t.raw_set("description", x.description.as_str())?;
    t.raw_set("category", x.category)?;
    t.raw_set("sort_order", x.sort_order.to_string())?;
    t.raw_set("size", x.size)?;
    t.raw_set("max_size", x.max_size)?;
    t.raw_set("max_num_score", x.max_num_score)?;
    t.raw_set("duration", x.duration)?;
    t.raw_set("start_active", x.start_active)?;
    t.raw_set("end_active", x.end_active)?;
    t.raw_set("can_enter", x.can_enter)?;
    t.raw_set("next_reset", (x.next_reset != 0).then_some(x.next_reset))?;
    t.raw_set("prev_reset", (x.prev_reset != 0).then_some(x.prev_reset))?;
    t.raw_set("metadata", json_object(lua, &x.metadata)?)?;
    t.raw_set("create_time", x.create_time.map_or(0, |t| t.seconds))?;
    t.raw_set("start_time", x.start_time.map_or(0, |t| t.seconds))?;
    t.raw_set("end_time", x.end_time.map(|t| t.seconds))?;
    t.raw_set("operator", operator_name(x.operator))?;
    t.raw_set("authoritative", x.authoritative)?;
    Ok(t)
}
