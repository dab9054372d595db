//! Groups: the `Nk` functions and the part of the backend behind them.
//!
//! Server code acts on any group: with an empty `caller_id` a change is the system's (it may
//! do what a superadmin may); with a user's id it is checked as that user's request would be.
//! Membership changes write Nakama's group-channel messages and notifications, as REST does.

use serde::{Deserialize, Serialize};

use super::{BoxFuture, Nk, domain};
use crate::{RuntimeError, api};

/// A group to create with [`Nk::group_create`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupCreate {
    /// The group's first superadmin.
    pub user_id: String,
    pub name: String,
    /// The `creator_id` the group shows; empty: the system user (as Nakama).
    pub creator_id: String,
    /// Empty: `en`.
    pub lang_tag: String,
    pub description: String,
    pub avatar_url: String,
    pub open: bool,
    /// A JSON object only server code writes (clients read it).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// At least 1; 0 means Nakama's default, 100.
    pub max_count: i32,
}

impl Default for GroupCreate {
    fn default() -> GroupCreate {
        GroupCreate {
            user_id: String::new(),
            name: String::new(),
            creator_id: String::new(),
            lang_tag: String::new(),
            description: String::new(),
            avatar_url: String::new(),
            open: false,
            metadata: serde_json::Map::new(),
            max_count: 100,
        }
    }
}

/// Changes to a group with [`Nk::group_update`]: `None` leaves a field alone; an empty
/// description or avatar clears it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupUpdate {
    pub name: Option<String>,
    pub creator_id: Option<String>,
    pub lang_tag: Option<String>,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    pub open: Option<bool>,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Not below the group's current member count.
    pub max_count: Option<i32>,
}

/// The filters of [`Nk::groups_list`]. A name filter (case-insensitive, `%` wildcards) goes
/// alone; the others combine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupsFilter {
    pub name: String,
    pub lang_tag: String,
    /// Groups with at most this many members.
    pub members: Option<i32>,
    pub open: Option<bool>,
    /// 1..=100.
    pub limit: i32,
    pub cursor: String,
}

impl Default for GroupsFilter {
    fn default() -> GroupsFilter {
        GroupsFilter {
            name: String::new(),
            lang_tag: String::new(),
            members: None,
            open: None,
            limit: 100,
            cursor: String::new(),
        }
    }
}

/// A change to several users of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupUsersChange {
    /// Members (or accepted join requests); each gets notification -4.
    Add,
    Kick,
    Ban,
    Promote,
    Demote,
}

/// The server's side of the groups functions of [`Nk`](super::Nk).
pub trait GroupsBackend: Send + Sync {
    /// See [`Nk::group_create`].
    fn group_create(&self, group: GroupCreate) -> BoxFuture<'_, Result<api::Group, RuntimeError>>;
    /// See [`Nk::group_update`].
    fn group_update(
        &self,
        group_id: String,
        caller_id: String,
        update: GroupUpdate,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::group_delete`].
    fn group_delete(&self, group_id: String) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::group_user_join`] (`join`) and [`Nk::group_user_leave`].
    fn group_user_join_leave(
        &self,
        group_id: String,
        user_id: String,
        username: String,
        join: bool,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::group_users_add`] and the other changes of [`GroupUsersChange`].
    fn group_users_change(
        &self,
        change: GroupUsersChange,
        group_id: String,
        user_ids: Vec<String>,
        caller_id: String,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::group_users_list`].
    fn group_users_list(
        &self,
        group_id: String,
        limit: i32,
        state: Option<i32>,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::GroupUserList, RuntimeError>>;
    /// See [`Nk::user_groups_list`].
    fn user_groups_list(
        &self,
        user_id: String,
        limit: i32,
        state: Option<i32>,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::UserGroupList, RuntimeError>>;
    /// See [`Nk::groups_get_id`].
    fn groups_get_id(
        &self,
        group_ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::Group>, RuntimeError>>;
    /// See [`Nk::groups_list`].
    fn groups_list(
        &self,
        filter: GroupsFilter,
    ) -> BoxFuture<'_, Result<api::GroupList, RuntimeError>>;
    /// See [`Nk::groups_get_random`].
    fn groups_get_random(&self, count: i32)
    -> BoxFuture<'_, Result<Vec<api::Group>, RuntimeError>>;
}

impl Nk {
    /// Creates a group whose first superadmin is `group.user_id`.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed or
    /// unknown user id, an empty name or a `max_count` below 1, and
    /// [`Code::AlreadyExists`](crate::Code::AlreadyExists) for a name in use.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk, user_id: String) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::GroupCreate;
    /// let group = nk
    ///     .group_create(GroupCreate {
    ///         user_id,
    ///         name: "Knights".into(),
    ///         open: true,
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// println!("{} has {} member(s)", group.id, group.edge_count);
    /// # Ok(()) }
    /// ```
    pub async fn group_create(&self, group: GroupCreate) -> Result<api::Group, RuntimeError> {
        domain(self.backend.groups())?.group_create(group).await
    }

    /// Changes a group: as the system when `caller_id` is empty, else as that user (who
    /// must be an admin or superadmin).
    ///
    /// Fails with [`Code::NotFound`](crate::Code::NotFound) for an unknown group (or a caller
    /// without the right) and [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a
    /// malformed id, an empty name, nothing to change or a name in use.
    pub async fn group_update(
        &self,
        group_id: &str,
        caller_id: &str,
        update: GroupUpdate,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.groups())?
            .group_update(group_id.to_owned(), caller_id.to_owned(), update)
            .await
    }

    /// Deletes a group and its memberships; an unknown group is no error.
    pub async fn group_delete(&self, group_id: &str) -> Result<(), RuntimeError> {
        domain(self.backend.groups())?
            .group_delete(group_id.to_owned())
            .await
    }

    /// The user joins an open group (or asks to join a closed one), as `POST
    /// /v2/group/{id}/join` by the user would.
    pub async fn group_user_join(
        &self,
        group_id: &str,
        user_id: &str,
        username: &str,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.groups())?
            .group_user_join_leave(
                group_id.to_owned(),
                user_id.to_owned(),
                username.to_owned(),
                true,
            )
            .await
    }

    /// The user leaves a group, as `POST /v2/group/{id}/leave` by the user would.
    pub async fn group_user_leave(
        &self,
        group_id: &str,
        user_id: &str,
        username: &str,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.groups())?
            .group_user_join_leave(
                group_id.to_owned(),
                user_id.to_owned(),
                username.to_owned(),
                false,
            )
            .await
    }

    async fn group_users(
        &self,
        change: GroupUsersChange,
        group_id: &str,
        user_ids: &[String],
        caller_id: &str,
    ) -> Result<(), RuntimeError> {
        domain(self.backend.groups())?
            .group_users_change(
                change,
                group_id.to_owned(),
                user_ids.to_vec(),
                caller_id.to_owned(),
            )
            .await
    }

    /// Adds users to a group as members (or accepts their join requests); each gets
    /// notification -4. `caller_id` empty: as the system; else as that admin or superadmin.
    ///
    /// Fails with [`Code::NotFound`](crate::Code::NotFound) for an unknown group or a caller
    /// without the right, and [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a
    /// malformed id, an unknown user or a full group (nothing is added then).
    pub async fn group_users_add(
        &self,
        group_id: &str,
        user_ids: &[String],
        caller_id: &str,
    ) -> Result<(), RuntimeError> {
        self.group_users(GroupUsersChange::Add, group_id, user_ids, caller_id)
            .await
    }

    /// Removes users from a group (rejects their join requests); the last superadmin stays.
    pub async fn group_users_kick(
        &self,
        group_id: &str,
        user_ids: &[String],
        caller_id: &str,
    ) -> Result<(), RuntimeError> {
        self.group_users(GroupUsersChange::Kick, group_id, user_ids, caller_id)
            .await
    }

    /// Bans users of a group: they leave it and cannot join again until kicked.
    pub async fn group_users_ban(
        &self,
        group_id: &str,
        user_ids: &[String],
        caller_id: &str,
    ) -> Result<(), RuntimeError> {
        self.group_users(GroupUsersChange::Ban, group_id, user_ids, caller_id)
            .await
    }

    /// Promotes users one step: member to admin, admin to superadmin.
    pub async fn group_users_promote(
        &self,
        group_id: &str,
        user_ids: &[String],
        caller_id: &str,
    ) -> Result<(), RuntimeError> {
        self.group_users(GroupUsersChange::Promote, group_id, user_ids, caller_id)
            .await
    }

    /// Demotes users one step: superadmin to admin, admin to member.
    pub async fn group_users_demote(
        &self,
        group_id: &str,
        user_ids: &[String],
        caller_id: &str,
    ) -> Result<(), RuntimeError> {
        self.group_users(GroupUsersChange::Demote, group_id, user_ids, caller_id)
            .await
    }

    /// A page of a group's users (1..=100 of them) with their states, banned users only
    /// when `state` is 4; pass the returned cursor back for the next page.
    pub async fn group_users_list(
        &self,
        group_id: &str,
        limit: i32,
        state: Option<i32>,
        cursor: &str,
    ) -> Result<api::GroupUserList, RuntimeError> {
        domain(self.backend.groups())?
            .group_users_list(group_id.to_owned(), limit, state, cursor.to_owned())
            .await
    }

    /// A page of a user's groups (1..=100 of them) with the user's state in each.
    pub async fn user_groups_list(
        &self,
        user_id: &str,
        limit: i32,
        state: Option<i32>,
        cursor: &str,
    ) -> Result<api::UserGroupList, RuntimeError> {
        domain(self.backend.groups())?
            .user_groups_list(user_id.to_owned(), limit, state, cursor.to_owned())
            .await
    }

    /// Groups by id; unknown ids are left out.
    pub async fn groups_get_id<S: AsRef<str>>(
        &self,
        group_ids: &[S],
    ) -> Result<Vec<api::Group>, RuntimeError> {
        let ids = group_ids.iter().map(|s| s.as_ref().to_owned()).collect();
        domain(self.backend.groups())?.groups_get_id(ids).await
    }

    /// A page of groups matching the filter, as `GET /v2/group` lists them.
    pub async fn groups_list(&self, filter: GroupsFilter) -> Result<api::GroupList, RuntimeError> {
        domain(self.backend.groups())?.groups_list(filter).await
    }

    /// Up to `count` groups picked at random.
    pub async fn groups_get_random(&self, count: i32) -> Result<Vec<api::Group>, RuntimeError> {
        domain(self.backend.groups())?
            .groups_get_random(count)
            .await
    }
}
