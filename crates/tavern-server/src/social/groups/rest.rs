//! The group routes, each with its before and after hooks and Nakama's checks and messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use tavern_proto::api;
use tavern_runtime::Code;
use tavern_runtime::operation::{
    AddGroupUsers, BanGroupUsers, CreateGroup, DeleteGroup, DemoteGroupUsers, JoinGroup,
    KickGroupUsers, LeaveGroup, ListGroupUsers, ListGroups, ListUserGroups, PromoteGroupUsers,
    UpdateGroup,
};
use uuid::Uuid;

use super::cursor::EdgeCursor;
use super::sql::{self, GroupAfter, GroupError, GroupFilter, GroupUpdate, NewGroup};
use super::{list, ops};
use crate::api::call_info::CallInfo;
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params, Session};
use crate::api::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;

fn path_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|e| ApiError::invalid(e.body_text()))
}

/// A group id of a request, checked as Nakama checks it.
fn group_id(id: &str) -> Result<Uuid, ApiError> {
    if id.is_empty() {
        return Err(ApiError::invalid("Group ID must be set."));
    }
    Uuid::parse_str(id).map_err(|_| ApiError::invalid("Group ID must be a valid ID."))
}

/// The user ids of an add, kick, ban, promote or demote.
fn user_ids(ids: &[String]) -> Result<Vec<Uuid>, ApiError> {
    ids.iter()
        .map(|id| match Uuid::parse_str(id) {
            Ok(id) if !id.is_nil() => Ok(id),
            _ => Err(ApiError::invalid("User ID must be a valid ID.")),
        })
        .collect()
}

/// An unexpected failure: logged, and the operation's generic message.
fn failed(context: &'static str, e: GroupError) -> ApiError {
    ApiError::database(context, e)
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(request): Body<api::CreateGroupRequest>,
) -> Result<Json<api::Group>, ApiError> {
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), CreateGroup, request).await?;
    if request.name.is_empty() {
        return Err(ApiError::invalid("Group name must be set."));
    }
    let max_count = match request.max_count {
        0 => sql::DEFAULT_MAX_COUNT,
        n if n < 1 => {
            return Err(ApiError::invalid("Group max count must be >= 1 when set."));
        }
        n => n,
    };
    let new = NewGroup {
        user_id: session.user_id,
        creator_id: session.user_id,
        name: request.name.clone(),
        description: request.description.clone(),
        lang_tag: request.lang_tag.clone(),
        avatar_url: request.avatar_url.clone(),
        metadata: "{}".to_owned(),
        open: request.open,
        max_count,
    };
    let group = match sql::create(&state.db, &new).await {
        Ok(row) => row.into_wire(),
        Err(GroupError::NameInUse) => {
            return Err(ApiError::new(Code::AlreadyExists, "Group name is in use."));
        }
        Err(e) => return Err(failed("Error while trying to create group.", e)),
    };
    hooks::after(&state, &call, caller, CreateGroup, request, &group).await;
    Ok(Json(group))
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
    Body(mut request): Body<api::UpdateGroupRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    request.group_id = path_id(path)?;
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), UpdateGroup, request).await?;
    let id = group_id(&request.group_id)?;
    if request.name.as_deref() == Some("") {
        return Err(ApiError::invalid("Group name cannot be empty."));
    }
    if request.lang_tag.as_deref() == Some("") {
        return Err(ApiError::invalid("Group language cannot be empty."));
    }
    let update = GroupUpdate {
        name: request.name.clone(),
        description: request.description.clone(),
        lang_tag: request.lang_tag.clone(),
        avatar_url: request.avatar_url.clone(),
        open: request.open,
        ..GroupUpdate::default()
    };
    match sql::update(&state.db, id, Some(session.user_id), &update).await {
        Ok(()) => {}
        Err(GroupError::PermissionDenied) => {
            return Err(ApiError::not_found(
                "Group not found or you're not allowed to update.",
            ));
        }
        Err(GroupError::NoUpdateOps) => {
            return Err(ApiError::invalid("Specify at least one field to update."));
        }
        Err(GroupError::NotUpdated) => {
            return Err(ApiError::invalid("No new fields in group update."));
        }
        Err(GroupError::NameInUse) => return Err(ApiError::invalid("Group name is in use.")),
        Err(e) => return Err(failed("Error while trying to update group.", e)),
    }
    hooks::after(&state, &call, caller, UpdateGroup, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = api::DeleteGroupRequest {
        group_id: path_id(path)?,
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), DeleteGroup, request).await?;
    let id = group_id(&request.group_id)?;
    match sql::delete(&state.db, id, Some(session.user_id)).await {
        Ok(()) => {}
        Err(GroupError::PermissionDenied) => {
            return Err(ApiError::invalid(
                "Group not found or you're not allowed to delete.",
            ));
        }
        Err(e) => return Err(failed("Error while trying to delete group.", e)),
    }
    hooks::after(&state, &call, caller, DeleteGroup, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

pub async fn join(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = api::JoinGroupRequest {
        group_id: path_id(path)?,
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), JoinGroup, request).await?;
    let id = group_id(&request.group_id)?;
    match ops::join(&state, id, session.user_id, &session.username).await {
        Ok(()) => {}
        Err(GroupError::NotFound) => return Err(ApiError::not_found("Group not found.")),
        Err(GroupError::Full) => return Err(ApiError::invalid("Group is full.")),
        Err(e) => return Err(failed("Error while trying to join group.", e)),
    }
    hooks::after(&state, &call, caller, JoinGroup, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

pub async fn leave(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = api::LeaveGroupRequest {
        group_id: path_id(path)?,
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), LeaveGroup, request).await?;
    let id = group_id(&request.group_id)?;
    match ops::leave(&state, id, session.user_id, &session.username).await {
        Ok(()) => {}
        Err(GroupError::LastSuperadmin) => {
            return Err(ApiError::invalid(
                "Cannot leave group when you are the last superadmin.",
            ));
        }
        Err(e) => return Err(failed("Error while trying to leave group.", e)),
    }
    hooks::after(&state, &call, caller, LeaveGroup, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

/// What one of the five user-changing routes does with its checked ids.
#[derive(Debug, Clone, Copy)]
enum UsersChange {
    Add,
    Kick,
    Ban,
    Promote,
    Demote,
}

impl UsersChange {
    fn context(self) -> &'static str {
        match self {
            UsersChange::Add => "Error while trying to add users to a group.",
            UsersChange::Kick => "Error while trying to kick users from a group.",
            UsersChange::Ban => "Error while trying to ban users from a group.",
            UsersChange::Promote => "Error while trying to promote users in a group.",
            UsersChange::Demote => "Error while trying to demote users in a group.",
        }
    }

    async fn run(
        self,
        state: &AppState,
        session: &Session,
        group_id: &str,
        ids: &[String],
    ) -> Result<(), ApiError> {
        let id = self::group_id(group_id)?;
        if ids.is_empty() {
            return match self {
                UsersChange::Demote => Err(ApiError::invalid("User IDs must be set.")),
                _ => Ok(()),
            };
        }
        let users = user_ids(ids)?;
        let caller = Some(session.user_id);
        let done = match self {
            UsersChange::Add => ops::add(state, id, caller, &users).await,
            UsersChange::Kick => ops::remove(state, id, caller, &users, false).await,
            UsersChange::Ban => ops::remove(state, id, caller, &users, true).await,
            UsersChange::Promote => ops::step(state, id, caller, &users, true).await,
            UsersChange::Demote => ops::step(state, id, caller, &users, false).await,
        };
        match done {
            Ok(()) => Ok(()),
            Err(GroupError::PermissionDenied | GroupError::NotFound) => {
                Err(ApiError::not_found("Group not found or permission denied."))
            }
            Err(GroupError::Full) => Err(ApiError::invalid("Group is full.")),
            Err(GroupError::UserNotFound) => Err(ApiError::invalid("One or more users not found.")),
            Err(e) => Err(failed(self.context(), e)),
        }
    }
}

/// One handler per user-changing route: the ids come from the query string.
macro_rules! users_route {
    ($name:ident, $op:ident, $request:ident, $change:expr) => {
        pub async fn $name(
            State(state): State<Arc<AppState>>,
            session: Session,
            call: CallInfo,
            params: Params,
            path: Result<Path<String>, PathRejection>,
        ) -> Result<Json<serde_json::Value>, ApiError> {
            let request = api::$request {
                group_id: path_id(path)?,
                user_ids: params.all(&["user_ids", "userIds"]),
            };
            let caller = session_caller(&session);
            let request = hooks::before(&state, &call, caller.clone(), $op, request).await?;
            $change
                .run(&state, &session, &request.group_id, &request.user_ids)
                .await?;
            hooks::after(&state, &call, caller, $op, request, &()).await;
            Ok(Json(serde_json::json!({})))
        }
    };
}

users_route!(add, AddGroupUsers, AddGroupUsersRequest, UsersChange::Add);
users_route!(
    kick,
    KickGroupUsers,
    KickGroupUsersRequest,
    UsersChange::Kick
);
users_route!(ban, BanGroupUsers, BanGroupUsersRequest, UsersChange::Ban);
users_route!(
    promote,
    PromoteGroupUsers,
    PromoteGroupUsersRequest,
    UsersChange::Promote
);
users_route!(
    demote,
    DemoteGroupUsers,
    DemoteGroupUsersRequest,
    UsersChange::Demote
);

/// Limit (1..=100, default 100), state (0..=4) and cursor of a membership listing.
fn edge_page(
    limit: Option<i32>,
    state: Option<i32>,
    cursor: &str,
) -> Result<(i64, Option<EdgeCursor>), ApiError> {
    let limit = match limit {
        None => 100,
        Some(n) if (1..=100).contains(&n) => i64::from(n),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid limit - limit must be between 1 and 100.",
            ));
        }
    };
    if let Some(s) = state
        && !(0..=4).contains(&s)
    {
        return Err(ApiError::invalid(
            "Invalid state - state must be between 0 and 4.",
        ));
    }
    if cursor.is_empty() {
        return Ok((limit, None));
    }
    match EdgeCursor::decode(cursor) {
        Some(c) if state.is_none_or(|s| s == c.state) => Ok((limit, Some(c))),
        _ => Err(ApiError::invalid("Cursor is invalid.")),
    }
}

pub async fn list_group_users(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<api::GroupUserList>, ApiError> {
    let request = api::ListGroupUsersRequest {
        group_id: path_id(path)?,
        limit: params.int32(&["limit"])?,
        state: params.int32(&["state"])?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), ListGroupUsers, request).await?;
    let id = group_id(&request.group_id)?;
    let (limit, start) = edge_page(request.limit, request.state, &request.cursor)?;
    let list = list::group_users(&state, id, request.state, start, limit)
        .await
        .map_err(|e| ApiError::database("Error while trying to list users in a group.", e))?;
    hooks::after(&state, &call, caller, ListGroupUsers, request, &list).await;
    Ok(Json(list))
}

pub async fn list_user_groups(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<api::UserGroupList>, ApiError> {
    let request = api::ListUserGroupsRequest {
        user_id: path_id(path)?,
        limit: params.int32(&["limit"])?,
        state: params.int32(&["state"])?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), ListUserGroups, request).await?;
    if request.user_id.is_empty() {
        return Err(ApiError::invalid("User ID must be set."));
    }
    // Nakama's message says "Group" here.
    let user_id = Uuid::parse_str(&request.user_id)
        .map_err(|_| ApiError::invalid("Group ID must be a valid ID."))?;
    let (limit, start) = edge_page(request.limit, request.state, &request.cursor)?;
    let list = list::user_groups(&state.db, user_id, request.state, start, limit)
        .await
        .map_err(|e| ApiError::database("Error while trying to list groups for a user.", e))?;
    hooks::after(&state, &call, caller, ListUserGroups, request, &list).await;
    Ok(Json(list))
}

pub async fn list_groups(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<api::GroupList>, ApiError> {
    let request = api::ListGroupsRequest {
        name: params.get(&["name"]).unwrap_or_default().to_owned(),
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
        limit: params.int32(&["limit"])?,
        lang_tag: params
            .get(&["lang_tag", "langTag"])
            .unwrap_or_default()
            .to_owned(),
        members: params.int32(&["members"])?,
        open: params.bool(&["open"])?,
    };
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), ListGroups, request).await?;
    let limit = match request.limit {
        None => 1,
        Some(n) if (1..=100).contains(&n) => i64::from(n),
        Some(_) => {
            return Err(ApiError::invalid(
                "Invalid limit - limit must be between 1 and 100.",
            ));
        }
    };
    let filter = GroupFilter {
        name: Some(request.name.clone()).filter(|n| !n.is_empty()),
        lang_tag: Some(request.lang_tag.clone()).filter(|l| !l.is_empty()),
        members: request.members,
        open: request.open,
    };
    let after = if request.cursor.is_empty() {
        None
    } else {
        Some(
            GroupAfter::decode(&request.cursor)
                .ok_or_else(|| ApiError::invalid("Malformed cursor was used."))?,
        )
    };
    if filter.name.is_some()
        && (filter.lang_tag.is_some() || filter.members.is_some() || filter.open.is_some())
    {
        return Err(ApiError::invalid(list::NAME_ALONE));
    }
    let list = list::groups(&state.db, filter, after.as_ref(), limit)
        .await
        .map_err(|e| ApiError::database("Error while trying to list groups.", e))?;
    hooks::after(&state, &call, caller, ListGroups, request, &list).await;
    Ok(Json(list))
}
