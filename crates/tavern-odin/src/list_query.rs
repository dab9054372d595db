//! The query string `List` accepts: a JSON object with `Metadata`, `Status`,
//! `Location{City,Country,Continent}`, `Pages` and `PerPage` (keys in any letter case).

use serde_json::Value;

use crate::model::{Metadata, ServerFilter};

/// A parsed list query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub metadata: Metadata,
    pub status: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub continent: Option<String>,
    /// The page to start from when no cursor is given.
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl ListQuery {
    /// Parses `text`; empty (or only whitespace) is the query with no conditions. Anything
    /// else that is not such an object, or has unknown keys or wrongly typed values, is an
    /// error naming the problem, never "no filter".
    pub fn parse(text: &str) -> Result<ListQuery, String> {
        if text.trim().is_empty() {
            return Ok(ListQuery::default());
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("query is not valid JSON: {e}"))?;
        let Value::Object(object) = value else {
            return Err("query must be a JSON object".to_owned());
        };
        let mut query = ListQuery::default();
        for (key, value) in object {
            match key.to_ascii_lowercase().as_str() {
                "metadata" => match value {
                    Value::Object(map) => query.metadata = map,
                    Value::Null => {}
                    _ => return Err("query Metadata must be an object".to_owned()),
                },
                "status" => query.status = string(&key, value)?,
                "location" => match value {
                    Value::Object(map) => {
                        for (key, value) in map {
                            match key.to_ascii_lowercase().as_str() {
                                "city" => query.city = string(&key, value)?,
                                "country" => query.country = string(&key, value)?,
                                "continent" => query.continent = string(&key, value)?,
                                _ => return Err(format!("unknown query key Location.{key}")),
                            }
                        }
                    }
                    Value::Null => {}
                    _ => return Err("query Location must be an object".to_owned()),
                },
                "pages" | "page" => query.page = positive(&key, value)?,
                "perpage" => query.per_page = positive(&key, value)?,
                _ => return Err(format!("unknown query key {key}")),
            }
        }
        Ok(query)
    }

    /// The listing filter for `page`, with `limit` (or `PerPage`) items a page, clamped to
    /// 1..=100; a limit of 0 or less means `PerPage`, else 100.
    pub fn filter(&self, limit: i32, page: i64) -> ServerFilter {
        let per_page = if limit > 0 {
            i64::from(limit)
        } else {
            self.per_page.unwrap_or(100)
        };
        ServerFilter {
            metadata: crate::metadata_filter(&self.metadata),
            status: self.status.clone(),
            location_city: self.city.clone(),
            location_country: self.country.clone(),
            location_continent: self.continent.clone(),
            page,
            per_page: per_page.clamp(1, 100),
        }
    }
}

fn string(key: &str, value: Value) -> Result<Option<String>, String> {
    match value {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        _ => Err(format!("query {key} must be a string")),
    }
}

fn positive(key: &str, value: Value) -> Result<Option<i64>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Ok(None),
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(format!("query {key} must be a positive integer")),
        },
        _ => Err(format!("query {key} must be a positive integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_keys_in_any_case() {
        let q = ListQuery::parse(
            r#"{"metadata":{"instance_state":"idle"},"STATUS":"running",
                "Location":{"city":"Frankfurt","Country":"DE","CONTINENT":"EU"},"Pages":2,"perpage":5}"#,
        )
        .unwrap();
        assert_eq!(q.metadata["instance_state"], "idle");
        assert_eq!(q.status.as_deref(), Some("running"));
        assert_eq!(q.city.as_deref(), Some("Frankfurt"));
        assert_eq!(q.country.as_deref(), Some("DE"));
        assert_eq!(q.continent.as_deref(), Some("EU"));
        assert_eq!((q.page, q.per_page), (Some(2), Some(5)));
        let f = q.filter(0, 2);
        assert_eq!(f.per_page, 5);
        assert_eq!(f.metadata.as_deref(), Some(r#"instance_state="idle""#));
    }

    /// Facts §6 #11: an unparsable query must not mean "list everything".
    #[test]
    fn bad_queries_are_errors() {
        for bad in [
            "instance_state=idle",
            "[1]",
            r#"{"Metadata":"idle"}"#,
            r#"{"Unknown":1}"#,
            r#"{"Pages":-1}"#,
            r#"{"Status":5}"#,
            r#"{"Location":{"Planet":"Mars"}}"#,
        ] {
            assert!(ListQuery::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ListQuery::parse("  ").unwrap(), ListQuery::default());
    }

    /// Facts §6 #12: limit maps to perPage, clamped to 1..=100.
    #[test]
    fn limit_becomes_per_page() {
        let q = ListQuery::default();
        assert_eq!(q.filter(10, 1).per_page, 10);
        assert_eq!(q.filter(1000, 1).per_page, 100);
        assert_eq!(q.filter(0, 1).per_page, 100);
        assert_eq!(q.filter(-5, 1).per_page, 100);
    }
}
