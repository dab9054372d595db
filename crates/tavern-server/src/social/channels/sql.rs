//! The message table (migration 0006): channel histories.

use tavern_proto::api;
use uuid::Uuid;

use crate::on_db;
use crate::realtime::stream::Stream;
use crate::storage::Db;

/// Stores one message; binds id, code, sender id, username, stream mode, subject, descriptor,
/// label, content, time (creation and update).
pub const INSERT: &str = "INSERT INTO message (id, code, sender_id, username, stream_mode, \
     stream_subject, stream_descriptor, stream_label, content, create_time, update_time) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";

/// Gives a message of the sender's in this channel new content; its creation time, or `None`
/// when there is no such message.
pub async fn update(
    db: &Db,
    stream: &Stream,
    message: &api::ChannelMessage,
) -> Result<Option<i64>, sqlx::Error> {
    let now = message.update_time.map_or(0, |t| t.seconds);
    on_db!(db, write, |pool| {
        sqlx::query_scalar::<_, i64>(
            "UPDATE message SET update_time = $1, username = $2, content = $3 \
             WHERE id = $4 AND sender_id = $5 AND stream_mode = $6 AND stream_subject = $7 \
             AND stream_descriptor = $8 AND stream_label = $9 RETURNING create_time",
        )
        .bind(now)
        .bind(message.username.as_str())
        .bind(message.content.as_str())
        .bind(message.message_id.as_str())
        .bind(message.sender_id.as_str())
        .bind(i32::from(stream.mode.number()))
        .bind(stream.subject.to_string())
        .bind(stream.subcontext.to_string())
        .bind(stream.label.as_str())
        .fetch_optional(pool)
        .await
    })
}

/// Deletes a message of the sender's in this channel; its creation time, or `None` when there
/// is no such message.
pub async fn delete(
    db: &Db,
    stream: &Stream,
    message_id: Uuid,
    sender_id: Uuid,
) -> Result<Option<i64>, sqlx::Error> {
    on_db!(db, write, |pool| {
        sqlx::query_scalar::<_, i64>(
            "DELETE FROM message WHERE id = $1 AND sender_id = $2 AND stream_mode = $3 \
             AND stream_subject = $4 AND stream_descriptor = $5 AND stream_label = $6 \
             RETURNING create_time",
        )
        .bind(message_id.to_string())
        .bind(sender_id.to_string())
        .bind(i32::from(stream.mode.number()))
        .bind(stream.subject.to_string())
        .bind(stream.subcontext.to_string())
        .bind(stream.label.as_str())
        .fetch_optional(pool)
        .await
    })
}
