//! Chat channels and their messages: the `Nk` functions and the part of the backend behind them.

use super::{BoxFuture, Nk, domain};
use crate::{RuntimeError, api, realtime};

/// The server's side of the chat channels and their messages functions of [`Nk`](super::Nk).
pub trait ChannelsBackend: Send + Sync {
    /// See [`Nk::channel_message_send`].
    fn channel_message_send(
        &self,
        channel_id: String,
        content: serde_json::Value,
        sender: ChannelSender,
        persist: bool,
    ) -> BoxFuture<'_, Result<realtime::ChannelMessageAck, RuntimeError>>;
    /// See [`Nk::channel_message_update`].
    fn channel_message_update(
        &self,
        channel_id: String,
        message_id: String,
        content: serde_json::Value,
        sender: ChannelSender,
        persist: bool,
    ) -> BoxFuture<'_, Result<realtime::ChannelMessageAck, RuntimeError>>;
    /// See [`Nk::channel_message_remove`].
    fn channel_message_remove(
        &self,
        channel_id: String,
        message_id: String,
        sender: ChannelSender,
        persist: bool,
    ) -> BoxFuture<'_, Result<realtime::ChannelMessageAck, RuntimeError>>;
    /// See [`Nk::channel_messages_list`].
    fn channel_messages_list(
        &self,
        channel_id: String,
        limit: usize,
        forward: bool,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::ChannelMessageList, RuntimeError>>;
    /// See [`Nk::channel_id_build`].
    fn channel_id_build(
        &self,
        sender_id: String,
        target: String,
        channel_type: ChannelType,
    ) -> BoxFuture<'_, Result<String, RuntimeError>>;
}

/// Who a message from server code is from: a user (id and username), or the system (both
/// empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelSender {
    pub user_id: String,
    pub username: String,
}

impl ChannelSender {
    /// The system user.
    pub fn system() -> ChannelSender {
        ChannelSender::default()
    }

    /// A user.
    pub fn user(user_id: &str, username: &str) -> ChannelSender {
        ChannelSender {
            user_id: user_id.to_owned(),
            username: username.to_owned(),
        }
    }
}

/// The kinds of channel, Nakama's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelType {
    /// A room, named by its target.
    Room = 1,
    /// Direct messages between the sender and the user the target names.
    DirectMessage = 2,
    /// The channel of the group the target names.
    Group = 3,
}

impl ChannelType {
    /// The type of Nakama's number, if it is one.
    pub fn from_number(n: i64) -> Option<ChannelType> {
        match n {
            1 => Some(ChannelType::Room),
            2 => Some(ChannelType::DirectMessage),
            3 => Some(ChannelType::Group),
            _ => None,
        }
    }
}

impl Nk {
    /// Sends a chat message (code 0) to everyone in a channel and, when `persist`, keeps it in
    /// the channel's history. `content` is a JSON object (`null` is `{}`).
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed
    /// channel or sender id or content that is not an object.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::{ChannelSender, ChannelType};
    /// let channel = nk.channel_id_build("", "lobby", ChannelType::Room).await?;
    /// let content = serde_json::json!({"text": "The tournament starts in 5 minutes"});
    /// nk.channel_message_send(&channel, content, ChannelSender::system(), true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn channel_message_send(
        &self,
        channel_id: &str,
        content: serde_json::Value,
        sender: ChannelSender,
        persist: bool,
    ) -> Result<realtime::ChannelMessageAck, RuntimeError> {
        domain(self.backend.channels())?
            .channel_message_send(channel_id.to_owned(), content, sender, persist)
            .await
    }

    /// Edits a message (pushed to the channel with code 1). With `persist`, the history's
    /// message must be the sender's; it keeps code 0 and gets the new content.
    pub async fn channel_message_update(
        &self,
        channel_id: &str,
        message_id: &str,
        content: serde_json::Value,
        sender: ChannelSender,
        persist: bool,
    ) -> Result<realtime::ChannelMessageAck, RuntimeError> {
        domain(self.backend.channels())?
            .channel_message_update(
                channel_id.to_owned(),
                message_id.to_owned(),
                content,
                sender,
                persist,
            )
            .await
    }

    /// Removes a message (pushed to the channel with code 2). With `persist`, the history's
    /// message must be the sender's, and is deleted.
    pub async fn channel_message_remove(
        &self,
        channel_id: &str,
        message_id: &str,
        sender: ChannelSender,
        persist: bool,
    ) -> Result<realtime::ChannelMessageAck, RuntimeError> {
        domain(self.backend.channels())?
            .channel_message_remove(
                channel_id.to_owned(),
                message_id.to_owned(),
                sender,
                persist,
            )
            .await
    }

    /// A page of a channel's history (`limit` 1..=100), oldest first when `forward`, from a
    /// cursor of an earlier page (`""` for the first), as `GET /v2/channel/{channel_id}` but
    /// for any channel.
    pub async fn channel_messages_list(
        &self,
        channel_id: &str,
        limit: usize,
        forward: bool,
        cursor: &str,
    ) -> Result<api::ChannelMessageList, RuntimeError> {
        domain(self.backend.channels())?
            .channel_messages_list(channel_id.to_owned(), limit, forward, cursor.to_owned())
            .await
    }

    /// The id of a channel, as a client joining it would get: a room's name, a user id for
    /// direct messages with `sender_id` (`""`: the system), a group id. Nothing is created.
    pub async fn channel_id_build(
        &self,
        sender_id: &str,
        target: &str,
        channel_type: ChannelType,
    ) -> Result<String, RuntimeError> {
        domain(self.backend.channels())?
            .channel_id_build(sender_id.to_owned(), target.to_owned(), channel_type)
            .await
    }
}
