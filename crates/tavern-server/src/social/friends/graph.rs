//! The operations on a user's friends that REST and server code share: add (with the request
//! and accept notifications), delete, block and list, each change in one transaction.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use super::sql::{self, Added};
use crate::api::user::api_user;
use crate::social::gob;
use crate::social::notifications::{self, NewNotification, code};
use crate::state::AppState;

/// Adds friends in one transaction (ids deduplicated), then notifies each user who got a
/// request or whose request was accepted.
pub async fn add(
    state: &AppState,
    user: Uuid,
    username: &str,
    friends: &[String],
) -> Result<(), sqlx::Error> {
    let me = user.to_string();
    let mut tx = state.db.begin().await?;
    let mut sent = Vec::new();
    for friend in unique(friends) {
        match sql::add(&mut tx.conn(), &me, friend).await? {
            Added::Nothing => {}
            outcome => sent.push((friend.to_owned(), outcome == Added::Accepted)),
        }
    }
    tx.commit().await?;
    let content = serde_json::json!({ "username": username }).to_string();
    let notifications = sent
        .into_iter()
        .filter_map(|(friend, accepted)| {
            let (subject, code) = if accepted {
                (
                    format!("{username} accepted your friend request"),
                    code::FRIEND_ACCEPT,
                )
            } else {
                (
                    format!("{username} wants to add you as a friend"),
                    code::FRIEND_REQUEST,
                )
            };
            Some(NewNotification {
                user_id: Uuid::parse_str(&friend).ok()?,
                subject,
                content: content.clone(),
                code,
                sender_id: user,
                persistent: true,
            })
        })
        .collect();
    // As Nakama: the friends are added whether or not the notifications go out.
    if let Err(e) = notifications::send(state, notifications).await {
        tracing::error!(error = %e, "could not send friend notifications");
    }
    Ok(())
}

/// Deletes friends (and invites either way) in one transaction.
pub async fn delete(state: &AppState, user: Uuid, friends: &[String]) -> Result<(), sqlx::Error> {
    let me = user.to_string();
    let mut tx = state.db.begin().await?;
    for friend in unique(friends) {
        sql::delete(&mut tx.conn(), &me, friend).await?;
    }
    tx.commit().await
}

/// Blocks users in one transaction.
pub async fn block(state: &AppState, user: Uuid, friends: &[String]) -> Result<(), sqlx::Error> {
    let me = user.to_string();
    let mut tx = state.db.begin().await?;
    for friend in unique(friends) {
        sql::block(&mut tx.conn(), &me, friend).await?;
    }
    tx.commit().await
}

/// The ids once each, in a fixed order (so concurrent calls lock rows in the same order).
fn unique(ids: &[String]) -> Vec<&str> {
    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Why a listing failed.
#[derive(Debug)]
pub enum ListError {
    /// The cursor does not decode, or names another state than the filter.
    InvalidCursor,
    Database(sqlx::Error),
}

/// A page of a user's friends in (state, position) order: `limit` of them, of one state if
/// given, from the cursor's position if given; the cursor of the next page when there is one.
pub async fn list(
    state: &AppState,
    user: Uuid,
    limit: usize,
    filter: Option<i32>,
    cursor: &str,
) -> Result<api::FriendList, ListError> {
    let from = if cursor.is_empty() {
        None
    } else {
        let from = decode_cursor(cursor).ok_or(ListError::InvalidCursor)?;
        if filter.is_some_and(|f| i64::from(f) != from.0) {
            return Err(ListError::InvalidCursor);
        }
        Some((
            i32::try_from(from.0).map_err(|_| ListError::InvalidCursor)?,
            from.1,
        ))
    };
    let mut rows = sql::list(&state.db, &user.to_string(), filter, from, limit as i64 + 1)
        .await
        .map_err(ListError::Database)?;
    let cursor = if rows.len() > limit {
        let next = rows.remove(limit);
        rows.truncate(limit);
        encode_cursor(i64::from(next.state), next.position)
    } else {
        String::new()
    };
    let friends = rows
        .into_iter()
        .map(|edge| {
            let mut user = api_user(&edge.user, state.is_online(&edge.user.id));
            // Nakama's friend listing does not read the friend's edge count.
            user.edge_count = 0;
            api::Friend {
                user: Some(user),
                state: Some(edge.state),
                update_time: Some(Timestamp::from_unix_seconds(edge.edge_update_time)),
            }
        })
        .collect();
    Ok(api::FriendList { friends, cursor })
}

/// Nakama's `edgeListCursor` {State, Position}, gob-encoded, standard base64.
const CURSOR_TYPE: &str = "edgeListCursor";

fn cursor_fields(state: i64, position: i64) -> [(&'static str, gob::Value); 2] {
    [
        ("State", gob::Value::Int(state)),
        ("Position", gob::Value::Int(position)),
    ]
}

fn encode_cursor(state: i64, position: i64) -> String {
    STANDARD.encode(gob::encode(CURSOR_TYPE, &cursor_fields(state, position)))
}

fn decode_cursor(text: &str) -> Option<(i64, i64)> {
    let bytes = STANDARD.decode(text).ok()?;
    let values = gob::decode(&bytes, CURSOR_TYPE, &cursor_fields(0, 0))?;
    match (&values[0], &values[1]) {
        (gob::Value::Int(state), gob::Value::Int(position)) => Some((*state, *position)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_cursor, encode_cursor, unique};

    #[test]
    fn cursors_round_trip() {
        for (state, position) in [(0, 0), (3, 1_764_000_000_123_456_789), (1, 7)] {
            assert_eq!(
                decode_cursor(&encode_cursor(state, position)),
                Some((state, position))
            );
        }
        for bad in ["", "x", "AAAA", "not base64!"] {
            assert_eq!(decode_cursor(bad), None);
        }
    }

    #[test]
    fn ids_are_deduplicated() {
        let ids = ["b", "a", "b"].map(String::from);
        assert_eq!(unique(&ids), ["a", "b"]);
    }
}
