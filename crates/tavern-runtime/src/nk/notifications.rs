//! Notifications: the `Nk` functions and the part of the backend behind them.

use super::{BoxFuture, Nk, domain};
use crate::RuntimeError;

/// The server's side of the notifications functions of [`Nk`](super::Nk).
pub trait NotificationsBackend: Send + Sync {
    /// See [`Nk::notifications_send`].
    fn notifications_send(
        &self,
        notifications: Vec<NotificationSend>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::notification_send_all`].
    fn notification_send_all(
        &self,
        notification: NotificationSend,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::notifications_delete`].
    fn notifications_delete(
        &self,
        notifications: Vec<NotificationDelete>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
}

/// One notification for [`Nk::notifications_send`].
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationSend {
    /// Who receives it.
    pub user_id: String,
    /// Not empty.
    pub subject: String,
    /// A JSON object (`null` is an empty object).
    pub content: serde_json::Value,
    /// Above 0 (Nakama keeps the negative codes for its own notifications).
    pub code: i32,
    /// The sending user's id, or `""` for the system.
    pub sender: String,
    /// Stored until the user deletes it (and listed over REST), as well as delivered to the
    /// user's sessions now; otherwise only delivered to the sessions online now.
    pub persistent: bool,
}

/// One notification for [`Nk::notifications_delete`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationDelete {
    pub user_id: String,
    pub notification_id: String,
}

impl Nk {
    /// Sends a notification to a user: delivered at once to every session the user has open
    /// (the `notifications` socket message), and when `persistent`, stored until the user
    /// deletes it (`GET /v2/notification` lists it).
    ///
    /// `sender` is a user id, or `""` for the system. Fails with
    /// [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed user or sender
    /// id, an empty subject, content that is not an object, or a code not above 0.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk, user_id: &str) -> Result<(), tavern_runtime::RuntimeError> {
    /// let content = serde_json::json!({"reward": "gold", "amount": 100});
    /// nk.notification_send(user_id, "You won!", content, 1, "", true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn notification_send(
        &self,
        user_id: &str,
        subject: &str,
        content: serde_json::Value,
        code: i32,
        sender: &str,
        persistent: bool,
    ) -> Result<(), RuntimeError> {
        self.notifications_send(vec![NotificationSend {
            user_id: user_id.to_owned(),
            subject: subject.to_owned(),
            content,
            code,
            sender: sender.to_owned(),
            persistent,
        }])
        .await
    }

    /// Sends several notifications, to one user or many, with the rules of
    /// [`Nk::notification_send`]; each user's arrive together in one socket message. Nothing
    /// is sent when one of them is invalid.
    pub async fn notifications_send(
        &self,
        notifications: Vec<NotificationSend>,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.notifications())?
            .notifications_send(notifications)
            .await
    }

    /// Sends a notification from the system to every user: a live one to every session online
    /// now; a persistent one is also stored for every account, in the background (this returns
    /// before that is done).
    pub async fn notification_send_all(
        &self,
        subject: &str,
        content: serde_json::Value,
        code: i32,
        persistent: bool,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.notifications())?
            .notification_send_all(NotificationSend {
                user_id: String::new(),
                subject: subject.to_owned(),
                content,
                code,
                sender: String::new(),
                persistent,
            })
            .await
    }

    /// Deletes stored notifications by user and notification id; unknown ones are skipped.
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed id.
    pub async fn notifications_delete(
        &self,
        notifications: Vec<NotificationDelete>,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.notifications())?
            .notifications_delete(notifications)
            .await
    }
}
