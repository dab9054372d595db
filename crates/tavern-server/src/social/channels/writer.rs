//! Persisted channel messages committed in groups. Every stored chat message and group event
//! goes to one writer task, which takes all the messages waiting at each moment (up to
//! [`MAX_BATCH`]) and inserts them in one transaction: one commit (one WAL write on SQLite, one
//! flush on PostgreSQL) for many messages, instead of one each. Callers hear back after the
//! commit, so a message is pushed to the channel only once it is in the history. When the
//! batch fails, its messages are stored one by one, so one bad message fails alone.

use tokio::sync::{mpsc, oneshot};

use super::write::ChannelWrite;
use crate::on_db;
use crate::state::AppState;
use crate::storage::Db;

/// Most messages in one transaction.
const MAX_BATCH: usize = 512;

/// Messages waiting for the writer; beyond this, callers wait to queue.
const QUEUE: usize = 4096;

/// The handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    jobs: mpsc::Sender<Job>,
}

struct Job {
    write: ChannelWrite,
    done: oneshot::Sender<Result<(), sqlx::Error>>,
}

impl MessageWriter {
    /// The server's writer, started on first use.
    pub fn of(state: &AppState) -> &MessageWriter {
        state
            .message_writer
            .get_or_init(|| MessageWriter::start(state.db.clone()))
    }

    /// Starts the writer task on the database's writer.
    fn start(db: Db) -> MessageWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, queue));
        MessageWriter { jobs }
    }

    /// Stores a message; returns once the transaction holding it committed.
    pub async fn store(&self, write: ChannelWrite) -> Result<(), sqlx::Error> {
        let (done, stored) = oneshot::channel();
        self.jobs
            .send(Job { write, done })
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        stored.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn run(db: Db, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if batch.len() > 1 && commit(&db, &batch).await.is_ok() {
            for job in batch {
                let _ = job.done.send(Ok(()));
            }
            continue;
        }
        for job in batch {
            let stored = on_db!(&db, write, |pool| job.write.insert(pool).await);
            let _ = job.done.send(stored);
        }
    }
}

/// Inserts every message of the batch in one transaction.
async fn commit(db: &Db, batch: &[Job]) -> Result<(), sqlx::Error> {
    on_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for job in batch {
            job.write.insert(&mut *tx).await?;
        }
        tx.commit().await
    })
}
