//! New accounts on SQLite, committed in groups.
//!
//! SQLite has one writer. Giving every new account its own transaction makes each one pay for a
//! commit (rewriting the same index pages into the WAL) and four round trips to the connection's
//! thread. Instead, `create_user` hands the account to one writer task, which takes every account
//! waiting at that moment (up to [`MAX_BATCH`]) and inserts them in one transaction, in one round
//! trip: one prepared statement list reads every account from a JSON array. When that breaks a
//! unique constraint (a username or device id taken, by an older account or inside the batch),
//! the transaction is rolled back and the batch inserted account by account: SQLite reverts
//! just the failing statement, so a taken username or device id fails only its own account. Callers hear
//! back after the commit, so an account reported created is durable as any other write.

use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::now_unix;
use super::users::{Identity, NewUser, WriteError};

/// Most accounts in one transaction.
const MAX_BATCH: usize = 256;

/// Accounts waiting for the writer; beyond this, callers wait to queue.
const QUEUE: usize = 1024;

/// The handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct AccountWriter {
    jobs: mpsc::Sender<Job>,
}

struct Job {
    account: NewAccount,
    done: oneshot::Sender<Result<(), WriteError>>,
}

/// An owned [`NewUser`], for the trip to the writer task.
struct NewAccount {
    id: String,
    username: String,
    /// `custom_id` or `email` with its value; `None` for device and username identities.
    key: Option<(&'static str, String)>,
    device: Option<String>,
    password: Option<String>,
}

impl AccountWriter {
    /// Starts the writer task on `pool` (the single-connection write pool).
    pub fn start(pool: SqlitePool) -> AccountWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, queue));
        AccountWriter { jobs }
    }

    /// Creates an account and its identity; returns once the transaction holding it committed.
    pub async fn create(&self, user: NewUser<'_>) -> Result<(), WriteError> {
        let (done, outcome) = oneshot::channel();
        let job = Job {
            account: NewAccount::from(user),
            done,
        };
        if self.jobs.send(job).await.is_err() {
            return Err(WriteError::Sql(sqlx::Error::PoolClosed));
        }
        outcome
            .await
            .unwrap_or(Err(WriteError::Sql(sqlx::Error::PoolClosed)))
    }
}

impl From<NewUser<'_>> for NewAccount {
    fn from(user: NewUser<'_>) -> NewAccount {
        let (key, device) = match user.identity {
            Identity::Custom(id) => (Some(("custom_id", id.to_owned())), None),
            Identity::Email(email) => (Some(("email", email.to_owned())), None),
            Identity::Device(id) => (None, Some(id.to_owned())),
            Identity::Username(_) => (None, None),
        };
        NewAccount {
            id: user.id.to_owned(),
            username: user.username.to_owned(),
            key,
            device,
            password: user.password.map(str::to_owned),
        }
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcomes = match insert_batch(&pool, &batch).await {
            Ok(outcomes) => outcomes,
            // The transaction itself failed (I/O, a closed pool): nothing of it was kept. Each
            // account is tried again on its own so that each caller gets its own answer.
            Err(_) => {
                let mut outcomes = Vec::with_capacity(batch.len());
                for job in &batch {
                    outcomes.push(insert_alone(&pool, &job.account).await);
                }
                outcomes
            }
        };
        for (job, outcome) in batch.drain(..).zip(outcomes) {
            // The caller may have gone away (its request was dropped); the account stays.
            let _ = job.done.send(outcome);
        }
    }
}

/// The whole batch in one round trip to the connection's thread: one constant statement list
/// (prepared once, whatever the batch size) that opens a transaction, inserts every user row and
/// every device row from one JSON array, and commits. Each element is
/// `[id, username, custom_id, email, password, device]`.
const INSERT_BATCH: &str = "BEGIN; \
     INSERT INTO users (id, username, custom_id, email, password, create_time, update_time) \
     SELECT a.value ->> 0, a.value ->> 1, a.value ->> 2, a.value ->> 3, a.value ->> 4, $2, $2 \
     FROM json_each($1) AS a; \
     INSERT INTO user_device (id, user_id) \
     SELECT a.value ->> 5, a.value ->> 0 FROM json_each($1) AS a WHERE a.value ->> 5 IS NOT NULL; \
     COMMIT";

/// One transaction for the whole batch: an outcome per account, or the error that undid it all.
async fn insert_batch(
    pool: &SqlitePool,
    batch: &[Job],
) -> Result<Vec<Result<(), WriteError>>, sqlx::Error> {
    let now = now_unix();
    let rows: Vec<[Option<&str>; 6]> = batch
        .iter()
        .map(|job| {
            let a = &job.account;
            let key = |column| {
                a.key
                    .as_ref()
                    .filter(|(c, _)| *c == column)
                    .map(|(_, v)| v.as_str())
            };
            [
                Some(a.id.as_str()),
                Some(a.username.as_str()),
                key("custom_id"),
                key("email"),
                a.password.as_deref(),
                a.device.as_deref(),
            ]
        })
        .collect();
    let rows = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut conn = pool.acquire().await?;
    let failed = match sqlx::query(INSERT_BATCH)
        .bind(rows)
        .bind(now)
        .execute(&mut *conn)
        .await
    {
        Ok(_) => return Ok(batch.iter().map(|_| Ok(())).collect()),
        Err(e) => e,
    };
    // A statement failed inside the transaction: undo all of it (when BEGIN itself failed there
    // is nothing to undo, and this fails harmlessly).
    let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    if !is_unique_violation(&failed) {
        return Err(failed);
    }
    // A username or device id is taken (by an older account or inside the batch): account by
    // account, in one transaction, so that only the accounts at fault fail.
    let mut tx = conn.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        outcomes.push(insert(&mut tx, &job.account, now).await?);
    }
    tx.commit().await?;
    Ok(outcomes)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

async fn insert_alone(pool: &SqlitePool, account: &NewAccount) -> Result<(), WriteError> {
    let mut tx = pool.begin().await?;
    insert(&mut tx, account, now_unix()).await??;
    tx.commit().await?;
    Ok(())
}

/// Inserts one account inside the caller's transaction. A unique-constraint failure is the
/// account's own outcome (and leaves nothing of it behind); any other error ends the
/// transaction.
async fn insert(
    conn: &mut SqliteConnection,
    account: &NewAccount,
    now: i64,
) -> Result<Result<(), WriteError>, sqlx::Error> {
    let (column, key) = match &account.key {
        Some((column, key)) => (*column, Some(key.as_str())),
        None => ("custom_id", None),
    };
    let inserted = sqlx::query(super::users::insert_user_sql(column))
        .bind(&account.id)
        .bind(&account.username)
        .bind(key)
        .bind(account.password.as_deref())
        .bind(now)
        .execute(&mut *conn)
        .await;
    if let Err(e) = inserted {
        return own_outcome(e);
    }
    let Some(device) = &account.device else {
        return Ok(Ok(()));
    };
    let linked = sqlx::query(super::users::INSERT_DEVICE)
        .bind(device)
        .bind(&account.id)
        .execute(&mut *conn)
        .await;
    match linked {
        Ok(_) => Ok(Ok(())),
        Err(e) => {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(&account.id)
                .execute(&mut *conn)
                .await?;
            own_outcome(e)
        }
    }
}

/// A constraint violation belongs to one account; anything else to the whole transaction.
fn own_outcome(e: sqlx::Error) -> Result<Result<(), WriteError>, sqlx::Error> {
    match WriteError::classify(e) {
        WriteError::Sql(e) => Err(e),
        taken => Ok(Err(taken)),
    }
}
