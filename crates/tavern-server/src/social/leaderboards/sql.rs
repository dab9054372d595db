//! The leaderboard and leaderboard_record tables (migration 0008).

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::board::{Board, Operator, Schedule, SortOrder};
use crate::on_db;
use crate::storage::Db;

/// A board as stored.
#[derive(Debug, sqlx::FromRow)]
struct BoardRow {
    id: String,
    authoritative: bool,
    sort_order: i64,
    operator: i64,
    reset_schedule: String,
    metadata: String,
    create_time: i64,
    category: i64,
    title: String,
    description: String,
    duration: i64,
    start_time: i64,
    end_time: i64,
    join_required: bool,
    max_size: i64,
    max_num_score: i64,
    last_reset: i64,
}

impl BoardRow {
    fn into_board(self) -> Board {
        Board {
            reset: if self.reset_schedule.is_empty() {
                None
            } else {
                Schedule::parse(&self.reset_schedule)
            },
            id: self.id,
            authoritative: self.authoritative,
            sort_order: SortOrder::from_number(self.sort_order),
            operator: Operator::from_stored(self.operator),
            metadata: self.metadata,
            create_time: self.create_time,
            category: self.category,
            title: self.title,
            description: self.description,
            duration: self.duration,
            start_time: self.start_time,
            end_time: self.end_time,
            join_required: self.join_required,
            max_size: self.max_size,
            max_num_score: self.max_num_score,
            last_reset: self.last_reset,
        }
    }
}

const BOARD_COLUMNS: &str = "id, authoritative, sort_order, operator, reset_schedule, metadata, \
     create_time, category, title, description, duration, start_time, end_time, join_required, \
     max_size, max_num_score";

/// Every board.
pub async fn boards(db: &Db) -> Result<Vec<Board>, sqlx::Error> {
    let sql = format!("SELECT {BOARD_COLUMNS}, last_reset FROM leaderboard");
    let rows: Vec<BoardRow> = on_db!(db, read, |pool| {
        sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(BoardRow::into_board).collect())
}

/// Stores a new board; when one with its id exists already, that one is returned instead.
pub async fn insert_board(db: &Db, board: &Board) -> Result<Board, sqlx::Error> {
    let insert = format!(
        "INSERT INTO leaderboard ({BOARD_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (id) DO NOTHING"
    );
    let select = format!("SELECT {BOARD_COLUMNS}, last_reset FROM leaderboard WHERE id = $1");
    let reset = board.reset.as_ref().map_or("", Schedule::text);
    let row: BoardRow = on_db!(db, write, |pool| {
        sqlx::query(AssertSqlSafe(insert.as_str()))
            .bind(&board.id)
            .bind(board.authoritative)
            .bind(i64::from(board.sort_order.number()))
            .bind(board.operator.stored())
            .bind(reset)
            .bind(&board.metadata)
            .bind(board.create_time)
            .bind(board.category)
            .bind(&board.title)
            .bind(&board.description)
            .bind(board.duration)
            .bind(board.start_time)
            .bind(board.end_time)
            .bind(board.join_required)
            .bind(board.max_size)
            .bind(board.max_num_score)
            .execute(pool)
            .await?;
        sqlx::query_as(AssertSqlSafe(select.as_str()))
            .bind(&board.id)
            .fetch_one(pool)
            .await
    })?;
    Ok(row.into_board())
}

/// Deletes a board and its records.
pub async fn delete_board(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    on_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM leaderboard_record WHERE leaderboard_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM leaderboard WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })
}

/// Records that a board's reset at `reset` ran; false when that one (or a later one) had.
pub async fn mark_reset(db: &Db, id: &str, reset: i64) -> Result<bool, sqlx::Error> {
    let changed = on_db!(db, write, |pool| {
        sqlx::query("UPDATE leaderboard SET last_reset = $2 WHERE id = $1 AND last_reset < $2")
            .bind(id)
            .bind(reset)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(changed == 1)
}

/// Deletes every record of an owner; returns the (board, expiry) of each.
pub async fn delete_owner(db: &Db, owner: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_db!(db, write, |pool| {
        sqlx::query_as(
            "DELETE FROM leaderboard_record WHERE owner_id = $1 \
             RETURNING leaderboard_id, expiry_time",
        )
        .bind(owner)
        .fetch_all(pool)
        .await
    })
}

/// A stored record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Record {
    pub owner_id: String,
    pub username: Option<String>,
    pub score: i64,
    pub subscore: i64,
    pub num_score: i64,
    pub max_num_score: i64,
    pub metadata: String,
    pub create_time: i64,
    pub update_time: i64,
}

const RECORD_COLUMNS: &str = "owner_id, username, score, subscore, num_score, max_num_score, \
     metadata, create_time, update_time";

/// One score submission.
#[derive(Debug)]
pub struct Submission<'a> {
    pub board: &'a str,
    pub expiry: i64,
    pub owner: &'a str,
    /// `None` keeps the stored one.
    pub username: Option<&'a str>,
    pub score: i64,
    pub subscore: i64,
    /// JSON object text; `None` keeps the stored one (`{}` for a new record).
    pub metadata: Option<&'a str>,
    pub operator: Operator,
    pub sort_order: SortOrder,
    /// The `max_num_score` a new record gets.
    pub max_num_score: i64,
    pub now: i64,
}

/// Writes a score with the operator's rule, as one statement. Returns the record, and whether
/// it changed (a score that the rule leaves out changes nothing, not even `num_score`).
pub async fn write(db: &Db, s: &Submission<'_>) -> Result<(Record, bool), sqlx::Error> {
    let postgres = matches!(db, Db::Postgres(_));
    let sql = write_sql(s.operator, s.sort_order, postgres);
    // A decrement starts a new record at 0; every other operator at the submitted score.
    let (first_score, first_subscore) = match s.operator {
        Operator::Decrement => (0, 0),
        _ => (s.score, s.subscore),
    };
    let written: Option<Record> = on_db!(db, write, |pool| {
        sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(s.board)
            .bind(s.expiry)
            .bind(s.owner)
            .bind(s.username)
            .bind(first_score)
            .bind(first_subscore)
            .bind(s.max_num_score)
            .bind(s.metadata)
            .bind(s.now)
            .bind(s.score)
            .bind(s.subscore)
            .fetch_optional(pool)
            .await
    })?;
    if let Some(record) = written {
        return Ok((record, true));
    }
    let unchanged = record(db, s.board, s.expiry, s.owner, true).await?;
    unchanged
        .map(|r| (r, false))
        .ok_or(sqlx::Error::RowNotFound)
}

/// The upsert for an operator: `$10`/`$11` are the submitted score and subscore.
fn write_sql(operator: Operator, order: SortOrder, postgres: bool) -> String {
    let old = "leaderboard_record";
    let (set, filter) = operator_sql(operator, order, postgres, "$10", "$11");
    format!(
        "INSERT INTO leaderboard_record (leaderboard_id, expiry_time, owner_id, username, score, \
         subscore, num_score, max_num_score, metadata, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, COALESCE($8, '{{}}'), $9, $9) \
         ON CONFLICT (leaderboard_id, expiry_time, owner_id) DO UPDATE SET {set}, \
         num_score = {old}.num_score + 1, metadata = COALESCE($8, {old}.metadata), \
         username = COALESCE($4, {old}.username), update_time = $9 WHERE {filter} \
         RETURNING {RECORD_COLUMNS}"
    )
}

/// An operator's assignments of score and subscore, and the condition for a submission to
/// count, with `s`/`ss` the placeholders of the submitted score and subscore.
fn operator_sql(
    operator: Operator,
    order: SortOrder,
    postgres: bool,
    s: &str,
    ss: &str,
) -> (String, String) {
    let (max, min) = if postgres {
        ("GREATEST", "LEAST")
    } else {
        ("MAX", "MIN")
    };
    // PostgreSQL must be told the parameters are 64-bit.
    let (s, ss) = if postgres {
        (format!("{s}::BIGINT"), format!("{ss}::BIGINT"))
    } else {
        (s.to_owned(), ss.to_owned())
    };
    let old = "leaderboard_record";
    match (operator, order) {
        (Operator::Increment, _) => (
            format!("score = {old}.score + {s}, subscore = {old}.subscore + {ss}"),
            format!("{s} <> 0 OR {ss} <> 0"),
        ),
        (Operator::Decrement, _) => (
            format!(
                "score = {max}({old}.score - {s}, 0), subscore = {max}({old}.subscore - {ss}, 0)"
            ),
            format!("{s} <> 0 OR {ss} <> 0"),
        ),
        (Operator::Set, _) => (
            format!("score = {s}, subscore = {ss}"),
            format!("{old}.score <> {s} OR {old}.subscore <> {ss}"),
        ),
        (Operator::Best, SortOrder::Descending) => (
            format!("score = {max}({old}.score, {s}), subscore = {max}({old}.subscore, {ss})"),
            format!("{old}.score < {s} OR {old}.subscore < {ss}"),
        ),
        (Operator::Best, SortOrder::Ascending) => (
            format!("score = {min}({old}.score, {s}), subscore = {min}({old}.subscore, {ss})"),
            format!("{old}.score > {s} OR {old}.subscore > {ss}"),
        ),
    }
}

/// One owner's record in a board's period.
pub async fn record(
    db: &Db,
    board: &str,
    expiry: i64,
    owner: &str,
    from_writer: bool,
) -> Result<Option<Record>, sqlx::Error> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM leaderboard_record \
         WHERE leaderboard_id = $1 AND expiry_time = $2 AND owner_id = $3"
    );
    macro_rules! fetch {
        ($pool:expr) => {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(board)
                .bind(expiry)
                .bind(owner)
                .fetch_optional($pool)
                .await
        };
    }
    match db {
        // Right after a write, read on the writer so the write is seen.
        Db::Sqlite(sqlite) if from_writer => fetch!(&sqlite.write),
        Db::Sqlite(sqlite) => fetch!(&sqlite.read),
        Db::Postgres(pg) => fetch!(pg),
    }
}

/// The records of some owners in a board's period.
pub async fn owner_records(
    db: &Db,
    board: &str,
    expiry: i64,
    owners: &[String],
) -> Result<Vec<Record>, sqlx::Error> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<String> = (3..owners.len() + 3).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM leaderboard_record \
         WHERE leaderboard_id = $1 AND expiry_time = $2 AND owner_id IN ({})",
        params.join(", ")
    );
    on_db!(db, read, |pool| {
        let mut query = sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(board)
            .bind(expiry);
        for owner in owners {
            query = query.bind(owner);
        }
        query.fetch_all(pool).await
    })
}

/// Where a page starts: after (or before) this record, in rank order.
#[derive(Debug, Clone)]
pub struct Position {
    pub score: i64,
    pub subscore: i64,
    pub owner: String,
}

/// Up to `limit` records of a board's period from `from` (excluded), walking towards higher
/// (`ascending`) or lower (score, subscore, owner) values; from the start without `from`.
pub async fn walk(
    db: &Db,
    board: &str,
    expiry: i64,
    from: Option<&Position>,
    ascending: bool,
    limit: i64,
) -> Result<Vec<Record>, sqlx::Error> {
    let (cmp, dir) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let filter = if from.is_some() {
        format!(" AND (score, subscore, owner_id) {cmp} ($4, $5, $6)")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM leaderboard_record \
         WHERE leaderboard_id = $1 AND expiry_time = $2{filter} \
         ORDER BY score {dir}, subscore {dir}, owner_id {dir} LIMIT $3"
    );
    on_db!(db, read, |pool| {
        let mut query = sqlx::query_as(AssertSqlSafe(sql.as_str()))
            .bind(board)
            .bind(expiry)
            .bind(limit);
        if let Some(p) = from {
            query = query.bind(p.score).bind(p.subscore).bind(p.owner.as_str());
        }
        query.fetch_all(pool).await
    })
}

/// Deletes an owner's record in a board's period.
pub async fn delete_record(
    db: &Db,
    board: &str,
    expiry: i64,
    owner: &str,
) -> Result<(), sqlx::Error> {
    on_db!(db, write, |pool| {
        sqlx::query(
            "DELETE FROM leaderboard_record \
             WHERE leaderboard_id = $1 AND expiry_time = $2 AND owner_id = $3",
        )
        .bind(board)
        .bind(expiry)
        .bind(owner)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Every (owner, score, subscore) of a board's period, for its ranks.
pub async fn rank_rows(
    db: &Db,
    board: &str,
    expiry: i64,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    on_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT owner_id, score, subscore FROM leaderboard_record \
             WHERE leaderboard_id = $1 AND expiry_time = $2",
        )
        .bind(board)
        .bind(expiry)
        .fetch_all(pool)
        .await
    })
}

/// What joining a tournament did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    Joined,
    /// The player had joined (or written) already.
    Already,
    /// The tournament is full.
    Full,
}

/// Joins a player: a record with score 0 and no submission, counted in the tournament's size
/// when it has a limit.
pub async fn join(
    db: &Db,
    board: &Board,
    expiry: i64,
    owner: &str,
    username: &str,
    now: i64,
) -> Result<Join, sqlx::Error> {
    let username = Some(username).filter(|u| !u.is_empty());
    on_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO leaderboard_record (leaderboard_id, expiry_time, owner_id, username, \
             score, subscore, num_score, max_num_score, metadata, create_time, update_time) \
             VALUES ($1, $2, $3, $4, 0, 0, 0, $5, '{}', $6, $6) \
             ON CONFLICT (leaderboard_id, expiry_time, owner_id) DO NOTHING",
        )
        .bind(&board.id)
        .bind(expiry)
        .bind(owner)
        .bind(username)
        .bind(board.max_num_score)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() != 1 {
            return Ok(Join::Already);
        }
        if board.has_max_size() {
            let grown = sqlx::query(GROW).bind(&board.id).execute(&mut *tx).await?;
            if grown.rows_affected() != 1 {
                return Ok(Join::Full);
            }
        }
        tx.commit().await?;
        Ok(Join::Joined)
    })
}

/// Counts one more player in a tournament with a size limit (no row changes when full).
const GROW: &str = "UPDATE leaderboard SET size = size + 1 WHERE id = $1 AND size < max_size";

/// Why a tournament score was not written.
#[derive(Debug, thiserror::Error)]
pub enum TournamentWriteError {
    #[error("required to join before writing tournament record")]
    JoinRequired,
    #[error("max number score count reached")]
    MaxNumScore,
    #[error("tournament max size reached")]
    Full,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Writes a tournament score with Nakama's rules: on a tournament players must join, only
/// to their record and only while they have submissions left (a submission past the limit
/// changes nothing and is not an error there); otherwise a submission past the limit, or a
/// new player in a full tournament, is refused and nothing is written.
pub async fn write_tournament(
    db: &Db,
    board: &Board,
    s: &Submission<'_>,
) -> Result<Record, TournamentWriteError> {
    let postgres = matches!(db, Db::Postgres(_));
    if board.join_required {
        if record(db, s.board, s.expiry, s.owner, true)
            .await?
            .is_none()
        {
            return Err(TournamentWriteError::JoinRequired);
        }
        let (set, filter) = operator_sql(s.operator, s.sort_order, postgres, "$7", "$8");
        let sql = format!(
            "UPDATE leaderboard_record SET {set}, num_score = num_score + 1, \
             metadata = COALESCE($5, metadata), username = COALESCE($4, username), \
             update_time = $6 WHERE leaderboard_id = $1 AND expiry_time = $2 AND owner_id = $3 \
             AND (max_num_score = 0 OR num_score < max_num_score) AND ({filter})"
        );
        on_db!(db, write, |pool| {
            sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(s.board)
                .bind(s.expiry)
                .bind(s.owner)
                .bind(s.username)
                .bind(s.metadata)
                .bind(s.now)
                .bind(s.score)
                .bind(s.subscore)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
    } else {
        let sql = write_sql(s.operator, s.sort_order, postgres);
        let (first_score, first_subscore) = match s.operator {
            Operator::Decrement => (0, 0),
            _ => (s.score, s.subscore),
        };
        on_db!(db, write, |pool| {
            let mut tx = pool.begin().await?;
            let written: Option<Record> = sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(s.board)
                .bind(s.expiry)
                .bind(s.owner)
                .bind(s.username)
                .bind(first_score)
                .bind(first_subscore)
                .bind(s.max_num_score)
                .bind(s.metadata)
                .bind(s.now)
                .bind(s.score)
                .bind(s.subscore)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(r) = written {
                if r.max_num_score > 0 && r.num_score > r.max_num_score {
                    return Err(TournamentWriteError::MaxNumScore);
                }
                if board.has_max_size() && r.num_score <= 1 {
                    let grown = sqlx::query(GROW).bind(&board.id).execute(&mut *tx).await?;
                    if grown.rows_affected() != 1 {
                        return Err(TournamentWriteError::Full);
                    }
                }
            }
            tx.commit().await?;
            Ok::<(), TournamentWriteError>(())
        })?;
    }
    record(db, s.board, s.expiry, s.owner, true)
        .await?
        .ok_or(TournamentWriteError::Sql(sqlx::Error::RowNotFound))
}

/// Changes how many submissions a player has in a tournament's period.
pub async fn add_attempts(
    db: &Db,
    board: &str,
    expiry: i64,
    owner: &str,
    count: i64,
) -> Result<(), sqlx::Error> {
    on_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE leaderboard_record SET max_num_score = max_num_score + $1 \
             WHERE leaderboard_id = $2 AND expiry_time = $3 AND owner_id = $4",
        )
        .bind(count)
        .bind(board)
        .bind(expiry)
        .bind(owner)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// The sizes of some tournaments.
pub async fn sizes(db: &Db, ids: &[String]) -> Result<HashMap<String, i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let params: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT id, size FROM leaderboard WHERE id IN ({})",
        params.join(", ")
    );
    let rows: Vec<(String, i64)> = on_db!(db, read, |pool| {
        let mut query = sqlx::query_as(AssertSqlSafe(sql.as_str()));
        for id in ids {
            query = query.bind(id);
        }
        query.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().collect())
}

/// Empties a tournament's size (at a reset).
pub async fn reset_size(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    on_db!(db, write, |pool| {
        sqlx::query("UPDATE leaderboard SET size = 0 WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_name_the_dialect_functions() {
        let sqlite = write_sql(Operator::Best, SortOrder::Descending, false);
        assert!(sqlite.contains("score = MAX(leaderboard_record.score, $10)"));
        assert!(sqlite.contains("WHERE leaderboard_record.score < $10 OR"));
        let pg = write_sql(Operator::Decrement, SortOrder::Ascending, true);
        assert!(pg.contains("GREATEST(leaderboard_record.score - $10::BIGINT, 0)"));
        let asc = write_sql(Operator::Best, SortOrder::Ascending, false);
        assert!(asc.contains("MIN(leaderboard_record.subscore, $11)"));
    }
}
