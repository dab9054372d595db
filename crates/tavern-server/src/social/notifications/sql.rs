//! The notification table (migration 0007).

use sqlx::AssertSqlSafe;
use tavern_proto::api;
use uuid::Uuid;

use crate::on_db;
use crate::storage::Db;

/// Columns bound per stored notification.
const COLUMNS: usize = 7;
/// Rows per INSERT statement (well under both databases' parameter limits).
const ROWS_PER_INSERT: usize = 500;

/// Stores notifications, all or none.
pub async fn insert(db: &Db, rows: &[(Uuid, &api::Notification)]) -> Result<(), sqlx::Error> {
    on_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut query = sqlx::query(AssertSqlSafe(insert_sql(chunk.len())));
            for (user_id, n) in chunk {
                let create_time = n.create_time.map_or(0, |t| t.seconds);
                query = query
                    .bind(n.id.as_str())
                    .bind(user_id.to_string())
                    .bind(n.subject.as_str())
                    .bind(n.content.as_str())
                    .bind(n.code)
                    .bind(n.sender_id.as_str())
                    .bind(create_time);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

fn insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|column| format!("${}", row * COLUMNS + column))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO notification (id, user_id, subject, content, code, sender_id, create_time) \
         VALUES {}",
        values.join(", ")
    )
}

/// Account ids after `after`, in id order, without the system user.
pub async fn user_page(db: &Db, after: &str, limit: usize) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, read, |pool| {
        sqlx::query_scalar::<_, String>("SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit as i64)
            .fetch_all(pool)
            .await
    })
}

/// A stored notification.
#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    pub id: String,
    pub subject: String,
    pub content: String,
    pub code: i32,
    pub sender_id: String,
    pub create_time: i64,
}

/// A user's notifications in (creation time, id) order, after a position if given.
pub async fn list(
    db: &Db,
    user_id: Uuid,
    limit: i32,
    after: Option<&(i64, String)>,
) -> Result<Vec<Stored>, sqlx::Error> {
    const COLUMNS: &str = "SELECT id, subject, content, code, sender_id, create_time \
                           FROM notification WHERE user_id = $1";
    let user_id = user_id.to_string();
    on_db!(db, read, |pool| {
        match after {
            None => {
                sqlx::query_as::<_, Stored>(AssertSqlSafe(format!(
                    "{COLUMNS} ORDER BY create_time, id LIMIT $2"
                )))
                .bind(&user_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
            }
            Some((time, id)) => {
                sqlx::query_as::<_, Stored>(AssertSqlSafe(format!(
                    "{COLUMNS} AND (create_time, id) > ($3, $4) ORDER BY create_time, id LIMIT $2"
                )))
                .bind(&user_id)
                .bind(i64::from(limit))
                .bind(*time)
                .bind(id.as_str())
                .fetch_all(pool)
                .await
            }
        }
    })
}

/// Deletes a user's notifications by id; unknown ones are skipped.
pub async fn delete(db: &Db, user_id: Uuid, ids: &[String]) -> Result<(), sqlx::Error> {
    let user_id = user_id.to_string();
    on_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let params: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let sql = format!(
                "DELETE FROM notification WHERE user_id = $1 AND id IN ({})",
                params.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(&user_id);
            for id in chunk {
                query = query.bind(id.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// Deletes notifications by (user id, notification id); unknown ones are skipped.
pub async fn delete_pairs(db: &Db, pairs: &[(String, String)]) -> Result<(), sqlx::Error> {
    on_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for (user_id, id) in pairs {
            sqlx::query("DELETE FROM notification WHERE user_id = $1 AND id = $2")
                .bind(user_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn insert_numbers_every_parameter() {
        assert_eq!(
            super::insert_sql(2),
            "INSERT INTO notification (id, user_id, subject, content, code, sender_id, create_time) \
             VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14)"
        );
    }
}
