//! Runtime helpers called from the generated protojson (serde) code.
//!
//! `build.rs` patches every generated `visit_map` to read its entries through
//! [`NullsAsAbsent`], and every realtime `visit_map` to open a
//! [`StrictScope`]. Together they give Nakama's JSON input rules: `null`
//! means "absent", REST bodies ignore unknown fields, and anything decoded
//! inside a realtime envelope rejects them. One more leniency: an empty JSON
//! array is accepted where a message or map is expected, because Lua JSON
//! encoders (nakama-defold) cannot tell an empty object from an empty array.

use std::cell::Cell;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde_json::Value;

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
    pending: Option<Value>,
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
            let value: Value = self.inner.next_value()?;
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
        seed.deserialize(FieldValue(value))
            .map_err(de::Error::custom)
    }
}

/// A buffered field value. Deserializes exactly like the inner
/// [`Value`], except that `[]` also reads as an empty message or map, and a
/// numeric string also reads as an `i32` (protojson accepts `"2"` for an
/// `Int32Value`; plain int32 fields already get this from pbjson).
struct FieldValue(Value);

impl FieldValue {
    fn is_empty_array(&self) -> bool {
        matches!(&self.0, Value::Array(items) if items.is_empty())
    }
}

/// Drives a message or map visitor over no entries at all.
fn visit_empty_map<'de, V: Visitor<'de>>(visitor: V) -> Result<V::Value, serde_json::Error> {
    let entries = std::iter::empty::<(String, Value)>();
    visitor.visit_map(de::value::MapDeserializer::new(entries))
}

impl<'de> Deserializer<'de> for FieldValue {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match &self.0 {
            Value::String(text) => match text.parse::<i32>() {
                Ok(number) => visitor.visit_i32(number),
                Err(e) => Err(de::Error::custom(format!("invalid int32 {text:?}: {e}"))),
            },
            _ => self.0.deserialize_i32(visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.is_empty_array() {
            visit_empty_map(visitor)
        } else {
            self.0.deserialize_map(visitor)
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if self.is_empty_array() {
            visit_empty_map(visitor)
        } else {
            self.0.deserialize_struct(name, fields, visitor)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct identifier ignored_any
    }
}
