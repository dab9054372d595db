//! From what a client joins (a room name, a user id, a group id) to the channel's stream, with
//! Nakama's rules and messages (`BuildChannelId`).

use uuid::Uuid;

use super::access;
use crate::realtime::stream::{Stream, StreamMode};
use crate::state::AppState;

/// `channel_join.type`: 0 (unspecified) and 1 room, 2 direct message, 3 group.
pub const ROOM: i32 = 1;
pub const DIRECT_MESSAGE: i32 = 2;
pub const GROUP: i32 = 3;

/// Why a channel could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Bad input (the client's fault); Nakama's message.
    Invalid(String),
    /// A lookup failed (logged); Nakama's message.
    Lookup(&'static str),
}

impl TargetError {
    fn target(reason: &str) -> TargetError {
        TargetError::Invalid(format!("{reason}: Invalid channel target"))
    }
}

/// The stream of the channel `user_id` asks to join. The system user (nil id) may open any
/// direct-message or group channel; others only those the rules of [`access`] allow.
pub async fn channel_stream(
    state: &AppState,
    user_id: Uuid,
    target: &str,
    kind: i32,
) -> Result<Stream, TargetError> {
    if target.is_empty() {
        return Err(TargetError::Invalid("Invalid channel target".to_owned()));
    }
    match kind {
        0 | ROOM => {
            if target.len() > 64 {
                return Err(TargetError::target(
                    "Channel name is required and must be 1-64 chars",
                ));
            }
            if target.chars().any(|c| c.is_ascii_control()) {
                return Err(TargetError::target(
                    "Channel name must not contain control chars",
                ));
            }
            Ok(Stream::new(StreamMode::ChatRoom, Uuid::nil(), target))
        }
        DIRECT_MESSAGE => {
            let other = Uuid::parse_str(target)
                .ok()
                .filter(|id| !id.is_nil())
                .ok_or_else(|| TargetError::target("Invalid user ID in direct message join"))?;
            if !user_id.is_nil() {
                let allowed = access::direct_message_allowed(state, user_id, other)
                    .await
                    .map_err(|e| lookup_failed("Failed to look up user ID", e))?;
                if !allowed {
                    return Err(TargetError::target("User ID not found"));
                }
            }
            // The pair in a fixed order, so both users build the same channel.
            let (subject, subcontext) = if other.to_string() > user_id.to_string() {
                (user_id, other)
            } else {
                (other, user_id)
            };
            Ok(Stream {
                mode: StreamMode::DirectMessage,
                subject,
                subcontext,
                label: String::new(),
            })
        }
        GROUP => {
            let group_id = Uuid::parse_str(target)
                .map_err(|_| TargetError::target("Invalid group ID in group channel join"))?;
            if !user_id.is_nil() {
                let member = access::group_member(state, group_id, user_id)
                    .await
                    .map_err(|e| lookup_failed("Failed to look up group membership", e))?;
                if !member {
                    return Err(TargetError::target("Group not found"));
                }
            }
            Ok(Stream::new(StreamMode::GroupChat, group_id, ""))
        }
        _ => Err(TargetError::Invalid("Invalid channel type".to_owned())),
    }
}

fn lookup_failed(message: &'static str, error: sqlx::Error) -> TargetError {
    tracing::error!(error = %error, "{message}");
    TargetError::Lookup(message)
}
