//! The message table (migration 0006): channel histories.

use sqlx::AssertSqlSafe;
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

/// A message of a channel's history.
#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    pub id: String,
    pub code: i32,
    pub sender_id: String,
    pub username: String,
    pub content: String,
    pub create_time: i64,
    pub update_time: i64,
}

/// Where a page of history starts and which way it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page<'a> {
    /// From the oldest message.
    Oldest,
    /// From the newest message.
    Newest,
    /// Messages after a (creation time, id) position, oldest first.
    After(i64, &'a str),
    /// Messages before a (creation time, id) position, newest first.
    Before(i64, &'a str),
}

/// Up to `limit` messages of a channel's history from `page`, in (creation time, id) order
/// or its reverse.
pub async fn list(
    db: &Db,
    stream: &Stream,
    page: Page<'_>,
    limit: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    const SELECT: &str = "SELECT id, code, sender_id, username, content, create_time, update_time \
         FROM message WHERE stream_mode = $1 AND stream_subject = $2 AND stream_descriptor = $3 \
         AND stream_label = $4";
    let (condition, order) = match page {
        Page::Oldest => ("", "ASC"),
        Page::Newest => ("", "DESC"),
        Page::After(..) => (" AND (create_time, id) > ($6, $7)", "ASC"),
        Page::Before(..) => (" AND (create_time, id) < ($6, $7)", "DESC"),
    };
    let sql = format!("{SELECT}{condition} ORDER BY create_time {order}, id {order} LIMIT $5");
    let (subject, descriptor) = (stream.subject.to_string(), stream.subcontext.to_string());
    on_db!(db, read, |pool| {
        let query = sqlx::query_as::<_, Stored>(AssertSqlSafe(sql.clone()))
            .bind(i32::from(stream.mode.number()))
            .bind(subject.as_str())
            .bind(descriptor.as_str())
            .bind(stream.label.as_str())
            .bind(limit);
        match page {
            Page::After(time, id) | Page::Before(time, id) => {
                query.bind(time).bind(id).fetch_all(pool).await
            }
            Page::Oldest | Page::Newest => query.fetch_all(pool).await,
        }
    })
}
