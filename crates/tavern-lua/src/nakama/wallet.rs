//! The `nakama` functions for wallets: `wallet_update`, `wallets_update`,
//! `wallet_ledger_update`, `wallet_ledger_list`, and `multi_update` (accounts, storage and
//! wallets in one transaction), with Nakama's argument checks, messages and table shapes.

use mlua::{Lua, Table, Value};
use tavern_runtime::{
    AccountUpdate, Balances, Metadata, WalletLedgerItem, WalletUpdate, WalletUpdateResult, api,
};

use super::storage::{arg_error, entries, whole, writes};
use super::{nk_of, to_lua, wait};
use crate::convert::to_json;

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "wallet_update",
        lua.create_function(
            |lua, (user_id, changeset, metadata, update_ledger): (Value, Value, Value, Option<bool>)| {
                const F: &str = "wallet_update";
                let user_id = match user_id {
                    Value::String(s) if uuid::Uuid::parse_str(&s.to_string_lossy()).is_ok() => {
                        s.to_string_lossy()
                    }
                    _ => return Err(arg_error(1, F, "expects a valid user id")),
                };
                let Value::Table(changeset) = changeset else {
                    return Err(arg_error(2, F, &format!("table expected, got {}", type_name(&changeset))));
                };
                let changeset = balances(&changeset)
                    .map_err(|_| arg_error(2, F, "expects changeset values to be whole numbers"))?;
                let metadata = match metadata {
                    Value::Nil => Metadata::new(),
                    Value::Table(t) => object(&t).map_err(|e| arg_error(3, F, &e))?,
                    other => {
                        return Err(arg_error(3, F, &format!("table expected, got {}", type_name(&other))));
                    }
                };
                let update = WalletUpdate {
                    user_id,
                    changeset,
                    metadata,
                };
                let mut results = wait(
                    nk_of(lua)?.wallets_update(&[update], update_ledger.unwrap_or(false)),
                )?
                .map_err(|e| {
                    mlua::Error::runtime(format!("failed to update user wallet: {}", e.message))
                })?;
                let Some(result) = results.pop() else {
                    return Err(mlua::Error::runtime("user not found"));
                };
                Ok((
                    balances_table(lua, &result.updated)?,
                    balances_table(lua, &result.previous)?,
                ))
            },
        )?,
    )?;
    nk.set(
        "wallets_update",
        lua.create_function(|lua, (updates, update_ledger): (Value, Option<bool>)| {
            let updates = wallet_updates(&updates, 1, "wallets_update")?;
            if updates.is_empty() {
                return Ok(Value::Nil);
            }
            let results =
                wait(nk_of(lua)?.wallets_update(&updates, update_ledger.unwrap_or(false)))?
                    .map_err(|e| {
                        mlua::Error::runtime(format!("failed to update user wallet: {}", e.message))
                    })?;
            Ok(Value::Table(results_table(lua, &results)?))
        })?,
    )?;
    nk.set(
        "wallet_ledger_update",
        lua.create_function(|lua, (id, metadata): (Value, Value)| {
            const F: &str = "wallet_ledger_update";
            let id = match id {
                Value::String(s) if uuid::Uuid::parse_str(&s.to_string_lossy()).is_ok() => {
                    s.to_string_lossy()
                }
                _ => return Err(arg_error(1, F, "expects a valid id")),
            };
            let Value::Table(metadata) = metadata else {
                return Err(arg_error(
                    2,
                    F,
                    &format!("table expected, got {}", type_name(&metadata)),
                ));
            };
            let metadata = object(&metadata).map_err(|e| arg_error(2, F, &e))?;
            let item = wait(nk_of(lua)?.wallet_ledger_update(&id, metadata))?.map_err(|e| {
                mlua::Error::runtime(format!(
                    "failed to update user wallet ledger: {}",
                    e.message
                ))
            })?;
            ledger_item_table(lua, &item)
        })?,
    )?;
    nk.set(
        "wallet_ledger_list",
        lua.create_function(
            |lua, (user_id, limit, cursor): (Value, Value, Option<String>)| {
                const F: &str = "wallet_ledger_list";
                let user_id = match user_id {
                    Value::String(s) if uuid::Uuid::parse_str(&s.to_string_lossy()).is_ok() => {
                        s.to_string_lossy()
                    }
                    _ => return Err(arg_error(1, F, "expects a valid user id")),
                };
                let limit = match &limit {
                    Value::Nil => 100,
                    other => match whole(other) {
                        Some(n) if (0..=100).contains(&n) => n as usize,
                        _ => return Err(arg_error(2, F, "expects limit to be 0-100")),
                    },
                };
                let list = wait(nk_of(lua)?.wallet_ledger_list(
                    &user_id,
                    limit,
                    &cursor.unwrap_or_default(),
                ))?
                .map_err(|e| {
                    mlua::Error::runtime(format!(
                        "failed to retrieve user wallet ledger: {}",
                        e.message
                    ))
                })?;
                let items = lua.create_table_with_capacity(list.items.len(), 0)?;
                for item in &list.items {
                    items.raw_push(ledger_item_table(lua, item)?)?;
                }
                Ok((items, list.cursor))
            },
        )?,
    )?;
    nk.set(
        "multi_update",
        lua.create_function(
            |lua, (accounts, storage, wallets, update_ledger): (Value, Value, Value, Option<bool>)| {
                const F: &str = "multi_update";
                let accounts = match accounts {
                    Value::Nil => Vec::new(),
                    accounts => account_updates(&accounts)?,
                };
                let storage = match storage {
                    Value::Nil => Vec::new(),
                    storage => writes(&storage, 2, F, "expects a valid set of storage data")?,
                };
                let wallets = match wallets {
                    Value::Nil => Vec::new(),
                    wallets => wallet_updates(&wallets, 3, F)?,
                };
                let done = wait(nk_of(lua)?.multi_update(
                    &accounts,
                    &storage,
                    &wallets,
                    update_ledger.unwrap_or(false),
                ))?
                .map_err(|e| {
                    mlua::Error::runtime(format!("error running multi update: {}", e.message))
                })?;
                let acks = if done.storage_acks.is_empty() {
                    Value::Nil
                } else {
                    let list = lua.create_table_with_capacity(done.storage_acks.len(), 0)?;
                    for ack in &done.storage_acks {
                        let t = lua.create_table_with_capacity(0, 4)?;
                        t.raw_set("key", ack.key.as_str())?;
                        t.raw_set("collection", ack.collection.as_str())?;
                        if !ack.user_id.is_empty() {
                            t.raw_set("user_id", ack.user_id.as_str())?;
                        }
                        t.raw_set("version", ack.version.as_str())?;
                        list.raw_push(t)?;
                    }
                    Value::Table(list)
                };
                let results = if done.wallet_updates.is_empty() {
                    Value::Nil
                } else {
                    Value::Table(results_table(lua, &done.wallet_updates)?)
                };
                Ok((acks, results))
            },
        )?,
    )?;
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        other => other.type_name(),
    }
}

/// A changeset table: whole numbers by name.
fn balances(t: &Table) -> Result<Balances, ()> {
    let mut map = Balances::new();
    for pair in t.pairs::<Value, Value>() {
        let (key, value) = pair.map_err(|_| ())?;
        let key = match key {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(n) => n.to_string(),
            Value::Number(n) => match whole(&Value::Number(n)) {
                Some(n) => n.to_string(),
                None => n.to_string(),
            },
            _ => return Err(()),
        };
        map.insert(key, whole(&value).ok_or(())?);
    }
    Ok(map)
}

/// A metadata table as a JSON object (an empty table is `{}`).
fn object(t: &Table) -> Result<Metadata, String> {
    match to_json(&Value::Table(t.clone()))
        .map_err(|e| format!("failed to convert metadata: {e}"))?
    {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err("failed to convert metadata: expects a table of keys".to_owned()),
    }
}

/// The wallet updates of a `wallets_update` or `multi_update` argument.
fn wallet_updates(arg: &Value, n: usize, function: &str) -> mlua::Result<Vec<WalletUpdate>> {
    let mut list = Vec::new();
    for t in entries(arg, n, function, "expects a valid set of updates")? {
        let user_id = match t.raw_get::<Value>("user_id")? {
            Value::String(s) => {
                let s = s.to_string_lossy();
                if uuid::Uuid::parse_str(&s).is_err() {
                    return Err(arg_error(n, function, "expects user_id to be a valid ID"));
                }
                s
            }
            Value::Nil => String::new(),
            _ => return Err(arg_error(n, function, "expects user_id to be string")),
        };
        let changeset = match t.raw_get::<Value>("changeset")? {
            Value::Table(c) => balances(&c).map_err(|_| {
                arg_error(n, function, "expects changeset values to be whole numbers")
            })?,
            Value::Nil => return Err(arg_error(n, function, "expects changeset to be supplied")),
            _ => return Err(arg_error(n, function, "expects changeset to be table")),
        };
        let metadata = match t.raw_get::<Value>("metadata")? {
            Value::Table(m) => object(&m).map_err(|e| arg_error(n, function, &e))?,
            Value::Nil => Metadata::new(),
            _ => return Err(arg_error(n, function, "expects metadata to be table")),
        };
        list.push(WalletUpdate {
            user_id,
            changeset,
            metadata,
        });
    }
    Ok(list)
}

/// The account updates of a `multi_update` argument, with Nakama's Lua rules: an empty
/// username leaves it alone, other empty strings clear their field.
fn account_updates(arg: &Value) -> mlua::Result<Vec<AccountUpdate>> {
    const F: &str = "multi_update";
    let mut list = Vec::new();
    for t in entries(arg, 1, F, "expects a valid set of account update data")? {
        let text = |name: &str, what: &str| -> mlua::Result<Option<String>> {
            match t.raw_get::<Value>(name)? {
                Value::Nil => Ok(None),
                Value::String(s) => Ok(Some(s.to_string_lossy())),
                _ => Err(arg_error(1, F, &format!("expects {what} to be string"))),
            }
        };
        let user_id = text("user_id", "user_id")?.unwrap_or_default();
        if user_id.is_empty() {
            return Err(arg_error(1, F, "expects a valid user ID"));
        }
        if uuid::Uuid::parse_str(&user_id).is_err() {
            return Err(arg_error(1, F, "expects user_id to be a valid ID"));
        }
        let metadata = match t.raw_get::<Value>("metadata")? {
            Value::Table(m) => Some(object(&m).map_err(|e| arg_error(1, F, &e))?),
            Value::Nil => None,
            _ => return Err(arg_error(1, F, "expects metadata to be table")),
        };
        list.push(AccountUpdate {
            user_id,
            profile: api::UpdateAccountRequest {
                username: text("username", "username")?.filter(|u| !u.is_empty()),
                display_name: text("display_name", "display name")?,
                timezone: text("timezone", "timezone")?,
                location: text("location", "location")?,
                lang_tag: text("lang_tag", "lang tag")?,
                avatar_url: text("avatar_url", "avatar url")?,
            },
            metadata,
        });
    }
    Ok(list)
}

fn balances_table(lua: &Lua, balances: &Balances) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, balances.len())?;
    for (name, amount) in balances {
        t.raw_set(name.as_str(), *amount as f64)?;
    }
    Ok(t)
}

fn results_table(lua: &Lua, results: &[WalletUpdateResult]) -> mlua::Result<Table> {
    let list = lua.create_table_with_capacity(results.len(), 0)?;
    for result in results {
        let t = lua.create_table_with_capacity(0, 3)?;
        t.raw_set("user_id", result.user_id.as_str())?;
        t.raw_set("previous", balances_table(lua, &result.previous)?)?;
        t.raw_set("updated", balances_table(lua, &result.updated)?)?;
        list.raw_push(t)?;
    }
    Ok(list)
}

fn ledger_item_table(lua: &Lua, item: &WalletLedgerItem) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 6)?;
    t.raw_set("id", item.id.as_str())?;
    t.raw_set("user_id", item.user_id.as_str())?;
    t.raw_set("create_time", item.create_time)?;
    t.raw_set("update_time", item.update_time)?;
    t.raw_set("changeset", balances_table(lua, &item.changeset)?)?;
    t.raw_set(
        "metadata",
        to_lua(lua, &serde_json::Value::Object(item.metadata.clone()))?,
    )?;
    Ok(t)
}
