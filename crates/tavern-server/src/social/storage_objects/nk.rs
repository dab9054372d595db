//! The server's side of the storage `Nk` functions: Nakama's runtime rules (any owner, no
//! permission checks, versions kept) over the same SQL as the REST routes.

use tavern_proto::api;
use tavern_runtime::{
    BoxFuture, RuntimeError, StorageBackend, StorageDelete, StorageRead, StorageWrite,
};
use uuid::Uuid;

use super::cursor::ListCursor;
use super::rest::{check_name_lengths, is_json_object};
use super::sql::{DeleteOp, Listing, ObjectId, SYSTEM_USER, StorageError, WriteOp};
use crate::runtime::nk_backend::ServerNk;

impl StorageBackend for ServerNk {
    fn storage_read(
        &self,
        reads: Vec<StorageRead>,
    ) -> BoxFuture<'_, Result<Vec<api::StorageObject>, RuntimeError>> {
        Box::pin(async move {
            let ids = reads
                .into_iter()
                .map(|r| {
                    names(&r.collection, &r.key)?;
                    Ok(ObjectId {
                        owner: owner(&r.user_id)?,
                        collection: r.collection,
                        key: r.key,
                    })
                })
                .collect::<Result<Vec<_>, RuntimeError>>()?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            self.state()?
                .db
                .storage_read(&ids)
                .await
                .map_err(|e| failed(StorageError::Sql(e)))
        })
    }

    fn storage_write(
        &self,
        writes: Vec<StorageWrite>,
    ) -> BoxFuture<'_, Result<Vec<api::StorageObjectAck>, RuntimeError>> {
        Box::pin(async move {
            let ops = writes
                .into_iter()
                .map(write_op)
                .collect::<Result<Vec<_>, RuntimeError>>()?;
            if ops.is_empty() {
                return Ok(Vec::new());
            }
            self.state()?
                .db
                .storage_write(ops, true)
                .await
                .map_err(failed)
        })
    }

    fn storage_delete(
        &self,
        deletes: Vec<StorageDelete>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async move {
            let ops = deletes
                .into_iter()
                .map(|d| {
                    names(&d.collection, &d.key)?;
                    Ok(DeleteOp {
                        owner: owner(&d.user_id)?,
                        collection: d.collection,
                        key: d.key,
                        version: d.version,
                    })
                })
                .collect::<Result<Vec<_>, RuntimeError>>()?;
            if ops.is_empty() {
                return Ok(());
            }
            self.state()?
                .db
                .storage_delete(&ops, true)
                .await
                .map_err(failed)
        })
    }

    fn storage_list(
        &self,
        user_id: String,
        collection: String,
        limit: usize,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::StorageObjectList, RuntimeError>> {
        Box::pin(async move {
            let user = if user_id.is_empty() {
                None
            } else {
                Some(
                    Uuid::parse_str(&user_id)
                        .map_err(|_| invalid_user_id())?
                        .to_string(),
                )
            };
            let after =
                if cursor.is_empty() {
                    None
                } else {
                    Some(ListCursor::decode(&cursor).ok_or_else(|| {
                        RuntimeError::invalid_argument("Malformed cursor was used.")
                    })?)
                };
            let listing = match user.as_deref() {
                Some(user) => Listing::User(user),
                None => Listing::All,
            };
            let mut list = self
                .state()?
                .db
                .storage_list(listing, &collection, limit, after.as_ref())
                .await
                .map_err(|e| failed(StorageError::Sql(e)))?;
            if !cursor.is_empty() && list.cursor == cursor {
                list.cursor.clear();
            }
            Ok(list)
        })
    }
}

/// A runtime write checked as Nakama's runtime checks it (and its permissions, which Nakama
/// leaves unchecked, in their ranges).
pub(crate) fn write_op(w: StorageWrite) -> Result<WriteOp, RuntimeError> {
    names(&w.collection, &w.key)?;
    let owner = owner(&w.user_id)?;
    if !is_json_object(&w.value) {
        return Err(RuntimeError::invalid_argument(
            "value must be a JSON-encoded object",
        ));
    }
    if !(0..=2).contains(&w.permission_read) {
        return Err(RuntimeError::invalid_argument(
            "expects permission_read to be 0, 1 or 2",
        ));
    }
    if !(0..=1).contains(&w.permission_write) {
        return Err(RuntimeError::invalid_argument(
            "expects permission_write to be 0 or 1",
        ));
    }
    Ok(WriteOp {
        owner,
        collection: w.collection,
        key: w.key,
        value: w.value,
        version: w.version,
        read: w.permission_read,
        write: w.permission_write,
    })
}

/// A refused write or delete keeps Nakama's message; a database failure is logged.
pub(crate) fn failed(e: StorageError) -> RuntimeError {
    match e {
        StorageError::Sql(e) => {
            tracing::error!(error = %e, "storage query failed");
            RuntimeError::internal("Error accessing storage objects.")
        }
        refused => RuntimeError::invalid_argument(refused.to_string()),
    }
}

fn names(collection: &str, key: &str) -> Result<(), RuntimeError> {
    if collection.is_empty() {
        return Err(RuntimeError::invalid_argument(
            "expects collection to be a non-empty string",
        ));
    }
    if key.is_empty() {
        return Err(RuntimeError::invalid_argument(
            "expects key to be a non-empty string",
        ));
    }
    check_name_lengths(collection, key).map_err(RuntimeError::invalid_argument)
}

/// The owner's id in canonical form; an empty one is the system user.
fn owner(user_id: &str) -> Result<String, RuntimeError> {
    if user_id.is_empty() {
        return Ok(SYSTEM_USER.to_owned());
    }
    Uuid::parse_str(user_id)
        .map(|id| id.to_string())
        .map_err(|_| invalid_user_id())
}

fn invalid_user_id() -> RuntimeError {
    RuntimeError::invalid_argument("expects an empty or valid user id")
}
