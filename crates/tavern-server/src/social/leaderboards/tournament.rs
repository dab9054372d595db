//! Tournaments: leaderboards with a duration, active for a while after each reset (or after
//! their start), that players may have to join, with a size limit and a limit on submissions.

use std::sync::Arc;

use tavern_proto::{Timestamp, api};
use uuid::Uuid;

use super::board::{Board, Operator, Schedule, SortOrder};
use super::service::{LeaderboardError, Leaderboards, ScoreWrite, record_wire};
use super::sql::{self, Submission};
use crate::storage::now_unix;

/// A new tournament, as server code asks for it.
#[derive(Debug, Clone)]
pub struct NewTournament {
    pub id: String,
    pub authoritative: bool,
    pub sort_order: SortOrder,
    pub operator: Operator,
    /// A cron expression, or "" for none.
    pub reset_schedule: String,
    /// JSON object text.
    pub metadata: String,
    pub title: String,
    pub description: String,
    pub category: i64,
    /// Unix seconds; 0: now.
    pub start_time: i64,
    /// Unix seconds; 0: never ends.
    pub end_time: i64,
    pub duration: i64,
    /// 0: no limit.
    pub max_size: i64,
    /// 0: Nakama's default (1,000,000).
    pub max_num_score: i64,
    pub join_required: bool,
}

/// Which tournaments to list.
#[derive(Debug, Clone, Copy)]
pub struct TournamentFilter {
    pub category_start: i64,
    pub category_end: i64,
    /// Only those starting at or after this; -1 for any.
    pub start_time: i64,
    /// 0: only those without an end; -1: those not ended yet; else ending by this time.
    pub end_time: i64,
    pub limit: usize,
}

impl Leaderboards {
    /// Creates a tournament; creating one that exists already leaves it as it is.
    pub async fn create_tournament(
        &self,
        new: NewTournament,
    ) -> Result<Arc<Board>, LeaderboardError> {
        let invalid = |m: &str| Err(LeaderboardError::Invalid(m.to_owned()));
        if new.id.is_empty() {
            return invalid("expects a tournament ID string");
        }
        if new.start_time < 0 {
            return invalid("tournament start time must be a unix UTC time in the future");
        }
        if new.duration <= 0 {
            return invalid("tournament duration must be greater than zero");
        }
        if new.max_size < 0 {
            return invalid("tournament max must be greater than zero");
        }
        if new.max_num_score < 0 {
            return invalid("tournament m num score must be greater than zero");
        }
        if new.end_time > 0 && new.end_time < new.start_time {
            return invalid("tournament end time cannot be before start time");
        }
        let reset = if new.reset_schedule.is_empty() {
            None
        } else {
            Some(Schedule::parse(&new.reset_schedule).ok_or_else(|| {
                LeaderboardError::Invalid(
                    "could not parse reset schedule: expects a valid CRON expression".into(),
                )
            })?)
        };
        let now = now_unix();
        let start_time = if new.start_time > 0 {
            new.start_time
        } else {
            now
        };
        if let (Some(schedule), true) = (&reset, new.end_time > 0)
            && schedule
                .next(start_time)
                .is_some_and(|first| new.end_time <= first)
        {
            return invalid(
                "tournament end time cannot be before first reset schedule - either increase end time or change/disable reset schedule",
            );
        }
        if let Some(existing) = self.get(&new.id) {
            if existing.is_tournament() {
                return Ok(existing);
            }
            return invalid("cannot create tournament as leaderboard is already in use");
        }
        let board = Board {
            authoritative: new.authoritative,
            sort_order: new.sort_order,
            operator: new.operator,
            reset,
            metadata: new.metadata,
            category: new.category,
            title: new.title,
            description: new.description,
            duration: new.duration,
            start_time,
            end_time: new.end_time,
            join_required: new.join_required,
            max_size: if new.max_size == 0 {
                i64::from(i32::MAX)
            } else {
                new.max_size
            },
            max_num_score: if new.max_num_score == 0 {
                1_000_000
            } else {
                new.max_num_score
            },
            ..Board::leaderboard(&new.id, now)
        };
        self.insert(board).await
    }

    /// A tournament by id (a leaderboard is not one).
    fn tournament(&self, id: &str) -> Result<Arc<Board>, LeaderboardError> {
        self.get(id)
            .filter(|b| b.is_tournament())
            .ok_or(LeaderboardError::TournamentNotFound)
    }

    /// Joins a player to a tournament's current period: a record with score 0 (once). Not
    /// needed (and nothing is written) when the tournament does not ask for it.
    pub async fn join(
        &self,
        id: &str,
        owner: Uuid,
        username: &str,
    ) -> Result<(), LeaderboardError> {
        let board = self.tournament(id)?;
        if !board.join_required {
            return Ok(());
        }
        let now = now_unix();
        let deadlines = board.deadlines(now);
        if deadlines.end_active <= now {
            return Err(LeaderboardError::OutsideDuration);
        }
        let joined = sql::join(
            &self.db,
            &board,
            deadlines.expiry,
            &owner.to_string(),
            username,
            now,
        )
        .await?;
        match joined {
            sql::Join::Joined => {
                self.ranks
                    .insert(&board.id, deadlines.expiry, board.sort_order, &owner, 0, 0);
                Ok(())
            }
            sql::Join::Already => Ok(()),
            sql::Join::Full => Err(LeaderboardError::MaxSizeReached),
        }
    }

    /// Writes a score to a tournament's current period, with its rules: only while it is
    /// active, after joining when it asks for that, within its size and its number of
    /// submissions per player.
    pub async fn write_tournament(
        &self,
        caller: Option<Uuid>,
        id: &str,
        write: ScoreWrite,
    ) -> Result<api::LeaderboardRecord, LeaderboardError> {
        let board = self.tournament(id)?;
        if board.authoritative && caller.is_some() {
            return Err(LeaderboardError::TournamentAuthoritative);
        }
        let now = now_unix();
        let deadlines = board.deadlines(now);
        if deadlines.start_active > now || deadlines.end_active <= now {
            return Err(LeaderboardError::OutsideDuration);
        }
        let expiry = deadlines.expiry;
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
        let record = sql::write_tournament(&self.db, &board, &submission).await?;
        let rank = self.ranks.insert(
            &board.id,
            expiry,
            board.sort_order,
            &write.owner,
            record.score,
            record.subscore,
        );
        Ok(record_wire(&board.id, expiry, record, rank))
    }

    /// Gives a player `count` more (or, negative, fewer) submissions in the current period.
    pub async fn add_attempt(
        &self,
        id: &str,
        owner: Uuid,
        count: i64,
    ) -> Result<(), LeaderboardError> {
        if count == 0 {
            return Ok(());
        }
        let board = self.tournament(id)?;
        let now = now_unix();
        let deadlines = board.deadlines(now);
        if deadlines.end_active <= now {
            return Err(LeaderboardError::OutsideDuration);
        }
        sql::add_attempts(
            &self.db,
            &board.id,
            deadlines.expiry,
            &owner.to_string(),
            count,
        )
        .await?;
        Ok(())
    }

    /// A tournament's records, as [`Leaderboards::list_records`]; an ended tournament has
    /// none unless `expiry` names a period.
    pub async fn list_tournament_records(
        &self,
        id: &str,
        limit: Option<usize>,
        cursor: &str,
        owners: &[String],
        expiry: i64,
    ) -> Result<api::TournamentRecordList, LeaderboardError> {
        let board = self.tournament(id)?;
        let now = now_unix();
        if expiry == 0 && board.end_time > 0 && board.end_time <= now {
            return Err(LeaderboardError::OutsideDuration);
        }
        let list = self.list_records(id, limit, cursor, owners, expiry).await?;
        Ok(api::TournamentRecordList {
            records: list.records,
            owner_records: list.owner_records,
            next_cursor: list.next_cursor,
            prev_cursor: list.prev_cursor,
        })
    }

    /// The window around an owner in a tournament, as [`Leaderboards::around_owner`].
    pub async fn tournament_around_owner(
        &self,
        id: &str,
        owner: Uuid,
        limit: usize,
        cursor: &str,
        expiry: i64,
    ) -> Result<api::TournamentRecordList, LeaderboardError> {
        let board = self.tournament(id)?;
        let now = now_unix();
        if expiry == 0 {
            let current = board.deadlines(now).expiry;
            if current != 0 && current <= now {
                return Ok(api::TournamentRecordList::default());
            }
        }
        let list = self.around_owner(id, owner, limit, cursor, expiry).await?;
        Ok(api::TournamentRecordList {
            records: list.records,
            owner_records: list.owner_records,
            next_cursor: list.next_cursor,
            prev_cursor: list.prev_cursor,
        })
    }

    /// Tournaments by id, unknown ones left out.
    pub async fn tournaments_get(
        &self,
        ids: &[String],
    ) -> Result<Vec<api::Tournament>, LeaderboardError> {
        let boards: Vec<Arc<Board>> = ids
            .iter()
            .filter_map(|id| self.get(id))
            .filter(|b| b.is_tournament())
            .collect();
        self.tournaments_wire(&boards).await
    }

    /// A page of tournaments matching the filter, after the cursor's.
    pub async fn list_tournaments(
        &self,
        filter: TournamentFilter,
        cursor: &str,
    ) -> Result<api::TournamentList, LeaderboardError> {
        let after = if cursor.is_empty() {
            None
        } else {
            Some(super::cursor::decode_list(cursor).ok_or(LeaderboardError::BadCursor)?)
        };
        let now = now_unix();
        let (page, next) = {
            let mut skipping = after.is_some();
            let mut page: Vec<Arc<Board>> = Vec::new();
            let mut next = String::new();
            for board in self.tournament_list() {
                if skipping {
                    skipping = after.as_deref() != Some(board.id.as_str());
                    continue;
                }
                if board.category < filter.category_start || board.category > filter.category_end {
                    continue;
                }
                if board.start_time < filter.start_time {
                    continue;
                }
                let end = board.end_time;
                let skip_end = match filter.end_time {
                    0 => end != 0,
                    -1 => end != 0 && end < now,
                    limit => end == 0 || end > limit,
                };
                if skip_end {
                    continue;
                }
                if page.len() >= filter.limit {
                    if let Some(last) = page.last() {
                        next = super::cursor::encode_list(&last.id);
                    }
                    break;
                }
                page.push(board);
            }
            (page, next)
        };
        Ok(api::TournamentList {
            tournaments: self.tournaments_wire(&page).await?,
            cursor: next,
        })
    }

    /// Tournaments as the wire shows them now, with their sizes from the database.
    async fn tournaments_wire(
        &self,
        boards: &[Arc<Board>],
    ) -> Result<Vec<api::Tournament>, LeaderboardError> {
        let counted: Vec<String> = boards
            .iter()
            .filter(|b| b.has_max_size())
            .map(|b| b.id.clone())
            .collect();
        let sizes = sql::sizes(&self.db, &counted).await?;
        let now = now_unix();
        Ok(boards
            .iter()
            .map(|b| {
                let size = sizes.get(&b.id).copied().unwrap_or_default();
                tournament_wire(b, size, now)
            })
            .collect())
    }
}

/// A tournament as the wire shows it at `now`.
pub fn tournament_wire(board: &Board, size: i64, now: i64) -> api::Tournament {
    let d = board.deadlines(now);
    let can_enter = d.start_active <= now && d.end_active >= now && size < board.max_size;
    let number = |n: i64| u32::try_from(n).unwrap_or_default();
    api::Tournament {
        id: board.id.clone(),
        title: board.title.clone(),
        description: board.description.clone(),
        category: number(board.category),
        sort_order: board.sort_order.number(),
        size: number(size),
        max_size: number(board.max_size),
        max_num_score: number(board.max_num_score),
        can_enter,
        end_active: number(d.end_active),
        next_reset: number(d.expiry),
        metadata: board.metadata.clone(),
        create_time: Some(Timestamp::from_unix_seconds(board.create_time)),
        start_time: Some(Timestamp::from_unix_seconds(board.start_time)),
        end_time: (board.end_time != 0).then(|| Timestamp::from_unix_seconds(board.end_time)),
        duration: number(board.duration),
        start_active: number(d.start_active),
        prev_reset: number(board.prev_reset(now)),
        operator: board.operator.wire(),
        authoritative: board.authoritative,
    }
}
