//! Runtime helpers called from the generated protojson (serde) code.
//!
//! `build.rs` patches every generated `visit_map` to read its entries through
//! [`NullsAsAbsent`], and every realtime `visit_map` to open a
//! [`StrictScope`]. Together they give Nakama's JSON input rules: `null`
//! means "absent", REST bodies ignore unknown fields, and anything decoded
//! inside a realtime envelope rejects them.

use std::cell::Cell;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess};

thread_local! {
    static REJECT_UNKNOWN: Cell<bool> = const { Cell::new(false) };
}

/// Whether lenient (api) messages must currently reject unknown fields,
/// i.e. whether we are decoding somewhere inside a realtime message.
pub(crate) fn rejecting_unknown_fields() -> bool {
    REJECT_UNKNOWN.with(Cell::get)
}

/// While alive, unknown fields are rejected by every message on this thread.
/// Restores the previous setting on drop, so scopes nest.
pub(crate) struct StrictScope {
    previous: bool,
}

impl StrictScope {
    pub(crate) fn enter() -> Self {
        let previous = REJECT_UNKNOWN.with(|flag| flag.replace(true));
        StrictScope { previous }
    }
}

impl Drop for StrictScope {
    fn drop(&mut self) {
        REJECT_UNKNOWN.with(|flag| flag.set(self.previous));
    }
}

/// A [`MapAccess`] adapter that hides entries whose value is JSON `null`.
///
/// Each value is buffered as a [`serde_json::Value`] so that it can be
/// inspected before the generated code sees its key. The generated impls are
/// only ever driven by JSON, so nothing is lost by that.
pub(crate) struct NullsAsAbsent<M> {
    inner: M,
    pending: Option<serde_json::Value>,
}

impl<M> NullsAsAbsent<M> {
    pub(crate) fn new(inner: M) -> Self {
        NullsAsAbsent {
            inner,
            pending: None,
        }
    }
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for NullsAsAbsent<M> {
    type Error = M::Error;

    fn next_key_seed<K>(&mut self, seed: K) -> Result<Option<K::Value>, M::Error>
    where
        K: DeserializeSeed<'de>,
    {
        while let Some(key) = self.inner.next_key::<String>()? {
            let value: serde_json::Value = self.inner.next_value()?;
            if value.is_null() {
                continue;
            }
            self.pending = Some(value);
            let key: de::value::StringDeserializer<M::Error> = key.into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V>(&mut self, seed: V) -> Result<V::Value, M::Error>
    where
        V: DeserializeSeed<'de>,
    {
        let value = self
            .pending
            .take()
            .ok_or_else(|| de::Error::custom("map value requested before its key"))?;
        seed.deserialize(value).map_err(de::Error::custom)
    }
}
