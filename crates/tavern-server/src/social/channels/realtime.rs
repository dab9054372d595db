//! The socket side of channels: `channel_join`, `channel_leave` and
//! `channel_message_send` / `_update` / `_remove`, with Nakama's answers and messages.

use std::sync::Arc;

use tavern_proto::realtime::{
    Channel, ChannelJoin, ChannelLeave, ChannelMessageRemove, ChannelMessageSend,
    ChannelMessageUpdate, envelope::Message, error::Code,
};
use uuid::Uuid;

use super::target::{TargetError, channel_stream};
use super::write::{self, Sender, WriteError};
use crate::realtime::pipeline::Reply;
use crate::realtime::stream::{Presence, Stream, StreamMode};
use crate::social::notifications::{self, NewNotification};
use crate::state::AppState;

/// `channel_join`: tracks the session on the channel (hidden or not, with or without
/// persistence) and answers with the channel and who else is there. Joining a direct message
/// the other user is not in sends them notification -1.
pub async fn join(state: &Arc<AppState>, reply: &Reply<'_>, request: ChannelJoin) {
    let session = reply.session;
    let stream = match channel_stream(state, session.user_id(), &request.target, request.r#type)
        .await
    {
        Ok(stream) => stream,
        Err(TargetError::Invalid(message)) => return reply.error(Code::BadInput, &message),
        Err(TargetError::Lookup(message)) => return reply.error(Code::RuntimeException, message),
    };
    let me = Presence {
        session_id: session.id(),
        user_id: session.user_id(),
        username: session.info.username.clone(),
        status: None,
        hidden: request.hidden.unwrap_or(false),
        persistence: request.persistence.unwrap_or(true),
    };
    let tracker = &state.realtime.tracker;
    // As Nakama: joining again keeps the first join's presence.
    let existing = tracker.get(session.id(), &stream);
    let is_new = existing.is_none();
    let me = match existing {
        Some(presence) => presence,
        None => {
            tracker.track(stream.clone(), me.clone(), session.clone());
            me
        }
    };
    let visible: Vec<Presence> = tracker
        .list(&stream)
        .into_iter()
        .filter(|p| !p.hidden)
        .collect();
    if is_new && stream.mode == StreamMode::DirectMessage {
        let other = if stream.subject == me.user_id {
            stream.subcontext
        } else {
            stream.subject
        };
        if !visible.iter().any(|p| p.user_id == other) {
            let dm_request = NewNotification {
                user_id: other,
                subject: format!("{} wants to chat", me.username),
                content: serde_json::json!({ "username": me.username }).to_string(),
                code: notifications::code::DM_REQUEST,
                sender_id: me.user_id,
                persistent: true,
            };
            // A failure is logged where it happens; the join goes on.
            let _ = notifications::send(state, vec![dm_request]).await;
        }
    }
    let presences = visible
        .iter()
        .filter(|p| !(is_new && p.session_id == me.session_id))
        .map(Presence::to_user_presence)
        .collect();
    let mut self_ = me.to_user_presence();
    self_.status = None;
    let wire = stream.to_wire();
    let is = |mode| stream.mode == mode;
    reply.send(Message::Channel(Channel {
        id: stream.channel_id().unwrap_or_default(),
        presences,
        self_: Some(self_),
        room_name: if is(StreamMode::ChatRoom) {
            wire.label
        } else {
            String::new()
        },
        group_id: if is(StreamMode::GroupChat) {
            wire.subject.clone()
        } else {
            String::new()
        },
        user_id_one: if is(StreamMode::DirectMessage) {
            wire.subject
        } else {
            String::new()
        },
        user_id_two: if is(StreamMode::DirectMessage) {
            wire.subcontext
        } else {
            String::new()
        },
    }));
}

/// `channel_leave`: always acknowledged for a well-formed channel id.
pub fn leave(state: &Arc<AppState>, reply: &Reply<'_>, request: ChannelLeave) {
    let Some(stream) = Stream::from_channel_id(&request.channel_id) else {
        return reply.error(Code::BadInput, "Invalid channel identifier");
    };
    state.realtime.tracker.untrack(reply.session.id(), &stream);
    reply.ack();
}

/// `channel_message_send`: a chat message from a member of the channel.
pub async fn send(state: &Arc<AppState>, reply: &Reply<'_>, request: ChannelMessageSend) {
    let Some(stream) = Stream::from_channel_id(&request.channel_id) else {
        return reply.error(Code::BadInput, "Invalid channel identifier");
    };
    if !is_json_object(&request.content) {
        return reply.error(
            Code::BadInput,
            "Message content must be a valid JSON object",
        );
    }
    let Some(me) = state.realtime.tracker.get(reply.session.id(), &stream) else {
        return reply.error(Code::BadInput, "Must join channel before sending messages");
    };
    let sender = sender_of(&me);
    match write::send(state, &stream, &sender, request.content, me.persistence).await {
        Ok(ack) => reply.send(Message::ChannelMessageAck(ack)),
        Err(_) => reply.error(
            Code::RuntimeException,
            "Could not persist message to channel history",
        ),
    }
}

/// `channel_message_update`: edits one of the member's own messages.
pub async fn update(state: &Arc<AppState>, reply: &Reply<'_>, request: ChannelMessageUpdate) {
    let Ok(message_id) = Uuid::parse_str(&request.message_id) else {
        return reply.error(Code::BadInput, "Invalid message identifier");
    };
    let Some(stream) = Stream::from_channel_id(&request.channel_id) else {
        return reply.error(Code::BadInput, "Invalid channel identifier");
    };
    if !is_json_object(&request.content) {
        return reply.error(
            Code::BadInput,
            "Message content must be a valid JSON object",
        );
    }
    let Some(me) = state.realtime.tracker.get(reply.session.id(), &stream) else {
        return reply.error(Code::BadInput, "Must join channel before updating messages");
    };
    let sender = sender_of(&me);
    let result = write::update(
        state,
        &stream,
        &sender,
        message_id,
        request.content,
        me.persistence,
    )
    .await;
    match result {
        Ok(ack) => reply.send(Message::ChannelMessageAck(ack)),
        Err(WriteError::NotFound) => reply.error(
            Code::BadInput,
            "Could not find message to update in channel history",
        ),
        Err(WriteError::Persist) => reply.error(
            Code::RuntimeException,
            "Could not persist message update to channel history",
        ),
    }
}

/// `channel_message_remove`: removes one of the member's own messages.
pub async fn remove(state: &Arc<AppState>, reply: &Reply<'_>, request: ChannelMessageRemove) {
    let Ok(message_id) = Uuid::parse_str(&request.message_id) else {
        return reply.error(Code::BadInput, "Invalid message identifier");
    };
    let Some(stream) = Stream::from_channel_id(&request.channel_id) else {
        return reply.error(Code::BadInput, "Invalid channel identifier");
    };
    let Some(me) = state.realtime.tracker.get(reply.session.id(), &stream) else {
        return reply.error(Code::BadInput, "Must join channel before removing messages");
    };
    let sender = sender_of(&me);
    match write::remove(state, &stream, &sender, message_id, me.persistence).await {
        Ok(ack) => reply.send(Message::ChannelMessageAck(ack)),
        Err(WriteError::NotFound) => reply.error(
            Code::BadInput,
            "Could not find message to remove in channel history",
        ),
        Err(WriteError::Persist) => reply.error(
            Code::RuntimeException,
            "Could not persist message remove to channel history",
        ),
    }
}

fn sender_of(presence: &Presence) -> Sender {
    Sender {
        user_id: presence.user_id,
        username: presence.username.clone(),
    }
}

/// Nakama's content rule: valid JSON whose first non-blank character opens an object.
pub fn is_json_object(content: &str) -> bool {
    content.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(content).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_must_be_a_json_object() {
        assert!(super::is_json_object(r#" {"a": [1, 2]} "#));
        assert!(super::is_json_object("{}"));
        for bad in ["", "[]", "\"text\"", "1", "{", "{} {}", "null"] {
            assert!(!super::is_json_object(bad), "{bad}");
        }
    }
}
