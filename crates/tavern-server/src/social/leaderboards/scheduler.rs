//! Resets and tournament ends. At each time a leaderboard's reset schedule names, its records
//! of the period that ended stop counting (they belong to that period's expiry time), the
//! ranks of that period are dropped and the modules' reset callback runs. A tournament's
//! period ends (`tournament_end` callback) when it stops taking scores and resets
//! (`tournament_reset`, its size back to 0) when its records expire. A reset the server was
//! not running for runs when it starts again (each board keeps the last reset it ran, so
//! none runs twice).

use std::sync::Arc;
use std::time::Duration;

use super::board::Board;
use super::service::leaderboard_wire;
use super::tournament::tournament_wire;
use crate::state::AppState;
use crate::storage::{now_unix, now_unix_millis};

/// The longest sleep between two looks at the boards (a board created meanwhile wakes the
/// scheduler at once).
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// What happens to a board at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// The records of the period ending here stop counting.
    Reset(i64),
    /// A tournament's period stops taking scores.
    End(i64),
}

/// Starts the scheduler of this server's boards.
pub fn start(state: Arc<AppState>) {
    tokio::spawn(async move {
        let leaderboards = state.leaderboards.clone();
        let now = now_unix();
        for board in leaderboards.all() {
            if let Some(missed) = missed_reset(&board, now) {
                tracing::info!(leaderboard = %board.id, reset = missed, "Running a reset missed while stopped");
                fire(&state, &board, Event::Reset(missed)).await;
            }
        }
        let mut checked = now;
        loop {
            let changed = leaderboards.changed();
            let next = leaderboards
                .all()
                .iter()
                .filter_map(|b| next_event(b, checked))
                .min();
            let sleep = match next {
                Some(at) => {
                    let wait = at.saturating_mul(1000).saturating_sub(now_unix_millis());
                    Duration::from_millis(u64::try_from(wait).unwrap_or(0)).min(MAX_SLEEP)
                }
                None => MAX_SLEEP,
            };
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = changed => {}
            }
            let now = now_unix();
            if now <= checked {
                continue;
            }
            for board in leaderboards.all() {
                for event in due(&board, checked, now) {
                    fire(&state, &board, event).await;
                }
            }
            leaderboards.trim_expired(now);
            checked = now;
        }
    });
}

/// The first time after `after` something happens to a board.
fn next_event(board: &Board, after: i64) -> Option<i64> {
    if board.is_tournament() {
        if board.end_time > 0 && board.end_time <= after {
            return None;
        }
        let d = board.deadlines(after);
        [d.end_active, d.expiry]
            .into_iter()
            .filter(|t| *t > after)
            .min()
    } else {
        board.reset.as_ref()?.next(after)
    }
}

/// What happened to a board in (`after`, `now`]: the latest reset, and a tournament's end.
fn due(board: &Board, after: i64, now: i64) -> Vec<Event> {
    let mut events = Vec::new();
    if board.is_tournament() {
        if board.end_time > 0 && board.end_time <= after {
            return events;
        }
        let d = board.deadlines(after);
        if d.end_active > after && d.end_active <= now {
            events.push(Event::End(d.end_active));
        }
        if d.expiry > after && d.expiry <= now {
            events.push(Event::Reset(d.expiry));
        }
    } else if let Some(reset) = board.reset.as_ref().and_then(|r| r.latest(now))
        && reset > after
    {
        events.push(Event::Reset(reset));
    }
    events
}

/// The reset a board missed while the server was stopped: its latest one, unless it ran
/// already or came before the board.
pub(super) fn missed_reset(board: &Board, now: i64) -> Option<i64> {
    let latest = if board.is_tournament() {
        let scheduled = board.reset.as_ref().and_then(|r| r.latest(now));
        match (scheduled, board.end_time) {
            (Some(t), end) if end == 0 || t <= end => Some(t),
            (_, end) if end > 0 && end <= now => Some(end),
            _ => None,
        }
    } else {
        board.reset.as_ref()?.latest(now)
    }?;
    let start = if board.is_tournament() {
        board.start_time
    } else {
        board.create_time
    };
    (latest > board.last_reset && latest > start).then_some(latest)
}

/// Runs an event of a board: a reset once (recorded first), then the modules' callback with
/// the board as it was just before.
async fn fire(state: &Arc<AppState>, board: &Board, event: Event) {
    let registry = state.runtime.registry();
    match event {
        Event::Reset(reset) => {
            match state.leaderboards.mark_reset(board, reset).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::error!(error = %e, leaderboard = %board.id, "could not record a reset");
                    return;
                }
            }
            if board.is_tournament() {
                let t = tournament_wire(board, 0, reset - 1);
                let (end, next) = (i64::from(t.end_active), i64::from(t.next_reset));
                registry.tournament_reset(t, end, next).await;
            } else {
                registry
                    .leaderboard_reset(leaderboard_wire(board, reset - 1), reset)
                    .await;
            }
        }
        Event::End(end) => {
            let t = tournament_wire(board, 0, end - 1);
            let (end, next) = (i64::from(t.end_active), i64::from(t.next_reset));
            registry.tournament_end(t, end, next).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::social::leaderboards::board::Schedule;

    // 2026-01-01T00:00:00Z.
    const DAY: i64 = 1_767_225_600;

    #[test]
    fn a_restart_runs_the_latest_missed_reset_once() {
        let mut board = Board::leaderboard("daily", DAY - 10 * 86_400);
        board.reset = Schedule::parse("0 0 * * *");
        // Stopped over two midnights: only the latest runs.
        board.last_reset = DAY - 2 * 86_400;
        assert_eq!(missed_reset(&board, DAY + 3600), Some(DAY));
        // It ran already.
        board.last_reset = DAY;
        assert_eq!(missed_reset(&board, DAY + 3600), None);
        // A board made after the latest reset has nothing to catch up.
        let mut fresh = Board::leaderboard("fresh", DAY + 60);
        fresh.reset = Schedule::parse("0 0 * * *");
        assert_eq!(missed_reset(&fresh, DAY + 3600), None);
        // No schedule, no resets.
        assert_eq!(missed_reset(&Board::leaderboard("plain", 0), DAY), None);
        // A tournament that ended while stopped.
        let mut t = Board::leaderboard("t", DAY - 100);
        t.duration = 60;
        t.start_time = DAY - 100;
        t.end_time = DAY;
        assert_eq!(missed_reset(&t, DAY + 5), Some(DAY));
    }

    #[test]
    fn tournaments_end_then_reset() {
        let mut t = Board::leaderboard("t", DAY - 100);
        t.duration = 600;
        t.start_time = DAY;
        t.reset = Schedule::parse("0 * * * *");
        assert_eq!(next_event(&t, DAY + 10), Some(DAY + 600));
        assert_eq!(due(&t, DAY + 10, DAY + 700), vec![Event::End(DAY + 600)]);
        assert_eq!(next_event(&t, DAY + 700), Some(DAY + 3600));
        assert_eq!(
            due(&t, DAY + 700, DAY + 3600),
            vec![Event::Reset(DAY + 3600)]
        );
        let mut daily = Board::leaderboard("d", 0);
        daily.reset = Schedule::parse("0 0 * * *");
        assert_eq!(due(&daily, DAY - 5, DAY + 5), vec![Event::Reset(DAY)]);
        assert_eq!(due(&daily, DAY, DAY + 5), vec![]);
    }
}
