//! JavaScript values to and from JSON, and the key spelling Nakama's JavaScript runtime uses for
//! API messages (camelCase, as protobuf's JSON mapping names fields).

use rquickjs::{Ctx, Value};
use serde_json::Value as Json;

/// A JSON value as a JavaScript value.
pub(crate) fn to_js<'js>(ctx: &Ctx<'js>, json: &Json) -> rquickjs::Result<Value<'js>> {
    match json {
        Json::Null => Ok(Value::new_null(ctx.clone())),
        Json::Bool(b) => Ok(Value::new_bool(ctx.clone(), *b)),
        Json::String(s) => Ok(rquickjs::String::from_str(ctx.clone(), s)?.into_value()),
        _ => ctx.json_parse(json.to_string()),
    }
}

/// A JavaScript value as JSON, as `JSON.stringify` sees it (`undefined` and functions become
/// `null`).
pub(crate) fn to_json<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> rquickjs::Result<Json> {
    if value.is_undefined() || value.is_null() {
        return Ok(Json::Null);
    }
    let Some(text) = ctx.json_stringify(value.clone())? else {
        return Ok(Json::Null);
    };
    let text = text.to_string()?;
    serde_json::from_str(&text)
        .map_err(|e| rquickjs::Error::new_from_js_message("value", "JSON", e.to_string()))
}

/// Fields whose values are maps keyed by the caller's own names: their keys stay as they are.
const MAP_FIELDS: &[&str] = &[
    "vars",
    "properties",
    "string_properties",
    "numeric_properties",
    "headers",
    "query_params",
];

/// An API message as JSON with proto field names (`user_id`) renamed as Nakama's JavaScript
/// runtime shows them (`userId`). Keys inside map fields (`vars`, ...) are left alone.
pub(crate) fn camel_keys(json: Json) -> Json {
    match json {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if MAP_FIELDS.contains(&k.as_str()) {
                        v
                    } else {
                        camel_keys(v)
                    };
                    (camel(&k), v)
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_fields_become_camel_case_but_map_keys_stay() {
        let json = serde_json::json!({
            "account": { "id": "d1", "vars": { "my_key": "v" } },
            "user_id": "u",
            "list": [{ "create_time": 1 }],
        });
        assert_eq!(
            camel_keys(json),
            serde_json::json!({
                "account": { "id": "d1", "vars": { "my_key": "v" } },
                "userId": "u",
                "list": [{ "createTime": 1 }],
            })
        );
    }
}
