//! The database: one schema and one code path over embedded SQLite (the default) and PostgreSQL.
//!
//! Queries are written once with `$N` placeholders (sqlx maps them to SQLite's positional
//! parameters) and run on whichever pool is configured through [`on_db!`]. SQLite gets a
//! single-connection writer pool beside a reader pool so writers never fight over the lock.

pub mod account_writer;
pub mod links;
pub mod transaction;
pub mod users;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::social::storage_objects::writer::StorageWriter;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum StorageTarget {
    /// An SQLite file, created if missing.
    Sqlite { path: PathBuf },
    /// A PostgreSQL server, by `postgres://` URL.
    Postgres { url: String, max_connections: u32 },
}

/// The SQLite pools: many readers, one writer; new accounts and storage object writes go
/// through the writer in groups.
#[derive(Clone)]
pub struct SqliteBackend {
    pub read: SqlitePool,
    pub write: SqlitePool,
    pub accounts: account_writer::AccountWriter,
    pub storage_objects: StorageWriter,
}

/// A connected database.
#[derive(Clone)]
pub enum Db {
    Sqlite(SqliteBackend),
    Postgres(PgPool),
}

/// Runs one body against the configured pool; `read` or `write` picks the SQLite pool.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $mode:ident, |$pool:ident| $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.$mode;
                $body
            }
            $crate::storage::Db::Postgres(pg) => {
                let $pool = pg;
                $body
            }
        }
    };
}

/// Errors opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the database has {pending} pending migration(s); run `tavern migrate up` with the same --database.address first"
    )]
    NotMigrated { pending: usize },
}

impl Db {
    /// Opens the pools. Nothing is migrated here.
    pub async fn connect(target: &StorageTarget) -> Result<Db, StorageError> {
        match target {
            StorageTarget::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| StorageError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    // A checkpoint (two fsyncs) every 10,000 WAL pages instead of SQLite's 1,000:
                    // the writer waits for each, and under sustained writes they were most of
                    // its time. The WAL can grow to about 40 MB between them.
                    .pragma("wal_autocheckpoint", "10000")
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                // An SQLite connection is a thread of this process, never lost as a network
                // connection is: pinging it before each use is a round trip to that thread for
                // nothing.
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect_with(options.clone())
                    .await?;
                let read = SqlitePoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .connect_with(options.read_only(true))
                    .await?;
                let accounts = account_writer::AccountWriter::start(write.clone());
                let storage_objects = StorageWriter::start(write.clone());
                Ok(Db::Sqlite(SqliteBackend {
                    read,
                    write,
                    accounts,
                    storage_objects,
                }))
            }
            StorageTarget::Postgres {
                url,
                max_connections,
            } => {
                let options = PgConnectOptions::from_str(url)?;
                // No ping before each use (a round trip per query, which Go's database/sql in
                // Nakama does not make either): a connection the server dropped fails its next
                // query and is replaced.
                let pool = PgPoolOptions::new()
                    .max_connections((*max_connections).max(1))
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    /// Short name of the backend, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Applies every pending migration.
    pub async fn migrate_up(&self) -> Result<(), StorageError> {
        match self {
            Db::Sqlite(sqlite) => SQLITE_MIGRATIONS.run(&sqlite.write).await?,
            Db::Postgres(pg) => POSTGRES_MIGRATIONS.run(pg).await?,
        }
        Ok(())
    }

    /// Fails with [`StorageError::NotMigrated`] unless every migration has been applied.
    pub async fn ensure_migrated(&self) -> Result<(), StorageError> {
        let migrator = match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        let applied: Result<Vec<i64>, sqlx::Error> = on_db!(self, read, |pool| {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await
        });
        let applied = match applied {
            Ok(versions) => versions,
            // No bookkeeping table yet: nothing has been applied.
            Err(sqlx::Error::Database(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let pending = migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count();
        if pending > 0 {
            return Err(StorageError::NotMigrated { pending });
        }
        Ok(())
    }

    /// Closes every pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(sqlite) => {
                sqlite.read.close().await;
                sqlite.write.close().await;
            }
            Db::Postgres(pg) => pg.close().await,
        }
    }
}

/// Milliseconds since the unix epoch.
pub fn now_unix_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Seconds since the unix epoch, the unit of every time column.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
