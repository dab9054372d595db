//! Runtime errors: a message and a gRPC status code, as Nakama's `runtime.NewError`.

use std::fmt;

/// gRPC status codes, with the names Nakama's runtime uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    Ok,
    Canceled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    Internal,
    Unavailable,
    DataLoss,
    Unauthenticated,
    /// A number outside gRPC's codes, which Nakama passes through as given (JavaScript's
    /// `throw {message, code: 99}`): HTTP 500 with that code in the body.
    Other(u16),
}

impl Code {
    /// The code for a number as game code gives it: gRPC's codes by name, other positive
    /// numbers up to 65535 as [`Code::Other`], anything else (0, negative, larger) `None`.
    pub fn from_number(n: i64) -> Option<Code> {
        let n = u16::try_from(n).ok().filter(|&n| n != 0)?;
        Some(Code::from_u16(n).unwrap_or(Code::Other(n)))
    }

    /// The code for a number; numbers outside 0..=16 have none.
    pub fn from_u16(n: u16) -> Option<Code> {
        use Code::*;
        const ALL: [Code; 17] = [
            Ok,
            Canceled,
            Unknown,
            InvalidArgument,
            DeadlineExceeded,
            NotFound,
            AlreadyExists,
            PermissionDenied,
            ResourceExhausted,
            FailedPrecondition,
            Aborted,
            OutOfRange,
            Unimplemented,
            Internal,
            Unavailable,
            DataLoss,
            Unauthenticated,
        ];
        ALL.get(usize::from(n)).copied()
    }

    /// The numeric value sent on the wire.
    pub fn as_u16(self) -> u16 {
        use Code::*;
        match self {
            Ok => 0,
            Canceled => 1,
            Unknown => 2,
            InvalidArgument => 3,
            DeadlineExceeded => 4,
            NotFound => 5,
            AlreadyExists => 6,
            PermissionDenied => 7,
            ResourceExhausted => 8,
            FailedPrecondition => 9,
            Aborted => 10,
            OutOfRange => 11,
            Unimplemented => 12,
            Internal => 13,
            Unavailable => 14,
            DataLoss => 15,
            Unauthenticated => 16,
            Other(n) => n,
        }
    }

    /// The HTTP status Nakama's REST gateway answers with for this code.
    pub fn http_status(self) -> u16 {
        use Code::*;
        match self {
            Ok => 200,
            Canceled => 499,
            InvalidArgument | FailedPrecondition | OutOfRange => 400,
            DeadlineExceeded => 504,
            NotFound => 404,
            AlreadyExists | Aborted => 409,
            PermissionDenied => 403,
            ResourceExhausted => 429,
            Unimplemented => 501,
            Unavailable => 503,
            Unauthenticated => 401,
            Unknown | Internal | DataLoss | Other(_) => 500,
        }
    }
}

/// An error returned by game code: shown to the client with its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError {
    pub message: String,
    pub code: Code,
}

impl RuntimeError {
    /// An error with a message and a code.
    ///
    /// ```
    /// use tavern_runtime::{Code, RuntimeError};
    /// let err = RuntimeError::new("not your turn", Code::FailedPrecondition);
    /// assert_eq!(err.code.http_status(), 400);
    /// ```
    pub fn new(message: impl Into<String>, code: Code) -> RuntimeError {
        RuntimeError {
            message: message.into(),
            code,
        }
    }

    /// An internal error (code 13).
    pub fn internal(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(message, Code::Internal)
    }

    /// An invalid-argument error (code 3).
    pub fn invalid_argument(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(message, Code::InvalidArgument)
    }

    /// A not-found error (code 5).
    pub fn not_found(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(message, Code::NotFound)
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuntimeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_map_to_http() {
        for n in 0..=16 {
            assert_eq!(Code::from_u16(n).unwrap().as_u16(), n);
        }
        assert_eq!(Code::from_u16(17), None);
        assert_eq!(Code::Unauthenticated.http_status(), 401);
        assert_eq!(Code::Canceled.http_status(), 499);
        assert_eq!(Code::Internal.http_status(), 500);
        assert_eq!(Code::from_number(5), Some(Code::NotFound));
        assert_eq!(Code::from_number(99), Some(Code::Other(99)));
        assert_eq!(Code::Other(99).as_u16(), 99);
        assert_eq!(Code::Other(99).http_status(), 500);
        for n in [0, -1, 70_000] {
            assert_eq!(Code::from_number(n), None);
        }
    }
}
