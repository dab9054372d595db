//! The three listings (a group's users, a user's groups, groups by filter) as REST and server
//! code both answer them: pages of `limit` with Nakama's cursors.

use tavern_proto::api;
use uuid::Uuid;

use super::cursor::EdgeCursor;
use super::sql::{self, GroupAfter, GroupFilter};
use crate::api::user::api_user;
use crate::state::AppState;
use crate::storage::Db;

/// Nakama's refusal of a name filter with other filters.
pub const NAME_ALONE: &str = "name filter cannot be combined with any other filter";

/// A page of a group's users (all but banned ones unless `state` asks for them), each with
/// its state and whether it is online.
pub async fn group_users(
    state: &AppState,
    group_id: Uuid,
    filter: Option<i32>,
    start: Option<EdgeCursor>,
    limit: i64,
) -> Result<api::GroupUserList, sqlx::Error> {
    let start = start.map(|c| (c.state, c.position));
    let mut rows = sql::group_users(&state.db, group_id, filter, start, limit).await?;
    let cursor = next_cursor(&mut rows, limit);
    Ok(api::GroupUserList {
        group_users: rows
            .into_iter()
            .map(|r| api::group_user_list::GroupUser {
                user: Some(api_user(&r.item, state.is_online(&r.item.id))),
                state: Some(r.state),
            })
            .collect(),
        cursor,
    })
}

/// A page of a user's groups, each with the user's state in it.
pub async fn user_groups(
    db: &Db,
    user_id: Uuid,
    filter: Option<i32>,
    start: Option<EdgeCursor>,
    limit: i64,
) -> Result<api::UserGroupList, sqlx::Error> {
    let start = start.map(|c| (c.state, c.position));
    let mut rows = sql::user_groups(db, user_id, filter, start, limit).await?;
    let cursor = next_cursor(&mut rows, limit);
    Ok(api::UserGroupList {
        user_groups: rows
            .into_iter()
            .map(|r| api::user_group_list::UserGroup {
                group: Some(r.item.into_wire()),
                state: Some(r.state),
            })
            .collect(),
        cursor,
    })
}

/// Keeps `limit` rows; the row after them, if any, is where the next page starts.
fn next_cursor<T>(rows: &mut Vec<sql::EdgeRow<T>>, limit: i64) -> String {
    if rows.len() as i64 <= limit {
        return String::new();
    }
    let next = rows.split_off(limit as usize);
    EdgeCursor {
        state: next[0].state,
        position: next[0].position,
    }
    .encode()
}

/// A page of groups. A name filter (checked alone by the caller) loses its leading `%` and
/// spaces, as Nakama's.
pub async fn groups(
    db: &Db,
    mut filter: GroupFilter,
    after: Option<&GroupAfter>,
    limit: i64,
) -> Result<api::GroupList, sqlx::Error> {
    if let Some(name) = &filter.name {
        let trimmed = name.trim_start_matches(['%', ' ']);
        filter.name = Some(trimmed.to_owned()).filter(|n| !n.is_empty());
    }
    let mut rows = sql::list(db, &filter, after, limit).await?;
    let mut cursor = String::new();
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        if let Some(last) = rows.last() {
            let after = GroupAfter {
                id: Uuid::parse_str(&last.id).unwrap_or_default(),
                name: last.name.clone(),
                edge_count: last.edge_count,
                update_time: last.update_time,
            };
            cursor = after.encode(&last.lang_tag, last.open());
        }
    }
    Ok(api::GroupList {
        groups: rows.into_iter().map(sql::GroupRow::into_wire).collect(),
        cursor,
    })
}
