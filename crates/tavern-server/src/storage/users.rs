//! Accounts: the `users` table and the identities (devices, custom ids, emails) that log into them.

use sqlx::AssertSqlSafe;

use super::transaction::Conn;
use super::{Db, now_unix};
use crate::{on_conn, on_db};

/// Every column of a user row that the API returns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub lang_tag: String,
    pub location: Option<String>,
    pub timezone: Option<String>,
    pub metadata: String,
    pub wallet: String,
    pub email: Option<String>,
    pub custom_id: Option<String>,
    pub facebook_id: Option<String>,
    pub facebook_instant_game_id: Option<String>,
    pub google_id: Option<String>,
    pub gamecenter_id: Option<String>,
    pub steam_id: Option<String>,
    pub apple_id: Option<String>,
    pub edge_count: i64,
    pub create_time: i64,
    pub update_time: i64,
    pub verify_time: i64,
    pub disable_time: i64,
}

pub const USER_COLUMNS: &str = "id, username, display_name, avatar_url, lang_tag, location, timezone, \
     metadata, wallet, email, custom_id, facebook_id, facebook_instant_game_id, google_id, \
     gamecenter_id, steam_id, apple_id, edge_count, create_time, update_time, verify_time, \
     disable_time";

/// What an authentication needs to know about the account an identity belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    pub id: String,
    pub username: String,
    /// bcrypt hash; only email identities have one.
    pub password: Option<String>,
    pub disable_time: i64,
}

/// A way to log in.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    Device(&'a str),
    Custom(&'a str),
    Email(&'a str),
    /// Username and password, without an email address.
    Username(&'a str),
}

/// Why an account could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("username is already in use")]
    UsernameTaken,
    #[error("identity is already linked to an account")]
    IdentityTaken,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl WriteError {
    pub(super) fn classify(e: sqlx::Error) -> WriteError {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            let constraint = db.constraint().unwrap_or_default();
            if constraint.contains("username") || db.message().contains("users.username") {
                return WriteError::UsernameTaken;
            }
            return WriteError::IdentityTaken;
        }
        WriteError::Sql(e)
    }
}

/// Inserts a user row whose identity is in `column` (`custom_id` or `email`; bind NULL for
/// neither): `$1` id, `$2` username, `$3` identity, `$4` password hash, `$5` time.
pub(super) fn insert_user_sql(column: &str) -> &'static str {
    if column == "email" {
        "INSERT INTO users (id, username, email, password, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $5)"
    } else {
        "INSERT INTO users (id, username, custom_id, password, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $5)"
    }
}

/// PostgreSQL: a user row as [`insert_user_sql`] with `custom_id` NULL, and `$6` its device.
const PG_INSERT_USER_WITH_DEVICE: &str = "WITH u AS (\
     INSERT INTO users (id, username, custom_id, password, create_time, update_time) \
     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id) \
     INSERT INTO user_device (id, user_id) SELECT $6, id FROM u";

/// Links a device: `$1` device id, `$2` user id.
pub(super) const INSERT_DEVICE: &str = "INSERT INTO user_device (id, user_id) VALUES ($1, $2)";

/// A new account with its first identity.
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub identity: Identity<'a>,
    /// bcrypt hash for email identities.
    pub password: Option<&'a str>,
}

/// Fields of `PUT /v2/account`: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct AccountUpdate {
    pub username: Option<String>,
    pub display_name: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub lang_tag: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub timezone: Option<Option<String>>,
    /// The metadata as JSON text (only server code may set it).
    pub metadata: Option<String>,
}

impl AccountUpdate {
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.display_name.is_none()
            && self.avatar_url.is_none()
            && self.lang_tag.is_none()
            && self.location.is_none()
            && self.timezone.is_none()
            && self.metadata.is_none()
    }
}

impl Db {
    /// The account an identity belongs to, if any.
    pub async fn find_login(
        &self,
        identity: Identity<'_>,
    ) -> Result<Option<LoginRow>, sqlx::Error> {
        let (sql, key) = match identity {
            Identity::Device(id) => (
                "SELECT u.id, u.username, u.password, u.disable_time FROM user_device d \
                 JOIN users u ON u.id = d.user_id WHERE d.id = $1",
                id,
            ),
            Identity::Custom(id) => (
                "SELECT id, username, password, disable_time FROM users WHERE custom_id = $1",
                id,
            ),
            Identity::Email(email) => (
                "SELECT id, username, password, disable_time FROM users WHERE email = $1",
                email,
            ),
            Identity::Username(name) => (
                "SELECT id, username, password, disable_time FROM users WHERE username = $1",
                name,
            ),
        };
        on_db!(self, read, |pool| {
            sqlx::query_as::<_, LoginRow>(sql)
                .bind(key)
                .fetch_optional(pool)
                .await
        })
    }

    /// Creates an account and its identity in one transaction (on SQLite, one shared with the
    /// other accounts being created at that moment: see [`super::account_writer`]).
    pub async fn create_user(&self, user: NewUser<'_>) -> Result<(), WriteError> {
        let pool = match self {
            Db::Sqlite(sqlite) => return sqlite.accounts.create(user).await,
            Db::Postgres(pool) => pool,
        };
        let now = now_unix();
        let (column, key) = match user.identity {
            Identity::Custom(id) => ("custom_id", Some(id)),
            Identity::Email(email) => ("email", Some(email)),
            Identity::Device(_) | Identity::Username(_) => ("custom_id", None),
        };
        // One statement (so one round trip and an implicit transaction) for the user and its
        // device.
        let query = match user.identity {
            Identity::Device(device_id) => sqlx::query(PG_INSERT_USER_WITH_DEVICE)
                .bind(user.id)
                .bind(user.username)
                .bind(key)
                .bind(user.password)
                .bind(now)
                .bind(device_id),
            _ => sqlx::query(insert_user_sql(column))
                .bind(user.id)
                .bind(user.username)
                .bind(key)
                .bind(user.password)
                .bind(now),
        };
        query.execute(pool).await.map_err(WriteError::classify)?;
        Ok(())
    }

    /// One account by id.
    pub async fn get_user(&self, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        on_db!(self, read, |pool| {
            sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await
        })
    }

    /// Device ids linked to an account.
    pub async fn get_devices(&self, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
        on_db!(self, read, |pool| {
            sqlx::query_scalar::<_, String>(
                "SELECT id FROM user_device WHERE user_id = $1 ORDER BY id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })
    }

    /// Accounts matching any of the ids, usernames or Facebook ids (the system user never).
    pub async fn get_users(
        &self,
        ids: &[String],
        usernames: &[String],
        facebook_ids: &[String],
    ) -> Result<Vec<UserRow>, sqlx::Error> {
        let mut conditions = Vec::new();
        let mut params: Vec<&str> = Vec::new();
        for (column, values) in [
            ("id", ids),
            ("username", usernames),
            ("facebook_id", facebook_ids),
        ] {
            if values.is_empty() {
                continue;
            }
            let placeholders: Vec<String> = values
                .iter()
                .map(|v| {
                    params.push(v);
                    format!("${}", params.len())
                })
                .collect();
            conditions.push(format!("{column} IN ({})", placeholders.join(", ")));
        }
        if conditions.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ({}) AND id <> '00000000-0000-0000-0000-000000000000'",
            conditions.join(" OR ")
        );
        on_db!(self, read, |pool| {
            let mut query = sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql));
            for p in &params {
                query = query.bind(*p);
            }
            query.fetch_all(pool).await
        })
    }

    /// Up to `count` accounts from a point of the id order (`after`, a random id), then from
    /// the first id when that is short of `count` (each account once; never the system user).
    pub async fn random_users(
        &self,
        after: &str,
        count: usize,
    ) -> Result<Vec<UserRow>, sqlx::Error> {
        let mut rows: Vec<UserRow> = Vec::with_capacity(count);
        let mut seen = std::collections::HashSet::new();
        for from in [after, "00000000-0000-0000-0000-000000000000"] {
            if rows.len() >= count {
                break;
            }
            let sql =
                format!("SELECT {USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2");
            let page = on_db!(self, read, |pool| {
                sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql))
                    .bind(from)
                    .bind(count as i64)
                    .fetch_all(pool)
                    .await
            })?;
            for row in page {
                if rows.len() < count && seen.insert(row.id.clone()) {
                    rows.push(row);
                }
            }
        }
        Ok(rows)
    }

    /// Applies an account update; false when the account does not exist.
    pub async fn update_account(
        &self,
        user_id: &str,
        update: &AccountUpdate,
    ) -> Result<bool, WriteError> {
        let mut writer = self.writer().await?;
        update_account_on(&mut writer.conn(), user_id, update).await
    }

    /// Deletes an account and its identities; false when it did not exist.
    pub async fn delete_user(&self, user_id: &str) -> Result<bool, sqlx::Error> {
        on_db!(self, write, |pool| {
            let done = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }
}

/// Applies an account update on `conn` (inside the caller's transaction, or alone); false
/// when the account does not exist.
pub async fn update_account_on(
    conn: &mut Conn<'_>,
    user_id: &str,
    update: &AccountUpdate,
) -> Result<bool, WriteError> {
    let mut sets = Vec::new();
    let mut values: Vec<Option<&str>> = Vec::new();
    if let Some(username) = &update.username {
        values.push(Some(username));
        sets.push(format!("username = ${}", values.len()));
    }
    if let Some(metadata) = &update.metadata {
        values.push(Some(metadata));
        sets.push(format!("metadata = ${}", values.len()));
    }
    for (column, value) in [
        ("display_name", &update.display_name),
        ("avatar_url", &update.avatar_url),
        ("lang_tag", &update.lang_tag),
        ("location", &update.location),
        ("timezone", &update.timezone),
    ] {
        if let Some(value) = value {
            values.push(value.as_deref());
            sets.push(format!("{column} = ${}", values.len()));
        }
    }
    let sql = format!(
        "UPDATE users SET {}, update_time = ${} WHERE id = ${}",
        sets.join(", "),
        values.len() + 1,
        values.len() + 2
    );
    let now = now_unix();
    let changed = on_conn!(conn, |c| {
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for v in &values {
            query = query.bind(*v);
        }
        query
            .bind(now)
            .bind(user_id)
            .execute(c)
            .await
            .map_err(WriteError::classify)?
            .rows_affected()
    });
    Ok(changed > 0)
}
