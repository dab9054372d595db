//! The `nakama` module (`local nk = require("nakama")`): the server functions Nakama gives
//! Lua code, under Nakama's names and argument orders. This file holds the core (logging,
//! JSON, encodings, registrations, accounts, matches, HTTP, fleet); each social domain has a
//! file of its own that mirrors `tavern_runtime::Nk`'s domain file.

mod accounts;
mod channels;
mod crypto;
mod friends;
mod groups;
mod leaderboards;
mod node;
mod notifications;
mod parties;
mod storage;
mod streams;
mod tournaments;
mod wallet;

pub(crate) use leaderboards::{leaderboard_table, tournament_table};

use std::future::Future;
use std::sync::atomic::Ordering;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{KeyInit, Mac};
use mlua::{Function, Lua, Table, Value, Variadic};
use sha2::Digest;
use tavern_runtime::{MatchFilter, RuntimeError};

use crate::Key;
use crate::convert::{lua_to_serde, serde_to_lua, to_json, to_lua};
use crate::sandbox::{Role, VmData};

/// Builds the module table of one VM.
pub(crate) fn module(lua: &Lua) -> mlua::Result<Table> {
    let nk = lua.create_table()?;
    for (name, level) in [
        ("logger_debug", tracing::Level::DEBUG),
        ("logger_info", tracing::Level::INFO),
        ("logger_warn", tracing::Level::WARN),
        ("logger_error", tracing::Level::ERROR),
    ] {
        nk.set(
            name,
            lua.create_function(move |_, message: mlua::LuaString| {
                let message = message.to_string_lossy();
                match level {
                    tracing::Level::DEBUG => {
                        tracing::debug!(target: "tavern::runtime", module = "lua", "{message}")
                    }
                    tracing::Level::INFO => {
                        tracing::info!(target: "tavern::runtime", module = "lua", "{message}")
                    }
                    tracing::Level::WARN => {
                        tracing::warn!(target: "tavern::runtime", module = "lua", "{message}")
                    }
                    _ => tracing::error!(target: "tavern::runtime", module = "lua", "{message}"),
                }
                Ok(message)
            })?,
        )?;
    }
    nk.set(
        "json_encode",
        lua.create_function(|_, value: Value| {
            serde_json::to_string(&to_json(&value)?).map_err(mlua::Error::external)
        })?,
    )?;
    nk.set(
        "json_decode",
        lua.create_function(|lua, text: mlua::LuaString| {
            let json: serde_json::Value = serde_json::from_slice(&text.as_bytes())
                .map_err(|e| mlua::Error::runtime(format!("error decoding JSON: {e}")))?;
            to_lua(lua, &json)
        })?,
    )?;
    nk.set(
        "uuid_v4",
        lua.create_function(|_, ()| Ok(uuid::Uuid::new_v4().to_string()))?,
    )?;
    nk.set(
        "time",
        lua.create_function(|_, ()| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            Ok(now.as_millis() as f64)
        })?,
    )?;
    encoding(lua, &nk)?;
    registrations(lua, &nk)?;
    server(lua, &nk)?;
    outbound(lua, &nk)?;
    fleet(lua, &nk)?;
    crypto::register(lua, &nk)?;
    node::register(lua, &nk)?;
    storage::register(lua, &nk)?;
    wallet::register(lua, &nk)?;
    friends::register(lua, &nk)?;
    accounts::register(lua, &nk)?;
    groups::register(lua, &nk)?;
    channels::register(lua, &nk)?;
    notifications::register(lua, &nk)?;
    streams::register(lua, &nk)?;
    leaderboards::register(lua, &nk)?;
    tournaments::register(lua, &nk)?;
    parties::register(lua, &nk)?;
    Ok(nk)
}

fn encoding(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    let bytes = |s: &mlua::LuaString| s.as_bytes().to_vec();
    nk.set(
        "base64_encode",
        lua.create_function(move |_, (s, padding): (mlua::LuaString, Option<bool>)| {
            let encoded = STANDARD.encode(bytes(&s));
            Ok(if padding == Some(false) {
                encoded.trim_end_matches('=').to_owned()
            } else {
                encoded
            })
        })?,
    )?;
    nk.set(
        "base64_decode",
        lua.create_function(move |lua, s: mlua::LuaString| {
            let text = s.to_string_lossy();
            let padded = format!(
                "{}{}",
                text.trim_end_matches('='),
                "=".repeat((4 - text.trim_end_matches('=').len() % 4) % 4)
            );
            let decoded = STANDARD
                .decode(padded)
                .map_err(|e| mlua::Error::runtime(format!("Base64 decoding error: {e}")))?;
            lua.create_string(decoded)
        })?,
    )?;
    nk.set(
        "base64url_encode",
        lua.create_function(move |_, s: mlua::LuaString| Ok(URL_SAFE_NO_PAD.encode(bytes(&s))))?,
    )?;
    nk.set(
        "base64url_decode",
        lua.create_function(move |lua, s: mlua::LuaString| {
            let text = s.to_string_lossy();
            let decoded = URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|e| mlua::Error::runtime(format!("Base64URL decoding error: {e}")))?;
            lua.create_string(decoded)
        })?,
    )?;
    nk.set(
        "base16_encode",
        lua.create_function(move |_, s: mlua::LuaString| Ok(hex::encode(bytes(&s))))?,
    )?;
    nk.set(
        "base16_decode",
        lua.create_function(move |lua, s: mlua::LuaString| {
            let decoded = hex::decode(bytes(&s))
                .map_err(|e| mlua::Error::runtime(format!("Base16 decoding error: {e}")))?;
            lua.create_string(decoded)
        })?,
    )?;
    nk.set(
        "sha256_hash",
        lua.create_function(move |_, s: mlua::LuaString| {
            Ok(hex::encode(sha2::Sha256::digest(bytes(&s))))
        })?,
    )?;
    nk.set(
        "md5_hash",
        lua.create_function(move |_, s: mlua::LuaString| {
            Ok(hex::encode(md5::Md5::digest(bytes(&s))))
        })?,
    )?;
    nk.set(
        "hmac_sha256_hash",
        lua.create_function(
            move |lua, (input, key): (mlua::LuaString, mlua::LuaString)| {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&bytes(&key))
                    .map_err(|e| mlua::Error::runtime(format!("error creating hash: {e}")))?;
                mac.update(&bytes(&input));
                lua.create_string(mac.finalize().into_bytes())
            },
        )?,
    )?;
    Ok(())
}

/// Records a registration in this VM; the first VM also reports it to the server.
fn record(lua: &Lua, key: Key, f: Function) -> mlua::Result<()> {
    let callbacks: Table = lua.named_registry_value("tavern_callbacks")?;
    callbacks.set(key.slot(), f)?;
    let Some(data) = lua.app_data_ref::<VmData>() else {
        return Ok(());
    };
    if data.role == Role::Init {
        let mut registered = data
            .shared
            .registered
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !registered.contains(&key) {
            registered.push(key.clone());
        }
        if data.in_run_once.load(Ordering::Relaxed) {
            data.shared
                .first_only
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key);
        }
    }
    Ok(())
}

/// A hook name as Nakama takes it (`AuthenticateDevice`, `MatchDataSend`), lower-cased and
/// without any `/nakama.api.Nakama/` prefix.
fn hook_name(id: &str) -> mlua::Result<String> {
    let name = id.rsplit('/').next().unwrap_or(id).to_lowercase();
    if name.is_empty() {
        return Err(mlua::Error::runtime("expects method name"));
    }
    Ok(name)
}

fn registrations(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "register_rpc",
        lua.create_function(|lua, (f, id): (Function, String)| {
            if id.is_empty() {
                return Err(mlua::Error::runtime("expects rpc id"));
            }
            record(lua, Key::Rpc(id.to_lowercase()), f)
        })?,
    )?;
    nk.set(
        "register_req_before",
        lua.create_function(|lua, (f, id): (Function, String)| {
            record(lua, Key::Before(hook_name(&id)?), f)
        })?,
    )?;
    nk.set(
        "register_req_after",
        lua.create_function(|lua, (f, id): (Function, String)| {
            record(lua, Key::After(hook_name(&id)?), f)
        })?,
    )?;
    nk.set(
        "register_rt_before",
        lua.create_function(|lua, (f, id): (Function, String)| {
            record(lua, Key::RealtimeBefore(hook_name(&id)?), f)
        })?,
    )?;
    nk.set(
        "register_rt_after",
        lua.create_function(|lua, (f, id): (Function, String)| {
            record(lua, Key::RealtimeAfter(hook_name(&id)?), f)
        })?,
    )?;
    nk.set(
        "register_matchmaker_matched",
        lua.create_function(|lua, f: Function| record(lua, Key::Matchmaker, f))?,
    )?;
    nk.set(
        "register_leaderboard_reset",
        lua.create_function(|lua, f: Function| record(lua, Key::LeaderboardReset, f))?,
    )?;
    nk.set(
        "register_tournament_reset",
        lua.create_function(|lua, f: Function| record(lua, Key::TournamentReset, f))?,
    )?;
    nk.set(
        "register_tournament_end",
        lua.create_function(|lua, f: Function| record(lua, Key::TournamentEnd, f))?,
    )?;
    nk.set(
        "run_once",
        lua.create_function(|lua, f: Function| {
            let (first, env, node) = {
                let Some(data) = lua.app_data_ref::<VmData>() else {
                    return Ok(());
                };
                if data.role != Role::Init {
                    return Ok(());
                }
                let mut done = data
                    .shared
                    .once_done
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if *done {
                    return Ok(());
                }
                *done = true;
                data.in_run_once.store(true, Ordering::Relaxed);
                (true, data.shared.env.clone(), data.shared.node.clone())
            };
            let ctx = lua.create_table()?;
            let env_table = lua.create_table()?;
            for (k, v) in &env {
                env_table.set(k.as_str(), v.as_str())?;
            }
            ctx.set("env", env_table)?;
            ctx.set("execution_mode", "run_once")?;
            ctx.set("node", node)?;
            let result = f.call::<()>(ctx);
            if first && let Some(data) = lua.app_data_ref::<VmData>() {
                data.in_run_once.store(false, Ordering::Relaxed);
            }
            result.map_err(|e| {
                mlua::Error::runtime(format!(
                    "error in run_once function: {}",
                    crate::sandbox::describe(&e)
                ))
            })
        })?,
    )?;
    Ok(())
}

/// Waits for a server function. Lua runs on blocking threads or the Lua match threads, so
/// this never stalls an async worker.
fn block<T>(future: impl Future<Output = Result<T, RuntimeError>>) -> mlua::Result<T> {
    wait(future)?.map_err(|e| mlua::Error::runtime(e.message))
}

/// [`block`], keeping the server's error for the caller to look at.
fn wait<T>(
    future: impl Future<Output = Result<T, RuntimeError>>,
) -> mlua::Result<Result<T, RuntimeError>> {
    let handle = tokio::runtime::Handle::try_current()
        .map_err(|_| mlua::Error::runtime("the server is not running"))?;
    Ok(crate::threads::waiting_on_server(|| {
        handle.block_on(future)
    }))
}

fn nk_of(lua: &Lua) -> mlua::Result<tavern_runtime::Nk> {
    lua.app_data_ref::<VmData>()
        .map(|d| d.shared.nk.clone())
        .ok_or_else(|| mlua::Error::runtime("the server is not running"))
}

/// A user as Nakama's Lua runtime shapes it: `user_id`, the profile fields, the social ids that
/// are set, `online`, `edge_count`, times as unix seconds, and the metadata decoded.
fn user_value(lua: &Lua, user: &tavern_runtime::api::User) -> mlua::Result<Value> {
    let table = lua.create_table()?;
    set_user_fields(lua, &table, user)?;
    Ok(Value::Table(table))
}

fn set_user_fields(lua: &Lua, table: &Table, user: &tavern_runtime::api::User) -> mlua::Result<()> {
    table.raw_set("user_id", user.id.as_str())?;
    for (key, value) in [
        ("username", &user.username),
        ("display_name", &user.display_name),
        ("avatar_url", &user.avatar_url),
        ("lang_tag", &user.lang_tag),
        ("location", &user.location),
        ("timezone", &user.timezone),
    ] {
        table.raw_set(key, value.as_str())?;
    }
    for (key, value) in [
        ("apple_id", &user.apple_id),
        ("facebook_id", &user.facebook_id),
        ("facebook_instant_game_id", &user.facebook_instant_game_id),
        ("google_id", &user.google_id),
        ("gamecenter_id", &user.gamecenter_id),
        ("steam_id", &user.steam_id),
    ] {
        if !value.is_empty() {
            table.raw_set(key, value.as_str())?;
        }
    }
    table.raw_set("online", user.online)?;
    table.raw_set("edge_count", user.edge_count)?;
    table.raw_set(
        "create_time",
        user.create_time.as_ref().map_or(0, |t| t.seconds),
    )?;
    table.raw_set(
        "update_time",
        user.update_time.as_ref().map_or(0, |t| t.seconds),
    )?;
    table.raw_set("metadata", json_object(lua, &user.metadata)?)?;
    Ok(())
}

/// An account as Nakama's Lua runtime shapes it: the user's fields at the top and again under
/// `user`, the wallet decoded, and the email, devices, custom id and times when set.
fn account_value(lua: &Lua, account: &tavern_runtime::api::Account) -> mlua::Result<Value> {
    let table = lua.create_table()?;
    let user = account.user.clone().unwrap_or_default();
    set_user_fields(lua, &table, &user)?;
    table.raw_set("user", user_value(lua, &user)?)?;
    table.raw_set("wallet", json_object(lua, &account.wallet)?)?;
    if !account.email.is_empty() {
        table.raw_set("email", account.email.as_str())?;
    }
    if !account.devices.is_empty() {
        let devices = lua.create_table()?;
        for device in &account.devices {
            let entry = lua.create_table()?;
            entry.raw_set("id", device.id.as_str())?;
            devices.push(entry)?;
        }
        table.raw_set("devices", devices)?;
    }
    if !account.custom_id.is_empty() {
        table.raw_set("custom_id", account.custom_id.as_str())?;
    }
    if let Some(time) = &account.verify_time {
        table.raw_set("verify_time", time.seconds)?;
    }
    if let Some(time) = &account.disable_time {
        table.raw_set("disable_time", time.seconds)?;
    }
    Ok(Value::Table(table))
}

/// A JSON object stored as text (metadata, wallet), as a table; `{}` when empty or not an object.
fn json_object(lua: &Lua, text: &str) -> mlua::Result<Value> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Object(_)) => to_lua(lua, &value),
        _ => Ok(Value::Table(lua.create_table()?)),
    }
}

/// An optional string argument: `nil` or `""` leave the field as it is (as Nakama).
fn changed(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn strings(value: Value) -> mlua::Result<Vec<String>> {
    match value {
        Value::Table(t) => t.sequence_values::<String>().collect(),
        Value::String(s) => Ok(vec![s.to_string_lossy()]),
        Value::Nil => Ok(Vec::new()),
        _ => Err(mlua::Error::runtime("expects a table of strings")),
    }
}

/// `nk.account_update_id`'s arguments, in Nakama's order: user id, metadata, username, display
/// name, timezone, location, lang tag, avatar URL.
type AccountUpdateArgs = (
    String,
    Option<Table>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn server(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "account_get_id",
        lua.create_function(|lua, id: String| {
            let account = block(nk_of(lua)?.account_get_id(&id))?;
            account_value(lua, &account)
        })?,
    )?;
    nk.set(
        "accounts_get_id",
        lua.create_function(|lua, (ids, device_ids): (Value, Option<Table>)| {
            if device_ids.is_some_and(|t| t.raw_len() > 0) {
                return Err(mlua::Error::runtime(
                    "accounts_get_id: looking accounts up by device id is not supported yet",
                ));
            }
            let nk = nk_of(lua)?;
            let list = lua.create_table()?;
            for id in strings(ids)? {
                match wait(nk.account_get_id(&id))? {
                    Ok(account) => list.push(account_value(lua, &account)?)?,
                    // As Nakama: unknown ids are left out.
                    Err(e) if e.code == tavern_runtime::Code::NotFound => {}
                    Err(e) => return Err(mlua::Error::runtime(e.message)),
                }
            }
            Ok(list)
        })?,
    )?;
    nk.set(
        "account_update_id",
        lua.create_function(
            |lua,
             (id, metadata, username, display_name, timezone, location, lang_tag, avatar_url): AccountUpdateArgs| {
                let nk = nk_of(lua)?;
                let update = tavern_runtime::api::UpdateAccountRequest {
                    username: changed(username),
                    display_name: changed(display_name),
                    avatar_url: changed(avatar_url),
                    lang_tag: changed(lang_tag),
                    location: changed(location),
                    timezone: changed(timezone),
                };
                if let Some(metadata) = metadata {
                    let metadata = match to_json(&Value::Table(metadata))? {
                        // An empty table converts to an empty array; metadata is an object.
                        serde_json::Value::Array(a) if a.is_empty() => serde_json::json!({}),
                        other => other,
                    };
                    block(nk.account_metadata_update(&id, metadata))?;
                }
                if update != tavern_runtime::api::UpdateAccountRequest::default() {
                    block(nk.account_update_id(&id, update))?;
                }
                Ok(())
            },
        )?,
    )?;
    nk.set(
        "users_get_id",
        lua.create_function(|lua, ids: Value| {
            let users = block(nk_of(lua)?.users_get_id(&strings(ids)?))?;
            let list = lua.create_table()?;
            for user in &users {
                list.push(user_value(lua, user)?)?;
            }
            Ok(list)
        })?,
    )?;
    nk.set(
        "users_get_username",
        lua.create_function(|lua, names: Value| {
            let users = block(nk_of(lua)?.users_get_username(&strings(names)?))?;
            let list = lua.create_table()?;
            for user in &users {
                list.push(user_value(lua, user)?)?;
            }
            Ok(list)
        })?,
    )?;
    nk.set(
        "account_delete_id",
        lua.create_function(|lua, id: String| block(nk_of(lua)?.account_delete_id(&id)))?,
    )?;
    nk.set(
        "match_create",
        lua.create_function(|lua, (module, params): (String, Option<Value>)| {
            let params = to_json(&params.unwrap_or(Value::Nil))?;
            block(nk_of(lua)?.match_create(&module, params))
        })?,
    )?;
    nk.set(
        "match_get",
        lua.create_function(|lua, id: String| match block(nk_of(lua)?.match_get(&id))? {
            Some(m) => match_value(lua, &m),
            None => Ok(Value::Nil),
        })?,
    )?;
    nk.set(
        "match_list",
        lua.create_function(|lua, args: Variadic<Value>| {
            let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Nil);
            let int = |v: Value| -> Option<i32> {
                match v {
                    Value::Integer(n) => Some(n as i32),
                    Value::Number(n) => Some(n as i32),
                    _ => None,
                }
            };
            let text = |v: Value| -> Option<String> {
                match v {
                    Value::String(s) => Some(s.to_string_lossy()),
                    _ => None,
                }
            };
            let filter = MatchFilter {
                limit: int(arg(0)).unwrap_or(1),
                authoritative: match arg(1) {
                    Value::Boolean(b) => Some(b),
                    _ => None,
                },
                label: text(arg(2)),
                min_size: int(arg(3)),
                max_size: int(arg(4)),
                query: text(arg(5)),
            };
            let matches = block(nk_of(lua)?.match_list(filter))?;
            let list = lua.create_table()?;
            for m in &matches {
                list.push(match_value(lua, m)?)?;
            }
            Ok(list)
        })?,
    )?;
    nk.set(
        "match_signal",
        lua.create_function(|lua, (id, data): (String, Option<String>)| {
            block(nk_of(lua)?.match_signal(&id, &data.unwrap_or_default()))
        })?,
    )?;
    Ok(())
}

/// A match as Nakama's Lua sees it: `match_id`, `authoritative`, `label`, `size`,
/// `tick_rate`, `handler_name`.
fn match_value(lua: &Lua, m: &tavern_runtime::api::Match) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.set("match_id", m.match_id.as_str())?;
    t.set("authoritative", m.authoritative)?;
    t.set("label", m.label.clone().unwrap_or_default())?;
    t.set("size", m.size)?;
    t.set("tick_rate", m.tick_rate)?;
    t.set("handler_name", m.handler_name.as_str())?;
    Ok(Value::Table(t))
}

/// `nk.http_request(url, method, headers, content, timeout_ms)` -> `code, headers, body`, with
/// Nakama's checks: a non-empty URL, one of six methods (any case), string header values and a
/// 5000 ms limit when `timeout_ms` is missing or not positive. Failures are Lua errors.
fn outbound(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "http_request",
        lua.create_function(
            |lua,
             (url, method, headers, content, timeout_ms): (
                String,
                String,
                Option<Table>,
                Option<mlua::LuaString>,
                Option<i64>,
            )| {
                if url.is_empty() {
                    return Err(mlua::Error::runtime(
                        "bad argument #1 to http_request (expects URL string)",
                    ));
                }
                let method = method.to_ascii_uppercase();
                if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(&method.as_str()) {
                    return Err(mlua::Error::runtime(
                        "bad argument #2 to http_request (expects method to be one of: \
                         'get', 'post', 'put', 'patch', 'delete', 'head')",
                    ));
                }
                let mut request = tavern_runtime::HttpRequest::new(&method, &url);
                for pair in headers.iter().flat_map(|t| t.pairs::<Value, Value>()) {
                    let (name, value) = pair?;
                    let (Value::String(name), Value::String(value)) = (name, value) else {
                        return Err(mlua::Error::runtime("HTTP header values must be strings"));
                    };
                    request
                        .headers
                        .insert(name.to_string_lossy(), value.to_string_lossy());
                }
                request.body = content.map(|c| c.to_string_lossy()).unwrap_or_default();
                let timeout_ms = timeout_ms.filter(|&ms| ms > 0).unwrap_or(5000);
                request.timeout = std::time::Duration::from_millis(timeout_ms as u64);
                let nk = nk_of(lua)?;
                let response = block(async {
                    nk.http_request(request).await.map_err(|e| {
                        RuntimeError::new(format!("HTTP request error: {}", e.message), e.code)
                    })
                })?;
                let headers = lua.create_table()?;
                for (name, value) in &response.headers {
                    headers.set(name.as_str(), value.as_str())?;
                }
                Ok((response.status, headers, lua.create_string(&response.body)?))
            },
        )?,
    )
}

/// The fleet manager (Go-only in Nakama) as `nk.fleet_get/list/join/create`, with the JSON
/// names of the fleet types. Without a registered manager every call is a Lua error.
fn fleet(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    fn manager(lua: &Lua) -> mlua::Result<tavern_runtime::Fleet> {
        nk_of(lua)?
            .fleet()
            .map_err(|e| mlua::Error::runtime(e.message))
    }
    /// A list argument: `{}` (which converts as an object) and `nil` are empty.
    fn list<T: serde::de::DeserializeOwned>(value: Value) -> mlua::Result<Vec<T>> {
        match &value {
            Value::Nil => Ok(Vec::new()),
            Value::Table(t) if t.raw_len() == 0 => Ok(Vec::new()),
            _ => lua_to_serde(&value),
        }
    }
    nk.set(
        "fleet_get",
        lua.create_function(|lua, id: String| {
            let instance = block(manager(lua)?.get(&id))?;
            serde_to_lua(lua, &instance)
        })?,
    )?;
    nk.set(
        "fleet_list",
        lua.create_function(
            |lua, (query, limit, cursor): (Option<String>, Option<i32>, Option<String>)| {
                let page = block(manager(lua)?.list(
                    &query.unwrap_or_default(),
                    limit.unwrap_or(10),
                    &cursor.unwrap_or_default(),
                ))?;
                let instances = serde_to_lua(lua, &page.instances)?;
                let cursor = (!page.cursor.is_empty()).then_some(page.cursor);
                Ok((instances, cursor))
            },
        )?,
    )?;
    nk.set(
        "fleet_join",
        lua.create_function(
            |lua, (id, user_ids, metadata): (String, Value, Option<Table>)| {
                let mut meta = std::collections::HashMap::new();
                for pair in metadata.iter().flat_map(|t| t.pairs::<Value, Value>()) {
                    let (key, value) = pair?;
                    let (Value::String(key), Value::String(value)) = (key, value) else {
                        return Err(mlua::Error::runtime(
                            "fleet_join metadata keys and values must be strings",
                        ));
                    };
                    meta.insert(key.to_string_lossy(), value.to_string_lossy());
                }
                let join = block(manager(lua)?.join(&id, strings(user_ids)?, meta))?;
                serde_to_lua(lua, &join)
            },
        )?,
    )?;
    nk.set(
        "fleet_create",
        lua.create_function(
            |lua,
             (max_players, user_ids, latencies, metadata, callback): (
                i32,
                Value,
                Value,
                Option<Table>,
                Option<Function>,
            )| {
                if callback.is_some() {
                    return Err(mlua::Error::runtime(
                        "fleet_create does not take a callback in Lua; register the fleet \
                         manager's completion handling in Rust",
                    ));
                }
                let metadata = match metadata {
                    Some(t) if t.raw_len() > 0 => {
                        return Err(mlua::Error::runtime(
                            "fleet_create metadata must be a table of keys",
                        ));
                    }
                    Some(t) => lua_to_serde(&Value::Table(t))?,
                    None => tavern_runtime::fleet::Metadata::new(),
                };
                let request = tavern_runtime::fleet::CreateRequest {
                    max_players,
                    user_ids: strings(user_ids)?,
                    latencies: list(latencies)?,
                    metadata,
                };
                let noop = tavern_runtime::fleet::create_callback(|_| async {});
                let ids = block(manager(lua)?.create(request, noop))?;
                let t = lua.create_table()?;
                for (key, value) in ids {
                    t.set(key, value)?;
                }
                Ok(t)
            },
        )?,
    )
}
