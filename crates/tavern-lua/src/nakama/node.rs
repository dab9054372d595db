//! The `nakama` functions about this node: `get_context`, the local cache
//! (`localcache_get`/`put`/`delete`/`clear`), custom metrics (`metrics_counter_add`,
//! `metrics_gauge_set`, `metrics_timer_record`, also under Nakama 3.15's camel-case names),
//! `event` and `file_read` (confined to `runtime.path`).

use std::collections::HashMap;
use std::path::{Component, Path};
use std::time::{Duration, SystemTime};

use mlua::{Lua, LuaString, Table, Value};

use super::nk_of;
use super::storage::arg_error;
use crate::convert::{to_json, to_lua};
use crate::sandbox::VmData;

/// Adds these functions to the module table.
pub(super) fn register(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "get_context",
        lua.create_function(|lua, ()| {
            let data = lua
                .app_data_ref::<VmData>()
                .ok_or_else(|| mlua::Error::runtime("the server is not running"))?;
            let t = lua.create_table()?;
            let env = lua.create_table()?;
            for (k, v) in &data.shared.env {
                env.set(k.as_str(), v.as_str())?;
            }
            t.set("env", env)?;
            t.set("execution_mode", "run_once")?;
            t.set("node", data.shared.node.as_str())?;
            t.set("version", env!("CARGO_PKG_VERSION"))?;
            Ok(t)
        })?,
    )?;
    local_cache(lua, nk)?;
    metrics(lua, nk)?;
    nk.set(
        "event",
        lua.create_function(
            |lua, (name, properties, timestamp, external): (LuaString, Value, Value, Option<bool>)| {
                let name = name.to_string_lossy();
                if name.is_empty() {
                    return Err(arg_error(1, "event", "expects name string"));
                }
                let properties = string_map(&properties, 2, "event", "properties")?;
                let timestamp = match timestamp {
                    Value::Nil => None,
                    Value::Integer(s) => Some(SystemTime::UNIX_EPOCH + Duration::from_secs(s.max(0) as u64)),
                    Value::Number(s) => Some(
                        SystemTime::UNIX_EPOCH + Duration::from_secs(s.max(0.0) as u64),
                    ),
                    _ => {
                        return Err(arg_error(
                            3,
                            "event",
                            "timestamp must be numeric UTC seconds when provided",
                        ));
                    }
                };
                nk_of(lua)?.event(&name, properties, timestamp, external.unwrap_or(false));
                Ok(())
            },
        )?,
    )?;
    nk.set(
        "file_read",
        lua.create_function(|lua, path: LuaString| {
            let path = path.to_string_lossy();
            if path.is_empty() {
                return Err(arg_error(1, "file_read", "expects relative path string"));
            }
            let root = lua
                .app_data_ref::<VmData>()
                .map(|d| d.shared.root.clone())
                .ok_or_else(|| mlua::Error::runtime("the server is not running"))?;
            let content = read_confined(&root, &path)
                .map_err(|e| mlua::Error::runtime(format!("failed to open file: {e}")))?;
            lua.create_string(content)
        })?,
    )?;
    Ok(())
}

fn local_cache(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    nk.set(
        "localcache_get",
        lua.create_function(|lua, (key, default): (LuaString, Value)| {
            let key = cache_key(&key, "localcache_get")?;
            match nk_of(lua)?.localcache().get(&key) {
                Some(value) => to_lua(lua, &value),
                None => Ok(default),
            }
        })?,
    )?;
    nk.set(
        "localcache_put",
        lua.create_function(|lua, (key, value, ttl): (LuaString, Value, Option<i64>)| {
            let key = cache_key(&key, "localcache_put")?;
            if matches!(
                value,
                Value::Function(_) | Value::Thread(_) | Value::UserData(_)
            ) {
                return Err(arg_error(
                    2,
                    "localcache_put",
                    "expects a value that is not a function",
                ));
            }
            let ttl = ttl
                .filter(|s| *s > 0)
                .map(|s| Duration::from_secs(s as u64));
            nk_of(lua)?.localcache().put(&key, to_json(&value)?, ttl);
            Ok(())
        })?,
    )?;
    nk.set(
        "localcache_delete",
        lua.create_function(|lua, key: LuaString| {
            let key = cache_key(&key, "localcache_delete")?;
            nk_of(lua)?.localcache().delete(&key);
            Ok(())
        })?,
    )?;
    nk.set(
        "localcache_clear",
        lua.create_function(|lua, ()| {
            nk_of(lua)?.localcache().clear();
            Ok(())
        })?,
    )?;
    Ok(())
}

fn cache_key(key: &LuaString, function: &str) -> mlua::Result<String> {
    let key = key.to_string_lossy();
    if key.is_empty() {
        return Err(arg_error(1, function, "expects key string"));
    }
    Ok(key)
}

fn metrics(lua: &Lua, nk: &Table) -> mlua::Result<()> {
    // Nakama 3.15 registers these under camel-case names; later versions under snake-case
    // ones. Both are here so modules written for either load.
    for names in [
        ["metrics_counter_add", "metricsCounterAdd"],
        ["metrics_gauge_set", "metricsGaugeSet"],
        ["metrics_timer_record", "metricsTimerRecord"],
    ] {
        let kind = names[0];
        let f = lua.create_function(move |lua, (name, tags, value): (LuaString, Value, f64)| {
            let name = name.to_string_lossy();
            if name.is_empty() {
                return Err(arg_error(1, kind, "expects name string"));
            }
            let tags = string_map(&tags, 2, kind, "tags")?;
            let nk = nk_of(lua)?;
            match kind {
                "metrics_counter_add" => {
                    nk.metrics_counter_add(&name, &tags, value.max(0.0) as u64)
                }
                "metrics_gauge_set" => nk.metrics_gauge_set(&name, &tags, value),
                _ => nk.metrics_timer_record(
                    &name,
                    &tags,
                    Duration::from_nanos(value.max(0.0) as u64),
                ),
            }
            Ok(())
        })?;
        for name in names {
            nk.set(name, f.clone())?;
        }
    }
    Ok(())
}

/// A table of string keys and string values (or nil: empty).
fn string_map(
    value: &Value,
    position: usize,
    function: &str,
    what: &str,
) -> mlua::Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    let table = match value {
        Value::Nil => return Ok(out),
        Value::Table(t) => t,
        _ => {
            return Err(arg_error(
                position,
                function,
                &format!("expects {what} table"),
            ));
        }
    };
    for pair in table.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let (Value::String(k), Value::String(v)) = (k, v) else {
            return Err(arg_error(
                position,
                function,
                &format!("{what} keys and values must be strings"),
            ));
        };
        out.insert(k.to_string_lossy(), v.to_string_lossy());
    }
    Ok(out)
}

/// Reads `relative` below `root`, refusing absolute paths and any `..` step, as Nakama does.
fn read_confined(root: &Path, relative: &str) -> Result<Vec<u8>, String> {
    let path = Path::new(relative);
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "file path must be relative to the runtime path: {relative}"
        ));
    }
    let full = root.join(path);
    let canonical_root = root.canonicalize().map_err(|e| e.to_string())?;
    let canonical = full.canonicalize().map_err(|e| e.to_string())?;
    if !canonical.starts_with(&canonical_root) {
        return Err(format!(
            "file path must be inside the runtime path: {relative}"
        ));
    }
    std::fs::read(canonical).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stay_inside_the_root() {
        let root = std::env::temp_dir().join(format!("tavern-file-read-{}", std::process::id()));
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::write(root.join("data/a.json"), "{}").unwrap();
        assert_eq!(read_confined(&root, "data/a.json").unwrap(), b"{}");
        assert!(read_confined(&root, "../etc/passwd").is_err());
        assert!(read_confined(&root, "/etc/passwd").is_err());
        assert!(read_confined(&root, "missing").is_err());
        std::fs::remove_dir_all(root).unwrap();
    }
}
