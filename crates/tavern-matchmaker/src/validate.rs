//! Validation of `matchmaker_add` and `matchmaker_remove`, with the exact
//! messages and realtime error codes Nakama sends to clients.

use tavern_query::ParseError;

use crate::ticket::TicketRequest;

/// Realtime error code `BAD_INPUT`.
const BAD_INPUT: i32 = 3;
/// Realtime error code `RUNTIME_EXCEPTION`.
const RUNTIME_EXCEPTION: i32 = 0;

/// Why a ticket was not added. [`AddError::message`] and
/// [`AddError::code`] are what the client gets; `Display` is for logs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AddError {
    #[error("minimum count below 2")]
    MinCount,
    #[error("maximum count below minimum count")]
    MaxCount,
    #[error("count multiple below 1")]
    CountMultiple,
    #[error("count multiple does not divide the minimum count")]
    CountMultipleMin,
    #[error("count multiple does not divide the maximum count")]
    CountMultipleMax,
    #[error("invalid matchmaker query: {0}")]
    Query(ParseError),
    #[error("session already holds the maximum number of tickets")]
    TooManyTickets,
}

impl AddError {
    /// The message sent to the client.
    pub fn message(&self) -> &'static str {
        match self {
            AddError::MinCount => "Invalid minimum count, must be >= 2",
            AddError::MaxCount => "Invalid maximum count, must be >= minimum count",
            AddError::CountMultiple => "Invalid count multiple, must be >= 1",
            AddError::CountMultipleMin => "Invalid count multiple for minimum count, must divide",
            AddError::CountMultipleMax => "Invalid count multiple for maximum count, must divide",
            AddError::Query(_) | AddError::TooManyTickets => "Error adding to matchmaker",
        }
    }

    /// The realtime error code sent to the client.
    pub fn code(&self) -> i32 {
        match self {
            AddError::Query(_) | AddError::TooManyTickets => RUNTIME_EXCEPTION,
            _ => BAD_INPUT,
        }
    }
}

/// Why a ticket was not removed; both are `BAD_INPUT` for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RemoveError {
    #[error("empty matchmaker ticket")]
    Empty,
    #[error("matchmaker ticket not found for this session")]
    NotFound,
}

impl RemoveError {
    /// The message sent to the client.
    pub fn message(&self) -> &'static str {
        match self {
            RemoveError::Empty => "Invalid matchmaker ticket",
            RemoveError::NotFound => "Matchmaker ticket not found",
        }
    }

    /// The realtime error code sent to the client.
    pub fn code(&self) -> i32 {
        BAD_INPUT
    }
}

/// Checks the counts in Nakama's order and returns the count multiple
/// (1 when not given).
pub(crate) fn counts(req: &TicketRequest) -> Result<i32, AddError> {
    if req.min_count < 2 {
        return Err(AddError::MinCount);
    }
    if req.max_count < req.min_count {
        return Err(AddError::MaxCount);
    }
    let Some(multiple) = req.count_multiple else {
        return Ok(1);
    };
    if multiple < 1 {
        return Err(AddError::CountMultiple);
    }
    if req.min_count % multiple != 0 {
        return Err(AddError::CountMultipleMin);
    }
    if req.max_count % multiple != 0 {
        return Err(AddError::CountMultipleMax);
    }
    Ok(multiple)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use uuid::Uuid;

    use super::*;
    use crate::{Config, Matchmaker, Presence};

    fn request(min: i32, max: i32, multiple: Option<i32>, query: &str) -> TicketRequest {
        TicketRequest {
            presence: Presence {
                user_id: Uuid::from_u64_pair(1, 1),
                session_id: Uuid::from_u64_pair(2, 1),
                username: "ann".into(),
                node: "tavern".into(),
            },
            party_id: None,
            others: Vec::new(),
            min_count: min,
            max_count: max,
            count_multiple: multiple,
            query: query.into(),
            string_properties: HashMap::new(),
            numeric_properties: HashMap::new(),
        }
    }

    fn add(req: TicketRequest) -> Result<String, AddError> {
        Matchmaker::new(Config::default()).add(req, 0)
    }

    fn rejected(req: TicketRequest, code: i32, message: &str) {
        let err = add(req).unwrap_err();
        assert_eq!((err.code(), err.message()), (code, message), "{err}");
    }

    #[test]
    fn minimum_count() {
        rejected(
            request(1, 2, None, "*"),
            3,
            "Invalid minimum count, must be >= 2",
        );
        rejected(
            request(-5, 2, None, "*"),
            3,
            "Invalid minimum count, must be >= 2",
        );
        // The minimum is checked first.
        rejected(
            request(0, -1, Some(0), "("),
            3,
            "Invalid minimum count, must be >= 2",
        );
    }

    #[test]
    fn maximum_count() {
        rejected(
            request(3, 2, None, "*"),
            3,
            "Invalid maximum count, must be >= minimum count",
        );
    }

    #[test]
    fn count_multiple() {
        rejected(
            request(2, 4, Some(0), "*"),
            3,
            "Invalid count multiple, must be >= 1",
        );
        rejected(
            request(2, 4, Some(-2), "*"),
            3,
            "Invalid count multiple, must be >= 1",
        );
        rejected(
            request(3, 6, Some(2), "*"),
            3,
            "Invalid count multiple for minimum count, must divide",
        );
        rejected(
            request(2, 5, Some(2), "*"),
            3,
            "Invalid count multiple for maximum count, must divide",
        );
        assert!(add(request(2, 4, Some(2), "*")).is_ok());
        assert!(add(request(2, 2, Some(1), "*")).is_ok());
    }

    #[test]
    fn query() {
        let err = add(request(2, 2, None, "+properties.region:a:b")).unwrap_err();
        assert!(matches!(err, AddError::Query(_)));
        assert_eq!(
            (err.code(), err.message()),
            (0, "Error adding to matchmaker")
        );
        // Counts are checked before the query.
        rejected(
            request(2, 1, None, "+properties.region:a:b"),
            3,
            "Invalid maximum count, must be >= minimum count",
        );
        // Empty means `*`.
        assert!(add(request(2, 2, None, "")).is_ok());
    }

    #[test]
    fn too_many_tickets() {
        let mut mm = Matchmaker::new(Config {
            max_tickets: 2,
            ..Config::default()
        });
        mm.add(request(2, 2, None, "*"), 0).unwrap();
        mm.add(request(2, 2, None, "*"), 0).unwrap();
        let err = mm.add(request(2, 2, None, "*"), 0).unwrap_err();
        assert_eq!(err, AddError::TooManyTickets);
        assert_eq!(
            (err.code(), err.message()),
            (0, "Error adding to matchmaker")
        );
        // A bad query is reported before the limit, as in Nakama.
        let err = mm.add(request(2, 2, None, "\"open"), 0).unwrap_err();
        assert!(matches!(err, AddError::Query(_)));
        // Another session is not limited.
        let mut other = request(2, 2, None, "*");
        other.presence.session_id = Uuid::from_u64_pair(2, 2);
        assert!(mm.add(other, 0).is_ok());
    }

    #[test]
    fn remove_messages() {
        let mut mm = Matchmaker::new(Config::default());
        let session = Uuid::from_u64_pair(2, 1);
        let err = mm.remove(session, "").unwrap_err();
        assert_eq!(
            (err.code(), err.message()),
            (3, "Invalid matchmaker ticket")
        );
        let err = mm.remove(session, "nope").unwrap_err();
        assert_eq!(
            (err.code(), err.message()),
            (3, "Matchmaker ticket not found")
        );
        let ticket = mm.add(request(2, 2, None, "*"), 0).unwrap();
        // Only the owning session may remove it.
        let err = mm.remove(Uuid::from_u64_pair(2, 9), &ticket).unwrap_err();
        assert_eq!(err, RemoveError::NotFound);
        assert_eq!(mm.remove(session, &ticket), Ok(()));
        assert_eq!(mm.remove(session, &ticket), Err(RemoveError::NotFound));
    }
}
