//! Statements that must run together: a transaction, or one writer connection, on whichever
//! database is configured, with each query written once.
//!
//! [`Conn`] is a connection of either backend; [`on_conn!`](crate::on_conn) runs one body on it
//! (the body is compiled once per backend, so `sqlx` calls keep their concrete types). Code
//! that must be atomic takes `&mut Conn` and leaves the choice to its caller: a
//! [`Transaction`] for several statements, or [`Db::writer`] for a single statement, which is
//! atomic on its own and saves the round trips of `BEGIN` and `COMMIT`.
//!
//! ```ignore
//! let mut tx = db.begin().await?;
//! let changed = on_conn!(&mut tx.conn(), |c| {
//!     sqlx::query("UPDATE users SET update_time = $1 WHERE id = $2")
//!         .bind(now)
//!         .bind(user_id)
//!         .execute(c)
//!         .await?
//!         .rows_affected()
//! });
//! tx.commit().await?;
//! ```

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

use super::Db;

/// A connection of either backend, borrowed from a [`Transaction`] or a [`Writer`].
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    /// PostgreSQL's row lock for a `SELECT` that is followed by an update of the same rows
    /// (`FOR UPDATE`); empty on SQLite, whose single writer connection already serialises
    /// every write transaction.
    pub fn lock_rows(&self) -> &'static str {
        match self {
            Conn::Sqlite(_) => "",
            Conn::Postgres(_) => " FOR UPDATE",
        }
    }
}

/// Runs one body on a [`Conn`]'s connection: `on_conn!(conn, |c| body)`, with `c` a
/// `&mut SqliteConnection` or `&mut PgConnection`.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::storage::transaction::Conn::Sqlite(inner) => {
                let $c: &mut sqlx::SqliteConnection = &mut **inner;
                $body
            }
            $crate::storage::transaction::Conn::Postgres(inner) => {
                let $c: &mut sqlx::PgConnection = &mut **inner;
                $body
            }
        }
    };
}

/// An open transaction; dropped without [`commit`](Transaction::commit), it rolls back.
pub enum Transaction {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Transaction {
    /// The transaction's connection, for queries.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Transaction::Sqlite(tx) => Conn::Sqlite(tx),
            Transaction::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Transaction::Sqlite(tx) => tx.commit().await,
            Transaction::Postgres(tx) => tx.commit().await,
        }
    }
}

/// A connection that may write, outside any transaction: each statement commits on its own.
pub enum Writer {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Writer {
    /// The connection, for queries.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Writer::Sqlite(c) => Conn::Sqlite(c),
            Writer::Postgres(c) => Conn::Postgres(c),
        }
    }
}

impl Db {
    /// Begins a transaction (on SQLite, on the single writer connection).
    pub async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => Transaction::Sqlite(sqlite.write.begin().await?),
            Db::Postgres(pg) => Transaction::Postgres(pg.begin().await?),
        })
    }

    /// A connection for one atomic statement (on SQLite, the single writer connection).
    pub async fn writer(&self) -> Result<Writer, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => Writer::Sqlite(sqlite.write.acquire().await?),
            Db::Postgres(pg) => Writer::Postgres(pg.acquire().await?),
        })
    }
}
