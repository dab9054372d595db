//! The `nakama` functions for storage objects: `storage_read`, `storage_write`,
//! `storage_delete` and `storage_list`, with Nakama's argument checks, messages and table
//! shapes (values as tables, times as unix seconds).

use mlua::{Lua, Table, Value};
use tavern_runtime::{StorageDelete, StorageRead, StorageWrite, api};

use super::{json_object, nk_of, wait};
use crate::convert::to_json;

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "storage_read",
        lua.create_function(|lua, ids: Value| {
            let reads = entries(&ids, 1, "storage_read", "expects a valid set of keys")?
                .iter()
                .map(|t| object_read(t, 1, "storage_read"))
                .collect::<mlua::Result<Vec<_>>>()?;
            if reads.is_empty() {
                return lua.create_table();
            }
            let objects = wait(nk_of(lua)?.storage_read(&reads))?.map_err(|e| {
                mlua::Error::runtime(format!("failed to read storage objects: {}", e.message))
            })?;
            objects_table(lua, &objects)
        })?,
    )?;
    nk.set(
        "storage_write",
        lua.create_function(|lua, data: Value| {
            let writes = writes(&data, 1, "storage_write", "expects a valid set of data")?;
            if writes.is_empty() {
                return lua.create_table();
            }
            let acks = wait(nk_of(lua)?.storage_write(&writes))?.map_err(|e| {
                mlua::Error::runtime(format!("failed to write storage objects: {}", e.message))
            })?;
            let list = lua.create_table_with_capacity(acks.len(), 0)?;
            for ack in &acks {
                let t = lua.create_table_with_capacity(0, 4)?;
                t.raw_set("key", ack.key.as_str())?;
                t.raw_set("collection", ack.collection.as_str())?;
                t.raw_set("user_id", ack.user_id.as_str())?;
                t.raw_set("version", ack.version.as_str())?;
                list.raw_push(t)?;
            }
            Ok(list)
        })?,
    )?;
    nk.set(
        "storage_delete",
        lua.create_function(|lua, ids: Value| {
            let deletes = entries(
                &ids,
                1,
                "storage_delete",
                "expects a valid set of object IDs",
            )?
            .iter()
            .map(object_delete)
            .collect::<mlua::Result<Vec<_>>>()?;
            if deletes.is_empty() {
                return Ok(());
            }
            wait(nk_of(lua)?.storage_delete(&deletes))?.map_err(|e| {
                mlua::Error::runtime(format!("failed to remove storage: {}", e.message))
            })
        })?,
    )?;
    nk.set(
        "storage_list",
        lua.create_function(
            |lua,
             (user_id, collection, limit, cursor): (
                Option<String>,
                Option<String>,
                Value,
                Option<String>,
            )| {
                let limit = match whole(&limit) {
                    Some(n) if n < 0 => {
                        return Err(arg_error(3, "storage_list", "limit must not be negative"));
                    }
                    Some(n) => n as usize,
                    None => {
                        return Err(arg_error(
                            3,
                            "storage_list",
                            &format!("number expected, got {}", type_name(&limit)),
                        ));
                    }
                };
                let user_id = user_id.unwrap_or_default();
                if !user_id.is_empty() && uuid::Uuid::parse_str(&user_id).is_err() {
                    return Err(arg_error(
                        1,
                        "storage_list",
                        "expects empty or a valid user ID",
                    ));
                }
                let list = wait(nk_of(lua)?.storage_list(
                    &user_id,
                    &collection.unwrap_or_default(),
                    limit,
                    &cursor.unwrap_or_default(),
                ))?
                .map_err(|e| {
                    mlua::Error::runtime(format!("failed to list storage objects: {}", e.message))
                })?;
                let cursor = (!list.cursor.is_empty()).then_some(list.cursor.clone());
                Ok((objects_table(lua, &list.objects)?, cursor))
            },
        )?,
    )?;
    Ok(())
}

/// Nakama's message for a bad argument: `bad argument #n to function (message)`.
pub(super) fn arg_error(n: usize, function: &str, message: &str) -> mlua::Error {
    mlua::Error::runtime(format!("bad argument #{n} to {function} ({message})"))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "no value",
        other => other.type_name(),
    }
}

/// A whole Lua number, as Nakama takes integers.
pub(super) fn whole(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(n) => Some(*n),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => Some(*n as i64),
        _ => None,
    }
}

/// The tables in a table argument (every value, as Nakama walks them), each a table.
pub(super) fn entries(
    arg: &Value,
    n: usize,
    function: &str,
    message: &str,
) -> mlua::Result<Vec<Table>> {
    let Value::Table(table) = arg else {
        return Err(arg_error(n, function, message));
    };
    let mut list = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        match pair?.1 {
            Value::Table(t) => list.push(t),
            _ => return Err(arg_error(n, function, message)),
        }
    }
    Ok(list)
}

/// A string field of an argument's entry, checked as Nakama checks `collection`, `key`,
/// `user_id` and `version`: a string, not empty.
pub(super) fn text_field(
    t: &Table,
    name: &str,
    n: usize,
    function: &str,
) -> mlua::Result<Option<String>> {
    match t.raw_get::<Value>(name)? {
        Value::Nil => Ok(None),
        Value::String(s) => {
            let s = s.to_string_lossy();
            if s.is_empty() {
                let what = if name == "user_id" {
                    "expects user_id to be a valid ID".to_owned()
                } else {
                    format!("expects {name} to be a non-empty string")
                };
                return Err(arg_error(n, function, &what));
            }
            Ok(Some(s))
        }
        _ => Err(arg_error(
            n,
            function,
            &format!("expects {name} to be string"),
        )),
    }
}

/// A user id field: a valid UUID, or absent for the system user.
pub(super) fn user_field(t: &Table, n: usize, function: &str) -> mlua::Result<String> {
    let user_id = text_field(t, "user_id", n, function)?.unwrap_or_default();
    if !user_id.is_empty() && uuid::Uuid::parse_str(&user_id).is_err() {
        return Err(arg_error(n, function, "expects user_id to be a valid ID"));
    }
    Ok(user_id)
}

/// The collection, key and owner of an entry; collection and key are required.
fn names(t: &Table, n: usize, function: &str) -> mlua::Result<(String, String, String)> {
    let collection = text_field(t, "collection", n, function)?;
    let key = text_field(t, "key", n, function)?;
    let user_id = user_field(t, n, function)?;
    let collection =
        collection.ok_or_else(|| arg_error(n, function, "expects collection to be supplied"))?;
    let key = key.ok_or_else(|| arg_error(n, function, "expects key to be supplied"))?;
    Ok((collection, key, user_id))
}

fn object_read(t: &Table, n: usize, function: &str) -> mlua::Result<StorageRead> {
    let (collection, key, user_id) = names(t, n, function)?;
    Ok(StorageRead {
        collection,
        key,
        user_id,
    })
}

fn object_delete(t: &Table) -> mlua::Result<StorageDelete> {
    let (collection, key, user_id) = names(t, 1, "storage_delete")?;
    Ok(StorageDelete {
        collection,
        key,
        user_id,
        version: text_field(t, "version", 1, "storage_delete")?.unwrap_or_default(),
    })
}

/// The writes of a `storage_write` (or `multi_update`) argument: values are tables, the
/// permissions default to owner read and owner write.
pub(super) fn writes(
    arg: &Value,
    n: usize,
    function: &str,
    message: &str,
) -> mlua::Result<Vec<StorageWrite>> {
    let mut list = Vec::new();
    for t in entries(arg, n, function, message)? {
        let (collection, key, user_id) = names(&t, n, function)?;
        let value = match t.raw_get::<Value>("value")? {
            Value::Nil => return Err(arg_error(n, function, "expects value to be supplied")),
            table @ Value::Table(_) => serde_json::to_string(&to_json(&table)?)
                .map_err(|e| arg_error(n, function, &format!("failed to convert value: {e}")))?,
            _ => return Err(arg_error(n, function, "expects value to be table")),
        };
        let permission = |name: &str| -> mlua::Result<i32> {
            match t.raw_get::<Value>(name)? {
                Value::Nil => Ok(1),
                Value::Integer(p) => Ok(p as i32),
                Value::Number(p) => Ok(p as i32),
                _ => Err(arg_error(
                    n,
                    function,
                    &format!("expects {name} to be number"),
                )),
            }
        };
        list.push(StorageWrite {
            version: text_field(&t, "version", n, function)?.unwrap_or_default(),
            permission_read: permission("permission_read")?,
            permission_write: permission("permission_write")?,
            ..StorageWrite::new(collection, key, user_id, value)
        });
    }
    Ok(list)
}

/// Storage objects as Nakama's Lua sees them.
fn objects_table(lua: &Lua, objects: &[api::StorageObject]) -> mlua::Result<Table> {
    let list = lua.create_table_with_capacity(objects.len(), 0)?;
    for o in objects {
        let t = lua.create_table_with_capacity(0, 9)?;
        t.raw_set("key", o.key.as_str())?;
        t.raw_set("collection", o.collection.as_str())?;
        if !o.user_id.is_empty() {
            t.raw_set("user_id", o.user_id.as_str())?;
        }
        t.raw_set("version", o.version.as_str())?;
        t.raw_set("permission_read", o.permission_read)?;
        t.raw_set("permission_write", o.permission_write)?;
        t.raw_set(
            "create_time",
            o.create_time.as_ref().map_or(0, |t| t.seconds),
        )?;
        t.raw_set(
            "update_time",
            o.update_time.as_ref().map_or(0, |t| t.seconds),
        )?;
        t.raw_set("value", json_object(lua, &o.value)?)?;
        list.raw_push(t)?;
    }
    Ok(list)
}
