//! Storage writes on SQLite, committed in groups.
//!
//! SQLite has one writer connection. Taking it from the pool for each request costs round trips
//! to the connection's thread (the pool tests the connection when it comes back), and each
//! request's own commit rewrites the same B-tree pages into the WAL. Instead every write request
//! goes to one writer task. It keeps the connection while requests keep coming (up to [`HOLD`],
//! so new accounts and wallets still get their turn), and takes all the requests waiting at
//! each moment (up to [`MAX_BATCH`]) to run them, in arrival order, in one transaction. A lone
//! request of one object is one statement, atomic and committed by itself. In a batch, a
//! request of one object is one statement too; a request of several runs inside a savepoint,
//! undone alone when it is refused. So each request gets the answer it would get in a
//! transaction of its own, and callers hear back only after the commit. When a statement or
//! the commit fails for another reason than a refusal, the batch is undone and its requests are
//! run one by one.

use std::time::{Duration, Instant};

use sqlx::{Connection, SqliteConnection, SqlitePool};
use tavern_proto::api;
use tokio::sync::{mpsc, oneshot};

use super::sql::{StorageError, WriteOp, write_object, write_objects};
use crate::storage::now_unix;
use crate::storage::transaction::Conn;

/// Most requests in one transaction.
const MAX_BATCH: usize = 256;

/// Requests waiting for the writer; beyond this, callers wait to queue.
const QUEUE: usize = 1024;

/// Longest the writer keeps the connection from the pool while requests keep coming.
const HOLD: Duration = Duration::from_millis(20);

type Outcome = Result<Vec<api::StorageObjectAck>, StorageError>;

/// The handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct StorageWriter {
    jobs: mpsc::Sender<Job>,
}

struct Job {
    ops: Vec<WriteOp>,
    authoritative: bool,
    done: oneshot::Sender<Outcome>,
}

impl StorageWriter {
    /// Starts the writer task on `pool` (the single-connection write pool).
    pub fn start(pool: SqlitePool) -> StorageWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, queue));
        StorageWriter { jobs }
    }

    /// Writes `ops` all or none; returns once the transaction holding them committed.
    pub async fn write(&self, ops: Vec<WriteOp>, authoritative: bool) -> Outcome {
        let (done, outcome) = oneshot::channel();
        let job = Job {
            ops,
            authoritative,
            done,
        };
        if self.jobs.send(job).await.is_err() {
            return Err(StorageError::Sql(sqlx::Error::PoolClosed));
        }
        outcome
            .await
            .unwrap_or(Err(StorageError::Sql(sqlx::Error::PoolClosed)))
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Keep the connection while requests keep coming, up to HOLD: taking it from the pool
        // and giving it back costs two round trips to its thread.
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::error!(error = %e, "the storage writer could not get the connection");
                for job in batch.drain(..) {
                    let _ = job
                        .done
                        .send(Err(StorageError::Sql(sqlx::Error::PoolTimedOut)));
                }
                continue;
            }
        };
        let held = Instant::now();
        loop {
            let outcomes = match write_batch(&mut conn, &batch).await {
                Ok(outcomes) => outcomes,
                // Nothing of the batch was kept: each request is tried again on its own, so
                // that each caller gets its own answer.
                Err(_) => {
                    let mut outcomes = Vec::with_capacity(batch.len());
                    for job in &batch {
                        outcomes.push(write_alone(&mut conn, job).await);
                    }
                    outcomes
                }
            };
            for (job, outcome) in batch.drain(..).zip(outcomes) {
                // The caller may have gone away (its request was dropped); the write stays.
                let _ = job.done.send(outcome);
            }
            // Other writers (new accounts, wallets) get the connection at the latest after
            // HOLD, or as soon as no storage write waits.
            if held.elapsed() > HOLD {
                break;
            }
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
    }
}

/// The whole batch: an outcome per request, or the error that undid all of it. A lone request
/// of one object is a single statement, which commits by itself; more run in one transaction.
async fn write_batch(
    conn: &mut SqliteConnection,
    batch: &[Job],
) -> Result<Vec<Outcome>, sqlx::Error> {
    let now = now_unix();
    if let [job] = batch
        && let [op] = job.ops.as_slice()
    {
        let outcome = write_object(&mut Conn::Sqlite(conn), op, job.authoritative, now).await;
        return match outcome {
            Err(StorageError::Sql(e)) => Err(e),
            outcome => Ok(vec![outcome.map(|ack| vec![ack])]),
        };
    }
    let mut tx = conn.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let outcome = if let [op] = job.ops.as_slice() {
            write_object(&mut Conn::Sqlite(&mut tx), op, job.authoritative, now)
                .await
                .map(|ack| vec![ack])
        } else {
            in_savepoint(&mut tx, job).await?
        };
        match outcome {
            Err(StorageError::Sql(e)) => return Err(e),
            outcome => outcomes.push(outcome),
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// A request of several objects: kept whole or undone whole within the batch.
async fn in_savepoint(conn: &mut SqliteConnection, job: &Job) -> Result<Outcome, sqlx::Error> {
    sqlx::query("SAVEPOINT request").execute(&mut *conn).await?;
    let outcome = write_objects(&mut Conn::Sqlite(conn), &job.ops, job.authoritative).await;
    let sql = if outcome.is_ok() {
        "RELEASE request"
    } else {
        "ROLLBACK TO request; RELEASE request"
    };
    sqlx::raw_sql(sql).execute(&mut *conn).await?;
    Ok(outcome)
}

/// A request in a transaction of its own.
async fn write_alone(conn: &mut SqliteConnection, job: &Job) -> Outcome {
    let mut tx = conn.begin().await?;
    let acks = write_objects(&mut Conn::Sqlite(&mut tx), &job.ops, job.authoritative).await?;
    tx.commit().await?;
    Ok(acks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Db, StorageTarget};

    fn op(owner: &str, key: &str, value: &str, version: &str) -> WriteOp {
        WriteOp {
            owner: owner.to_owned(),
            collection: "c".to_owned(),
            key: key.to_owned(),
            value: value.to_owned(),
            version: version.to_owned(),
            read: 1,
            write: 1,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grouped_requests_get_the_answers_of_requests_alone() {
        let path = std::env::temp_dir().join(format!("tavern-writer-{}.db", uuid::Uuid::new_v4()));
        let db = Db::connect(&StorageTarget::Sqlite { path: path.clone() })
            .await
            .unwrap();
        db.migrate_up().await.unwrap();
        let owner = uuid::Uuid::new_v4().to_string();
        crate::on_db!(&db, write, |pool| {
            sqlx::query(
                "INSERT INTO users (id, username, create_time, update_time) VALUES ($1, $1, 0, 0)",
            )
            .bind(&owner)
            .execute(pool)
            .await
            .unwrap();
        });
        // Many "only if absent" writes of one key at once: exactly one wins, whatever the
        // batches they land in; the others see its object.
        let mut tasks = Vec::new();
        for i in 0..40 {
            let (db, owner) = (db.clone(), owner.clone());
            tasks.push(tokio::spawn(async move {
                let ops = if i % 4 == 0 {
                    // A request of two objects whose second is refused: nothing of it stays.
                    vec![
                        op(&owner, &format!("pair{i}"), "{}", ""),
                        op(&owner, "race", "{}", "*"),
                    ]
                } else {
                    vec![op(&owner, "race", &format!("{{\"i\":{i}}}"), "*")]
                };
                db.storage_write(ops, false).await
            }));
        }
        let mut won = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(acks) => {
                    won += 1;
                    assert_eq!(acks.last().unwrap().key, "race");
                }
                Err(StorageError::VersionCheck) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(won, 1);
        let listed = db
            .storage_list(super::super::sql::Listing::User(&owner), "c", 100, None)
            .await
            .unwrap();
        let keys: Vec<&str> = listed.objects.iter().map(|o| o.key.as_str()).collect();
        assert!(keys.contains(&"race"));
        // At most the winning pair survives.
        assert!(keys.len() <= 2, "{keys:?}");
        db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
