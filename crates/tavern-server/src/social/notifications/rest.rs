//! `GET /v2/notification` (a page of the caller's stored notifications, with a cacheable
//! cursor) and `DELETE /v2/notification` (by ids), with their hooks and Nakama's messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tavern_proto::{Timestamp, api};
use tavern_runtime::operation::{DeleteNotifications, ListNotifications};
use uuid::Uuid;

use super::sql::{self, Stored};
use crate::api::call_info::CallInfo;
use crate::api::error::ApiError;
use crate::api::extract::{Params, Session};
use crate::api::hooks;
use crate::runtime::session_caller;
use crate::social::gob;
use crate::state::AppState;

pub async fn list(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<api::NotificationList>, ApiError> {
    let request = api::ListNotificationsRequest {
        limit: params.int32(&["limit"])?,
        cacheable_cursor: params
            .get(&["cacheable_cursor", "cacheableCursor"])
            .unwrap_or_default()
            .to_owned(),
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), ListNotifications, request).await?;
    let limit = match request.limit {
        None => 1,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid limit - limit must be between 1 and 100.",
            ));
        }
    };
    let after = if request.cacheable_cursor.is_empty() {
        None
    } else {
        Cursor::decode(&request.cacheable_cursor)
            .ok_or_else(|| ApiError::invalid("Malformed cursor was used."))?
            .position
    };
    let rows = sql::list(&state.db, session.user_id, limit, after.as_ref())
        .await
        .map_err(|e| ApiError::database("Error retrieving notifications.", e))?;
    let cacheable_cursor = match rows.last() {
        Some(last) => Cursor {
            position: Some((last.create_time, last.id.clone())),
        }
        .encode(),
        None if !request.cacheable_cursor.is_empty() => request.cacheable_cursor.clone(),
        None => Cursor { position: None }.encode(),
    };
    let list = api::NotificationList {
        notifications: rows.into_iter().map(Stored::into_wire).collect(),
        cacheable_cursor,
    };
    hooks::after(&state, &call, caller, ListNotifications, request, &list).await;
    Ok(Json(list))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = api::DeleteNotificationsRequest {
        ids: params.all(&["ids"]),
    };
    let caller = session_caller(&session);
    let request =
        hooks::before(&state, &call, caller.clone(), DeleteNotifications, request).await?;
    if !request.ids.is_empty() {
        // As Nakama's UUID column: a malformed id fails the whole delete.
        let ids = request
            .ids
            .iter()
            .map(|id| Uuid::parse_str(id).map(|id| id.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::internal("Error while deleting notifications."))?;
        sql::delete(&state.db, session.user_id, &ids)
            .await
            .map_err(|e| ApiError::database("Error while deleting notifications.", e))?;
        hooks::after(&state, &call, caller, DeleteNotifications, request, &()).await;
    }
    Ok(Json(serde_json::json!({})))
}

impl Stored {
    /// A stored notification as REST shows it: persistent, the system sender blank.
    fn into_wire(self) -> api::Notification {
        let sender_id = if self.sender_id == Uuid::nil().to_string() {
            String::new()
        } else {
            self.sender_id
        };
        api::Notification {
            id: self.id,
            subject: self.subject,
            content: self.content,
            code: self.code,
            sender_id,
            create_time: Some(Timestamp::from_unix_seconds(self.create_time)),
            persistent: true,
        }
    }
}

/// Nakama's `notificationCacheableCursor`: the last notification listed (its id and creation
/// time in nanoseconds), gob-encoded, URL-safe base64 without padding. A cursor without an id
/// lists from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    /// (create time in seconds, id).
    position: Option<(i64, String)>,
}

const CURSOR_TYPE: &str = "notificationCacheableCursor";

impl Cursor {
    fn fields(id: Vec<u8>, create_time_nanos: i64) -> [(&'static str, gob::Value); 2] {
        [
            ("NotificationID", gob::Value::Bytes(id)),
            ("CreateTime", gob::Value::Int(create_time_nanos)),
        ]
    }

    fn encode(&self) -> String {
        let fields = match &self.position {
            Some((time, id)) => {
                let id = Uuid::parse_str(id)
                    .map(|u| u.as_bytes().to_vec())
                    .unwrap_or_default();
                Cursor::fields(id, time.saturating_mul(1_000_000_000))
            }
            None => Cursor::fields(Vec::new(), 0),
        };
        URL_SAFE_NO_PAD.encode(gob::encode(CURSOR_TYPE, &fields))
    }

    fn decode(text: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let values = gob::decode(&bytes, CURSOR_TYPE, &Cursor::fields(Vec::new(), 0))?;
        let (gob::Value::Bytes(id), gob::Value::Int(nanos)) = (&values[0], &values[1]) else {
            return None;
        };
        if id.is_empty() {
            return Some(Cursor { position: None });
        }
        let id = Uuid::from_slice(id).ok()?;
        Some(Cursor {
            position: Some((nanos.div_euclid(1_000_000_000), id.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn cursors_round_trip() {
        let empty = Cursor { position: None };
        assert_eq!(Cursor::decode(&empty.encode()), Some(empty));
        let at = Cursor {
            position: Some((1_700_000_000, uuid::Uuid::now_v7().to_string())),
        };
        assert_eq!(Cursor::decode(&at.encode()), Some(at));
        for bad in ["", "x", "AAAA", "not base64!"] {
            assert_eq!(Cursor::decode(bad), None);
        }
    }
}
