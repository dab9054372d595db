//! The `user_edge` table (migration 0004) and the `edge_count` of `users`.
//!
//! Each change to a pair of users runs in the caller's transaction, with Nakama's steps: an
//! add accepts a waiting invite or makes a new one (unless either side blocks), a delete
//! removes both rows except the other side's block, a block replaces the caller's row and
//! drops the other side's (unless it is a block too). `edge_count` counts a user's rows.

use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::AssertSqlSafe;

use crate::on_conn;
use crate::on_db;
use crate::storage::transaction::Conn;
use crate::storage::users::UserRow;
use crate::storage::{Db, now_unix};

/// The state of the inviter's row of a new invite (0 is mutual friends, 3 a block).
const INVITE_SENT: i32 = 1;
/// The state of the invited user's row of a new invite.
const INVITE_RECEIVED: i32 = 2;

/// A new edge's position: the time in nanoseconds, made strictly increasing in this process so
/// that no two edges of one user share a position (a listing cursor names a position).
fn next_position() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default();
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or_default();
    now.max(previous + 1)
}

/// What an add did to one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new invite (notify the other user of the request).
    Invited,
    /// The other user's invite was accepted (notify them of it).
    Accepted,
    /// Nothing changed: already friends or invited, blocked on either side, or no such user.
    Nothing,
}

/// Adds `friend` as `user`'s friend: accepts the friend's invite if there is one, otherwise
/// sends an invite, unless either blocks the other or the friend does not exist.
pub async fn add(conn: &mut Conn<'_>, user: &str, friend: &str) -> Result<Added, sqlx::Error> {
    let now = now_unix();
    let outcome = on_conn!(conn, |c| {
        let blocked: Option<i32> = sqlx::query_scalar(
            "SELECT state FROM user_edge WHERE source_id = $1 AND destination_id = $2 AND state = 3",
        )
        .bind(user)
        .bind(friend)
        .fetch_optional(&mut *c)
        .await?;
        if blocked.is_some() {
            return Ok(Added::Nothing);
        }
        let accepted = sqlx::query(
            "UPDATE user_edge SET state = 0, update_time = $3 \
             WHERE (source_id = $1 AND destination_id = $2 AND state = 1) \
                OR (source_id = $2 AND destination_id = $1 AND state = 2)",
        )
        .bind(friend)
        .bind(user)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if accepted == 2 {
            return Ok(Added::Accepted);
        }
        let open: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) \
                AND NOT EXISTS (SELECT 1 FROM user_edge \
                                WHERE source_id = $1 AND destination_id = $2 AND state = 3)",
        )
        .bind(friend)
        .bind(user)
        .fetch_one(&mut *c)
        .await?;
        if !open {
            return Ok(Added::Nothing);
        }
        let position = next_position();
        let mut inserted = 0;
        for (source, destination, state) in
            [(user, friend, INVITE_SENT), (friend, user, INVITE_RECEIVED)]
        {
            let done = sqlx::query(
                "INSERT INTO user_edge (source_id, destination_id, state, position, update_time) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_id, destination_id) DO NOTHING",
            )
            .bind(source)
            .bind(destination)
            .bind(state)
            .bind(position)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected();
            if done == 1 {
                inserted += 1;
                sqlx::query(
                    "UPDATE users SET edge_count = edge_count + 1, update_time = $2 WHERE id = $1",
                )
                .bind(source)
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
        }
        Ok::<_, sqlx::Error>(if inserted == 2 {
            Added::Invited
        } else {
            Added::Nothing
        })
    })?;
    Ok(outcome)
}

/// Removes the pair's rows, except a block by `friend`.
pub async fn delete(conn: &mut Conn<'_>, user: &str, friend: &str) -> Result<(), sqlx::Error> {
    let now = now_unix();
    on_conn!(conn, |c| {
        let deleted = sqlx::query(
            "DELETE FROM user_edge WHERE (source_id = $1 AND destination_id = $2) \
                OR (source_id = $2 AND destination_id = $1 AND state <> 3)",
        )
        .bind(user)
        .bind(friend)
        .execute(&mut *c)
        .await?
        .rows_affected();
        let sql = match deleted {
            0 => return Ok(()),
            1 => "UPDATE users SET edge_count = edge_count - 1, update_time = $3 WHERE id = $1",
            _ => {
                "UPDATE users SET edge_count = edge_count - 1, update_time = $3 \
                 WHERE id IN ($1, $2)"
            }
        };
        sqlx::query(sql)
            .bind(user)
            .bind(friend)
            .bind(now)
            .execute(&mut *c)
            .await?;
        Ok::<_, sqlx::Error>(())
    })
}

/// Makes `user`'s row for `friend` a block (a new row if there was none and the friend exists)
/// and drops the friend's row for `user` unless it is a block.
pub async fn block(conn: &mut Conn<'_>, user: &str, friend: &str) -> Result<(), sqlx::Error> {
    let now = now_unix();
    on_conn!(conn, |c| {
        const UPDATE: &str = "UPDATE user_edge SET state = 3, update_time = $3 \
                              WHERE source_id = $1 AND destination_id = $2";
        let updated = sqlx::query(UPDATE)
            .bind(user)
            .bind(friend)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected();
        if updated == 0 {
            let inserted = sqlx::query(
                "INSERT INTO user_edge (source_id, destination_id, state, position, update_time) \
                 SELECT $1, id, 3, $3, $4 FROM users WHERE id = $2 \
                 ON CONFLICT (source_id, destination_id) DO NOTHING",
            )
            .bind(user)
            .bind(friend)
            .bind(next_position())
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected();
            if inserted == 0 {
                // No such user, or a row made meanwhile (PostgreSQL): block that one.
                sqlx::query(UPDATE)
                    .bind(user)
                    .bind(friend)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
            } else {
                sqlx::query(
                    "UPDATE users SET edge_count = edge_count + 1, update_time = $2 WHERE id = $1",
                )
                .bind(user)
                .bind(now)
                .execute(&mut *c)
                .await?;
            }
        }
        let dropped = sqlx::query(
            "DELETE FROM user_edge WHERE source_id = $1 AND destination_id = $2 AND state <> 3",
        )
        .bind(friend)
        .bind(user)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if dropped == 1 {
            sqlx::query(
                "UPDATE users SET edge_count = edge_count - 1, update_time = $2 WHERE id = $1",
            )
            .bind(friend)
            .bind(now)
            .execute(&mut *c)
            .await?;
        }
        Ok::<_, sqlx::Error>(())
    })
}

/// One row of a user's list: the other user and the edge.
#[derive(Debug, sqlx::FromRow)]
pub struct Edge {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub state: i32,
    pub position: i64,
    pub edge_update_time: i64,
}

/// Up to `limit` of a user's edges in (state, position) order, with one state only if given,
/// from a (state, position) on if given.
pub async fn list(
    db: &Db,
    user: &str,
    state: Option<i32>,
    from: Option<(i32, i64)>,
    limit: i64,
) -> Result<Vec<Edge>, sqlx::Error> {
    let mut sql = String::from(
        "SELECT u.id, u.username, u.display_name, u.avatar_url, u.lang_tag, u.location, \
         u.timezone, u.metadata, u.wallet, u.email, u.custom_id, u.facebook_id, \
         u.facebook_instant_game_id, u.google_id, u.gamecenter_id, u.steam_id, u.apple_id, \
         u.edge_count, u.create_time, u.update_time, u.verify_time, u.disable_time, \
         e.state, e.position, e.update_time AS edge_update_time \
         FROM user_edge e JOIN users u ON u.id = e.destination_id WHERE e.source_id = $1",
    );
    // With a state, the cursor's state is that state: the index gives the rows in order from
    // the position on. Without, the (state, position) pair is the index range.
    match (state.is_some(), from.is_some()) {
        (true, true) => sql.push_str(" AND e.state = $3 AND e.position >= $4"),
        (true, false) => sql.push_str(" AND e.state = $3"),
        (false, true) => sql.push_str(" AND (e.state, e.position) >= ($3, $4)"),
        (false, false) => {}
    }
    sql.push_str(" ORDER BY e.state, e.position LIMIT $2");
    on_db!(db, read, |pool| {
        let mut query = sqlx::query_as::<_, Edge>(AssertSqlSafe(sql))
            .bind(user)
            .bind(limit);
        match (state, from) {
            (Some(state), Some((_, position))) => query = query.bind(state).bind(position),
            (Some(state), None) => query = query.bind(state),
            (None, Some((from_state, position))) => query = query.bind(from_state).bind(position),
            (None, None) => {}
        }
        query.fetch_all(pool).await
    })
}

/// The ids of the accounts with these usernames (unknown ones are left out).
pub async fn ids_of_usernames(db: &Db, usernames: &[String]) -> Result<Vec<String>, sqlx::Error> {
    if usernames.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<String> = (1..=usernames.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT id FROM users WHERE username IN ({}) \
         AND id <> '00000000-0000-0000-0000-000000000000'",
        params.join(", ")
    );
    on_db!(db, read, |pool| {
        let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
        for name in usernames {
            query = query.bind(name.as_str());
        }
        query.fetch_all(pool).await
    })
}

/// Whether `user` exists and has not blocked `other` (Nakama's `UserExistsAndDoesNotBlock`).
pub async fn exists_and_does_not_block(
    db: &Db,
    user: &str,
    other: &str,
) -> Result<bool, sqlx::Error> {
    on_db!(db, read, |pool| {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) \
                AND NOT EXISTS (SELECT 1 FROM user_edge \
                                WHERE source_id = $1 AND destination_id = $2 AND state = 3)",
        )
        .bind(user)
        .bind(other)
        .fetch_one(pool)
        .await
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn positions_strictly_increase() {
        let mut last = 0;
        for _ in 0..1000 {
            let p = super::next_position();
            assert!(p > last);
            last = p;
        }
    }
}
