//! The group operations as REST and server code both run them: the change in the database
//! (`sql.rs`), then what follows its commit: group-channel messages pushed to the channel,
//! notifications sent, and removed users taken off the group's channel.

use uuid::Uuid;

use super::sql::{self, Changed, GroupError, Joined};
use crate::realtime::stream::{Stream, StreamMode};
use crate::social::notifications::{self, NewNotification};
use crate::state::AppState;

/// A user joins an open group or asks to join a closed one (its admins and superadmins get
/// notification -5).
pub async fn join(
    state: &AppState,
    group_id: Uuid,
    user_id: Uuid,
    username: &str,
) -> Result<(), GroupError> {
    match sql::join(&state.db, group_id, user_id, username).await? {
        Joined::Member(message) => message.push(state),
        Joined::Requested { admins } => {
            let content = serde_json::json!({
                "group_id": group_id.to_string(),
                "username": username,
            })
            .to_string();
            let requests = admins
                .into_iter()
                .map(|admin| NewNotification {
                    user_id: admin,
                    subject: format!("User {username} wants to join your group"),
                    content: content.clone(),
                    code: notifications::code::GROUP_JOIN_REQUEST,
                    sender_id: user_id,
                    persistent: true,
                })
                .collect();
            // As Nakama: the request stands even when its notifications fail (logged).
            if let Err(e) = notifications::send(state, requests).await {
                tracing::warn!(error = %e, "could not notify the admins of a group join request");
            }
        }
        Joined::Unchanged => {}
    }
    Ok(())
}

/// A user leaves a group (or withdraws a request), and its channel.
pub async fn leave(
    state: &AppState,
    group_id: Uuid,
    user_id: Uuid,
    username: &str,
) -> Result<(), GroupError> {
    if let Some(message) = sql::leave(&state.db, group_id, user_id, username).await? {
        message.push(state);
        leave_channel(state, group_id, &[user_id]);
    }
    Ok(())
}

/// Adds users (or accepts their requests); each gets notification -4 from `caller` (the
/// system when `None`).
pub async fn add(
    state: &AppState,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
) -> Result<(), GroupError> {
    let changed = sql::add(&state.db, group_id, caller, user_ids).await?;
    push(state, &changed);
    let content = serde_json::json!({
        "group_id": group_id.to_string(),
        "name": changed.group_name,
    })
    .to_string();
    let added = changed
        .users
        .iter()
        .map(|&user_id| NewNotification {
            user_id,
            subject: format!("You've been added to group {}", changed.group_name),
            content: content.clone(),
            code: notifications::code::GROUP_ADD,
            sender_id: caller.unwrap_or_default(),
            persistent: true,
        })
        .collect();
    if let Err(e) = notifications::send(state, added).await {
        tracing::warn!(error = %e, "could not notify users added to a group");
    }
    Ok(())
}

/// Kicks or bans users; the removed members leave the group's channel.
pub async fn remove(
    state: &AppState,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
    ban: bool,
) -> Result<(), GroupError> {
    let changed = sql::remove(&state.db, group_id, caller, user_ids, ban).await?;
    push(state, &changed);
    leave_channel(state, group_id, &changed.users);
    Ok(())
}

/// Promotes (`up`) or demotes users one step.
pub async fn step(
    state: &AppState,
    group_id: Uuid,
    caller: Option<Uuid>,
    user_ids: &[Uuid],
    up: bool,
) -> Result<(), GroupError> {
    let changed = if up {
        sql::promote(&state.db, group_id, caller, user_ids).await?
    } else {
        sql::demote(&state.db, group_id, caller, user_ids).await?
    };
    push(state, &changed);
    Ok(())
}

fn push(state: &AppState, changed: &Changed) {
    for message in &changed.messages {
        message.push(state);
    }
}

/// Takes every session of these users off the group's channel.
fn leave_channel(state: &AppState, group_id: Uuid, users: &[Uuid]) {
    if users.is_empty() {
        return;
    }
    let stream = Stream::new(StreamMode::GroupChat, group_id, "");
    let tracker = &state.realtime.tracker;
    for presence in tracker.list(&stream) {
        if users.contains(&presence.user_id) {
            tracker.untrack(presence.session_id, &stream);
        }
    }
}
