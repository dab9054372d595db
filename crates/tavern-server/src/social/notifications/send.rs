//! Sending notifications: stored when persistent, then pushed to every live session of each
//! user through the user's notification stream.

use std::collections::HashMap;
use std::sync::Arc;

use tavern_proto::realtime::{Envelope, Notifications, envelope::Message};
use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use super::sql;
use crate::api::error::ApiError;
use crate::realtime::stream::Stream;
use crate::state::AppState;
use crate::storage::now_unix;

/// The codes Nakama reserves for its own notifications (game code uses codes above 0).
pub mod code {
    /// Someone joined a direct-message channel with the user.
    pub const DM_REQUEST: i32 = -1;
    /// A friend request arrived.
    pub const FRIEND_REQUEST: i32 = -2;
    /// A friend request was accepted.
    pub const FRIEND_ACCEPT: i32 = -3;
    /// The user was added to a group.
    pub const GROUP_ADD: i32 = -4;
    /// Someone asked to join a group the user administers.
    pub const GROUP_JOIN_REQUEST: i32 = -5;
    /// A friend joined the game (first login through a social network).
    pub const FRIEND_JOIN_GAME: i32 = -6;
    /// Another socket of the user replaced this one (`session.single_socket`).
    pub const SINGLE_SOCKET: i32 = -7;
}

/// One notification to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// Who receives it.
    pub user_id: Uuid,
    pub subject: String,
    /// JSON object text.
    pub content: String,
    /// Negative codes are Nakama's own ([`code`]); game code uses codes above 0.
    pub code: i32,
    /// The user it comes from; the nil UUID for the system (shown blank over REST).
    pub sender_id: Uuid,
    /// Stored for listing over REST until deleted, as well as pushed; otherwise only pushed to
    /// the sessions online now.
    pub persistent: bool,
}

impl NewNotification {
    /// The notification as the wire shows it, with a new time-ordered id.
    fn into_wire(self, now: i64) -> api::Notification {
        api::Notification {
            id: Uuid::now_v7().to_string(),
            subject: self.subject,
            content: self.content,
            code: self.code,
            sender_id: self.sender_id.to_string(),
            create_time: Some(Timestamp::from_unix_seconds(now)),
            persistent: self.persistent,
        }
    }
}

/// Sends notifications: the persistent ones are stored first (all or none), then each user's
/// notifications go, in order, in one `notifications` message to every session of the user.
/// A user who is offline finds the persistent ones over REST later.
pub async fn send(state: &AppState, notifications: Vec<NewNotification>) -> Result<(), ApiError> {
    if notifications.is_empty() {
        return Ok(());
    }
    let now = now_unix();
    let mut by_user: Vec<(Uuid, Vec<api::Notification>)> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for notification in notifications {
        let user_id = notification.user_id;
        let wire = notification.into_wire(now);
        let slot = *index.entry(user_id).or_insert_with(|| {
            by_user.push((user_id, Vec::new()));
            by_user.len() - 1
        });
        by_user[slot].1.push(wire);
    }
    let stored: Vec<(Uuid, &api::Notification)> = by_user
        .iter()
        .flat_map(|(user_id, list)| list.iter().map(move |n| (*user_id, n)))
        .filter(|(_, n)| n.persistent)
        .collect();
    if !stored.is_empty() {
        sql::insert(&state.db, &stored)
            .await
            .map_err(|e| ApiError::database("Could not save notifications.", e))?;
    }
    for (user_id, notifications) in by_user {
        push(state, user_id, notifications);
    }
    Ok(())
}

/// Sends one notification to every user. A live one goes to the sessions online now; a
/// persistent one is stored for every account (in the background, a page of accounts at a
/// time) and pushed to those online as their page is done.
pub fn send_all(state: &Arc<AppState>, notification: NewNotification) {
    let now = now_unix();
    if !notification.persistent {
        let wire = NewNotification {
            user_id: Uuid::nil(),
            ..notification
        }
        .into_wire(now);
        state
            .realtime
            .tracker
            .send_to_all_users(notifications_envelope(vec![wire]));
        return;
    }
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let mut after = Uuid::nil().to_string();
        loop {
            let users = match sql::user_page(&state.db, &after, SEND_ALL_PAGE).await {
                Ok(users) => users,
                Err(e) => {
                    tracing::error!(error = %e, "could not list users to send a notification to");
                    return;
                }
            };
            let Some(last) = users.last() else {
                return;
            };
            after = last.clone();
            let batch: Vec<NewNotification> = users
                .iter()
                .filter_map(|id| Uuid::parse_str(id).ok())
                .map(|user_id| NewNotification {
                    user_id,
                    ..notification.clone()
                })
                .collect();
            if let Err(e) = send(&state, batch).await {
                tracing::error!(error = %e, "could not send a notification to all users");
                return;
            }
            if users.len() < SEND_ALL_PAGE {
                return;
            }
        }
    });
}

/// Accounts per page of [`send_all`].
const SEND_ALL_PAGE: usize = 1000;

/// Pushes a user's notifications to every session of the user.
fn push(state: &AppState, user_id: Uuid, notifications: Vec<api::Notification>) {
    state.realtime.tracker.send(
        &Stream::notifications(user_id),
        notifications_envelope(notifications),
    );
}

fn notifications_envelope(notifications: Vec<api::Notification>) -> Envelope {
    Envelope {
        cid: String::new(),
        message: Some(Message::Notifications(Notifications { notifications })),
    }
}
