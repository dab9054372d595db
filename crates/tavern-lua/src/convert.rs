//! Values between Lua and JSON, with Nakama's rules: a table whose length is 0 is an object
//! (so `{}` is `{}`), any other table is the array `1..#t` (other keys are dropped), whole
//! numbers are integers and JSON `null` is `nil`.

use mlua::{Lua, Table, Value};
use serde_json::{Map, Number};

/// Deepest nesting converted; deeper (or cyclic) tables are an error.
const MAX_DEPTH: usize = 64;

/// A Lua value as JSON.
pub fn to_json(value: &Value) -> mlua::Result<serde_json::Value> {
    to_json_at(value, 0)
}

fn to_json_at(value: &Value, depth: usize) -> mlua::Result<serde_json::Value> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(
            "table nested too deeply (or a cycle) to convert",
        ));
    }
    Ok(match value {
        Value::Nil => serde_json::Value::Null,
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Integer(i) => serde_json::Value::from(*i),
        Value::Number(n) => number(*n),
        Value::String(s) => serde_json::Value::String(s.to_string_lossy()),
        Value::Table(t) => table_to_json(t, depth)?,
        Value::LightUserData(p) if p.0.is_null() => serde_json::Value::Null,
        other => {
            return Err(mlua::Error::runtime(format!(
                "cannot convert a {} to JSON",
                other.type_name()
            )));
        }
    })
}

fn number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

fn table_to_json(t: &Table, depth: usize) -> mlua::Result<serde_json::Value> {
    let len = t.raw_len();
    if len > 0 {
        let mut items = Vec::with_capacity(len);
        for i in 1..=len {
            items.push(to_json_at(&t.raw_get::<Value>(i)?, depth + 1)?);
        }
        return Ok(serde_json::Value::Array(items));
    }
    let mut map = Map::new();
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let key = match &k {
            Value::String(s) => s.to_string_lossy(),
            Value::Integer(i) => i.to_string(),
            Value::Number(n) => match number(*n) {
                serde_json::Value::Number(n) => n.to_string(),
                _ => continue,
            },
            Value::Boolean(b) => b.to_string(),
            _ => continue,
        };
        map.insert(key, to_json_at(&v, depth + 1)?);
    }
    Ok(serde_json::Value::Object(map))
}

/// A JSON value as Lua.
pub fn to_lua(lua: &Lua, value: &serde_json::Value) -> mlua::Result<Value> {
    Ok(match value {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::String(lua.create_string(s)?),
        serde_json::Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            Value::Table(t)
        }
        serde_json::Value::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, v) in map {
                t.raw_set(k.as_str(), to_lua(lua, v)?)?;
            }
            Value::Table(t)
        }
    })
}

/// A serde value (an API message, say) as Lua, through its JSON form.
pub fn serde_to_lua<T: serde::Serialize>(lua: &Lua, value: &T) -> mlua::Result<Value> {
    let json = serde_json::to_value(value).map_err(mlua::Error::external)?;
    to_lua(lua, &json)
}

/// A Lua value as a serde type, through its JSON form.
pub fn lua_to_serde<T: serde::de::DeserializeOwned>(value: &Value) -> mlua::Result<T> {
    serde_json::from_value(to_json(value)?).map_err(mlua::Error::external)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_nakamas_rules() {
        let lua = Lua::new();
        let v: Value = lua
            .load("return { list = {1, 2.5, 'x'}, empty = {}, obj = { a = true }, n = 3 }")
            .eval()
            .unwrap();
        let json = to_json(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"list": [1, 2.5, "x"], "empty": {}, "obj": {"a": true}, "n": 3})
        );
        let back = to_lua(&lua, &json).unwrap();
        assert_eq!(to_json(&back).unwrap(), json);
        let mixed: Value = lua.load("return {1, 2, x = 3}").eval().unwrap();
        assert_eq!(to_json(&mixed).unwrap(), serde_json::json!([1, 2]));
        let cyclic: Value = lua.load("local t = {} t.t = t return t").eval().unwrap();
        assert!(to_json(&cyclic).is_err());
    }
}
