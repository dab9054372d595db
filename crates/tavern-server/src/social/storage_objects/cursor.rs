//! The opaque cursor of a storage listing: where the previous page stopped.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The last object of a page: its read permission, key and owner, the listing's sort order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    #[serde(rename = "r")]
    pub read: i32,
    #[serde(rename = "k")]
    pub key: String,
    #[serde(rename = "u")]
    pub user_id: String,
}

impl ListCursor {
    /// URL-safe base64 without padding, as Nakama's cursors are.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// A cursor this server made, or `None` for anything else.
    pub fn decode(text: &str) -> Option<ListCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let cursor: ListCursor = serde_json::from_slice(&bytes).ok()?;
        uuid::Uuid::parse_str(&cursor.user_id).ok()?;
        Some(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_the_round_trip_and_strangers_do_not_decode() {
        let cursor = ListCursor {
            read: 2,
            key: "k/ü".into(),
            user_id: "00000000-0000-0000-0000-000000000000".into(),
        };
        assert_eq!(ListCursor::decode(&cursor.encode()), Some(cursor));
        for bad in [
            "",
            "!!",
            "e30",
            "bm90IGpzb24",
            "eyJyIjoxLCJrIjoiYSIsInUiOiJ4In0",
        ] {
            assert_eq!(ListCursor::decode(bad), None, "{bad}");
        }
    }
}
