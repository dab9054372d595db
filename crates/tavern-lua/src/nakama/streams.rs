//! The `nakama` functions for streams: `stream_user_list`, `stream_user_get`,
//! `stream_user_join`, `stream_user_update`, `stream_user_leave`, `stream_user_kick`,
//! `stream_count`, `stream_close`, `stream_send` and `stream_send_raw`, with Nakama's argument
//! orders, defaults and messages. A stream is a table `{mode, subject, subcontext, label}`.

use mlua::{Lua, Table, Value};
use tavern_runtime::{Presence, PresenceMeta, StreamId, realtime};

use super::nk_of;
use super::storage::arg_error;
use crate::convert::to_json;

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "stream_user_list",
        lua.create_function(
            |lua, (stream, hidden, not_hidden): (Value, Option<bool>, Option<bool>)| {
                const F: &str = "stream_user_list";
                let stream = stream_arg(&stream, 1, 1, F)?;
                let presences = nk_of(lua)?
                    .stream_user_list(&stream, hidden.unwrap_or(true), not_hidden.unwrap_or(true))
                    .map_err(|e| mlua::Error::runtime(e.message))?;
                let list = lua.create_table_with_capacity(presences.len(), 0)?;
                for p in presences {
                    let entry = lua.create_table_with_capacity(0, 7)?;
                    entry.raw_set("user_id", p.presence.user_id)?;
                    entry.raw_set("session_id", p.presence.session_id)?;
                    entry.raw_set("node", p.presence.node)?;
                    set_meta(&entry, p.meta)?;
                    list.raw_push(entry)?;
                }
                Ok(list)
            },
        )?,
    )?;
    nk.set(
        "stream_user_get",
        lua.create_function(
            |lua, (user_id, session_id, stream): (Value, Value, Value)| {
                const F: &str = "stream_user_get";
                let (user_id, session_id) = ids(&user_id, &session_id, F)?;
                let stream = stream_arg(&stream, 3, 3, F)?;
                let meta = nk_of(lua)?
                    .stream_user_get(&stream, &user_id, &session_id)
                    .map_err(|e| mlua::Error::runtime(e.message))?;
                match meta {
                    None => Ok(Value::Nil),
                    Some(meta) => {
                        let table = lua.create_table_with_capacity(0, 4)?;
                        set_meta(&table, meta)?;
                        Ok(Value::Table(table))
                    }
                }
            },
        )?,
    )?;
    for (name, update) in [("stream_user_join", false), ("stream_user_update", true)] {
        nk.set(
            name,
            lua.create_function(move |lua, args: TrackArgs| {
                let (user_id, session_id, stream, hidden, persistence, status) = args;
                let (user_id, session_id) = ids(&user_id, &session_id, name)?;
                let stream = stream_arg(&stream, 3, 3, name)?;
                let nk = nk_of(lua)?;
                let (hidden, persistence) = (hidden.unwrap_or(false), persistence.unwrap_or(true));
                let status = status.unwrap_or_default();
                let result = if update {
                    nk.stream_user_update(
                        &stream,
                        &user_id,
                        &session_id,
                        hidden,
                        persistence,
                        &status,
                    )
                    .map(|()| false)
                } else {
                    nk.stream_user_join(
                        &stream,
                        &user_id,
                        &session_id,
                        hidden,
                        persistence,
                        &status,
                    )
                };
                match result {
                    Ok(joined) if !update => Ok(Value::Boolean(joined)),
                    Ok(_) => Ok(Value::Nil),
                    Err(e) if e.code == tavern_runtime::Code::NotFound => {
                        Err(arg_error(2, name, "session id does not exist"))
                    }
                    Err(e) => {
                        let what = if update { "update" } else { "join" };
                        Err(mlua::Error::runtime(format!(
                            "stream user {what} failed: {}",
                            e.message
                        )))
                    }
                }
            })?,
        )?;
    }
    nk.set(
        "stream_user_leave",
        lua.create_function(
            |lua, (user_id, session_id, stream): (Value, Value, Value)| {
                const F: &str = "stream_user_leave";
                let (user_id, session_id) = ids(&user_id, &session_id, F)?;
                let stream = stream_arg(&stream, 3, 3, F)?;
                nk_of(lua)?
                    .stream_user_leave(&stream, &user_id, &session_id)
                    .map_err(|e| {
                        mlua::Error::runtime(format!("stream user leave failed: {}", e.message))
                    })
            },
        )?,
    )?;
    nk.set(
        "stream_user_kick",
        lua.create_function(|lua, (presence, stream): (Value, Value)| {
            const F: &str = "stream_user_kick";
            let Value::Table(presence) = presence else {
                return Err(arg_error(1, F, "expects a valid presence"));
            };
            let field = |name: &str, message: &str| -> mlua::Result<String> {
                match presence.raw_get::<Value>(name)? {
                    Value::String(s) => Ok(s.to_string_lossy()),
                    Value::Nil => Ok(String::new()),
                    _ => Err(arg_error(1, F, message)),
                }
            };
            let user_id = field("user_id", "expects each presence to have a valid user_id")?;
            let session_id = field(
                "session_id",
                "expects each presence to have a valid session_id",
            )?;
            let node = field("node", "expects node to be string")?;
            if user_id.is_empty() || session_id.is_empty() || node.is_empty() {
                return Err(arg_error(
                    1,
                    F,
                    "expects each presence to have a valid user_id, session_id, and node",
                ));
            }
            let stream = stream_arg(&stream, 2, 2, F)?;
            let presence = Presence {
                user_id,
                session_id,
                username: String::new(),
                node,
            };
            nk_of(lua)?
                .stream_user_kick(&stream, &presence)
                .map_err(|e| {
                    mlua::Error::runtime(format!("stream user kick failed: {}", e.message))
                })
        })?,
    )?;
    nk.set(
        "stream_count",
        lua.create_function(|lua, stream: Value| {
            let stream = stream_arg(&stream, 1, 3, "stream_count")?;
            nk_of(lua)?
                .stream_count(&stream)
                .map_err(|e| mlua::Error::runtime(e.message))
        })?,
    )?;
    nk.set(
        "stream_close",
        lua.create_function(|lua, stream: Value| {
            let stream = stream_arg(&stream, 1, 3, "stream_close")?;
            nk_of(lua)?
                .stream_close(&stream)
                .map_err(|e| mlua::Error::runtime(e.message))
        })?,
    )?;
    nk.set(
        "stream_send",
        lua.create_function(
            |lua, (stream, data, presences, reliable): (Value, Value, Value, Option<bool>)| {
                const F: &str = "stream_send";
                let stream = stream_arg(&stream, 1, 3, F)?;
                let Value::String(data) = data else {
                    return Err(arg_error(2, F, "string expected"));
                };
                let presences = presences_arg(&presences, F)?;
                nk_of(lua)?
                    .stream_send(
                        &stream,
                        &data.to_string_lossy(),
                        &presences,
                        reliable.unwrap_or(true),
                    )
                    .map_err(|e| mlua::Error::runtime(e.message))
            },
        )?,
    )?;
    nk.set(
        "stream_send_raw",
        lua.create_function(
            |lua, (stream, envelope, presences, _reliable): (Value, Value, Value, Option<bool>)| {
                const F: &str = "stream_send_raw";
                let stream = stream_arg(&stream, 1, 3, F)?;
                let Value::Table(_) = envelope else {
                    return Err(arg_error(2, F, "table expected"));
                };
                let json = to_json(&envelope)
                    .map_err(|e| arg_error(2, F, &format!("failed to convert envelope: {e}")))?;
                let envelope: realtime::Envelope = serde_json::from_value(json)
                    .map_err(|e| arg_error(2, F, &format!("not a valid envelope: {e}")))?;
                let presences = presences_arg(&presences, F)?;
                nk_of(lua)?
                    .stream_send_raw(&stream, envelope, &presences)
                    .map_err(|e| mlua::Error::runtime(e.message))
            },
        )?,
    )?;
    Ok(())
}

/// `stream_user_join` and `stream_user_update`'s arguments: user id, session id, stream,
/// hidden, persistence, status.
type TrackArgs = (
    Value,
    Value,
    Value,
    Option<bool>,
    Option<bool>,
    Option<String>,
);

/// A user id and a session id argument (1 and 2), both UUIDs.
fn ids(user_id: &Value, session_id: &Value, function: &str) -> mlua::Result<(String, String)> {
    let check = |value: &Value, n: usize, what: &str| -> mlua::Result<String> {
        let Value::String(s) = value else {
            return Err(arg_error(n, function, "string expected"));
        };
        let s = s.to_string_lossy();
        if s.is_empty() {
            return Err(arg_error(n, function, &format!("expects {what} id")));
        }
        if uuid::Uuid::parse_str(&s).is_err() {
            return Err(arg_error(n, function, &format!("expects valid {what} id")));
        }
        Ok(s)
    };
    Ok((check(user_id, 1, "user")?, check(session_id, 2, "session")?))
}

/// A stream table at argument `n`; its field errors name argument `field_n` (Nakama names
/// argument 3 in several functions whose stream is argument 1).
fn stream_arg(value: &Value, n: usize, field_n: usize, function: &str) -> mlua::Result<StreamId> {
    let Value::Table(table) = value else {
        return Err(arg_error(n, function, "expects a valid stream"));
    };
    let mut stream = StreamId::default();
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair?;
        let Value::String(key) = key else {
            continue;
        };
        let error = |message: &str| Err(arg_error(field_n, function, message));
        match (&*key.to_string_lossy(), value) {
            ("mode", Value::Integer(n)) => stream.mode = n as u8,
            ("mode", Value::Number(n)) => stream.mode = n as u8,
            ("mode", _) => return error("stream mode must be a number"),
            (name @ ("subject" | "subcontext"), Value::String(s)) => {
                let s = s.to_string_lossy();
                if uuid::Uuid::parse_str(&s).is_err() {
                    return error(&format!("stream {name} must be a valid identifier"));
                }
                if name == "subject" {
                    stream.subject = s;
                } else {
                    stream.subcontext = s;
                }
            }
            (name @ ("subject" | "subcontext"), _) => {
                return error(&format!("stream {name} must be a string"));
            }
            ("label", Value::String(s)) => stream.label = s.to_string_lossy(),
            ("label", _) => return error("stream label must be a string"),
            _ => {}
        }
    }
    Ok(stream)
}

/// The presences to send to (argument 3): `nil` or a table of presence tables, of which only
/// the session id counts.
fn presences_arg(value: &Value, function: &str) -> mlua::Result<Vec<Presence>> {
    let table = match value {
        Value::Nil => return Ok(Vec::new()),
        Value::Table(t) => t,
        _ => return Err(arg_error(3, function, "table expected")),
    };
    let mut presences = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        let Value::Table(entry) = pair?.1 else {
            return Err(arg_error(3, function, "expects a valid set of presences"));
        };
        let session_id = match entry.raw_get::<Value>("session_id")? {
            Value::String(s) => s.to_string_lossy(),
            Value::Nil => String::new(),
            _ => {
                return Err(arg_error(
                    3,
                    function,
                    "presence session id must be a string",
                ));
            }
        };
        if uuid::Uuid::parse_str(&session_id).is_err() {
            return Err(arg_error(
                3,
                function,
                "presence session id must be a valid identifier",
            ));
        }
        presences.push(Presence {
            user_id: String::new(),
            session_id,
            username: String::new(),
            node: String::new(),
        });
    }
    Ok(presences)
}

fn set_meta(table: &Table, meta: PresenceMeta) -> mlua::Result<()> {
    table.raw_set("hidden", meta.hidden)?;
    table.raw_set("persistence", meta.persistence)?;
    table.raw_set("username", meta.username)?;
    table.raw_set("status", meta.status)?;
    Ok(())
}
