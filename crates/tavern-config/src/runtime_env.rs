//! Serde adapter for `runtime.env`: a list of `KEY=VALUE` strings in files and flags, a map in
//! the typed configuration.
//!
//! The value may itself contain `=`; only the first one separates key and value. When a key
//! repeats, the later entry wins, which is how entries from several files and flags merge.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

/// Writes the map as a sorted list of `KEY=VALUE` strings.
pub(crate) fn serialize<S: Serializer>(
    env: &BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(env.iter().map(|(key, value)| format!("{key}={value}")))
}

/// Reads a list of `KEY=VALUE` strings; an entry without `=` or with an empty key is an error.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let entries = Vec::<String>::deserialize(deserializer)?;
    let mut env = BTreeMap::new();
    for entry in entries {
        match entry.split_once('=') {
            Some((key, value)) if !key.is_empty() => {
                env.insert(key.to_owned(), value.to_owned());
            }
            _ => {
                return Err(D::Error::custom(format!(
                    "invalid value {entry:?}, expected KEY=VALUE"
                )));
            }
        }
    }
    Ok(env)
}
