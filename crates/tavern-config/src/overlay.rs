//! The configuration as a JSON tree, and the rules for laying files and flags over it.
//!
//! The tree starts as the serialised defaults, so it already holds every key with a value of the
//! right kind. A file or flag may only set keys that exist there, and its value is converted to
//! the kind of the value it replaces: numbers from text, Go's boolean spellings, numbers and
//! booleans as text for text keys, a single value as a one-element list.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::{ConfigError, ErrorKind};
use crate::unsupported;

/// The list key whose entries accumulate across files and flags instead of being replaced.
pub(crate) const RUNTIME_ENV: &str = "runtime.env";

/// What a key holds, judged from its default value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Section,
    Bool,
    Integer,
    Text,
    List,
}

impl Kind {
    pub(crate) fn of(value: &Value) -> Self {
        match value {
            Value::Object(_) => Self::Section,
            Value::Bool(_) => Self::Bool,
            Value::Number(_) => Self::Integer,
            Value::Array(_) => Self::List,
            Value::String(_) | Value::Null => Self::Text,
        }
    }

    /// How the kind is described in error messages and help.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            Self::Section => "a mapping of keys",
            Self::Bool => "a boolean (true or false)",
            Self::Integer => "an integer",
            Self::Text => "a string",
            Self::List => "a list of strings",
        }
    }
}

/// The value at a dotted key, if the key exists.
pub(crate) fn lookup<'a>(tree: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.')
        .try_fold(tree, |node, part| node.as_object()?.get(part))
}

fn lookup_mut<'a>(tree: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    key.split('.')
        .try_fold(tree, |node, part| node.as_object_mut()?.get_mut(part))
}

/// Every leaf of the tree as `(dotted key, value)`, sorted by key.
pub(crate) fn leaves(tree: &Value) -> Vec<(String, &Value)> {
    fn walk<'a>(prefix: &str, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        match node {
            Value::Object(map) => {
                for (name, child) in map {
                    walk(&join(prefix, name), child, out);
                }
            }
            leaf => out.push((prefix.to_owned(), leaf)),
        }
    }
    let mut out = Vec::new();
    walk("", tree, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Go's `strconv.ParseBool` spellings, which Nakama's flags accept.
pub(crate) fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// A value as quoted in error messages.
fn show(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        Value::Array(_) => "(a list)".to_owned(),
        Value::Object(_) => "(a mapping)".to_owned(),
        other => other.to_string(),
    }
}

fn invalid(key: &str, value: &Value, kind: Kind) -> ConfigError {
    ConfigError::new(ErrorKind::InvalidValue {
        key: key.to_owned(),
        value: show(value),
        expected: kind.expected().to_owned(),
    })
}

/// Converts `value` to the scalar `kind` of `key`, or explains why it cannot be.
fn coerce_scalar(key: &str, kind: Kind, value: Value) -> Result<Value, ConfigError> {
    let converted = match (kind, &value) {
        (Kind::Bool, Value::Bool(_)) => Some(value.clone()),
        (Kind::Bool, Value::String(text)) => parse_go_bool(text).map(Value::Bool),
        (Kind::Integer, Value::Number(number)) if number.is_i64() || number.is_u64() => {
            Some(value.clone())
        }
        (Kind::Integer, Value::String(text)) => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .ok(),
        (Kind::Text, Value::String(_)) => Some(value.clone()),
        (Kind::Text, Value::Number(_) | Value::Bool(_)) => Some(Value::String(value.to_string())),
        _ => None,
    };
    converted.ok_or_else(|| invalid(key, &value, kind))
}

/// Converts `value` to a list of strings; a single scalar becomes a one-element list.
fn coerce_list(key: &str, value: Value) -> Result<Vec<Value>, ConfigError> {
    let items = match value {
        Value::Array(items) => items,
        scalar @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => vec![scalar],
        other => return Err(invalid(key, &other, Kind::List)),
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(_) => Ok(item),
            Value::Number(_) | Value::Bool(_) => Ok(Value::String(item.to_string())),
            other => Err(invalid(key, &other, Kind::List)),
        })
        .collect()
}

/// Lays one parsed YAML file over the tree. Lists replace lists, except `runtime.env`, whose
/// entries are appended; a null value leaves the key as it was.
pub(crate) fn merge_file(tree: &mut Value, file: Value) -> Result<(), ConfigError> {
    match file {
        Value::Null => Ok(()),
        Value::Object(incoming) => merge_mapping(tree, incoming, ""),
        other => Err(ConfigError::new(ErrorKind::Yaml {
            reason: format!(
                "the top level must be a mapping of sections and keys, not {}",
                show(&other)
            ),
        })),
    }
}

fn merge_mapping(
    target: &mut Value,
    incoming: Map<String, Value>,
    prefix: &str,
) -> Result<(), ConfigError> {
    for (name, value) in incoming {
        let key = join(prefix, &name);
        let Some(slot) = target.as_object_mut().and_then(|map| map.get_mut(&name)) else {
            return Err(missing_key(key, &value));
        };
        if value.is_null() {
            continue;
        }
        match Kind::of(slot) {
            Kind::Section => match value {
                Value::Object(inner) => merge_mapping(slot, inner, &key)?,
                other => return Err(invalid(&key, &other, Kind::Section)),
            },
            Kind::List => {
                let items = coerce_list(&key, value)?;
                if let Value::Array(existing) = slot {
                    if key != RUNTIME_ENV {
                        existing.clear();
                    }
                    existing.extend(items);
                }
            }
            kind => *slot = coerce_scalar(&key, kind, value)?,
        }
    }
    Ok(())
}

/// Applies one command-line flag. The first flag for a list key replaces the list from the
/// files and later ones append (`runtime.env` always appends); `cli_lists` remembers which
/// lists the command line has already started.
pub(crate) fn apply_flag(
    tree: &mut Value,
    key: &str,
    raw: String,
    cli_lists: &mut HashSet<String>,
) -> Result<(), ConfigError> {
    let Some(slot) = lookup_mut(tree, key) else {
        return Err(missing_key(key.to_owned(), &Value::Null));
    };
    match Kind::of(slot) {
        Kind::Section => Err(not_a_key(key, slot)),
        Kind::List => {
            if let Value::Array(existing) = slot {
                if key != RUNTIME_ENV && cli_lists.insert(key.to_owned()) {
                    existing.clear();
                }
                existing.push(Value::String(raw));
            }
            Ok(())
        }
        kind => {
            *slot = coerce_scalar(key, kind, Value::String(raw))?;
            Ok(())
        }
    }
}

/// The error for a key Tavern's model lacks: a Nakama key Tavern refuses, or an unknown one. A
/// file's mapping under a section of refused keys (`console: {port: 7351}`) is named by its
/// first key.
pub(crate) fn missing_key(key: String, value: &Value) -> ConfigError {
    if unsupported::is_not_supported(&key) {
        return ConfigError::new(ErrorKind::NotSupported { key });
    }
    if let Value::Object(map) = value
        && unsupported::has_keys_under(&key)
        && let Some((name, inner)) = map.iter().next()
    {
        return missing_key(join(&key, name), inner);
    }
    ConfigError::new(ErrorKind::UnknownKey { key })
}

/// The error for a section name given where a key is needed, suggesting its first key.
pub(crate) fn not_a_key(key: &str, section: &Value) -> ConfigError {
    let example = leaves(section)
        .into_iter()
        .next()
        .map(|(name, _)| format!("{key}.{name}"))
        .unwrap_or_else(|| key.to_owned());
    ConfigError::new(ErrorKind::NotAKey {
        key: key.to_owned(),
        example,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree() -> Value {
        json!({"a": {"n": 1, "b": false, "s": "x", "l": ["one"]}, "runtime": {"env": ["A=1"]}})
    }

    #[test]
    fn go_bool_spellings() {
        for yes in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(parse_go_bool(yes), Some(true));
        }
        for no in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(parse_go_bool(no), Some(false));
        }
        assert_eq!(parse_go_bool("yes"), None);
        assert_eq!(parse_go_bool("tRUE"), None);
    }

    #[test]
    fn file_values_are_coerced_to_the_default_kind() {
        let mut t = tree();
        merge_file(
            &mut t,
            json!({"a": {"n": "7", "b": "true", "s": 12, "l": "solo"}}),
        )
        .unwrap();
        assert_eq!(t["a"], json!({"n": 7, "b": true, "s": "12", "l": ["solo"]}));
    }

    #[test]
    fn file_type_errors_name_the_key() {
        let mut t = tree();
        let error = merge_file(&mut t, json!({"a": {"n": 1.5}})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "config error: a.n: invalid value 1.5, expected an integer"
        );
        let error = merge_file(&mut t, json!({"a": 3})).unwrap_err();
        assert_eq!(
            error.to_string(),
            "config error: a: invalid value 3, expected a mapping of keys"
        );
    }

    #[test]
    fn env_accumulates_other_lists_replace() {
        let mut t = tree();
        merge_file(
            &mut t,
            json!({"a": {"l": ["two"]}, "runtime": {"env": ["B=2"]}}),
        )
        .unwrap();
        assert_eq!(t["a"]["l"], json!(["two"]));
        assert_eq!(t["runtime"]["env"], json!(["A=1", "B=2"]));
    }

    #[test]
    fn flags_on_lists() {
        let mut t = tree();
        let mut started = HashSet::new();
        apply_flag(&mut t, "a.l", "three".into(), &mut started).unwrap();
        apply_flag(&mut t, "a.l", "four".into(), &mut started).unwrap();
        apply_flag(&mut t, "runtime.env", "C=3".into(), &mut started).unwrap();
        assert_eq!(t["a"]["l"], json!(["three", "four"]));
        assert_eq!(t["runtime"]["env"], json!(["A=1", "C=3"]));
    }

    #[test]
    fn leaves_are_sorted_dotted_keys() {
        let t = tree();
        let keys: Vec<_> = leaves(&t).into_iter().map(|(key, _)| key).collect();
        assert_eq!(keys, ["a.b", "a.l", "a.n", "a.s", "runtime.env"]);
    }
}
