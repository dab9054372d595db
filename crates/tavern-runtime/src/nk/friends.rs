//! Friends: the `Nk` functions and the part of the backend behind them.
//!
//! A user's friend list holds one edge per other user, in one of four states: 0 mutual
//! friends, 1 an invite the user sent, 2 an invite the user received, 3 the user blocked the
//! other. Adding a user who invited you accepts; blocking drops the other user's edge.

use super::{BoxFuture, Nk, domain};
use crate::{RuntimeError, api};

/// What [`FriendsBackend::friends_change`] does to the users it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FriendsChange {
    /// Accept their invites, or invite them (notifications -2 and -3, as from the client).
    Add,
    /// Remove the edges both ways (except the other user's block).
    Delete,
    /// Block them.
    Block,
}

/// The server's side of the friends functions of [`Nk`](super::Nk).
pub trait FriendsBackend: Send + Sync {
    /// See [`Nk::friends_list`].
    fn friends_list(
        &self,
        user_id: String,
        limit: usize,
        state: Option<i32>,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::FriendList, RuntimeError>>;
    /// See [`Nk::friends_add`], [`Nk::friends_delete`] and [`Nk::friends_block`].
    fn friends_change(
        &self,
        change: FriendsChange,
        user_id: String,
        username: String,
        ids: Vec<String>,
        usernames: Vec<String>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
}

impl Nk {
    /// A page of a user's friends, ordered by state and then by when each edge was made:
    /// `limit` (1-100) of them, of one `state` (0-3) when given, from a `cursor` of an earlier
    /// page (`""` for the first). Returns the friends and the cursor of the next page (`""`
    /// after the last).
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed user
    /// id, a limit or state out of range, or a cursor that is not one of this listing's.
    pub async fn friends_list(
        &self,
        user_id: &str,
        limit: usize,
        state: Option<i32>,
        cursor: &str,
    ) -> Result<(Vec<api::Friend>, String), RuntimeError> {
        let list = domain(self.backend.friends())?
            .friends_list(user_id.to_owned(), limit, state, cursor.to_owned())
            .await?;
        Ok((list.friends, list.cursor))
    }

    /// Adds friends to a user (`username` is the user's own, for the notifications' text): by
    /// ids and by usernames, as the user's client would. A user who invited this one becomes a
    /// friend (notification -3 to them); anyone else is invited (notification -2), unless
    /// either blocks the other. Unknown ids are skipped.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed id,
    /// the user's own id or username, an empty username, or nothing left to add.
    pub async fn friends_add<S: AsRef<str>>(
        &self,
        user_id: &str,
        username: &str,
        ids: &[S],
        usernames: &[S],
    ) -> Result<(), RuntimeError> {
        self.friends_change(FriendsChange::Add, user_id, username, ids, usernames)
            .await
    }

    /// Deletes friends (or invites, or the user's blocks) of a user, by ids and usernames; the
    /// other user's block stays. Checks as [`Nk::friends_add`].
    pub async fn friends_delete<S: AsRef<str>>(
        &self,
        user_id: &str,
        username: &str,
        ids: &[S],
        usernames: &[S],
    ) -> Result<(), RuntimeError> {
        self.friends_change(FriendsChange::Delete, user_id, username, ids, usernames)
            .await
    }

    /// Makes a user block others, by ids and usernames: the user's edge becomes a block, the
    /// other user's edge goes unless it is a block too. Checks as [`Nk::friends_add`].
    pub async fn friends_block<S: AsRef<str>>(
        &self,
        user_id: &str,
        username: &str,
        ids: &[S],
        usernames: &[S],
    ) -> Result<(), RuntimeError> {
        self.friends_change(FriendsChange::Block, user_id, username, ids, usernames)
            .await
    }

    async fn friends_change<S: AsRef<str>>(
        &self,
        change: FriendsChange,
        user_id: &str,
        username: &str,
        ids: &[S],
        usernames: &[S],
    ) -> Result<(), RuntimeError> {
        let owned = |v: &[S]| -> Vec<String> { v.iter().map(|s| s.as_ref().to_owned()).collect() };
        domain(self.backend.friends())?
            .friends_change(
                change,
                user_id.to_owned(),
                username.to_owned(),
                owned(ids),
                owned(usernames),
            )
            .await
    }
}
