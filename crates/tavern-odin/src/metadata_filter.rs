//! The `filter[metadata]` expression of ODIN's server listing: `key=value` conditions joined
//! by commas, nested keys as dot paths, strings double-quoted, numbers, booleans and null bare.

use serde_json::Value;

use crate::model::Metadata;

/// Builds the expression for "every key has this value": keys sorted (so the same map always
/// gives the same text), nested objects flattened to dot paths, strings quoted with JSON
/// escaping, other scalars bare. An empty map (or only empty objects) gives `None`.
///
/// Arrays have no equality form in the API (a scalar matches "array contains"), so an array
/// value becomes one "contains" condition per element.
///
/// ```
/// let metadata = serde_json::json!({
///     "instance_state": "idle",
///     "ranked": true,
///     "settings": {"map": "de \"dust\"", "max_players": 8},
///     "score": null
/// });
/// let filter = tavern_odin::metadata_filter(metadata.as_object().unwrap());
/// assert_eq!(
///     filter.as_deref(),
///     Some(r#"instance_state="idle",ranked=true,score=null,settings.map="de \"dust\"",settings.max_players=8"#)
/// );
/// ```
pub fn metadata_filter(metadata: &Metadata) -> Option<String> {
    let mut conditions = Vec::new();
    flatten("", metadata, &mut conditions);
    conditions.sort();
    (!conditions.is_empty()).then(|| conditions.join(","))
}

fn flatten(prefix: &str, map: &Metadata, out: &mut Vec<String>) {
    for (key, value) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        condition(&path, value, out);
    }
}

fn condition(path: &str, value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(inner) => flatten(path, inner, out),
        Value::Array(items) => {
            for item in items {
                if !item.is_array() && !item.is_object() {
                    condition(path, item, out);
                }
            }
        }
        // A JSON string literal is the quoted, escaped form the API expects.
        scalar => out.push(format!("{path}={scalar}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(value: serde_json::Value) -> Option<String> {
        metadata_filter(value.as_object().unwrap())
    }

    /// Facts §6 #6: the reference concatenated conditions with no separator, quoted every
    /// value, did not escape, did not flatten and iterated in random order.
    #[test]
    fn conditions_are_sorted_typed_escaped_and_comma_joined() {
        let value = serde_json::json!({"z": 1, "a": "x", "m": false});
        for _ in 0..20 {
            assert_eq!(filter(value.clone()).unwrap(), r#"a="x",m=false,z=1"#);
        }
        assert_eq!(
            filter(serde_json::json!({"k": "a,\"b\"\\c"})).unwrap(),
            r#"k="a,\"b\"\\c""#
        );
        assert_eq!(
            filter(serde_json::json!({"g": {"s": {"d": "hard"}, "n": null}})).unwrap(),
            r#"g.n=null,g.s.d="hard""#
        );
        assert_eq!(filter(serde_json::json!({"f": 1.5})).unwrap(), "f=1.5");
        assert_eq!(
            filter(serde_json::json!({"p": ["a", 2]})).unwrap(),
            r#"p="a",p=2"#
        );
        assert_eq!(filter(serde_json::json!({})), None);
        assert_eq!(filter(serde_json::json!({"empty": {}})), None);
    }
}
