//! Writing messages into channels: the one path for chat messages, their edits and removals,
//! and the group events of the groups domain. A message is stored when the channel persists,
//! then pushed to every session on the channel's stream, the sender's own included.

use tavern_proto::realtime::{ChannelMessageAck, Envelope, envelope::Message};
use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use super::sql;
use super::writer::MessageWriter;
use crate::api::error::ApiError;
use crate::realtime::stream::{Stream, StreamMode};
use crate::state::AppState;
use crate::storage::now_unix;

/// Message codes, Nakama's numbers.
pub mod code {
    /// A chat message.
    pub const CHAT: i32 = 0;
    /// An edit of a chat message (pushed only; the history keeps code 0 with the new content).
    pub const CHAT_UPDATE: i32 = 1;
    /// A chat message's removal (pushed only; the history loses the message).
    pub const CHAT_REMOVE: i32 = 2;
    /// A user joined the group.
    pub const GROUP_JOIN: i32 = 3;
    /// A user was added to the group.
    pub const GROUP_ADD: i32 = 4;
    /// A user left the group.
    pub const GROUP_LEAVE: i32 = 5;
    /// A user was kicked from the group.
    pub const GROUP_KICK: i32 = 6;
    /// A user was promoted.
    pub const GROUP_PROMOTE: i32 = 7;
    /// A user was banned from the group.
    pub const GROUP_BAN: i32 = 8;
    /// A user was demoted.
    pub const GROUP_DEMOTE: i32 = 9;
}

/// Who writes a message: a user, or the system (the nil id, an empty username).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub user_id: Uuid,
    pub username: String,
}

impl Sender {
    /// The system user, for messages server code sends without a sender.
    pub fn system() -> Sender {
        Sender {
            user_id: Uuid::nil(),
            username: String::new(),
        }
    }
}

/// Why a channel write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// The message to update or remove is not in the channel's history, or is another user's.
    NotFound,
    /// The database refused the write (logged).
    Persist,
}

/// A message built for a channel: store it ([`ChannelWrite::insert`], possibly inside the
/// caller's transaction) when it persists, then [`ChannelWrite::push`] it to the members.
#[derive(Debug, Clone)]
pub struct ChannelWrite {
    stream: Stream,
    message: api::ChannelMessage,
}

impl ChannelWrite {
    /// A message on a chat stream with Nakama's fields for the stream's kind.
    fn new(
        stream: &Stream,
        code: i32,
        sender: &Sender,
        message_id: Uuid,
        content: String,
        persistent: bool,
    ) -> ChannelWrite {
        let now = Timestamp::from_unix_seconds(now_unix());
        let wire = stream.to_wire();
        let mut message = api::ChannelMessage {
            channel_id: stream.channel_id().unwrap_or_default(),
            message_id: message_id.to_string(),
            code: Some(code),
            sender_id: sender.user_id.to_string(),
            username: sender.username.clone(),
            content,
            create_time: Some(now),
            update_time: Some(now),
            persistent: Some(persistent),
            ..Default::default()
        };
        match stream.mode {
            StreamMode::ChatRoom => message.room_name = wire.label,
            StreamMode::GroupChat => message.group_id = wire.subject,
            StreamMode::DirectMessage => {
                message.user_id_one = wire.subject;
                message.user_id_two = wire.subcontext;
            }
            _ => {}
        }
        ChannelWrite {
            stream: stream.clone(),
            message,
        }
    }

    /// The message as members receive it.
    pub fn message(&self) -> &api::ChannelMessage {
        &self.message
    }

    /// The sender's acknowledgement of the message.
    pub fn ack(&self) -> ChannelMessageAck {
        let m = &self.message;
        ChannelMessageAck {
            channel_id: m.channel_id.clone(),
            message_id: m.message_id.clone(),
            code: m.code,
            username: m.username.clone(),
            create_time: m.create_time,
            update_time: m.update_time,
            persistent: m.persistent,
            room_name: m.room_name.clone(),
            group_id: m.group_id.clone(),
            user_id_one: m.user_id_one.clone(),
            user_id_two: m.user_id_two.clone(),
        }
    }

    /// Stores the message in the channel's history, on any executor of either database (a
    /// pool, a connection, or a transaction: `write.insert(&mut *tx)`).
    pub async fn insert<'c, DB, E>(&self, executor: E) -> Result<(), sqlx::Error>
    where
        DB: sqlx::Database,
        E: sqlx::Executor<'c, Database = DB>,
        for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        for<'a> String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        for<'a> i32: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        for<'a> i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        DB::Arguments: sqlx::IntoArguments<DB>,
    {
        let m = &self.message;
        sqlx::query(sql::INSERT)
            .bind(m.message_id.as_str())
            .bind(m.code.unwrap_or_default())
            .bind(m.sender_id.as_str())
            .bind(m.username.as_str())
            .bind(i32::from(self.stream.mode.number()))
            .bind(self.stream.subject.to_string())
            .bind(self.stream.subcontext.to_string())
            .bind(self.stream.label.as_str())
            .bind(m.content.as_str())
            .bind(m.create_time.map_or(0, |t| t.seconds))
            .execute(executor)
            .await?;
        Ok(())
    }

    /// Pushes the message to every session on the channel.
    pub fn push(&self, state: &AppState) {
        state.realtime.tracker.send(
            &self.stream,
            Envelope {
                cid: String::new(),
                message: Some(Message::ChannelMessage(self.message.clone())),
            },
        );
    }
}

/// Sends a chat message (code 0) into a channel: stored when `persist`, pushed to the members,
/// acknowledged. The caller has checked the content (a JSON object) and the sender's right to
/// write there.
pub async fn send(
    state: &AppState,
    stream: &Stream,
    sender: &Sender,
    content: String,
    persist: bool,
) -> Result<ChannelMessageAck, WriteError> {
    let write = ChannelWrite::new(stream, code::CHAT, sender, Uuid::now_v7(), content, persist);
    if persist {
        MessageWriter::of(state)
            .store(write.clone())
            .await
            .map_err(|e| persist_failed("could not persist a channel message", e))?;
    }
    write.push(state);
    Ok(write.ack())
}

/// Edits a chat message of the sender's (pushed with code 1). With `persist`, the history's
/// message gets the new content, and the push carries its original creation time; a message
/// that is not the sender's, or not in this channel, is [`WriteError::NotFound`].
pub async fn update(
    state: &AppState,
    stream: &Stream,
    sender: &Sender,
    message_id: Uuid,
    content: String,
    persist: bool,
) -> Result<ChannelMessageAck, WriteError> {
    let mut write = ChannelWrite::new(
        stream,
        code::CHAT_UPDATE,
        sender,
        message_id,
        content,
        persist,
    );
    if persist {
        let created = sql::update(&state.db, stream, &write.message)
            .await
            .map_err(|e| persist_failed("could not persist a channel message update", e))?
            .ok_or(WriteError::NotFound)?;
        write.message.create_time = Some(Timestamp::from_unix_seconds(created));
    }
    write.push(state);
    Ok(write.ack())
}

/// Removes a chat message of the sender's (pushed with code 2 and content `{}`). With
/// `persist`, the message leaves the history; one that is not the sender's, or not in this
/// channel, is [`WriteError::NotFound`].
pub async fn remove(
    state: &AppState,
    stream: &Stream,
    sender: &Sender,
    message_id: Uuid,
    persist: bool,
) -> Result<ChannelMessageAck, WriteError> {
    let mut write = ChannelWrite::new(
        stream,
        code::CHAT_REMOVE,
        sender,
        message_id,
        "{}".to_owned(),
        persist,
    );
    if persist {
        let created = sql::delete(&state.db, stream, message_id, sender.user_id)
            .await
            .map_err(|e| persist_failed("could not persist a channel message removal", e))?
            .ok_or(WriteError::NotFound)?;
        write.message.create_time = Some(Timestamp::from_unix_seconds(created));
    }
    write.push(state);
    Ok(write.ack())
}

/// A group event (codes 3 to 9: join, add, leave, kick, promote, ban, demote) in a group's
/// channel, naming the user it happened to, content `{}`, persistent. Store it with
/// [`ChannelWrite::insert`] in the transaction that made the change, then
/// [`ChannelWrite::push`] it after the commit; or do both at once with
/// [`ChannelWrite::write`].
pub fn group_event(group_id: Uuid, code: i32, user_id: Uuid, username: &str) -> ChannelWrite {
    let stream = Stream::new(StreamMode::GroupChat, group_id, "");
    let sender = Sender {
        user_id,
        username: username.to_owned(),
    };
    ChannelWrite::new(
        &stream,
        code,
        &sender,
        Uuid::now_v7(),
        "{}".to_owned(),
        true,
    )
}

impl ChannelWrite {
    /// Stores the message (when it persists) on its own, then pushes it.
    pub async fn write(&self, state: &AppState) -> Result<(), ApiError> {
        if self.message.persistent == Some(true) {
            MessageWriter::of(state)
                .store(self.clone())
                .await
                .map_err(|e| ApiError::database("Could not persist channel message.", e))?;
        }
        self.push(state);
        Ok(())
    }
}

fn persist_failed(context: &'static str, error: sqlx::Error) -> WriteError {
    tracing::error!(error = %error, "{context}");
    WriteError::Persist
}
