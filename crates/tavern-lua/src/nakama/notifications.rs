//! The `nakama` functions for notifications: `notification_send`, `notifications_send`,
//! `notification_send_all` and `notifications_delete`, with Nakama's argument orders, defaults
//! (`persistent` false) and messages.

use mlua::{Lua, Table, Value};
use tavern_runtime::{NotificationDelete, NotificationSend};

use super::storage::{arg_error, whole};
use super::{nk_of, wait};
use crate::convert::to_json;

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "notification_send",
        lua.create_function(|lua, args: SendArgs| {
            const F: &str = "notification_send";
            let (user_id, subject, content, code, sender, persistent) = args;
            if uuid::Uuid::parse_str(&user_id).is_err() {
                return Err(arg_error(1, F, "expects user_id to be a valid UUID"));
            }
            if subject.is_empty() {
                return Err(arg_error(2, F, "expects subject to be a non-empty string"));
            }
            let content = content_arg(&content, 3, F)?;
            let code = code_arg(&code, 4, F)?;
            let sender = sender.unwrap_or_default();
            if !sender.is_empty() && uuid::Uuid::parse_str(&sender).is_err() {
                return Err(arg_error(
                    5,
                    F,
                    "expects sender_id to either be not set, empty string or a valid UUID",
                ));
            }
            let notification = NotificationSend {
                user_id,
                subject,
                content,
                code,
                sender,
                persistent: persistent.unwrap_or(false),
            };
            wait(nk_of(lua)?.notifications_send(vec![notification]))?.map_err(|e| {
                mlua::Error::runtime(format!("failed to send notifications: {}", e.message))
            })
        })?,
    )?;
    nk.set(
        "notifications_send",
        lua.create_function(|lua, list: Value| {
            const F: &str = "notifications_send";
            let Value::Table(list) = list else {
                return Err(arg_error(1, F, "expects a valid set of notifications"));
            };
            let mut notifications = Vec::new();
            for pair in list.pairs::<Value, Value>() {
                let Value::Table(entry) = pair?.1 else {
                    return Err(arg_error(1, F, "expects a valid set of notifications"));
                };
                notifications.push(notification_entry(&entry)?);
            }
            if notifications.is_empty() {
                return Ok(());
            }
            wait(nk_of(lua)?.notifications_send(notifications))?.map_err(|e| {
                mlua::Error::runtime(format!("failed to send notifications: {}", e.message))
            })
        })?,
    )?;
    nk.set(
        "notification_send_all",
        lua.create_function(
            |lua, (subject, content, code, persistent): (String, Value, Value, Option<bool>)| {
                const F: &str = "notification_send_all";
                if subject.is_empty() {
                    return Err(arg_error(1, F, "expects subject to be a non-empty string"));
                }
                let content = content_arg(&content, 2, F)?;
                let code = code_arg(&code, 3, F)?;
                wait(nk_of(lua)?.notification_send_all(
                    &subject,
                    content,
                    code,
                    persistent.unwrap_or(false),
                ))?
                .map_err(|e| {
                    mlua::Error::runtime(format!("failed to send notification: {}", e.message))
                })
            },
        )?,
    )?;
    nk.set(
        "notifications_delete",
        lua.create_function(|lua, list: Value| {
            const F: &str = "notifications_delete";
            let Value::Table(list) = list else {
                return Err(arg_error(1, F, "expects a valid set of notifications"));
            };
            let mut deletes = Vec::new();
            for pair in list.pairs::<Value, Value>() {
                let Value::Table(entry) = pair?.1 else {
                    return Err(arg_error(1, F, "expects a valid set of notifications"));
                };
                let user_id = uuid_field(&entry, "user_id", F)?;
                let notification_id = uuid_field(&entry, "notification_id", F)?;
                deletes.push(NotificationDelete {
                    user_id,
                    notification_id,
                });
            }
            if deletes.is_empty() {
                return Ok(());
            }
            wait(nk_of(lua)?.notifications_delete(deletes))?.map_err(|e| {
                mlua::Error::runtime(format!("failed to delete notifications: {}", e.message))
            })
        })?,
    )?;
    Ok(())
}

/// `notification_send`'s arguments: user id, subject, content, code, sender id, persistent.
type SendArgs = (String, String, Value, Value, Option<String>, Option<bool>);

fn content_arg(value: &Value, n: usize, function: &str) -> mlua::Result<serde_json::Value> {
    match value {
        Value::Table(_) => to_json(value)
            .map_err(|e| arg_error(n, function, &format!("failed to convert content: {e}"))),
        _ => Err(arg_error(n, function, "table expected")),
    }
}

fn code_arg(value: &Value, n: usize, function: &str) -> mlua::Result<i32> {
    match whole(value).and_then(|c| i32::try_from(c).ok()) {
        Some(code) if code > 0 => Ok(code),
        _ => Err(arg_error(
            n,
            function,
            "expects code number to be a positive integer",
        )),
    }
}

/// One notification of `notifications_send`: user_id, subject, content and code required,
/// sender_id and persistent optional.
fn notification_entry(t: &Table) -> mlua::Result<NotificationSend> {
    const F: &str = "notifications_send";
    let persistent = match t.raw_get::<Value>("persistent")? {
        Value::Nil => false,
        Value::Boolean(b) => b,
        _ => return Err(arg_error(1, F, "expects persistent to be boolean")),
    };
    let subject = match t.raw_get::<Value>("subject")? {
        Value::String(s) if !s.as_bytes().is_empty() => s.to_string_lossy(),
        Value::Nil | Value::String(_) => {
            return Err(arg_error(
                1,
                F,
                "expects subject to be provided and to be non-empty",
            ));
        }
        _ => return Err(arg_error(1, F, "expects subject to be string")),
    };
    let content = match t.raw_get::<Value>("content")? {
        content @ Value::Table(_) => to_json(&content)
            .map_err(|e| arg_error(1, F, &format!("failed to convert content: {e}")))?,
        Value::Nil => {
            return Err(arg_error(
                1,
                F,
                "expects content to be provided and be valid JSON",
            ));
        }
        _ => return Err(arg_error(1, F, "expects content to be a table")),
    };
    let code = match t.raw_get::<Value>("code")? {
        Value::Nil => {
            return Err(arg_error(
                1,
                F,
                "expects code to be provided and be a number above 0",
            ));
        }
        code => match whole(&code).and_then(|c| i32::try_from(c).ok()) {
            Some(c) if c > 0 => c,
            Some(_) => return Err(arg_error(1, F, "expects code to number above 0")),
            None => return Err(arg_error(1, F, "expects code to be number")),
        },
    };
    let user_id = uuid_field(t, "user_id", F)?;
    let sender = match t.raw_get::<Value>("sender_id")? {
        Value::Nil => String::new(),
        Value::String(s) => {
            let s = s.to_string_lossy();
            if !s.is_empty() && uuid::Uuid::parse_str(&s).is_err() {
                return Err(arg_error(1, F, "expects sender_id to be a valid UUID"));
            }
            s
        }
        _ => return Err(arg_error(1, F, "expects sender_id to be string")),
    };
    Ok(NotificationSend {
        user_id,
        subject,
        content,
        code,
        sender,
        persistent,
    })
}

/// A required UUID field of an entry.
fn uuid_field(t: &Table, name: &str, function: &str) -> mlua::Result<String> {
    match t.raw_get::<Value>(name)? {
        Value::String(s) => {
            let s = s.to_string_lossy();
            if uuid::Uuid::parse_str(&s).is_err() {
                return Err(arg_error(
                    1,
                    function,
                    &format!("expects {name} to be a valid UUID"),
                ));
            }
            Ok(s)
        }
        Value::Nil => Err(arg_error(
            1,
            function,
            &format!("expects {name} to be a valid UUID"),
        )),
        _ => Err(arg_error(
            1,
            function,
            &format!("expects {name} to be string"),
        )),
    }
}
