//! Encoding and decoding of the realtime [`Envelope`] in both socket formats
//! (`?format=json` text frames and `?format=protobuf` binary frames), and
//! the [`DecodeError`] they report.

use std::fmt;

use prost::Message as _;

use crate::realtime::Envelope;

/// Why an incoming realtime frame could not be decoded.
///
/// Nakama closes the socket on any such error; the message is meant for logs.
#[derive(Debug)]
pub enum DecodeError {
    /// Not valid JSON, or not a valid envelope in Nakama's JSON dialect
    /// (unknown field, wrong type, two oneof members, ...).
    Json(serde_json::Error),
    /// Not a valid protobuf `nakama.realtime.Envelope`.
    Protobuf(prost::DecodeError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Json(e) => write!(f, "malformed JSON envelope: {e}"),
            DecodeError::Protobuf(e) => write!(f, "malformed protobuf envelope: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Json(e) => Some(e),
            DecodeError::Protobuf(e) => Some(e),
        }
    }
}

impl Envelope {
    /// Decodes a JSON text frame. Strict like Nakama: unknown fields anywhere
    /// in the envelope are an error. Accepts snake_case or lowerCamelCase
    /// names, int64 as string or number, std or URL-safe base64 bytes, and
    /// treats `null` as absent.
    pub fn from_json(text: &str) -> Result<Envelope, DecodeError> {
        serde_json::from_str(text).map_err(DecodeError::Json)
    }

    /// Encodes as a JSON text frame in Nakama's output dialect: snake_case
    /// names, zero values omitted, int64 as strings, enums as numbers.
    pub fn to_json(&self) -> String {
        // Cannot fail: every generated impl and `Timestamp` serialize
        // infallibly, and all map keys are strings.
        serde_json::to_string(self).expect("realtime envelopes always serialize to JSON")
    }

    /// Decodes a binary protobuf frame.
    pub fn from_protobuf(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        Envelope::decode(bytes).map_err(DecodeError::Protobuf)
    }

    /// Encodes as a binary protobuf frame.
    pub fn to_protobuf(&self) -> Vec<u8> {
        self.encode_to_vec()
    }
}
