//! The storage routes: write (`PUT /v2/storage`), read (`POST /v2/storage`), delete
//! (`PUT /v2/storage/delete`) and list (`GET /v2/storage/{collection}[/{user_id}]`), each with
//! its before and after hooks, Nakama's checks and messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use tavern_proto::api;
use tavern_runtime::operation::{
    DeleteStorageObjects, ListStorageObjects, ReadStorageObjects, WriteStorageObjects,
};
use uuid::Uuid;

use super::cursor::ListCursor;
use super::sql::{DeleteOp, Listing, ObjectId, SYSTEM_USER, StorageError, WriteOp};
use crate::api::call_info::CallInfo;
use crate::api::error::ApiError;
use crate::api::extract::{Body, Params, Session};
use crate::api::hooks;
use crate::runtime::session_caller;
use crate::state::AppState;

const NAMES_MISSING: &str = "Invalid collection or key value supplied. They must be set.";
const BAD_USER_ID: &str = "Invalid user ID - make sure user ID is a valid UUID.";

/// Longest collection or key, in characters (Nakama's columns are `VARCHAR(128)`).
pub const MAX_NAME_CHARS: usize = 128;

pub async fn write(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(request): Body<api::WriteStorageObjectsRequest>,
) -> Result<Json<api::StorageObjectAcks>, ApiError> {
    let caller = session_caller(&session);
    let request =
        hooks::before(&state, &call, caller.clone(), WriteStorageObjects, request).await?;
    if request.objects.is_empty() {
        return Ok(Json(api::StorageObjectAcks::default()));
    }
    let owner = session.user_id.to_string();
    let ops = request
        .objects
        .iter()
        .map(|object| write_op(&owner, object))
        .collect::<Result<Vec<_>, _>>()?;
    let acks = api::StorageObjectAcks {
        acks: state
            .db
            .storage_write(ops, false)
            .await
            .map_err(|e| rejection(e, "Error writing storage objects."))?,
    };
    hooks::after(&state, &call, caller, WriteStorageObjects, request, &acks).await;
    Ok(Json(acks))
}

/// A client's object checked as Nakama checks it, owned by the caller.
fn write_op(owner: &str, object: &api::WriteStorageObject) -> Result<WriteOp, ApiError> {
    if object.collection.is_empty() || object.key.is_empty() || object.value.is_empty() {
        return Err(ApiError::invalid(NAMES_MISSING));
    }
    check_name_lengths(&object.collection, &object.key).map_err(ApiError::invalid)?;
    let read = object.permission_read.unwrap_or(1);
    if !(0..=2).contains(&read) {
        return Err(ApiError::invalid(
            "Invalid Read permission supplied. It must be either 0, 1 or 2.",
        ));
    }
    let write = object.permission_write.unwrap_or(1);
    if !(0..=1).contains(&write) {
        return Err(ApiError::invalid(
            "Invalid Write permission supplied. It must be either 0 or 1.",
        ));
    }
    if !is_json_object(&object.value) {
        return Err(ApiError::invalid("Value must be a JSON object."));
    }
    Ok(WriteOp {
        owner: owner.to_owned(),
        collection: object.collection.clone(),
        key: object.key.clone(),
        value: object.value.clone(),
        version: object.version.clone(),
        read,
        write,
    })
}

/// Whether a value is valid JSON that starts (after white space) with `{`.
pub fn is_json_object(value: &str) -> bool {
    value.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(value).is_ok()
}

/// Refuses a collection or key longer than the database keeps.
pub fn check_name_lengths(collection: &str, key: &str) -> Result<(), String> {
    if collection.chars().count() > MAX_NAME_CHARS || key.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "Invalid collection or key value supplied. They must be at most {MAX_NAME_CHARS} characters."
        ));
    }
    Ok(())
}

/// A refused write or delete is the client's 400; a database failure a logged 500.
fn rejection(e: StorageError, context: &'static str) -> ApiError {
    match e {
        StorageError::Sql(e) => ApiError::database(context, e),
        refused => ApiError::invalid(refused.to_string()),
    }
}

pub async fn read(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(request): Body<api::ReadStorageObjectsRequest>,
) -> Result<Json<api::StorageObjects>, ApiError> {
    let caller = session_caller(&session);
    let request = hooks::before(&state, &call, caller.clone(), ReadStorageObjects, request).await?;
    if request.object_ids.is_empty() {
        return Ok(Json(api::StorageObjects::default()));
    }
    let mut ids = Vec::with_capacity(request.object_ids.len());
    for id in &request.object_ids {
        if id.collection.is_empty() || id.key.is_empty() {
            return Err(ApiError::invalid(NAMES_MISSING));
        }
        let owner = if id.user_id.is_empty() {
            SYSTEM_USER.to_owned()
        } else {
            match Uuid::parse_str(&id.user_id) {
                Ok(owner) if !owner.is_nil() => owner.to_string(),
                _ => return Err(ApiError::invalid(BAD_USER_ID)),
            }
        };
        ids.push(ObjectId {
            owner,
            collection: id.collection.clone(),
            key: id.key.clone(),
        });
    }
    let caller_id = session.user_id.to_string();
    let mut objects = state
        .db
        .storage_read(&ids)
        .await
        .map_err(|e| ApiError::database("Error reading storage objects.", e))?;
    // Others' objects only when public; one's own also when owner-readable; never read 0.
    objects
        .retain(|o| o.permission_read == 2 || (o.permission_read == 1 && o.user_id == caller_id));
    let objects = api::StorageObjects { objects };
    hooks::after(&state, &call, caller, ReadStorageObjects, request, &objects).await;
    Ok(Json(objects))
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    Body(request): Body<api::DeleteStorageObjectsRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = session_caller(&session);
    let request =
        hooks::before(&state, &call, caller.clone(), DeleteStorageObjects, request).await?;
    if request.object_ids.is_empty() {
        return Ok(Json(serde_json::json!({})));
    }
    let owner = session.user_id.to_string();
    let mut ops = Vec::with_capacity(request.object_ids.len());
    for id in &request.object_ids {
        if id.collection.is_empty() || id.key.is_empty() {
            return Err(ApiError::invalid(NAMES_MISSING));
        }
        ops.push(DeleteOp {
            owner: owner.clone(),
            collection: id.collection.clone(),
            key: id.key.clone(),
            version: id.version.clone(),
        });
    }
    state
        .db
        .storage_delete(&ops, false)
        .await
        .map_err(|e| rejection(e, "Error deleting storage objects."))?;
    hooks::after(&state, &call, caller, DeleteStorageObjects, request, &()).await;
    Ok(Json(serde_json::json!({})))
}

/// `GET /v2/storage/{collection}`: the user comes from the query, if any.
pub async fn list_collection(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
    collection: Result<Path<String>, PathRejection>,
) -> Result<Json<api::StorageObjectList>, ApiError> {
    let Path(collection) = collection.map_err(|e| ApiError::invalid(e.body_text()))?;
    let user_id = params.get(&["user_id", "userId"]).unwrap_or_default();
    list(
        &state,
        &session,
        &call,
        &params,
        collection,
        user_id.to_owned(),
    )
    .await
}

/// `GET /v2/storage/delete`: a listing of the collection called `delete`, as in Nakama,
/// where the route of deletes takes only `PUT`.
pub async fn list_delete_collection(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
) -> Result<Json<api::StorageObjectList>, ApiError> {
    let user_id = params.get(&["user_id", "userId"]).unwrap_or_default();
    list(
        &state,
        &session,
        &call,
        &params,
        "delete".to_owned(),
        user_id.to_owned(),
    )
    .await
}

/// `GET /v2/storage/{collection}/{user_id}`: the user comes from the path.
pub async fn list_user(
    State(state): State<Arc<AppState>>,
    session: Session,
    call: CallInfo,
    params: Params,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<api::StorageObjectList>, ApiError> {
    let Path((collection, user_id)) = path.map_err(|e| ApiError::invalid(e.body_text()))?;
    list(&state, &session, &call, &params, collection, user_id).await
}

async fn list(
    state: &AppState,
    session: &Session,
    call: &CallInfo,
    params: &Params,
    collection: String,
    user_id: String,
) -> Result<Json<api::StorageObjectList>, ApiError> {
    let request = api::ListStorageObjectsRequest {
        user_id,
        collection,
        limit: params.int32(&["limit"])?,
        cursor: params.get(&["cursor"]).unwrap_or_default().to_owned(),
    };
    let caller = session_caller(session);
    let request = hooks::before(state, call, caller.clone(), ListStorageObjects, request).await?;
    let limit = request.limit.unwrap_or(1);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "Invalid limit - limit must be between 1 and 100.",
        ));
    }
    let owner = if request.user_id.is_empty() {
        None
    } else {
        let owner =
            Uuid::parse_str(&request.user_id).map_err(|_| ApiError::invalid(BAD_USER_ID))?;
        Some(owner.to_string())
    };
    let cursor = if request.cursor.is_empty() {
        None
    } else {
        Some(
            ListCursor::decode(&request.cursor)
                .ok_or_else(|| ApiError::invalid("Malformed cursor was used."))?,
        )
    };
    let caller_id = session.user_id.to_string();
    let listing = match owner.as_deref() {
        None => Listing::Public,
        Some(owner) if owner == caller_id => Listing::Own(owner),
        Some(owner) => Listing::OthersPublic(owner),
    };
    let mut list = state
        .db
        .storage_list(
            listing,
            &request.collection,
            limit as usize,
            cursor.as_ref(),
        )
        .await
        .map_err(|e| ApiError::database("Error listing storage objects.", e))?;
    // A page that ends where it began has no next page.
    if !request.cursor.is_empty() && list.cursor == request.cursor {
        list.cursor.clear();
    }
    hooks::after(state, call, caller, ListStorageObjects, request, &list).await;
    Ok(Json(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_objects_are_values() {
        for good in [r#"{"a":1}"#, " \n{}", r#"{"a":{"b":[1,2]}}"#] {
            assert!(is_json_object(good), "{good}");
        }
        for bad in ["[1,2]", "1", "\"s\"", "{", "{} x", "{\"a\":}", "", "null"] {
            assert!(!is_json_object(bad), "{bad}");
        }
    }

    #[test]
    fn names_are_at_most_128_characters() {
        let long = "é".repeat(128);
        assert!(check_name_lengths(&long, "k").is_ok());
        assert!(check_name_lengths(&format!("{long}x"), "k").is_err());
        assert!(check_name_lengths("c", &format!("{long}x")).is_err());
    }
}
