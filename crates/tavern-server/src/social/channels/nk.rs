//! The server's side of the domain's `Nk` functions, with Nakama's checks and messages.

use tavern_proto::{api, realtime::ChannelMessageAck};
use tavern_runtime::{BoxFuture, ChannelSender, ChannelType, ChannelsBackend, Code, RuntimeError};
use uuid::Uuid;

use super::history::{self, HistoryError};
use super::target::{TargetError, channel_stream};
use super::write::{self, Sender, WriteError};
use crate::realtime::stream::Stream;
use crate::runtime::nk_backend::ServerNk;

impl ChannelsBackend for ServerNk {
    fn channel_message_send(
        &self,
        channel_id: String,
        content: serde_json::Value,
        sender: ChannelSender,
        persist: bool,
    ) -> BoxFuture<'_, Result<ChannelMessageAck, RuntimeError>> {
        Box::pin(async move {
            let stream = stream_of(&channel_id)?;
            let content = content_text(content)?;
            let sender = sender_of(sender)?;
            let state = self.state()?;
            write::send(&state, &stream, &sender, content, persist)
                .await
                .map_err(write_failed)
        })
    }

    fn channel_message_update(
        &self,
        channel_id: String,
        message_id: String,
        content: serde_json::Value,
        sender: ChannelSender,
        persist: bool,
    ) -> BoxFuture<'_, Result<ChannelMessageAck, RuntimeError>> {
        Box::pin(async move {
            let stream = stream_of(&channel_id)?;
            let message_id = message_id_of(&message_id)?;
            let content = content_text(content)?;
            let sender = sender_of(sender)?;
            let state = self.state()?;
            write::update(&state, &stream, &sender, message_id, content, persist)
                .await
                .map_err(write_failed)
        })
    }

    fn channel_message_remove(
        &self,
        channel_id: String,
        message_id: String,
        sender: ChannelSender,
        persist: bool,
    ) -> BoxFuture<'_, Result<ChannelMessageAck, RuntimeError>> {
        Box::pin(async move {
            let stream = stream_of(&channel_id)?;
            let message_id = message_id_of(&message_id)?;
            let sender = sender_of(sender)?;
            let state = self.state()?;
            write::remove(&state, &stream, &sender, message_id, persist)
                .await
                .map_err(write_failed)
        })
    }

    fn channel_messages_list(
        &self,
        channel_id: String,
        limit: usize,
        forward: bool,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::ChannelMessageList, RuntimeError>> {
        Box::pin(async move {
            let stream = stream_of(&channel_id)?;
            if !(1..=100).contains(&limit) {
                return Err(RuntimeError::invalid_argument("limit must be 1-100"));
            }
            let state = self.state()?;
            history::list(
                &state,
                Uuid::nil(),
                &stream,
                &channel_id,
                limit,
                forward,
                &cursor,
            )
            .await
            .map_err(|e| match e {
                HistoryError::CursorInvalid => {
                    RuntimeError::invalid_argument("invalid channel cursor")
                }
                HistoryError::GroupNotFound | HistoryError::NotParticipant => {
                    RuntimeError::invalid_argument("group not found")
                }
                HistoryError::Database => {
                    RuntimeError::internal("Error listing messages from channel.")
                }
            })
        })
    }

    fn channel_id_build(
        &self,
        sender_id: String,
        target: String,
        channel_type: ChannelType,
    ) -> BoxFuture<'_, Result<String, RuntimeError>> {
        Box::pin(async move {
            let sender = sender_of(ChannelSender {
                user_id: sender_id,
                username: String::new(),
            })?;
            let state = self.state()?;
            let stream = channel_stream(&state, sender.user_id, &target, channel_type as i32)
                .await
                .map_err(|e| match e {
                    TargetError::Invalid(message) => RuntimeError::invalid_argument(message),
                    TargetError::Lookup(message) => RuntimeError::internal(message),
                })?;
            Ok(stream.channel_id().unwrap_or_default())
        })
    }
}

fn stream_of(channel_id: &str) -> Result<Stream, RuntimeError> {
    Stream::from_channel_id(channel_id)
        .ok_or_else(|| RuntimeError::invalid_argument("invalid channel id"))
}

fn message_id_of(message_id: &str) -> Result<Uuid, RuntimeError> {
    Uuid::parse_str(message_id)
        .map_err(|_| RuntimeError::invalid_argument("Invalid message identifier"))
}

/// Content from server code: a JSON object, `null` for an empty one.
fn content_text(content: serde_json::Value) -> Result<String, RuntimeError> {
    match content {
        serde_json::Value::Null => Ok("{}".to_owned()),
        object @ serde_json::Value::Object(_) => Ok(object.to_string()),
        _ => Err(RuntimeError::invalid_argument(
            "expects message content to be a valid JSON object",
        )),
    }
}

/// The sender: a user id, or empty for the system user.
fn sender_of(sender: ChannelSender) -> Result<Sender, RuntimeError> {
    let user_id = if sender.user_id.is_empty() {
        Uuid::nil()
    } else {
        Uuid::parse_str(&sender.user_id).map_err(|_| {
            RuntimeError::invalid_argument(
                "expects sender id to either be not set, empty string or a valid UUID",
            )
        })?
    };
    Ok(Sender {
        user_id,
        username: sender.username,
    })
}

fn write_failed(error: WriteError) -> RuntimeError {
    match error {
        WriteError::NotFound => RuntimeError::new("channel message not found", Code::NotFound),
        WriteError::Persist => RuntimeError::internal("error persisting channel message"),
    }
}
