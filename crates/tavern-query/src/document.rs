//! Documents: named fields holding keywords and numeric keys, built from
//! single values or by flattening JSON the way Nakama indexes match labels
//! and matchmaker properties.

use serde_json::Value;

use crate::datetime::parse_indexed;
use crate::numeric::float_key;

/// The values of one field. Both lists are sorted and free of duplicates,
/// as a term dictionary would hold them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldValues {
    pub(crate) name: Box<str>,
    pub(crate) keywords: Vec<Box<str>>,
    /// Numbers as [`float_key`]s and date-times as Unix nanoseconds.
    pub(crate) numbers: Vec<i64>,
}

impl FieldValues {
    /// True if some numeric key lies in `lo..=hi`.
    pub(crate) fn has_number_in(&self, lo: i64, hi: i64) -> bool {
        let i = self.numbers.partition_point(|&n| n < lo);
        self.numbers.get(i).is_some_and(|&n| n <= hi)
    }
}

/// A document to match queries against: a set of fields, each with any
/// number of keyword and numeric values (a JSON array gives several).
///
/// Keywords match exactly and case-sensitively. Numbers and date-times are
/// compared by range clauses; a date-time is stored as its Unix time in
/// nanoseconds, exactly as Nakama's index does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// Sorted by name.
    fields: Vec<FieldValues>,
}

impl Document {
    /// An empty document.
    pub fn new() -> Self {
        Document::default()
    }

    /// True if no value was added.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub(crate) fn fields(&self) -> &[FieldValues] {
        &self.fields
    }

    pub(crate) fn field(&self, name: &str) -> Option<&FieldValues> {
        self.fields
            .binary_search_by(|f| (*f.name).cmp(name))
            .ok()
            .map(|i| &self.fields[i])
    }

    fn field_mut(&mut self, name: &str) -> &mut FieldValues {
        let i = match self.fields.binary_search_by(|f| (*f.name).cmp(name)) {
            Ok(i) => i,
            Err(i) => {
                let values = FieldValues {
                    name: name.into(),
                    keywords: Vec::new(),
                    numbers: Vec::new(),
                };
                self.fields.insert(i, values);
                i
            }
        };
        &mut self.fields[i]
    }

    /// Adds an exact keyword, as Nakama's `node`, `label_string`,
    /// `handler_name`, `ticket` and `party_id` fields are indexed.
    pub fn add_keyword(&mut self, field: &str, value: &str) {
        let keywords = &mut self.field_mut(field).keywords;
        if let Err(i) = keywords.binary_search_by(|k| (**k).cmp(value)) {
            keywords.insert(i, value.into());
        }
    }

    fn add_key(&mut self, field: &str, key: i64) {
        let numbers = &mut self.field_mut(field).numbers;
        if let Err(i) = numbers.binary_search(&key) {
            numbers.insert(i, key);
        }
    }

    /// Adds a number, as `tick_rate`, `create_time`, `min_count`, … are
    /// indexed.
    pub fn add_number(&mut self, field: &str, value: f64) {
        self.add_key(field, float_key(value));
    }

    /// Adds a date-time given as Unix nanoseconds.
    pub fn add_datetime(&mut self, field: &str, unix_nanos: i64) {
        self.add_key(field, unix_nanos);
    }

    /// Adds a string the way Nakama indexes label and property strings: a
    /// date-time if it parses as RFC 3339, `YYYY-MM-DDTHH:MM:SS`,
    /// `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (then only date ranges find
    /// it), a keyword otherwise.
    pub fn add_string(&mut self, field: &str, value: &str) {
        match parse_indexed(value) {
            Some(instant) => self.add_key(field, instant.unix_nanos_wrapping()),
            None => self.add_keyword(field, value),
        }
    }

    /// Flattens a JSON value under `prefix`: object members become
    /// `prefix.key` (nested objects give dotted paths), array items all go to
    /// the same field, strings go through [`Document::add_string`], numbers
    /// are numeric, booleans are the keywords `T` and `F`, and nulls are
    /// skipped. An empty prefix puts top-level members at their own names.
    ///
    /// Nakama flattens a match label only when it parses as a JSON object,
    /// under the prefix `label`; matchmaker properties go under `properties`.
    pub fn add_json(&mut self, prefix: &str, value: &Value) {
        let mut path = String::from(prefix);
        self.walk(&mut path, value);
    }

    fn walk(&mut self, path: &mut String, value: &Value) {
        match value {
            Value::Null => {}
            Value::Bool(b) => self.add_keyword(path, if *b { "T" } else { "F" }),
            Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    self.add_number(path, f);
                }
            }
            Value::String(s) => self.add_string(path, s),
            Value::Array(items) => {
                for item in items {
                    self.walk(path, item);
                }
            }
            Value::Object(members) => {
                for (key, member) in members {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    self.walk(path, member);
                    path.truncate(len);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_json() {
        let mut doc = Document::new();
        doc.add_json(
            "label",
            &json!({"mode": "ranked", "open": true, "level": 5, "tags": ["a", "b", "a"], "nested": {"x": 1.5, "y": null},
                    "when": "2024-01-01", "list": [{"k": "v"}, {"k": 2}]}),
        );
        let kw = |f: &str| {
            doc.field(f)
                .unwrap()
                .keywords
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(kw("label.mode"), ["ranked"]);
        assert_eq!(kw("label.open"), ["T"]);
        assert_eq!(kw("label.tags"), ["a", "b"]);
        assert_eq!(kw("label.list.k"), ["v"]);
        assert_eq!(doc.field("label.list.k").unwrap().numbers, [float_key(2.0)]);
        assert_eq!(doc.field("label.level").unwrap().numbers, [float_key(5.0)]);
        assert_eq!(
            doc.field("label.nested.x").unwrap().numbers,
            [float_key(1.5)]
        );
        assert!(doc.field("label.nested.y").is_none());
        assert_eq!(
            doc.field("label.when").unwrap().numbers,
            [1_704_067_200_000_000_000]
        );
        assert!(doc.field("label.when").unwrap().keywords.is_empty());
    }

    #[test]
    fn number_ranges() {
        let mut doc = Document::new();
        doc.add_number("n", 3.0);
        doc.add_number("n", 7.0);
        let f = doc.field("n").unwrap();
        assert!(f.has_number_in(float_key(3.0), float_key(3.0)));
        assert!(f.has_number_in(float_key(4.0), float_key(8.0)));
        assert!(!f.has_number_in(float_key(4.0), float_key(6.0)));
    }
}
