//! Storage objects: the `Nk` functions and the part of the backend behind them.
//!
//! Server code reads and writes any user's objects (or the system user's, for server data)
//! whatever their permissions, as Nakama's runtime does; versions still apply when given.

use super::{BoxFuture, Nk, domain};
use crate::{RuntimeError, api};

/// The system user, owner of server data: an empty `user_id` in the storage functions means
/// this user.
pub const SYSTEM_USER_ID: &str = "00000000-0000-0000-0000-000000000000";

/// An object to read: collection, key and owner (`""` for the system user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageRead {
    pub collection: String,
    pub key: String,
    pub user_id: String,
}

/// An object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageWrite {
    pub collection: String,
    pub key: String,
    /// The owner; `""` for the system user.
    pub user_id: String,
    /// A JSON object, as text.
    pub value: String,
    /// `""` writes whatever is stored; `"*"` writes only if nothing is; any other version
    /// writes only over an object of that version.
    pub version: String,
    /// 0 no client reads it, 1 its owner may, 2 anyone may.
    pub permission_read: i32,
    /// 0 no client writes it, 1 its owner may.
    pub permission_write: i32,
}

impl StorageWrite {
    /// An unconditional write that only its owner may read and write (permissions 1 and 1,
    /// the default of clients and of Nakama's Lua runtime).
    ///
    /// ```
    /// use tavern_runtime::StorageWrite;
    /// let save = StorageWrite {
    ///     permission_read: 2,
    ///     ..StorageWrite::new("saves", "slot1", "", serde_json::json!({"level": 3}).to_string())
    /// };
    /// assert_eq!(save.permission_write, 1);
    /// ```
    pub fn new(
        collection: impl Into<String>,
        key: impl Into<String>,
        user_id: impl Into<String>,
        value: impl Into<String>,
    ) -> StorageWrite {
        StorageWrite {
            collection: collection.into(),
            key: key.into(),
            user_id: user_id.into(),
            value: value.into(),
            version: String::new(),
            permission_read: 1,
            permission_write: 1,
        }
    }
}

/// An object to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageDelete {
    pub collection: String,
    pub key: String,
    /// The owner; `""` for the system user.
    pub user_id: String,
    /// `""` deletes whatever is stored; otherwise only an object of this version.
    pub version: String,
}

/// The server's side of the storage objects functions of [`Nk`](super::Nk).
pub trait StorageBackend: Send + Sync {
    /// See [`Nk::storage_read`].
    fn storage_read(
        &self,
        reads: Vec<StorageRead>,
    ) -> BoxFuture<'_, Result<Vec<api::StorageObject>, RuntimeError>>;
    /// See [`Nk::storage_write`].
    fn storage_write(
        &self,
        writes: Vec<StorageWrite>,
    ) -> BoxFuture<'_, Result<Vec<api::StorageObjectAck>, RuntimeError>>;
    /// See [`Nk::storage_delete`].
    fn storage_delete(
        &self,
        deletes: Vec<StorageDelete>,
    ) -> BoxFuture<'_, Result<(), RuntimeError>>;
    /// See [`Nk::storage_list`].
    fn storage_list(
        &self,
        user_id: String,
        collection: String,
        limit: usize,
        cursor: String,
    ) -> BoxFuture<'_, Result<api::StorageObjectList, RuntimeError>>;
}

impl Nk {
    /// The objects that exist among `reads`, whatever their read permission. Missing objects
    /// are left out.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for an empty
    /// collection or key or a malformed user id.
    pub async fn storage_read(
        &self,
        reads: &[StorageRead],
    ) -> Result<Vec<api::StorageObject>, RuntimeError> {
        domain(self.backend.storage())?
            .storage_read(reads.to_vec())
            .await
    }

    /// Writes all `writes` in one transaction, or none of them; returns an ack (with the new
    /// version) per write, in order. Write permissions do not apply to server code; versions
    /// do.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for an empty
    /// collection or key, a malformed user id, a value that is not a JSON object, or a version
    /// that does not match (`Storage write rejected - version check failed.`).
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk, user_id: &str) -> Result<(), tavern_runtime::RuntimeError> {
    /// use tavern_runtime::StorageWrite;
    /// let value = serde_json::json!({"gold": 10}).to_string();
    /// let acks = nk.storage_write(&[StorageWrite::new("inventory", "bag", user_id, value)]).await?;
    /// println!("version {}", acks[0].version);
    /// # Ok(()) }
    /// ```
    pub async fn storage_write(
        &self,
        writes: &[StorageWrite],
    ) -> Result<Vec<api::StorageObjectAck>, RuntimeError> {
        domain(self.backend.storage())?
            .storage_write(writes.to_vec())
            .await
    }

    /// Deletes all `deletes` in one transaction, or none of them. A missing object is no error
    /// unless a version was given.
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for an empty
    /// collection or key, a malformed user id, or a version that does not match.
    pub async fn storage_delete(&self, deletes: &[StorageDelete]) -> Result<(), RuntimeError> {
        domain(self.backend.storage())?
            .storage_delete(deletes.to_vec())
            .await
    }

    /// Up to `limit` objects of a collection, whatever their read permission: one user's
    /// (`user_id`), or every owner's (`user_id` empty), in (read permission, key, owner)
    /// order. Pass the returned `cursor` back for the next page; it is empty after the last.
    ///
    /// ```no_run
    /// # async fn demo(nk: tavern_runtime::Nk) -> Result<(), tavern_runtime::RuntimeError> {
    /// let mut cursor = String::new();
    /// loop {
    ///     let page = nk.storage_list("", "leaderboard_cache", 100, &cursor).await?;
    ///     for object in &page.objects {
    ///         println!("{} {}", object.user_id, object.value);
    ///     }
    ///     if page.cursor.is_empty() {
    ///         break;
    ///     }
    ///     cursor = page.cursor;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// Fails with [`Code::InvalidArgument`](crate::Code::InvalidArgument) for a malformed user
    /// id or a cursor this server did not make.
    pub async fn storage_list(
        &self,
        user_id: &str,
        collection: &str,
        limit: usize,
        cursor: &str,
    ) -> Result<api::StorageObjectList, RuntimeError> {
        domain(self.backend.storage())?
            .storage_list(
                user_id.to_owned(),
                collection.to_owned(),
                limit,
                cursor.to_owned(),
            )
            .await
    }
}
