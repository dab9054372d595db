//! Who may use a channel beyond rooms (which are open to all): group channels are for the
//! group's members, direct messages for users the other side has not blocked. Each rule is
//! one function, answered by the domain that owns the facts (groups, friends).

use uuid::Uuid;

use crate::state::AppState;

/// Whether a user may join, read and write a group's channel: a superadmin, admin or member
/// of the group (Nakama's `groupCheckUserPermission(.., 2)`).
pub async fn group_member(
    state: &AppState,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sqlx::Error> {
    crate::social::groups::is_member(state, group_id, user_id).await
}

/// Whether `sender` may open a direct-message channel with `recipient`: the friends domain's
/// rule (the recipient exists and has not blocked the sender).
pub async fn direct_message_allowed(
    state: &AppState,
    sender: Uuid,
    recipient: Uuid,
) -> Result<bool, sqlx::Error> {
    crate::social::friends::can_direct_message(state, sender, recipient).await
}
