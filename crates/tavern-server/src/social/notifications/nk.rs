//! The server's side of the domain's `Nk` functions.

use tavern_runtime::{
    BoxFuture, NotificationDelete, NotificationSend, NotificationsBackend, RuntimeError,
};
use uuid::Uuid;

use super::{NewNotification, send, send_all, sql};
use crate::api::error::ApiError;
use crate::runtime::nk_backend::ServerNk;

impl NotificationsBackend for ServerNk {
    fn notifications_send(
        &self,
        notifications: Vec<NotificationSend>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let notifications = notifications
                .into_iter()
                .map(|n| {
                    let user_id = Uuid::parse_str(&n.user_id)
                        .map_err(|_| invalid("expects userID to be a valid UUID"))?;
                    checked(user_id, n)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let state = self.state()?;
            Ok(send(&state, notifications).await?)
        })
    }

    fn notification_send_all(
        &self,
        notification: NotificationSend,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let notification = checked(Uuid::nil(), notification)?;
            send_all(&self.state()?, notification);
            Ok(())
        })
    }

    fn notifications_delete(
        &self,
        notifications: Vec<NotificationDelete>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let mut pairs = Vec::with_capacity(notifications.len());
            for n in notifications {
                let user_id = Uuid::parse_str(&n.user_id)
                    .map_err(|_| invalid("expects userID to be a valid UUID"))?;
                let id = Uuid::parse_str(&n.notification_id)
                    .map_err(|_| invalid("expects notificationID to be a valid UUID"))?;
                pairs.push((user_id.to_string(), id.to_string()));
            }
            let state = self.state()?;
            sql::delete_pairs(&state.db, &pairs)
                .await
                .map_err(|e| ApiError::database("Could not delete notifications.", e))?;
            Ok(())
        })
    }
}

/// A notification from game code, checked with Nakama's rules and messages.
fn checked(user_id: Uuid, n: NotificationSend) -> Result<NewNotification, RuntimeError> {
    if n.subject.is_empty() {
        return Err(invalid("expects subject to be a non-empty string"));
    }
    let content = match n.content {
        serde_json::Value::Null => "{}".to_owned(),
        serde_json::Value::Object(map) => serde_json::Value::Object(map).to_string(),
        _ => return Err(invalid("expects content to be a JSON object")),
    };
    if n.code <= 0 {
        return Err(invalid("expects code to number above 0"));
    }
    let sender_id = if n.sender.is_empty() {
        Uuid::nil()
    } else {
        Uuid::parse_str(&n.sender)
            .map_err(|_| invalid("expects sender to either be an empty string or a valid UUID"))?
    };
    Ok(NewNotification {
        user_id,
        subject: n.subject,
        content,
        code: n.code,
        sender_id,
        persistent: n.persistent,
    })
}

fn invalid(message: &str) -> RuntimeError {
    RuntimeError::invalid_argument(message)
}
