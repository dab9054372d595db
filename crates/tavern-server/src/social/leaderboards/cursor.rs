//! Nakama's cursors: a page of records (`leaderboardRecordListCursor`, URL-safe base64 with
//! padding) and a page of boards (`TournamentListCursor`, standard base64), gob-encoded.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use crate::social::gob;

/// Where a page of records starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCursor {
    /// Towards worse ranks (a next page) or better ones (a previous page).
    pub is_next: bool,
    pub board: String,
    pub expiry: i64,
    pub score: i64,
    pub subscore: i64,
    pub owner: String,
    /// The rank of the record the page starts after.
    pub rank: i64,
}

const RECORD_TYPE: &str = "leaderboardRecordListCursor";

impl RecordCursor {
    fn fields(&self) -> [(&'static str, gob::Value); 7] {
        [
            ("IsNext", gob::Value::Bool(self.is_next)),
            ("LeaderboardId", gob::Value::String(self.board.clone())),
            ("ExpiryTime", gob::Value::Int(self.expiry)),
            ("Score", gob::Value::Int(self.score)),
            ("Subscore", gob::Value::Int(self.subscore)),
            ("OwnerId", gob::Value::String(self.owner.clone())),
            ("Rank", gob::Value::Int(self.rank)),
        ]
    }

    pub fn encode(&self) -> String {
        URL_SAFE.encode(gob::encode(RECORD_TYPE, &self.fields()))
    }

    pub fn decode(text: &str) -> Option<RecordCursor> {
        let bytes = URL_SAFE.decode(text).ok()?;
        let template = RecordCursor {
            is_next: false,
            board: String::new(),
            expiry: 0,
            score: 0,
            subscore: 0,
            owner: String::new(),
            rank: 0,
        };
        let values = gob::decode(&bytes, RECORD_TYPE, &template.fields())?;
        let [
            gob::Value::Bool(is_next),
            gob::Value::String(board),
            gob::Value::Int(expiry),
            gob::Value::Int(score),
            gob::Value::Int(subscore),
            gob::Value::String(owner),
            gob::Value::Int(rank),
        ] = <[gob::Value; 7]>::try_from(values).ok()?
        else {
            return None;
        };
        Some(RecordCursor {
            is_next,
            board,
            expiry,
            score,
            subscore,
            owner,
            rank,
        })
    }
}

const LIST_TYPE: &str = "TournamentListCursor";

/// A page of boards starts after the board with this id.
pub fn encode_list(id: &str) -> String {
    STANDARD.encode(gob::encode(
        LIST_TYPE,
        &[("Id", gob::Value::String(id.to_owned()))],
    ))
}

pub fn decode_list(text: &str) -> Option<String> {
    let bytes = STANDARD.decode(text).ok()?;
    let values = gob::decode(
        &bytes,
        LIST_TYPE,
        &[("Id", gob::Value::String(String::new()))],
    )?;
    match values.into_iter().next()? {
        gob::Value::String(id) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let cursor = RecordCursor {
            is_next: true,
            board: "weekly".into(),
            expiry: 1_700_000_000,
            score: -5,
            subscore: 7,
            owner: uuid::Uuid::now_v7().to_string(),
            rank: 41,
        };
        assert_eq!(RecordCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(decode_list(&encode_list("b1")), Some("b1".to_owned()));
        for bad in ["", "x", "AAAA", "not base64!"] {
            assert_eq!(RecordCursor::decode(bad), None);
            assert_eq!(decode_list(bad), None);
        }
    }
}
