//! The boards in memory with their ranks, and the operations REST and server code share:
//! create, delete, list boards; write, delete, list records and the around-owner window.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use super::board::{Board, Operator, SortOrder};
use super::cursor::{self, RecordCursor};
use super::rank::RankCache;
use super::sql::{self, Position, Record, Submission};
use crate::storage::{Db, now_unix};

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaderboardError {
    #[error("leaderboard not found")]
    NotFound,
    #[error("leaderboard only allows authoritative submissions")]
    Authoritative,
    #[error("leaderboard cursor invalid")]
    BadCursor,
    /// Refused input, with the message to show.
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("tournament not found")]
    TournamentNotFound,
    #[error("tournament only allows authoritative submissions")]
    TournamentAuthoritative,
    #[error("tournament outside of duration")]
    OutsideDuration,
    #[error("tournament max size reached")]
    MaxSizeReached,
    #[error("max number score count reached")]
    MaxNumScoreReached,
    #[error("required to join before writing tournament record")]
    JoinRequired,
}

impl From<sql::TournamentWriteError> for LeaderboardError {
    fn from(e: sql::TournamentWriteError) -> LeaderboardError {
        match e {
            sql::TournamentWriteError::JoinRequired => LeaderboardError::JoinRequired,
            sql::TournamentWriteError::MaxNumScore => LeaderboardError::MaxNumScoreReached,
            sql::TournamentWriteError::Full => LeaderboardError::MaxSizeReached,
            sql::TournamentWriteError::Sql(e) => LeaderboardError::Sql(e),
        }
    }
}

/// Every board, by id and in listing order.
#[derive(Debug, Default)]
struct Boards {
    by_id: HashMap<String, Arc<Board>>,
    /// Leaderboards (not tournaments) in Nakama's listing order.
    leaderboards: Vec<Arc<Board>>,
    /// Tournaments in the same order.
    tournaments: Vec<Arc<Board>>,
}

impl Boards {
    fn insert(&mut self, board: Arc<Board>) {
        let list = if board.is_tournament() {
            &mut self.tournaments
        } else {
            &mut self.leaderboards
        };
        list.push(board.clone());
        list.sort_by_key(|b| listing_key(b));
        self.by_id.insert(board.id.clone(), board);
    }

    fn remove(&mut self, id: &str) -> Option<Arc<Board>> {
        self.leaderboards.retain(|b| b.id != id);
        self.tournaments.retain(|b| b.id != id);
        self.by_id.remove(id)
    }
}

/// Nakama's listing order: start time, later end first, category, id.
fn listing_key(b: &Board) -> (i64, std::cmp::Reverse<i64>, i64, String) {
    (
        b.start_time,
        std::cmp::Reverse(b.end_time),
        b.category,
        b.id.clone(),
    )
}

/// A new leaderboard, as server code asks for it.
#[derive(Debug, Clone)]
pub struct NewLeaderboard {
    pub id: String,
    pub authoritative: bool,
    pub sort_order: SortOrder,
    pub operator: Operator,
    /// A cron expression, or "" for none.
    pub reset_schedule: String,
    /// JSON object text.
    pub metadata: String,
}

/// A score to write.
#[derive(Debug, Clone)]
pub struct ScoreWrite {
    pub owner: Uuid,
    /// "" keeps the stored one.
    pub username: String,
    pub score: i64,
    pub subscore: i64,
    /// JSON object text, or "" to keep the stored one.
    pub metadata: String,
    /// Overrides the board's operator.
    pub operator: Option<Operator>,
}

/// The leaderboards of this server: the boards in memory, their ranks, the database.
pub struct Leaderboards {
    pub(super) db: Db,
    boards: RwLock<Boards>,
    pub(super) ranks: RankCache,
    /// Woken when a board is created or deleted (the scheduler waits on it).
    changed: tokio::sync::Notify,
}

impl std::fmt::Debug for Leaderboards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaderboards").finish_non_exhaustive()
    }
}

impl Leaderboards {
    /// No boards yet: [`Leaderboards::load`] reads them.
    pub fn new(db: Db) -> Arc<Leaderboards> {
        Arc::new(Leaderboards {
            db,
            boards: RwLock::new(Boards::default()),
            ranks: RankCache::default(),
            changed: tokio::sync::Notify::new(),
        })
    }

    /// Reads every board and the ranks of each board's current period from the database
    /// (at start, once the modules have created theirs).
    pub async fn load(&self) -> Result<(), sqlx::Error> {
        let started = std::time::Instant::now();
        let now = now_unix();
        let mut boards = Boards::default();
        let mut loaded = 0usize;
        for board in sql::boards(&self.db).await? {
            let expiry = board.expiry_at(now);
            let rows = sql::rank_rows(&self.db, &board.id, expiry).await?;
            loaded += rows.len();
            let rows = rows
                .into_iter()
                .filter_map(|(owner, score, subscore)| {
                    Uuid::parse_str(&owner).ok().map(|o| (o, score, subscore))
                })
                .collect();
            self.ranks.fill(&board.id, expiry, board.sort_order, rows);
            boards.insert(Arc::new(board));
        }
        if !boards.by_id.is_empty() {
            tracing::info!(
                boards = boards.by_id.len(),
                records = loaded,
                ms = started.elapsed().as_millis() as u64,
                "Leaderboards loaded"
            );
        }
        *self.boards.write().unwrap_or_else(PoisonError::into_inner) = boards;
        Ok(())
    }

    /// A board by id.
    pub fn get(&self, id: &str) -> Option<Arc<Board>> {
        self.boards
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .get(id)
            .cloned()
    }

    /// Creates a leaderboard; creating one that exists leaves it as it is.
    pub async fn create(&self, new: NewLeaderboard) -> Result<Arc<Board>, LeaderboardError> {
        if new.id.is_empty() {
            return Err(LeaderboardError::Invalid(
                "expects a leaderboard ID string".into(),
            ));
        }
        if let Some(existing) = self.get(&new.id) {
            return Ok(existing);
        }
        let reset = if new.reset_schedule.is_empty() {
            None
        } else {
            Some(
                super::board::Schedule::parse(&new.reset_schedule).ok_or_else(|| {
                    LeaderboardError::Invalid(
                        "expects reset schedule to be a valid CRON expression".into(),
                    )
                })?,
            )
        };
        let board = Board {
            authoritative: new.authoritative,
            sort_order: new.sort_order,
            operator: new.operator,
            reset,
            metadata: new.metadata,
            ..Board::leaderboard(&new.id, now_unix())
        };
        let stored = self.insert(board).await?;
        Ok(stored)
    }

    /// Stores a new board (or finds the one with its id) and keeps it in memory.
    pub(super) async fn insert(&self, board: Board) -> Result<Arc<Board>, LeaderboardError> {
        let stored = sql::insert_board(&self.db, &board).await?;
        let mut boards = self.boards.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = boards.by_id.get(&stored.id) {
            return Ok(existing.clone());
        }
        let stored = Arc::new(stored);
        boards.insert(stored.clone());
        drop(boards);
        self.changed.notify_waiters();
        Ok(stored)
    }

    /// The tournaments in listing order.
    pub(super) fn tournament_list(&self) -> Vec<Arc<Board>> {
        self.boards
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .tournaments
            .clone()
    }

    /// Every board.
    pub fn all(&self) -> Vec<Arc<Board>> {
        self.boards
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .values()
            .cloned()
            .collect()
    }

    /// Completes when a board is created or deleted after this call.
    pub fn changed(&self) -> impl std::future::Future<Output = ()> + '_ {
        self.changed.notified()
    }

    /// Records that a board's reset at `reset` ran; false when it had run already. A
    /// tournament's size starts again from 0.
    pub async fn mark_reset(&self, board: &Board, reset: i64) -> Result<bool, sqlx::Error> {
        let first = sql::mark_reset(&self.db, &board.id, reset).await?;
        if first && board.is_tournament() {
            sql::reset_size(&self.db, &board.id).await?;
        }
        Ok(first)
    }

    /// Drops the ranks of the periods that ended by `now`.
    pub fn trim_expired(&self, now: i64) {
        self.ranks.trim_expired(now);
    }

    /// Deletes every record of an owner (an account being deleted).
    pub async fn delete_owner(&self, owner: Uuid) -> Result<(), sqlx::Error> {
        let removed = sql::delete_owner(&self.db, &owner.to_string()).await?;
        for (board, expiry) in removed {
            if let Some(b) = self.get(&board) {
                self.ranks.remove(&board, expiry, b.sort_order, &owner);
            }
        }
        Ok(())
    }

    /// Deletes a board and its records; an unknown id is not an error.
    pub async fn delete(&self, id: &str) -> Result<(), LeaderboardError> {
        if self.get(id).is_none() {
            return Ok(());
        }
        sql::delete_board(&self.db, id).await?;
        self.boards
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        self.ranks.remove_board(id);
        self.changed.notify_waiters();
        Ok(())
    }

    /// A page of leaderboards with a category in the range, after the cursor's board.
    pub fn list(
        &self,
        category_start: i64,
        category_end: i64,
        limit: usize,
        cursor: &str,
    ) -> Result<api::LeaderboardList, LeaderboardError> {
        let after = if cursor.is_empty() {
            None
        } else {
            Some(cursor::decode_list(cursor).ok_or(LeaderboardError::BadCursor)?)
        };
        let boards = self.boards.read().unwrap_or_else(PoisonError::into_inner);
        let mut skipping = after.is_some();
        let mut page = Vec::new();
        let mut next = String::new();
        let now = now_unix();
        for board in &boards.leaderboards {
            if skipping {
                skipping = after.as_deref() != Some(board.id.as_str());
                continue;
            }
            if board.category < category_start || board.category > category_end {
                continue;
            }
            if page.len() >= limit {
                if let Some(last) = page.last() {
                    next = cursor::encode_list(&wire_board_id(last));
                }
                break;
            }
            page.push(leaderboard_wire(board, now));
        }
        Ok(api::LeaderboardList {
            leaderboards: page,
            cursor: next,
        })
    }

    /// The leaderboards (not tournaments) among these ids, in the order asked.
    pub fn get_many(&self, ids: &[String]) -> Vec<api::Leaderboard> {
        let now = now_unix();
        ids.iter()
            .filter_map(|id| self.get(id))
            .filter(|b| !b.is_tournament())
            .map(|b| leaderboard_wire(&b, now))
            .collect()
    }

    /// The period a listing looks at: `expiry` when given, else the current one.
    fn listing_expiry(board: &Board, expiry: i64, now: i64) -> i64 {
        if expiry != 0 {
            expiry
        } else {
            board.expiry_at(now)
        }
    }

    /// Writes a score. `caller` is the user writing over REST, `None` for server code (which
    /// may write to an authoritative board).
    pub async fn write(
        &self,
        caller: Option<Uuid>,
        id: &str,
        write: ScoreWrite,
    ) -> Result<api::LeaderboardRecord, LeaderboardError> {
        let board = self.get(id).ok_or(LeaderboardError::NotFound)?;
        if board.authoritative && caller.is_some() {
            return Err(LeaderboardError::Authoritative);
        }
        let now = now_unix();
        let expiry = board.expiry_at(now);
        let owner = write.owner.to_string();
        let submission = Submission {
            board: &board.id,
            expiry,
            owner: &owner,
            username: Some(write.username.as_str()).filter(|u| !u.is_empty()),
            score: write.score,
            subscore: write.subscore,
            metadata: Some(write.metadata.as_str()).filter(|m| !m.is_empty()),
            operator: write.operator.unwrap_or(board.operator),
            sort_order: board.sort_order,
            max_num_score: board.max_num_score,
            now,
        };
        let (record, changed) = sql::write(&self.db, &submission).await?;
        let rank = if changed {
            self.ranks.insert(
                &board.id,
                expiry,
                board.sort_order,
                &write.owner,
                record.score,
                record.subscore,
            )
        } else {
            self.ranks
                .get(&board.id, expiry, board.sort_order, &write.owner)
        };
        Ok(record_wire(&board.id, expiry, record, rank))
    }

    /// Deletes an owner's record of the current period.
    pub async fn delete_record(
        &self,
        caller: Option<Uuid>,
        id: &str,
        owner: Uuid,
    ) -> Result<(), LeaderboardError> {
        let board = self.get(id).ok_or(LeaderboardError::NotFound)?;
        if board.authoritative && caller.is_some() {
            return Err(LeaderboardError::Authoritative);
        }
        let expiry = board.expiry_at(now_unix());
        sql::delete_record(&self.db, &board.id, expiry, &owner.to_string()).await?;
        self.ranks
            .remove(&board.id, expiry, board.sort_order, &owner);
        Ok(())
    }

    /// A page of records in rank order (`limit` `None`: none, only the owners' records), and
    /// the records of `owners`, for the period ending at `expiry` (0: the current one).
    pub async fn list_records(
        &self,
        id: &str,
        limit: Option<usize>,
        cursor: &str,
        owners: &[String],
        expiry: i64,
    ) -> Result<api::LeaderboardRecordList, LeaderboardError> {
        let board = self.get(id).ok_or(LeaderboardError::NotFound)?;
        let expiry = Self::listing_expiry(&board, expiry, now_unix());
        let mut list = match limit {
            Some(limit) => self.page(&board, expiry, limit, cursor).await?,
            None => api::LeaderboardRecordList::default(),
        };
        let owner_records = sql::owner_records(&self.db, &board.id, expiry, owners).await?;
        list.owner_records = owner_records
            .into_iter()
            .map(|r| {
                let rank = Uuid::parse_str(&r.owner_id).map_or(0, |o| {
                    self.ranks.get(&board.id, expiry, board.sort_order, &o)
                });
                record_wire(&board.id, expiry, r, rank)
            })
            .collect();
        Ok(list)
    }

    /// One page of records from a cursor, as Nakama pages them: the cursor names the record
    /// a page starts after (or, going back, before) and that record's rank.
    async fn page(
        &self,
        board: &Board,
        expiry: i64,
        limit: usize,
        cursor: &str,
    ) -> Result<api::LeaderboardRecordList, LeaderboardError> {
        let incoming = if cursor.is_empty() {
            None
        } else {
            let c = RecordCursor::decode(cursor).ok_or(LeaderboardError::BadCursor)?;
            if c.board != board.id || c.expiry != expiry {
                return Err(LeaderboardError::BadCursor);
            }
            Some(c)
        };
        let ascending = board.sort_order == SortOrder::Ascending;
        let backwards = incoming.as_ref().is_some_and(|c| !c.is_next);
        // Walking towards higher values: an ascending board going forward, or a descending
        // one going back.
        let walk_up = ascending != backwards;
        let from = incoming.as_ref().map(|c| Position {
            score: c.score,
            subscore: c.subscore,
            owner: c.owner.clone(),
        });
        let rows = sql::walk(
            &self.db,
            &board.id,
            expiry,
            from.as_ref(),
            walk_up,
            limit as i64 + 1,
        )
        .await?;
        let mut rank = incoming.as_ref().map_or(0, |c| c.rank);
        let mut records = Vec::with_capacity(limit);
        let mut further = None;
        let mut first = None;
        for row in rows {
            if records.len() >= limit {
                further = Some(row);
                break;
            }
            rank += if backwards { -1 } else { 1 };
            if first.is_none() {
                first = Some((row.score, row.subscore, row.owner_id.clone(), rank));
            }
            records.push(record_wire(&board.id, expiry, row, rank));
        }
        let make = |is_next: bool, score: i64, subscore: i64, owner: String, rank: i64| {
            RecordCursor {
                is_next,
                board: board.id.clone(),
                expiry,
                score,
                subscore,
                owner,
                rank,
            }
            .encode()
        };
        let (mut next_cursor, mut prev_cursor) = (String::new(), String::new());
        if backwards {
            // The page was read upwards: put it in rank order. There is an earlier page if
            // the walk found more; a later one always (the cursor came from it).
            records.reverse();
            if further.is_some()
                && let Some(top) = records.first()
            {
                prev_cursor = make(
                    false,
                    top.score,
                    top.subscore,
                    top.owner_id.clone(),
                    top.rank,
                );
            }
            if let Some(bottom) = records.last() {
                next_cursor = make(
                    true,
                    bottom.score,
                    bottom.subscore,
                    bottom.owner_id.clone(),
                    bottom.rank,
                );
            }
        } else {
            if further.is_some()
                && let Some(bottom) = records.last()
            {
                next_cursor = make(
                    true,
                    bottom.score,
                    bottom.subscore,
                    bottom.owner_id.clone(),
                    bottom.rank,
                );
            }
            if incoming.is_some()
                && let Some((score, subscore, owner, rank)) = first
            {
                prev_cursor = make(false, score, subscore, owner, rank);
            }
        }
        Ok(api::LeaderboardRecordList {
            records,
            owner_records: Vec::new(),
            next_cursor,
            prev_cursor,
        })
    }

    /// The records around an owner's: up to `limit` with the owner's as near the middle as
    /// the board allows (Nakama's haystack); with a cursor, a plain page.
    pub async fn around_owner(
        &self,
        id: &str,
        owner: Uuid,
        limit: usize,
        cursor: &str,
        expiry: i64,
    ) -> Result<api::LeaderboardRecordList, LeaderboardError> {
        let board = self.get(id).ok_or(LeaderboardError::NotFound)?;
        let expiry = Self::listing_expiry(&board, expiry, now_unix());
        if !cursor.is_empty() {
            return self.page(&board, expiry, limit, cursor).await;
        }
        let owner_text = owner.to_string();
        let Some(own) = sql::record(&self.db, &board.id, expiry, &owner_text, false).await? else {
            return Ok(api::LeaderboardRecordList::default());
        };
        let order = board.sort_order;
        let own_rank = self.ranks.get(&board.id, expiry, order, &owner);
        let at = Position {
            score: own.score,
            subscore: own.subscore,
            owner: owner_text,
        };
        let ascending = order == SortOrder::Ascending;
        // Better records first: walk towards better from the owner's, then towards worse.
        let mut better = sql::walk(
            &self.db,
            &board.id,
            expiry,
            Some(&at),
            !ascending,
            limit as i64 + 1,
        )
        .await?;
        let more_better = better.len() > limit;
        better.truncate(limit);
        better.reverse();
        let mut worse_limit = limit / 2;
        if better.len() < worse_limit {
            worse_limit = limit - better.len();
        }
        let mut worse = sql::walk(
            &self.db,
            &board.id,
            expiry,
            Some(&at),
            ascending,
            worse_limit as i64 + 1,
        )
        .await?;
        let more_worse = worse.len() > worse_limit;
        worse.truncate(worse_limit);
        let better_count = better.len();
        let mut rows: Vec<Record> = better;
        rows.push(own);
        rows.extend(worse);
        let total = rows.len();
        let mut start = total.saturating_sub(limit);
        if better_count < limit / 2 {
            start = 0;
        }
        let end = (start + limit).min(total);
        // Ranks run on from the owner's.
        let own_index = better_count;
        let records: Vec<api::LeaderboardRecord> = rows
            .into_iter()
            .enumerate()
            .skip(start)
            .take(end - start)
            .map(|(i, r)| {
                let rank = if own_rank == 0 {
                    0
                } else {
                    own_rank + i as i64 - own_index as i64
                };
                record_wire(&board.id, expiry, r, rank)
            })
            .collect();
        let mut list = api::LeaderboardRecordList {
            records,
            ..Default::default()
        };
        let cursor_at = |r: &api::LeaderboardRecord, is_next: bool| {
            RecordCursor {
                is_next,
                board: board.id.clone(),
                expiry,
                score: r.score,
                subscore: r.subscore,
                owner: r.owner_id.clone(),
                rank: r.rank,
            }
            .encode()
        };
        if more_better && let Some(top) = list.records.first() {
            list.prev_cursor = cursor_at(top, false);
        }
        if more_worse && let Some(bottom) = list.records.last() {
            list.next_cursor = cursor_at(bottom, true);
        }
        Ok(list)
    }
}

/// A board id as its list cursor names it.
fn wire_board_id(board: &api::Leaderboard) -> String {
    board.id.clone()
}

/// A leaderboard as the wire shows it.
pub fn leaderboard_wire(board: &Board, now: i64) -> api::Leaderboard {
    api::Leaderboard {
        id: board.id.clone(),
        sort_order: board.sort_order.number(),
        operator: board.operator.wire(),
        prev_reset: u32::try_from(board.prev_reset(now)).unwrap_or_default(),
        next_reset: u32::try_from(board.next_reset(now)).unwrap_or_default(),
        metadata: board.metadata.clone(),
        create_time: Some(Timestamp::from_unix_seconds(board.create_time)),
        authoritative: board.authoritative,
    }
}

/// A stored record as the wire shows it.
pub fn record_wire(board: &str, expiry: i64, r: Record, rank: i64) -> api::LeaderboardRecord {
    api::LeaderboardRecord {
        leaderboard_id: board.to_owned(),
        owner_id: r.owner_id,
        username: r.username,
        score: r.score,
        subscore: r.subscore,
        num_score: i32::try_from(r.num_score).unwrap_or(i32::MAX),
        metadata: r.metadata,
        create_time: Some(Timestamp::from_unix_seconds(r.create_time)),
        update_time: Some(Timestamp::from_unix_seconds(r.update_time)),
        expiry_time: (expiry != 0).then(|| Timestamp::from_unix_seconds(expiry)),
        rank,
        max_num_score: u32::try_from(r.max_num_score).unwrap_or_default(),
    }
}
