//! The cursors of group listings, gob-encoded as Nakama's: `edgeListCursor` (a group's users,
//! a user's groups: the state and position of the next page's first row, standard base64)
//! and `groupListCursor` (groups: the last group listed, URL-safe base64 without padding).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use uuid::Uuid;

use super::sql::GroupAfter;
use crate::social::gob::{self, Value};

const EDGE_CURSOR: &str = "edgeListCursor";
const GROUP_CURSOR: &str = "groupListCursor";

/// (state, position) of the first row of the next page of a membership listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeCursor {
    pub state: i32,
    pub position: i64,
}

impl EdgeCursor {
    fn fields(state: i64, position: i64) -> [(&'static str, Value); 2] {
        [
            ("State", Value::Int(state)),
            ("Position", Value::Int(position)),
        ]
    }

    pub fn encode(&self) -> String {
        STANDARD.encode(gob::encode(
            EDGE_CURSOR,
            &EdgeCursor::fields(i64::from(self.state), self.position),
        ))
    }

    /// A cursor of this kind, with a state a listing can have, or `None`.
    pub fn decode(text: &str) -> Option<EdgeCursor> {
        let bytes = STANDARD.decode(text).ok()?;
        let values = gob::decode(&bytes, EDGE_CURSOR, &EdgeCursor::fields(0, 0))?;
        let (Value::Int(state), Value::Int(position)) = (&values[0], &values[1]) else {
            return None;
        };
        let state = i32::try_from(*state).ok().filter(|s| (0..=4).contains(s))?;
        Some(EdgeCursor {
            state,
            position: *position,
        })
    }
}

/// The last group of a page of `GET /v2/group`.
impl GroupAfter {
    fn fields(
        lang: String,
        edge_count: i64,
        id: Vec<u8>,
        open: bool,
        name: String,
        update_time_nanos: i64,
    ) -> [(&'static str, Value); 6] {
        [
            ("Lang", Value::String(lang)),
            ("EdgeCount", Value::Int(edge_count)),
            ("ID", Value::Bytes(id)),
            ("Open", Value::Bool(open)),
            ("Name", Value::String(name)),
            ("UpdateTime", Value::Int(update_time_nanos)),
        ]
    }

    /// The cursor text, carrying the listed group's language and openness too (as Nakama's).
    pub fn encode(&self, lang: &str, open: bool) -> String {
        URL_SAFE_NO_PAD.encode(gob::encode(
            GROUP_CURSOR,
            &GroupAfter::fields(
                lang.to_owned(),
                i64::from(self.edge_count),
                self.id.as_bytes().to_vec(),
                open,
                self.name.clone(),
                self.update_time.saturating_mul(1_000_000_000),
            ),
        ))
    }

    pub fn decode(text: &str) -> Option<GroupAfter> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let template = GroupAfter::fields(String::new(), 0, Vec::new(), false, String::new(), 0);
        let values = gob::decode(&bytes, GROUP_CURSOR, &template)?;
        let (Value::Int(edge_count), Value::Bytes(id), Value::String(name), Value::Int(nanos)) =
            (&values[1], &values[2], &values[4], &values[5])
        else {
            return None;
        };
        Some(GroupAfter {
            id: Uuid::from_slice(id).ok()?,
            name: name.clone(),
            edge_count: i32::try_from(*edge_count).ok()?,
            update_time: nanos.div_euclid(1_000_000_000),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_cursors_round_trip_and_refuse_others() {
        let cursor = EdgeCursor {
            state: 2,
            position: 1_700_000_000_123_456_789,
        };
        assert_eq!(EdgeCursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "x", "AAAA", "not base64!"] {
            assert_eq!(EdgeCursor::decode(bad), None);
        }
        let banned_plus = EdgeCursor {
            state: 5,
            position: 1,
        };
        assert_eq!(EdgeCursor::decode(&banned_plus.encode()), None);
    }

    #[test]
    fn group_cursors_round_trip() {
        let after = GroupAfter {
            id: Uuid::new_v4(),
            name: "Knights".to_owned(),
            edge_count: 7,
            update_time: 1_700_000_000,
        };
        let text = after.encode("en", true);
        assert_eq!(GroupAfter::decode(&text), Some(after));
        assert_eq!(GroupAfter::decode("AAAA"), None);
        assert_eq!(EdgeCursor::decode(&text), None);
    }
}
