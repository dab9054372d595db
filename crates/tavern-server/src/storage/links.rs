//! Linking and unlinking the identities of an account (device ids, custom id, email), with
//! Nakama's rule that an account keeps at least one way to log in; bans.

use sqlx::AssertSqlSafe;

use super::{Db, now_unix};
use crate::{on_conn, on_db};

/// What a link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    Done,
    /// Another account has the identity (or the account is gone).
    Taken,
}

/// The identity columns of `users`; a condition that at least one besides `except` is set.
fn another_identity(except: &str) -> String {
    let others: Vec<String> = [
        "apple_id",
        "facebook_id",
        "facebook_instant_game_id",
        "google_id",
        "gamecenter_id",
        "steam_id",
        "email",
        "custom_id",
    ]
    .iter()
    .filter(|c| **c != except)
    .map(|c| format!("{c} IS NOT NULL"))
    .collect();
    others.join(" OR ")
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Db {
    /// Sets a unique identity column (custom id, or email with its password hash) unless another
    /// account has the value.
    pub async fn link_column(
        &self,
        user_id: &str,
        column: LinkColumn,
        value: &str,
        password: Option<&str>,
    ) -> Result<Linked, sqlx::Error> {
        let (name, extra) = match column {
            LinkColumn::Email => ("email", ", password = $4"),
            other => (other.name(), ""),
        };
        let sql = format!(
            "UPDATE users SET {name} = $2, update_time = $3{extra} WHERE id = $1 \
             AND NOT EXISTS (SELECT 1 FROM users WHERE {name} = $2 AND id <> $1)"
        );
        let now = now_unix();
        let done = on_db!(self, write, |pool| {
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(user_id)
                .bind(value)
                .bind(now);
            if let Some(password) = password {
                query = query.bind(password);
            }
            query.execute(pool).await.map(|done| done.rows_affected())
        });
        match done {
            Ok(rows) if rows > 0 => Ok(Linked::Done),
            Ok(_) => Ok(Linked::Taken),
            Err(e) if is_unique_violation(&e) => Ok(Linked::Taken),
            Err(e) => Err(e),
        }
    }

    /// Links a device id to the account, unless another account has it.
    pub async fn link_device(&self, user_id: &str, device_id: &str) -> Result<Linked, sqlx::Error> {
        let now = now_unix();
        let mut tx = self.begin().await?;
        let outcome = on_conn!(&mut tx.conn(), |c| {
            let owner: Option<String> =
                sqlx::query_scalar("SELECT user_id FROM user_device WHERE id = $1")
                    .bind(device_id)
                    .fetch_optional(&mut *c)
                    .await?;
            match owner {
                Some(owner) if owner != user_id => Linked::Taken,
                Some(_) => Linked::Done,
                None => {
                    let inserted =
                        sqlx::query("INSERT INTO user_device (id, user_id) VALUES ($1, $2)")
                            .bind(device_id)
                            .bind(user_id)
                            .execute(&mut *c)
                            .await;
                    match inserted {
                        Err(e) if is_unique_violation(&e) => Linked::Taken,
                        other => {
                            other?;
                            Linked::Done
                        }
                    }
                }
            }
        });
        if outcome == Linked::Taken {
            return Ok(Linked::Taken);
        }
        on_conn!(&mut tx.conn(), |c| {
            sqlx::query("UPDATE users SET update_time = $2 WHERE id = $1")
                .bind(user_id)
                .bind(now)
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await?;
        Ok(Linked::Done)
    }

    /// Clears a unique identity column (the email clears the password too), when it has
    /// `value` (any value if empty) and the account keeps another way to log in; false when
    /// nothing was cleared.
    pub async fn unlink_column(
        &self,
        user_id: &str,
        column: LinkColumn,
        value: &str,
    ) -> Result<bool, sqlx::Error> {
        let (name, extra) = match column {
            LinkColumn::Email => ("email", ", password = NULL"),
            other => (other.name(), ""),
        };
        let matching = if value.is_empty() {
            String::new()
        } else {
            format!(" AND {name} = $3")
        };
        let sql = format!(
            "UPDATE users SET {name} = NULL{extra}, update_time = $2 WHERE id = $1{matching} \
             AND (({}) OR EXISTS (SELECT 1 FROM user_device WHERE user_id = $1))",
            another_identity(name)
        );
        let now = now_unix();
        on_db!(self, write, |pool| {
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(user_id).bind(now);
            if !value.is_empty() {
                query = query.bind(value);
            }
            Ok(query.execute(pool).await?.rows_affected() > 0)
        })
    }

    /// Unlinks a device id when the account keeps another way to log in; false when nothing
    /// was unlinked.
    pub async fn unlink_device(&self, user_id: &str, device_id: &str) -> Result<bool, sqlx::Error> {
        let sql = format!(
            "DELETE FROM user_device WHERE id = $2 AND user_id = $1 \
             AND (EXISTS (SELECT 1 FROM users WHERE id = $1 AND ({})) \
                  OR EXISTS (SELECT 1 FROM user_device WHERE user_id = $1 AND id <> $2))",
            another_identity("")
        );
        let now = now_unix();
        let mut tx = self.begin().await?;
        let unlinked = on_conn!(&mut tx.conn(), |c| {
            let deleted = sqlx::query(AssertSqlSafe(sql))
                .bind(user_id)
                .bind(device_id)
                .execute(&mut *c)
                .await?
                .rows_affected();
            if deleted > 0 {
                sqlx::query("UPDATE users SET update_time = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
            }
            deleted > 0
        });
        tx.commit().await?;
        Ok(unlinked)
    }

    /// Sets the ban time of accounts (unix seconds; 0 lifts the ban).
    pub async fn set_disable_time(
        &self,
        user_ids: &[String],
        time: i64,
    ) -> Result<(), sqlx::Error> {
        if user_ids.is_empty() {
            return Ok(());
        }
        let params: Vec<String> = (2..user_ids.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "UPDATE users SET disable_time = $1 WHERE id IN ({})",
            params.join(", ")
        );
        on_db!(self, write, |pool| {
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(time);
            for id in user_ids {
                query = query.bind(id.as_str());
            }
            query.execute(pool).await?;
            Ok(())
        })
    }
}

/// A unique identity column of `users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkColumn {
    Custom,
    Email,
    Apple,
    Facebook,
    FacebookInstantGame,
    GameCenter,
    Google,
    Steam,
}

impl LinkColumn {
    fn name(self) -> &'static str {
        match self {
            LinkColumn::Custom => "custom_id",
            LinkColumn::Email => "email",
            LinkColumn::Apple => "apple_id",
            LinkColumn::Facebook => "facebook_id",
            LinkColumn::FacebookInstantGame => "facebook_instant_game_id",
            LinkColumn::GameCenter => "gamecenter_id",
            LinkColumn::Google => "google_id",
            LinkColumn::Steam => "steam_id",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn another_identity_leaves_out_the_column() {
        let condition = super::another_identity("email");
        assert!(!condition.contains("email"));
        assert!(condition.contains("custom_id IS NOT NULL"));
        assert_eq!(
            super::another_identity("").matches("IS NOT NULL").count(),
            8
        );
    }
}
