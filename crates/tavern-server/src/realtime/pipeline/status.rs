//! Status messages: follow and unfollow users, and update one's own status.

use std::collections::HashSet;
use std::sync::Arc;

use tavern_proto::realtime::{
    Status, StatusFollow, StatusUnfollow, StatusUpdate, envelope::Message, error::Code,
};
use uuid::Uuid;

use super::Reply;
use crate::realtime::stream::{Presence, Stream};
use crate::state::AppState;

/// Longest status text, in characters.
const MAX_STATUS_CHARS: usize = 2048;

/// `status_follow`: follow users by id or username; reply with those online now.
pub async fn follow(state: &Arc<AppState>, reply: &Reply<'_>, request: StatusFollow) {
    let session = reply.session;
    let mut ids = HashSet::new();
    for id in &request.user_ids {
        let Ok(id) = Uuid::parse_str(id) else {
            return reply.error(Code::BadInput, "Invalid user identifier");
        };
        if id != session.user_id() {
            ids.insert(id);
        }
    }
    let mut usernames = Vec::new();
    for name in &request.usernames {
        if name.is_empty() {
            return reply.error(Code::BadInput, "Invalid username");
        }
        if *name != session.info.username {
            usernames.push(name.clone());
        }
    }
    let mut follow = HashSet::new();
    if !ids.is_empty() || !usernames.is_empty() {
        let wanted: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let rows = match state.db.get_users(&wanted, &usernames, &[]).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "status follow user lookup failed");
                return reply.error(Code::RuntimeException, "Could not check users");
            }
        };
        follow.extend(
            rows.iter()
                .filter_map(|r| Uuid::parse_str(&r.id).ok())
                .filter(|id| *id != session.user_id()),
        );
    }
    state
        .realtime
        .status
        .follow(session.id(), follow.iter().copied());
    let presences = follow
        .iter()
        .flat_map(|id| state.realtime.tracker.list(&Stream::status(*id)))
        .map(|p| p.to_user_presence())
        .collect();
    reply.send(Message::Status(Status { presences }));
}

/// `status_unfollow`: stop following users.
pub fn unfollow(state: &Arc<AppState>, reply: &Reply<'_>, request: StatusUnfollow) {
    let mut ids = Vec::new();
    for id in &request.user_ids {
        let Ok(id) = Uuid::parse_str(id) else {
            return reply.error(Code::BadInput, "Invalid user identifier");
        };
        ids.push(id);
    }
    state.realtime.status.unfollow(reply.session.id(), &ids);
    reply.ack();
}

/// `status_update`: set one's status, or appear offline when no status is given.
pub fn update(state: &Arc<AppState>, reply: &Reply<'_>, request: StatusUpdate) {
    let session = reply.session;
    let stream = Stream::status(session.user_id());
    match request.status {
        None => {
            state.realtime.tracker.untrack(session.id(), &stream);
        }
        Some(status) => {
            if status.chars().count() > MAX_STATUS_CHARS {
                return reply.error(Code::BadInput, "Status must be 2048 characters or less.");
            }
            state.realtime.tracker.track(
                stream,
                Presence {
                    session_id: session.id(),
                    user_id: session.user_id(),
                    username: session.info.username.clone(),
                    status: Some(status),
                    ..Presence::default()
                },
                session.clone(),
            );
        }
    }
    reply.ack();
}
