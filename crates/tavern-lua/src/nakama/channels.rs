//! The `nakama` functions for chat channels: `channel_message_send`, `channel_message_update`,
//! `channel_message_remove`, `channel_messages_list` and `channel_id_build`, with Nakama's
//! argument orders, defaults (`persist` false), messages and camelCase table keys.

use mlua::{Lua, Table, Value};
use tavern_runtime::realtime::ChannelMessageAck;
use tavern_runtime::{ChannelSender, ChannelType};

use super::storage::{arg_error, whole};
use super::{nk_of, wait};
use crate::convert::to_json;

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "channel_message_send",
        lua.create_function(
            |lua,
             (channel_id, content, sender_id, username, persist): (
                String,
                Value,
                Option<String>,
                Option<String>,
                Option<bool>,
            )| {
                const F: &str = "channel_message_send";
                let content = content_arg(&content, 2, F)?;
                let sender = sender_arg(sender_id, username, 3, F)?;
                let ack = wait(nk_of(lua)?.channel_message_send(
                    &channel_id,
                    content,
                    sender,
                    persist.unwrap_or(false),
                ))?
                .map_err(|e| send_failed(&e))?;
                ack_table(lua, &ack)
            },
        )?,
    )?;
    nk.set(
        "channel_message_update",
        lua.create_function(
            |lua,
             (channel_id, message_id, content, sender_id, username, persist): (
                String,
                String,
                Value,
                Option<String>,
                Option<String>,
                Option<bool>,
            )| {
                const F: &str = "channel_message_update";
                message_id_arg(&message_id, F)?;
                let content = content_arg(&content, 3, F)?;
                let sender = sender_arg(sender_id, username, 4, F)?;
                let ack = wait(nk_of(lua)?.channel_message_update(
                    &channel_id,
                    &message_id,
                    content,
                    sender,
                    persist.unwrap_or(false),
                ))?
                .map_err(|e| send_failed(&e))?;
                ack_table(lua, &ack)
            },
        )?,
    )?;
    nk.set(
        "channel_message_remove",
        lua.create_function(
            |lua,
             (channel_id, message_id, sender_id, username, persist): (
                String,
                String,
                Option<String>,
                Option<String>,
                Option<bool>,
            )| {
                const F: &str = "channel_message_remove";
                message_id_arg(&message_id, F)?;
                let sender = sender_arg(sender_id, username, 3, F)?;
                let ack = wait(nk_of(lua)?.channel_message_remove(
                    &channel_id,
                    &message_id,
                    sender,
                    persist.unwrap_or(false),
                ))?
                .map_err(|e| send_failed(&e))?;
                ack_table(lua, &ack)
            },
        )?,
    )?;
    nk.set(
        "channel_messages_list",
        lua.create_function(
            |lua,
             (channel_id, limit, forward, cursor): (
                String,
                Value,
                Option<bool>,
                Option<String>,
            )| {
                const F: &str = "channel_messages_list";
                let limit = match &limit {
                    Value::Nil => 100,
                    other => match whole(other) {
                        Some(n) if (1..=100).contains(&n) => n as usize,
                        _ => return Err(arg_error(2, F, "expects limit to be 1-100")),
                    },
                };
                let list = wait(nk_of(lua)?.channel_messages_list(
                    &channel_id,
                    limit,
                    forward.unwrap_or(true),
                    &cursor.unwrap_or_default(),
                ))?
                .map_err(|e| {
                    if e.message == "invalid channel id" {
                        mlua::Error::runtime(e.message)
                    } else {
                        mlua::Error::runtime(format!(
                            "failed to list channel messages: {}",
                            e.message
                        ))
                    }
                })?;
                let messages = lua.create_table_with_capacity(list.messages.len(), 0)?;
                for m in &list.messages {
                    let t = lua.create_table_with_capacity(0, 13)?;
                    t.raw_set("channelId", m.channel_id.as_str())?;
                    t.raw_set("messageId", m.message_id.as_str())?;
                    t.raw_set("code", m.code.unwrap_or_default())?;
                    t.raw_set("senderId", m.sender_id.as_str())?;
                    t.raw_set("username", m.username.as_str())?;
                    t.raw_set("content", m.content.as_str())?;
                    t.raw_set("createTime", m.create_time.map_or(0, |t| t.seconds))?;
                    t.raw_set("updateTime", m.update_time.map_or(0, |t| t.seconds))?;
                    t.raw_set("persistent", m.persistent.unwrap_or_default())?;
                    t.raw_set("roomName", m.room_name.as_str())?;
                    t.raw_set("groupId", m.group_id.as_str())?;
                    t.raw_set("userIdOne", m.user_id_one.as_str())?;
                    t.raw_set("userIdTwo", m.user_id_two.as_str())?;
                    messages.raw_push(t)?;
                }
                let cursor = |c: &str| (!c.is_empty()).then(|| c.to_owned());
                Ok((
                    messages,
                    cursor(&list.next_cursor),
                    cursor(&list.prev_cursor),
                ))
            },
        )?,
    )?;
    nk.set(
        "channel_id_build",
        lua.create_function(|lua, (sender_id, target, kind): (String, String, Value)| {
            const F: &str = "channel_id_build";
            if !sender_id.is_empty() && uuid::Uuid::parse_str(&sender_id).is_err() {
                return Err(arg_error(
                    1,
                    F,
                    "expects sender id to either be not set, empty string or a valid UUID",
                ));
            }
            let Some(kind) = whole(&kind) else {
                return Err(arg_error(3, F, "number expected"));
            };
            let Some(kind) = ChannelType::from_number(kind) else {
                return Err(mlua::Error::runtime(
                    "invalid channel type: expects value 1-3",
                ));
            };
            wait(nk_of(lua)?.channel_id_build(&sender_id, &target, kind))?.map_err(|e| {
                if e.code == tavern_runtime::Code::InvalidArgument {
                    arg_error(1, F, &e.message)
                } else {
                    mlua::Error::runtime(e.message)
                }
            })
        })?,
    )?;
    Ok(())
}

/// Content: `nil` (an empty object) or a table that encodes as a JSON object.
fn content_arg(value: &Value, n: usize, function: &str) -> mlua::Result<serde_json::Value> {
    match value {
        Value::Nil => Ok(serde_json::Value::Null),
        Value::Table(_) => match to_json(value)? {
            object @ serde_json::Value::Object(_) => Ok(object),
            _ => Err(arg_error(
                n,
                function,
                "expects message content to be a valid JSON object",
            )),
        },
        _ => Err(arg_error(n, function, "table expected")),
    }
}

fn sender_arg(
    sender_id: Option<String>,
    username: Option<String>,
    n: usize,
    function: &str,
) -> mlua::Result<ChannelSender> {
    let user_id = sender_id.unwrap_or_default();
    if !user_id.is_empty() && uuid::Uuid::parse_str(&user_id).is_err() {
        return Err(arg_error(
            n,
            function,
            "expects sender id to either be not set, empty string or a valid UUID",
        ));
    }
    Ok(ChannelSender {
        user_id,
        username: username.unwrap_or_default(),
    })
}

fn message_id_arg(message_id: &str, function: &str) -> mlua::Result<()> {
    uuid::Uuid::parse_str(message_id)
        .map(|_| ())
        .map_err(|_| arg_error(2, function, "Invalid message identifier"))
}

fn send_failed(error: &tavern_runtime::RuntimeError) -> mlua::Error {
    if error.message == "invalid channel id" {
        mlua::Error::runtime(error.message.clone())
    } else {
        mlua::Error::runtime(format!("failed to send channel message: {}", error.message))
    }
}

/// An acknowledgement as Nakama's Lua shapes it (camelCase keys, times in seconds).
fn ack_table(lua: &Lua, ack: &ChannelMessageAck) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 7)?;
    t.raw_set("channelId", ack.channel_id.as_str())?;
    t.raw_set("messageId", ack.message_id.as_str())?;
    t.raw_set("code", ack.code.unwrap_or_default())?;
    t.raw_set("username", ack.username.as_str())?;
    t.raw_set("createTime", ack.create_time.map_or(0, |t| t.seconds))?;
    t.raw_set("updateTime", ack.update_time.map_or(0, |t| t.seconds))?;
    t.raw_set("persistent", ack.persistent.unwrap_or_default())?;
    Ok(t)
}
