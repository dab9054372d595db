//! A user's presence on the server: which session of which user on which node.

/// One session of one user, as match handlers and hooks see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Presence {
    pub user_id: String,
    pub session_id: String,
    pub username: String,
    pub node: String,
}
