//! The server's side of the domain's `Nk` functions: the same operations as REST, with
//! Nakama's runtime rules (an empty caller is the system, acting as a superadmin).

use tavern_proto::api;
use tavern_runtime::{
    BoxFuture, Code, GroupCreate, GroupUpdate, GroupUsersChange, GroupsBackend, GroupsFilter,
    RuntimeError,
};
use uuid::Uuid;

use super::cursor::EdgeCursor;
use super::sql::{self, GroupAfter, GroupError, GroupFilter, NewGroup};
use super::{list, ops};
use crate::runtime::nk_backend::ServerNk;

fn id(value: &str, what: &str) -> Result<Uuid, RuntimeError> {
    Uuid::parse_str(value).map_err(|_| {
        RuntimeError::invalid_argument(format!("expects {what} to be a valid identifier"))
    })
}

/// An empty caller is the system.
fn caller(value: &str) -> Result<Option<Uuid>, RuntimeError> {
    if value.is_empty() {
        return Ok(None);
    }
    id(value, "caller id").map(Some)
}

/// Nakama's runtime errors, with their codes; database failures logged.
fn failed(e: GroupError) -> RuntimeError {
    let code = match &e {
        GroupError::NotFound | GroupError::PermissionDenied => Code::NotFound,
        GroupError::NameInUse => Code::AlreadyExists,
        GroupError::Sql(e) => {
            tracing::error!(error = %e, "group query failed");
            return RuntimeError::internal("Error while running a group function.");
        }
        _ => Code::InvalidArgument,
    };
    RuntimeError::new(e.to_string(), code)
}

fn listing_failed(e: sqlx::Error) -> RuntimeError {
    failed(GroupError::Sql(e))
}

fn metadata_text(metadata: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(metadata.clone()).to_string()
}

/// Limit 1..=100, state 0..=4 and cursor of a membership listing.
fn edge_page(
    limit: i32,
    state: Option<i32>,
    cursor: &str,
) -> Result<(i64, Option<EdgeCursor>), RuntimeError> {
    if !(1..=100).contains(&limit) {
        return Err(RuntimeError::invalid_argument("expects limit to be 1-100"));
    }
    if state.is_some_and(|s| !(0..=4).contains(&s)) {
        return Err(RuntimeError::invalid_argument("expects state to be 0-4"));
    }
    if cursor.is_empty() {
        return Ok((i64::from(limit), None));
    }
    match EdgeCursor::decode(cursor) {
        Some(c) if state.is_none_or(|s| s == c.state) => Ok((i64::from(limit), Some(c))),
        _ => Err(RuntimeError::invalid_argument("Cursor is invalid.")),
    }
}

impl GroupsBackend for ServerNk {
    fn group_create(&self, group: GroupCreate) -> BoxFuture<'_, Result<api::Group, RuntimeError>> {
        Box::pin(async move {
            let user_id = id(&group.user_id, "user id")?;
            let creator_id = if group.creator_id.is_empty() {
                Uuid::nil()
            } else {
                id(&group.creator_id, "creator id")?
            };
            if group.name.is_empty() {
                return Err(RuntimeError::invalid_argument(
                    "expects group name not be empty",
                ));
            }
            let max_count = match group.max_count {
                0 => sql::DEFAULT_MAX_COUNT,
                n if n < 1 => {
                    return Err(RuntimeError::invalid_argument(
                        "expects max_count to be >= 1",
                    ));
                }
                n => n,
            };
            let new = NewGroup {
                user_id,
                creator_id,
                name: group.name,
                description: group.description,
                lang_tag: group.lang_tag,
                avatar_url: group.avatar_url,
                metadata: metadata_text(&group.metadata),
                open: group.open,
                max_count,
            };
            let state = self.state()?;
            sql::create(&state.db, &new)
                .await
                .map(sql::GroupRow::into_wire)
                .map_err(failed)
        })
    }

    fn group_update(
        &self,
        group_id: String,
        caller_id: String,
        update: GroupUpdate,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let group_id = id(&group_id, "group id")?;
            let caller = caller(&caller_id)?;
            if update.name.as_deref() == Some("") {
                return Err(RuntimeError::invalid_argument(
                    "expects group name not be empty",
                ));
            }
            if update.max_count.is_some_and(|n| n < 1) {
                return Err(RuntimeError::invalid_argument(
                    "expects max_count to be >= 1",
                ));
            }
            let creator_id = match &update.creator_id {
                Some(c) => Some(id(c, "creator id")?),
                None => None,
            };
            let changes = sql::GroupUpdate {
                name: update.name,
                description: update.description,
                lang_tag: update.lang_tag,
                avatar_url: update.avatar_url,
                metadata: update.metadata.as_ref().map(metadata_text),
                open: update.open,
                max_count: update.max_count,
                creator_id,
            };
            let state = self.state()?;
            sql::update(&state.db, group_id, caller, &changes)
                .await
                .map_err(failed)
        })
    }

    fn group_delete(&self, group_id: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let group_id = id(&group_id, "group id")?;
            let state = self.state()?;
            sql::delete(&state.db, group_id, None).await.map_err(failed)
        })
    }

    fn group_user_join_leave(
        &self,
        group_id: String,
        user_id: String,
        username: String,
        join: bool,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let group_id = id(&group_id, "group id")?;
            let user_id = id(&user_id, "user id")?;
            if username.is_empty() {
                return Err(RuntimeError::invalid_argument("expects a username"));
            }
            let state = self.state()?;
            let done = if join {
                ops::join(&state, group_id, user_id, &username).await
            } else {
                ops::leave(&state, group_id, user_id, &username).await
            };
            done.map_err(failed)
        })
    }

    fn group_users_change(
        &self,
        change: GroupUsersChange,
        group_id: String,
        user_ids: Vec<String>,
        caller_id: String,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let group_id = id(&group_id, "group id")?;
            let caller = caller(&caller_id)?;
            let users = user_ids
                .iter()
                .map(|u| match Uuid::parse_str(u) {
                    Ok(u) if !u.is_nil() => Ok(u),
                    _ => Err(RuntimeError::invalid_argument(
                        "expects each user id to be a valid identifier",
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if users.is_empty() {
                return Ok(());
            }
            let state = self.state()?;
            let done = match change {
                GroupUsersChange::Add => ops::add(&state, group_id, caller, &users).await,
                GroupUsersChange::Kick => {
                    ops::remove(&state, group_id, caller, &users, false).await
                }
                GroupUsersChange::Ban => ops::remove(&state, group_id, caller, &users, true).await,
                GroupUsersChange::Promote => {
                    ops::step(&state, group_id, caller, &users, true).await
                }
                GroupUsersChange::Demote => {
                    ops::step(&state, group_id, caller, &users, false).await
                }
            };
            done.map_err(failed)
        })
    }

    fn group_users_list(
        &self,
        group_id: String,
        limit: i32,
        state: Option<i32>,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::GroupUserList, RuntimeError>> {
        Box::pin(async move {
            let group_id = id(&group_id, "group id")?;
            let (limit, start) = edge_page(limit, state, &cursor)?;
            let app = self.state()?;
            list::group_users(&app, group_id, state, start, limit)
                .await
                .map_err(listing_failed)
        })
    }

    fn user_groups_list(
        &self,
        user_id: String,
        limit: i32,
        state: Option<i32>,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::UserGroupList, RuntimeError>> {
        Box::pin(async move {
            let user_id = id(&user_id, "user id")?;
            let (limit, start) = edge_page(limit, state, &cursor)?;
            let app = self.state()?;
            list::user_groups(&app.db, user_id, state, start, limit)
                .await
                .map_err(listing_failed)
        })
    }

    fn groups_get_id(
        &self,
        group_ids: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::Group>, RuntimeError>> {
        Box::pin(async move {
            let ids = group_ids
                .iter()
                .map(|g| id(g, "group id"))
                .collect::<Result<Vec<_>, _>>()?;
            let state = self.state()?;
            let rows = sql::get_many(&state.db, &ids)
                .await
                .map_err(listing_failed)?;
            Ok(rows.into_iter().map(sql::GroupRow::into_wire).collect())
        })
    }

    fn groups_list(
        &self,
        filter: GroupsFilter,
    ) -> BoxFuture<'_, Result<api::GroupList, RuntimeError>> {
        Box::pin(async move {
            if !(1..=100).contains(&filter.limit) {
                return Err(RuntimeError::invalid_argument("expects limit to be 1-100"));
            }
            let groups = GroupFilter {
                name: Some(filter.name).filter(|n| !n.is_empty()),
                lang_tag: Some(filter.lang_tag).filter(|l| !l.is_empty()),
                members: filter.members,
                open: filter.open,
            };
            if groups.name.is_some()
                && (groups.lang_tag.is_some() || groups.members.is_some() || groups.open.is_some())
            {
                return Err(RuntimeError::invalid_argument(list::NAME_ALONE));
            }
            let after =
                if filter.cursor.is_empty() {
                    None
                } else {
                    Some(GroupAfter::decode(&filter.cursor).ok_or_else(|| {
                        RuntimeError::invalid_argument("Malformed cursor was used.")
                    })?)
                };
            let state = self.state()?;
            list::groups(&state.db, groups, after.as_ref(), i64::from(filter.limit))
                .await
                .map_err(listing_failed)
        })
    }

    fn groups_get_random(
        &self,
        count: i32,
    ) -> BoxFuture<'_, Result<Vec<api::Group>, RuntimeError>> {
        Box::pin(async move {
            if !(0..=1000).contains(&count) {
                return Err(RuntimeError::invalid_argument("expects count to be 0-1000"));
            }
            let state = self.state()?;
            let rows = sql::random(&state.db, count)
                .await
                .map_err(listing_failed)?;
            Ok(rows.into_iter().map(sql::GroupRow::into_wire).collect())
        })
    }
}
