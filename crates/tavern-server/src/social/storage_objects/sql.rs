//! The `storage` table: reads, conditional writes, deletes and listings, with Nakama's rules.
//!
//! Each write is one statement that checks its condition and writes together, so concurrent
//! writers never both win a version check, on either database. A request of one object runs
//! that statement alone (it is atomic); several objects run in one transaction, in a fixed
//! order (collection, key, owner) so that two such transactions cannot deadlock.

use std::collections::HashMap;
use std::fmt::Write;

use md5::{Digest, Md5};
use sqlx::AssertSqlSafe;
use tavern_proto::{Timestamp, api};

use super::cursor::ListCursor;
use crate::on_conn;
use crate::on_db;
use crate::storage::transaction::Conn;
use crate::storage::{Db, now_unix};

/// The system user, owner of server data.
pub const SYSTEM_USER: &str = "00000000-0000-0000-0000-000000000000";

/// Most object ids matched by one `SELECT` of a read.
const READ_CHUNK: usize = 100;

/// One object to write.
#[derive(Debug, Clone)]
pub struct WriteOp {
    /// Owner's id (UUID text; [`SYSTEM_USER`] for server data).
    pub owner: String,
    pub collection: String,
    pub key: String,
    /// A JSON object, as text.
    pub value: String,
    /// `""`: write whatever is there; `"*"`: only if absent; otherwise only if the stored
    /// version is this one.
    pub version: String,
    pub read: i32,
    pub write: i32,
}

/// One object to delete.
#[derive(Debug, Clone)]
pub struct DeleteOp {
    pub owner: String,
    pub collection: String,
    pub key: String,
    /// `""`: whatever version; otherwise only this one.
    pub version: String,
}

/// One object to read: owner, collection, key.
#[derive(Debug, Clone)]
pub struct ObjectId {
    pub owner: String,
    pub collection: String,
    pub key: String,
}

/// Why a write or delete was refused; nothing of its request was kept.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("Storage write rejected - version check failed.")]
    VersionCheck,
    #[error("Storage write rejected - permission denied.")]
    PermissionDenied,
    #[error("Storage delete rejected - not found, version check failed, or permission denied.")]
    DeleteRejected,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Nakama's version of a value: the hex MD5 of its text, as written.
pub fn version_of(value: &str) -> String {
    let mut hex = String::with_capacity(32);
    for byte in Md5::digest(value.as_bytes()) {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// A value bound to a query built at run time.
enum Param {
    Text(String),
    Permission(i32),
    Int(i64),
}

/// Whose objects a listing covers, and what the caller may see of them.
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    /// Every object of the collection (server code).
    All,
    /// The collection's public objects (a client listing without a user).
    Public,
    /// Every object of one user (server code).
    User(&'a str),
    /// A user's own objects that clients may read (read 1 and 2).
    Own(&'a str),
    /// Another user's public objects.
    OthersPublic(&'a str),
}

type ObjectRow = (String, String, String, String, String, i32, i32, i64, i64);

const OBJECT_COLUMNS: &str =
    "collection, key, user_id, value, version, read, write, create_time, update_time";

fn object(row: ObjectRow) -> api::StorageObject {
    let (collection, key, user_id, value, version, read, write, create_time, update_time) = row;
    api::StorageObject {
        collection,
        key,
        user_id,
        value,
        version,
        permission_read: read,
        permission_write: write,
        create_time: Some(Timestamp::from_unix_seconds(create_time)),
        update_time: Some(Timestamp::from_unix_seconds(update_time)),
    }
}

impl Db {
    /// The objects that exist among `ids`, in the order first asked for, each once.
    pub async fn storage_read(
        &self,
        ids: &[ObjectId],
    ) -> Result<Vec<api::StorageObject>, sqlx::Error> {
        let mut found: Vec<api::StorageObject> = Vec::new();
        for chunk in ids.chunks(READ_CHUNK) {
            let terms: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(user_id = ${} AND collection = ${} AND key = ${})",
                        3 * i + 1,
                        3 * i + 2,
                        3 * i + 3
                    )
                })
                .collect();
            let sql = format!(
                "SELECT {OBJECT_COLUMNS} FROM storage WHERE {}",
                terms.join(" OR ")
            );
            let rows: Vec<ObjectRow> = on_db!(self, read, |pool| {
                let mut query = sqlx::query_as(AssertSqlSafe(sql));
                for id in chunk {
                    query = query.bind(&id.owner).bind(&id.collection).bind(&id.key);
                }
                query.fetch_all(pool).await?
            });
            found.extend(rows.into_iter().map(object));
        }
        let mut first_asked: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            first_asked
                .entry((&id.owner, &id.collection, &id.key))
                .or_insert(i);
        }
        found.sort_by_key(|o| {
            first_asked
                .get(&(o.user_id.as_str(), o.collection.as_str(), o.key.as_str()))
                .copied()
        });
        Ok(found)
    }

    /// Writes every object or none; the acks are in the order of `ops`. `authoritative`
    /// (server code) ignores write permissions. On SQLite the write joins the group commit
    /// of [`StorageWriter`](super::writer::StorageWriter).
    pub async fn storage_write(
        &self,
        ops: Vec<WriteOp>,
        authoritative: bool,
    ) -> Result<Vec<api::StorageObjectAck>, StorageError> {
        if let Db::Sqlite(sqlite) = self {
            return sqlite.storage_objects.write(ops, authoritative).await;
        }
        if let [op] = ops.as_slice() {
            let mut writer = self.writer().await?;
            return Ok(vec![
                write_object(&mut writer.conn(), op, authoritative, now_unix()).await?,
            ]);
        }
        let mut tx = self.begin().await?;
        let acks = write_objects(&mut tx.conn(), &ops, authoritative).await?;
        tx.commit().await?;
        Ok(acks)
    }

    /// Deletes every object or none. A client (`authoritative` false) may delete only what it
    /// may write, and each object must exist; server code may name missing objects, unless it
    /// gives a version.
    pub async fn storage_delete(
        &self,
        ops: &[DeleteOp],
        authoritative: bool,
    ) -> Result<(), StorageError> {
        let mut ops: Vec<&DeleteOp> = ops.iter().collect();
        ops.sort_by(|a, b| {
            (&a.collection, &a.key, &a.owner).cmp(&(&b.collection, &b.key, &b.owner))
        });
        let mut tx = self.begin().await?;
        for op in ops {
            let mut sql = String::from(
                "DELETE FROM storage WHERE user_id = $1 AND collection = $2 AND key = $3",
            );
            if !authoritative {
                sql.push_str(" AND write > 0");
            }
            if !op.version.is_empty() {
                sql.push_str(" AND version = $4");
            }
            let deleted = on_conn!(&mut tx.conn(), |c| {
                let mut query = sqlx::query(AssertSqlSafe(sql))
                    .bind(&op.owner)
                    .bind(&op.collection)
                    .bind(&op.key);
                if !op.version.is_empty() {
                    query = query.bind(&op.version);
                }
                query.execute(c).await?.rows_affected()
            });
            if deleted == 0 && !(authoritative && op.version.is_empty()) {
                return Err(StorageError::DeleteRejected);
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` objects of a collection after `cursor`, and the cursor of the next page
    /// (`""` at the end).
    pub async fn storage_list(
        &self,
        listing: Listing<'_>,
        collection: &str,
        limit: usize,
        cursor: Option<&ListCursor>,
    ) -> Result<api::StorageObjectList, sqlx::Error> {
        if limit == 0 {
            return Ok(api::StorageObjectList::default());
        }
        // The conditions of each listing, Nakama's, and where its cursor resumes.
        let mut params = vec![Param::Text(collection.to_owned())];
        let mut sql = format!("SELECT {OBJECT_COLUMNS} FROM storage WHERE collection = $1");
        // A cursor's row value alone bounds the index scan, so it replaces a listing's lower
        // bound on `read` whenever it implies it.
        let order = match listing {
            Listing::All | Listing::Public => {
                let least = if let Listing::Public = listing { 2 } else { 0 };
                match cursor {
                    Some(cursor) => {
                        // A public listing resumes at read 2 whatever the cursor says.
                        let read = if least == 2 { 2 } else { cursor.read };
                        params.push(Param::Permission(read));
                        params.push(Param::Text(cursor.key.clone()));
                        params.push(Param::Text(cursor.user_id.clone()));
                        sql.push_str(" AND (read, key, user_id) > ($2, $3, $4)");
                    }
                    None if least == 2 => sql.push_str(" AND read >= 2"),
                    None => {}
                }
                "read, key, user_id"
            }
            Listing::User(user) | Listing::Own(user) => {
                let least = if let Listing::Own(_) = listing { 1 } else { 0 };
                params.push(Param::Text(user.to_owned()));
                sql.push_str(" AND user_id = $2");
                match cursor {
                    Some(cursor) if cursor.read >= least => {
                        params.push(Param::Permission(cursor.read));
                        params.push(Param::Text(cursor.key.clone()));
                        sql.push_str(" AND (read, key) > ($3, $4)");
                    }
                    _ if least == 1 => sql.push_str(" AND read >= 1"),
                    _ => {}
                }
                "read, key"
            }
            Listing::OthersPublic(user) => {
                params.push(Param::Text(user.to_owned()));
                sql.push_str(" AND user_id = $2 AND read = 2");
                if let Some(cursor) = cursor {
                    params.push(Param::Text(cursor.key.clone()));
                    sql.push_str(" AND key > $3");
                }
                "key"
            }
        };
        // One row more than asked tells whether there is a next page.
        params.push(Param::Int(
            i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1),
        ));
        let _ = write!(sql, " ORDER BY {order} LIMIT ${}", params.len());
        let rows: Vec<ObjectRow> = on_db!(self, read, |pool| {
            let mut query = sqlx::query_as(AssertSqlSafe(sql));
            for param in &params {
                query = match param {
                    Param::Text(text) => query.bind(text),
                    Param::Permission(n) => query.bind(n),
                    Param::Int(n) => query.bind(n),
                };
            }
            query.fetch_all(pool).await?
        });
        let mut objects: Vec<api::StorageObject> = rows.into_iter().map(object).collect();
        let mut next = String::new();
        if objects.len() > limit {
            objects.truncate(limit);
            if let Some(last) = objects.last() {
                next = ListCursor {
                    read: last.permission_read,
                    key: last.key.clone(),
                    user_id: last.user_id.clone(),
                }
                .encode();
            }
        }
        Ok(api::StorageObjectList {
            objects,
            cursor: next,
        })
    }
}

/// Writes `ops` on `conn` in (collection, key, owner) order; the acks are in the order of
/// `ops`. The caller holds the transaction.
pub async fn write_objects(
    conn: &mut Conn<'_>,
    ops: &[WriteOp],
    authoritative: bool,
) -> Result<Vec<api::StorageObjectAck>, StorageError> {
    let now = now_unix();
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&ops[a], &ops[b]);
        (&a.collection, &a.key, &a.owner).cmp(&(&b.collection, &b.key, &b.owner))
    });
    let mut acks = vec![api::StorageObjectAck::default(); ops.len()];
    for i in order {
        acks[i] = write_object(conn, &ops[i], authoritative, now).await?;
    }
    Ok(acks)
}

/// Writes one object with its version condition, in one statement; on refusal, looks at
/// what is stored to tell a version mismatch from a permission refusal as Nakama does.
pub(super) async fn write_object(
    conn: &mut Conn<'_>,
    op: &WriteOp,
    authoritative: bool,
    now: i64,
) -> Result<api::StorageObjectAck, StorageError> {
    let version = version_of(&op.value);
    // $1 owner, $2 collection, $3 key, $4 value, $5 version, $6 read, $7 write, $8 now,
    // and $9 the expected version when there is one. An update that changes nothing keeps its
    // update time.
    let keep_time = "CASE WHEN storage.version = $5 AND storage.read = $6 AND storage.write = $7 \
                     THEN storage.update_time ELSE $8 END";
    let (owner_may_write, owner_may_write_where) = if authoritative {
        ("", "")
    } else {
        (" AND storage.write = 1", " WHERE storage.write = 1")
    };
    let sql = match op.version.as_str() {
        "" => format!(
            "INSERT INTO storage (user_id, collection, key, value, version, read, write, \
             create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (user_id, collection, key) DO UPDATE SET value = $4, version = $5, \
             read = $6, write = $7, update_time = {keep_time}{owner_may_write_where} \
             RETURNING update_time"
        ),
        "*" => "INSERT INTO storage (user_id, collection, key, value, version, read, write, \
                create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                ON CONFLICT (user_id, collection, key) DO NOTHING RETURNING update_time"
            .to_owned(),
        _ => format!(
            "UPDATE storage SET value = $4, version = $5, read = $6, write = $7, \
             update_time = {keep_time} WHERE user_id = $1 AND collection = $2 AND key = $3 \
             AND storage.version = $9{owner_may_write} RETURNING update_time"
        ),
    };
    let expected = (!matches!(op.version.as_str(), "" | "*")).then_some(&op.version);
    let written: Option<i64> = on_conn!(conn, |c| {
        let mut query = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(&op.owner)
            .bind(&op.collection)
            .bind(&op.key)
            .bind(&op.value)
            .bind(&version)
            .bind(op.read)
            .bind(op.write)
            .bind(now);
        if let Some(expected) = expected {
            query = query.bind(expected);
        }
        query.fetch_optional(c).await?
    });
    let Some(update_time) = written else {
        return Err(refusal(conn, op, authoritative).await?);
    };
    // As Nakama: an object left as it was is acknowledged without the system user's id.
    let unchanged = update_time != now;
    Ok(api::StorageObjectAck {
        collection: op.collection.clone(),
        key: op.key.clone(),
        version,
        user_id: if unchanged && op.owner == SYSTEM_USER {
            String::new()
        } else {
            op.owner.clone()
        },
        create_time: None,
        update_time: None,
    })
}

/// Why a conditional write changed nothing: a stored object that matched the condition but
/// is not writable by clients is a permission refusal, anything else a version mismatch.
async fn refusal(
    conn: &mut Conn<'_>,
    op: &WriteOp,
    authoritative: bool,
) -> Result<StorageError, sqlx::Error> {
    if authoritative || op.version == "*" {
        return Ok(StorageError::VersionCheck);
    }
    let stored: Option<(String, i32)> = on_conn!(conn, |c| {
        sqlx::query_as(
            "SELECT version, write FROM storage WHERE user_id = $1 AND collection = $2 AND key = $3",
        )
        .bind(&op.owner)
        .bind(&op.collection)
        .bind(&op.key)
        .fetch_optional(c)
        .await?
    });
    Ok(match stored {
        Some((version, 0)) if op.version.is_empty() || op.version == version => {
            StorageError::PermissionDenied
        }
        _ => StorageError::VersionCheck,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_the_md5_of_the_value_as_written() {
        // Nakama's answer to `{"a":1}` (../shared/protocol vector 50).
        assert_eq!(version_of(r#"{"a":1}"#), "bb6cb5c68df4652941caf652a366f2d8");
    }
}
