//! The `nakama` functions for tournaments: `tournament_create`, `tournament_delete`,
//! `tournament_add_attempt`, `tournament_join`, `tournament_list`, `tournaments_get_id`,
//! `tournament_records_list`, `tournament_record_write` and `tournament_records_haystack`,
//! with Nakama's argument checks and table shapes.

use mlua::{Lua, Table, Value};
use tavern_runtime::{TournamentCreate, TournamentListFilter};

use super::leaderboards::{
    id_arg, id_list, opt_bool, opt_int, opt_object, opt_string, owner_list, record_table,
    record_write, records_values, tournament_table, uuid_arg,
};
use super::storage::arg_error;
use super::{block, nk_of};

/// Adds this domain's functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "tournament_create",
        lua.create_function(|lua, args: mlua::Variadic<Value>| {
            const F: &str = "tournament_create";
            let arg = |n: usize| args.get(n - 1).cloned().unwrap_or(Value::Nil);
            let create = TournamentCreate {
                id: id_arg(&arg(1), 1, F, "expects a tournament ID string")?,
                authoritative: opt_bool(&arg(2), true),
                sort_order: opt_string(&arg(3), 3, F, "desc")?,
                operator: opt_string(&arg(4), 4, F, "best")?,
                duration: opt_int(&arg(5), 5, F, 0)?,
                reset_schedule: opt_string(&arg(6), 6, F, "")?,
                metadata: opt_object(&arg(7), 7, F)?.unwrap_or(serde_json::Value::Null),
                title: opt_string(&arg(8), 8, F, "")?,
                description: opt_string(&arg(9), 9, F, "")?,
                category: opt_int(&arg(10), 10, F, 0)?,
                start_time: opt_int(&arg(11), 11, F, 0)?,
                end_time: opt_int(&arg(12), 12, F, 0)?,
                max_size: opt_int(&arg(13), 13, F, 0)?,
                max_num_score: opt_int(&arg(14), 14, F, 0)?,
                join_required: opt_bool(&arg(15), false),
            };
            if create.duration <= 0 {
                return Err(arg_error(5, F, "duration must be > 0"));
            }
            block(nk_of(lua)?.tournament_create(create))
        })?,
    )?;
    nk.set(
        "tournament_delete",
        lua.create_function(|lua, id: Value| {
            let id = id_arg(
                &id,
                1,
                "tournament_delete",
                "expects a tournament ID string",
            )?;
            block(nk_of(lua)?.tournament_delete(&id))
        })?,
    )?;
    nk.set(
        "tournament_add_attempt",
        lua.create_function(|lua, (id, owner, count): (Value, Value, Value)| {
            const F: &str = "tournament_add_attempt";
            let id = id_arg(&id, 1, F, "expects a tournament ID string")?;
            let owner = uuid_arg(&owner, 2, F, "expects owner ID to be a valid identifier")?;
            let count = opt_int(&count, 3, F, 0)?;
            if count == 0 {
                return Err(arg_error(3, F, "expects an attempt count number != 0"));
            }
            block(nk_of(lua)?.tournament_add_attempt(&id, &owner, count))
        })?,
    )?;
    nk.set(
        "tournament_join",
        lua.create_function(|lua, (id, user, username): (Value, Value, Value)| {
            const F: &str = "tournament_join";
            let id = id_arg(&id, 1, F, "expects a tournament ID string")?;
            let user = uuid_arg(&user, 2, F, "expects user ID to be a valid identifier")?;
            let username = id_arg(&username, 3, F, "expects a username string")?;
            block(nk_of(lua)?.tournament_join(&id, &user, &username))
        })?,
    )?;
    nk.set(
        "tournaments_get_id",
        lua.create_function(|lua, ids: Value| {
            let ids = id_list(&ids, "tournaments_get_id")?;
            let list = if ids.is_empty() {
                Vec::new()
            } else {
                block(nk_of(lua)?.tournaments_get_id(&ids))?
            };
            let table = lua.create_table_with_capacity(list.len(), 0)?;
            for (i, t) in list.iter().enumerate() {
                table.raw_set(i + 1, tournament_table(lua, t)?)?;
            }
            Ok(table)
        })?,
    )?;
    nk.set(
        "tournament_list",
        lua.create_function(|lua, args: mlua::Variadic<Value>| {
            const F: &str = "tournament_list";
            let arg = |n: usize| args.get(n - 1).cloned().unwrap_or(Value::Nil);
            let category_start = opt_int(&arg(1), 1, F, 0)?;
            let category_end = opt_int(&arg(2), 2, F, 0)?;
            let start_time = opt_int(&arg(3), 3, F, -1)?;
            let end_time = opt_int(&arg(4), 4, F, -1)?;
            if arg(3) != Value::Nil && start_time < 0 {
                return Err(arg_error(3, F, "startTime must be >= 0"));
            }
            if arg(4) != Value::Nil && end_time < 0 {
                return Err(arg_error(4, F, "endTime must be >= 0"));
            }
            if start_time > end_time {
                return Err(arg_error(4, F, "endTime must be >= startTime"));
            }
            let filter = TournamentListFilter {
                category_start,
                category_end,
                start_time: start_time.max(0),
                end_time,
                limit: opt_int(&arg(5), 5, F, 10)?,
                cursor: opt_string(&arg(6), 6, F, "")?,
            };
            let list = block(nk_of(lua)?.tournament_list(filter))?;
            let table = lua.create_table_with_capacity(list.tournaments.len(), 0)?;
            for (i, t) in list.tournaments.iter().enumerate() {
                table.raw_set(i + 1, tournament_table(lua, t)?)?;
            }
            let cursor = if list.cursor.is_empty() {
                Value::Nil
            } else {
                Value::String(lua.create_string(&list.cursor)?)
            };
            Ok((table, cursor))
        })?,
    )?;
    nk.set(
        "tournament_records_list",
        lua.create_function(
            |lua, (id, owners, limit, cursor, expiry): (Value, Value, Value, Value, Value)| {
                const F: &str = "tournament_records_list";
                let id = id_arg(&id, 1, F, "expects a tournament ID string")?;
                let Some(owners) = owner_list(&owners, 2, F)? else {
                    return Ok(mlua::MultiValue::from_vec(vec![Value::Table(
                        lua.create_table()?,
                    )]));
                };
                let limit = opt_int(&limit, 3, F, 0)?;
                let cursor = opt_string(&cursor, 4, F, "")?;
                let expiry = opt_int(&expiry, 5, F, 0)?;
                let list = block(
                    nk_of(lua)?.tournament_records_list(&id, &owners, limit, &cursor, expiry),
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
        "tournament_record_write",
        lua.create_function(|lua, args: mlua::Variadic<Value>| {
            let write = record_write(
                &args,
                "tournament_record_write",
                "expects a tournament ID string",
                "expects user ID to be a valid identifier",
            )?;
            let record = block(nk_of(lua)?.tournament_record_write(write))?;
            record_table(lua, &record)
        })?,
    )?;
    nk.set(
        "tournament_records_haystack",
        lua.create_function(
            |lua, (id, owner, limit, cursor, expiry): (Value, Value, Value, Value, Value)| {
                const F: &str = "tournament_records_haystack";
                let id = id_arg(&id, 1, F, "expects a tournament ID string")?;
                let owner = uuid_arg(&owner, 2, F, "expects user ID to be a valid identifier")?;
                let limit = opt_int(&limit, 3, F, 10)?;
                let cursor = opt_string(&cursor, 4, F, "")?;
                let expiry = opt_int(&expiry, 5, F, 0)?;
                let list = block(
                    nk_of(lua)?.tournament_records_haystack(&id, &owner, limit, &cursor, expiry),
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
