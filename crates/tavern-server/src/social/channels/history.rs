//! A channel's history, a page at a time, as Nakama's `ChannelMessagesList`: (creation time,
//! id) order at one-second resolution, `forward` for oldest first, next and previous cursors
//! bound to the channel and the direction, and a cacheable cursor to poll for what comes later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use super::access;
use super::sql::{self, Page, Stored};
use crate::realtime::stream::{Stream, StreamMode};
use crate::social::gob;
use crate::state::AppState;

/// Why a page of history could not be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryError {
    /// The cursor does not decode, or was made for another channel or direction.
    CursorInvalid,
    /// A group channel of a group the caller is not a member of.
    GroupNotFound,
    /// A direct-message channel the caller is not one of the two users of.
    NotParticipant,
    /// The database failed (logged).
    Database,
}

/// Up to `limit` (1..=100) messages of the channel `channel_id` (whose stream is `stream`),
/// oldest first when `forward`, from where `cursor` points (empty: from the start). The nil
/// caller (server code) may read any channel.
pub async fn list(
    state: &AppState,
    caller: Uuid,
    stream: &Stream,
    channel_id: &str,
    limit: usize,
    forward: bool,
    cursor: &str,
) -> Result<api::ChannelMessageList, HistoryError> {
    let incoming = if cursor.is_empty() {
        None
    } else {
        let cursor = Cursor::decode(cursor).ok_or(HistoryError::CursorInvalid)?;
        if cursor.forward != forward || !cursor.is_for(stream) {
            return Err(HistoryError::CursorInvalid);
        }
        Some(cursor)
    };
    if !caller.is_nil() {
        match stream.mode {
            StreamMode::GroupChat => {
                let member = access::group_member(state, stream.subject, caller)
                    .await
                    .map_err(|e| failed("Could not check group membership", e))?;
                if !member {
                    return Err(HistoryError::GroupNotFound);
                }
            }
            StreamMode::DirectMessage
                if caller != stream.subject && caller != stream.subcontext =>
            {
                return Err(HistoryError::NotParticipant);
            }
            _ => {}
        }
    }
    let page = match &incoming {
        None if forward => Page::Oldest,
        None => Page::Newest,
        // Forward and next is backward and previous: later messages, oldest first.
        Some(c) if c.forward == c.is_next => Page::After(c.create_time, &c.id),
        Some(c) => Page::Before(c.create_time, &c.id),
    };
    let rows = sql::list(&state.db, stream, page, limit as i64 + 1)
        .await
        .map_err(|e| failed("Error listing channel messages", e))?;

    let at = |row: &Stored, is_next: bool| Cursor {
        stream: stream.clone(),
        create_time: row.create_time,
        id: row.id.clone(),
        forward,
        is_next,
    };
    let mut next = rows.get(limit).map(|_| at(&rows[limit - 1], true));
    let mut prev = incoming
        .as_ref()
        .and_then(|_| rows.first())
        .map(|first| at(first, false));
    let mut messages: Vec<api::ChannelMessage> = rows
        .into_iter()
        .take(limit)
        .map(|row| to_wire(row, stream, channel_id))
        .collect();
    if incoming.as_ref().is_some_and(|c| !c.is_next) {
        // A previous page was read backwards: back to the listing's order, cursors swapped.
        std::mem::swap(&mut next, &mut prev);
        for cursor in [&mut next, &mut prev].into_iter().flatten() {
            cursor.is_next = !cursor.is_next;
        }
        messages.reverse();
    }
    let cacheable = match (messages.last(), incoming) {
        (Some(last), _) => Some(Cursor {
            stream: stream.clone(),
            create_time: last.create_time.map_or(0, |t| t.seconds),
            id: last.message_id.clone(),
            forward: true,
            is_next: true,
        }),
        (None, Some(mut cursor)) => {
            cursor.forward = true;
            if !forward {
                cursor.is_next = true;
            }
            Some(cursor)
        }
        (None, None) => None,
    };
    let encode = |c: Option<Cursor>| c.map(|c| c.encode()).unwrap_or_default();
    Ok(api::ChannelMessageList {
        messages,
        next_cursor: encode(next),
        prev_cursor: encode(prev),
        cacheable_cursor: encode(cacheable),
    })
}

/// A stored message as history shows it: persistent, with the channel's own fields.
fn to_wire(row: Stored, stream: &Stream, channel_id: &str) -> api::ChannelMessage {
    let mut message = api::ChannelMessage {
        channel_id: channel_id.to_owned(),
        message_id: row.id,
        code: Some(row.code),
        sender_id: row.sender_id,
        username: row.username,
        content: row.content,
        create_time: Some(Timestamp::from_unix_seconds(row.create_time)),
        update_time: Some(Timestamp::from_unix_seconds(row.update_time)),
        persistent: Some(true),
        ..Default::default()
    };
    match stream.mode {
        StreamMode::ChatRoom => message.room_name = stream.label.clone(),
        StreamMode::GroupChat => message.group_id = stream.subject.to_string(),
        StreamMode::DirectMessage => {
            message.user_id_one = stream.subject.to_string();
            message.user_id_two = stream.subcontext.to_string();
        }
        _ => {}
    }
    message
}

fn failed(context: &'static str, error: sqlx::Error) -> HistoryError {
    tracing::error!(error = %error, "{context}");
    HistoryError::Database
}

/// Nakama's `channelMessageListCursor`: the channel, a message's position, the listing's
/// direction and whether the cursor reads on (next) or back (previous); gob-encoded, standard
/// base64 with padding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    stream: Stream,
    create_time: i64,
    id: String,
    forward: bool,
    is_next: bool,
}

const CURSOR_TYPE: &str = "channelMessageListCursor";

impl Cursor {
    fn is_for(&self, stream: &Stream) -> bool {
        self.stream == *stream
    }

    fn fields(&self) -> [(&'static str, gob::Value); 8] {
        [
            (
                "StreamMode",
                gob::Value::Uint(u64::from(self.stream.mode.number())),
            ),
            (
                "StreamSubject",
                gob::Value::String(self.stream.subject.to_string()),
            ),
            (
                "StreamSubcontext",
                gob::Value::String(self.stream.subcontext.to_string()),
            ),
            ("StreamLabel", gob::Value::String(self.stream.label.clone())),
            ("CreateTime", gob::Value::Int(self.create_time)),
            ("Id", gob::Value::String(self.id.clone())),
            ("Forward", gob::Value::Bool(self.forward)),
            ("IsNext", gob::Value::Bool(self.is_next)),
        ]
    }

    fn encode(&self) -> String {
        STANDARD.encode(gob::encode(CURSOR_TYPE, &self.fields()))
    }

    fn decode(text: &str) -> Option<Cursor> {
        let bytes = STANDARD.decode(text).ok()?;
        let template = Cursor {
            stream: Stream::new(StreamMode::ChatRoom, Uuid::nil(), ""),
            create_time: 0,
            id: String::new(),
            forward: false,
            is_next: false,
        };
        let values = gob::decode(&bytes, CURSOR_TYPE, &template.fields())?;
        let [
            gob::Value::Uint(mode),
            gob::Value::String(subject),
            gob::Value::String(subcontext),
            gob::Value::String(label),
            gob::Value::Int(create_time),
            gob::Value::String(id),
            gob::Value::Bool(forward),
            gob::Value::Bool(is_next),
        ] = <[gob::Value; 8]>::try_from(values).ok()?
        else {
            return None;
        };
        // A stream that is not a channel's never matches the channel listed, so any id parses.
        let uuid = |text: &str| Uuid::parse_str(text).ok();
        Some(Cursor {
            stream: Stream {
                mode: StreamMode::from_number(u8::try_from(mode).ok()?),
                subject: uuid(&subject)?,
                subcontext: uuid(&subcontext)?,
                label,
            },
            create_time,
            id,
            forward,
            is_next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = Cursor {
            stream: Stream::new(StreamMode::ChatRoom, Uuid::nil(), "lobby"),
            create_time: 1_700_000_000,
            id: Uuid::now_v7().to_string(),
            forward: false,
            is_next: true,
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text), Some(cursor.clone()));
        assert!(cursor.is_for(&Stream::new(StreamMode::ChatRoom, Uuid::nil(), "lobby")));
        assert!(!cursor.is_for(&Stream::new(StreamMode::ChatRoom, Uuid::nil(), "other")));
        for bad in ["", "x", "AAAA", "not base64!", &text[..text.len() - 4]] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
