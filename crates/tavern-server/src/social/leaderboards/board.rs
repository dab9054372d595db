//! A board's settings (a leaderboard, or a tournament: a leaderboard with a duration), its
//! reset schedule, and the periods (expiry times) its records belong to.

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// Which scores rank first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Lowest first (Nakama's 0).
    Ascending,
    /// Highest first (Nakama's 1, the default).
    Descending,
}

impl SortOrder {
    /// Nakama's number for it (the `sort_order` of the wire and the table).
    pub fn number(self) -> u32 {
        match self {
            SortOrder::Ascending => 0,
            SortOrder::Descending => 1,
        }
    }

    pub fn from_number(n: i64) -> SortOrder {
        if n == 0 {
            SortOrder::Ascending
        } else {
            SortOrder::Descending
        }
    }
}

/// How a submitted score combines with the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Keep the better score and the better subscore (each on its own).
    Best,
    /// Replace both.
    Set,
    /// Add to both.
    Increment,
    /// Subtract from both, never below 0.
    Decrement,
}

impl Operator {
    /// The number Nakama stores (best 0, set 1, incr 2, decr 3).
    pub fn stored(self) -> i64 {
        match self {
            Operator::Best => 0,
            Operator::Set => 1,
            Operator::Increment => 2,
            Operator::Decrement => 3,
        }
    }

    pub fn from_stored(n: i64) -> Operator {
        match n {
            1 => Operator::Set,
            2 => Operator::Increment,
            3 => Operator::Decrement,
            _ => Operator::Best,
        }
    }

    /// The wire's `Operator` enum (0 is "no override").
    pub fn wire(self) -> i32 {
        self.stored() as i32 + 1
    }

    /// An operator of the wire; `Ok(None)` for "no override".
    pub fn from_wire(n: i32) -> Result<Option<Operator>, ()> {
        match n {
            0 => Ok(None),
            1..=4 => Ok(Some(Operator::from_stored(i64::from(n - 1)))),
            _ => Err(()),
        }
    }

    /// Nakama's runtime names: `best`, `set`, `incr`/`increment`, `decr`/`decrement`.
    pub fn from_name(name: &str) -> Option<Operator> {
        Some(match name {
            "best" => Operator::Best,
            "set" => Operator::Set,
            "incr" | "increment" => Operator::Increment,
            "decr" | "decrement" => Operator::Decrement,
            _ => return None,
        })
    }

    /// The lower-case name of the wire enum, as Nakama's runtimes show it.
    pub fn name(self) -> &'static str {
        match self {
            Operator::Best => "best",
            Operator::Set => "set",
            Operator::Increment => "increment",
            Operator::Decrement => "decrement",
        }
    }
}

/// A reset schedule: a cron expression as Nakama reads it (5 fields `minute hour day-of-month
/// month day-of-week`; 6 adds the year; 7 puts seconds first; the `@daily` kind of names), in
/// UTC.
#[derive(Debug, Clone)]
pub struct Schedule {
    text: String,
    cron: Cron,
}

impl Schedule {
    /// Parses an expression; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Schedule> {
        let trimmed = text.trim();
        let base = match trimmed {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            other => other,
        };
        let fields: Vec<&str> = base.split_whitespace().collect();
        // Seconds first and the year last, as the parser is told to expect both.
        let full = match fields.len() {
            5 => format!("0 {} *", fields.join(" ")),
            6 => format!("0 {}", fields.join(" ")),
            // Nakama ignores fields past the seventh.
            n if n >= 7 => fields[..7].join(" "),
            _ => return None,
        };
        if full.contains('@') {
            return None;
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Required)
            .build()
            .parse(&full)
            .ok()?;
        // An expression that never fires (e.g. a 30th of February) is no schedule.
        let schedule = Schedule {
            text: text.to_owned(),
            cron,
        };
        schedule.next(0)?;
        Some(schedule)
    }

    /// The expression as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first time the schedule fires strictly after `now` (unix seconds).
    pub fn next(&self, now: i64) -> Option<i64> {
        let from = chrono::DateTime::from_timestamp(now, 0)?;
        self.cron
            .find_next_occurrence(&from, false)
            .ok()
            .map(|t| t.timestamp())
    }

    /// The latest time it fired at or before `now`.
    pub fn latest(&self, now: i64) -> Option<i64> {
        let from = chrono::DateTime::from_timestamp(now, 0)?;
        self.cron
            .find_previous_occurrence(&from, true)
            .ok()
            .map(|t| t.timestamp())
    }

    /// The last time it fired at or before `now`, as Nakama works it out: the next reset
    /// less the period between the next two (0 before `start`).
    pub fn previous(&self, now: i64, start: i64) -> i64 {
        let Some(t1) = self.next(now) else {
            return 0;
        };
        let Some(t2) = self.next(t1) else {
            return 0;
        };
        let previous = t1 - (t2 - t1);
        if previous < start { 0 } else { previous }
    }
}

/// A tournament's period (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// When it opened (or opens).
    pub start_active: i64,
    /// When it stops taking scores.
    pub end_active: i64,
    /// When its records expire; 0 for a tournament without resets or end.
    pub expiry: i64,
}

/// A leaderboard or a tournament.
#[derive(Debug, Clone)]
pub struct Board {
    pub id: String,
    pub authoritative: bool,
    pub sort_order: SortOrder,
    pub operator: Operator,
    pub reset: Option<Schedule>,
    /// JSON object text.
    pub metadata: String,
    pub create_time: i64,
    // Tournaments only (a leaderboard has duration 0).
    pub category: i64,
    pub title: String,
    pub description: String,
    /// Seconds a period stays open after it starts; 0 for a leaderboard.
    pub duration: i64,
    pub start_time: i64,
    /// 0: never ends.
    pub end_time: i64,
    pub join_required: bool,
    pub max_size: i64,
    pub max_num_score: i64,
    /// The latest reset whose callback ran (0: none yet).
    pub last_reset: i64,
}

impl Board {
    /// A descending "best" leaderboard made at `now`, without a schedule.
    pub fn leaderboard(id: &str, now: i64) -> Board {
        Board {
            id: id.to_owned(),
            authoritative: false,
            sort_order: SortOrder::Descending,
            operator: Operator::Best,
            reset: None,
            metadata: "{}".to_owned(),
            create_time: now,
            category: 0,
            title: String::new(),
            description: String::new(),
            duration: 0,
            start_time: now,
            end_time: 0,
            join_required: false,
            max_size: 0,
            max_num_score: 1_000_000,
            last_reset: 0,
        }
    }

    /// Whether this is a tournament.
    pub fn is_tournament(&self) -> bool {
        self.duration != 0
    }

    /// The expiry time of the period a record written at `now` belongs to: the next reset
    /// (for a tournament, the end of the current period), or 0 for a board that never ends.
    pub fn expiry_at(&self, now: i64) -> i64 {
        if self.is_tournament() {
            return self.deadlines(now).expiry;
        }
        self.reset
            .as_ref()
            .and_then(|r| r.next(now))
            .unwrap_or_default()
    }

    /// The next reset after `now`, 0 without a schedule.
    pub fn next_reset(&self, now: i64) -> i64 {
        self.reset
            .as_ref()
            .and_then(|r| r.next(now))
            .unwrap_or_default()
    }

    /// The last reset, 0 without one (or before the board started).
    pub fn prev_reset(&self, now: i64) -> i64 {
        let start = if self.is_tournament() {
            self.start_time
        } else {
            self.create_time
        };
        self.reset.as_ref().map_or(0, |r| r.previous(now, start))
    }

    /// A tournament's current (or next) period at `now`, as Nakama works it out: when it
    /// opened, when it stops taking scores (`duration` after opening, never past the next
    /// reset or the end), and when its records expire (the next reset, or the end).
    pub fn deadlines(&self, now: i64) -> Deadlines {
        let Some(schedule) = self.reset.as_ref() else {
            let mut end_active = self.start_time + self.duration;
            if self.end_time > 0 && end_active > self.end_time {
                end_active = self.end_time;
            }
            return Deadlines {
                start_active: self.start_time,
                end_active,
                expiry: self.end_time,
            };
        };
        let t = now.max(self.start_time);
        let next = schedule.next(t).unwrap_or(i64::MAX);
        // The latest reset at or before `t` opened the current period.
        let mut start_active = schedule.latest(t).unwrap_or(self.start_time);
        let mut end_active = (start_active + self.duration).min(next);
        let mut expiry = next;
        if self.start_time > end_active {
            // Not open yet: the first period starts at the first reset after the start.
            start_active = schedule.next(self.start_time).unwrap_or(i64::MAX);
            expiry = schedule.next(start_active).unwrap_or(i64::MAX);
            end_active = (start_active + self.duration).min(expiry);
        } else if self.start_time > start_active {
            start_active = self.start_time;
        }
        if self.end_time > 0 && expiry > self.end_time {
            expiry = self.end_time;
            end_active = end_active.min(expiry);
        }
        Deadlines {
            start_active,
            end_active,
            expiry,
        }
    }

    /// Whether a tournament has a size limit (Nakama counts the size only then).
    pub fn has_max_size(&self) -> bool {
        self.max_size != i64::from(i32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_as_nakama_reads_them() {
        // 2026-01-01T00:00:00Z is a Thursday.
        let new_year = 1_767_225_600;
        let daily = Schedule::parse("0 0 * * *").unwrap();
        assert_eq!(daily.next(new_year), Some(new_year + 86_400));
        assert_eq!(daily.next(new_year - 1), Some(new_year));
        assert_eq!(daily.previous(new_year + 10, 0), new_year);
        assert_eq!(daily.previous(new_year + 10, new_year + 5), 0);
        let alias = Schedule::parse("@daily").unwrap();
        assert_eq!(alias.next(new_year), Some(new_year + 86_400));
        // Six fields: the sixth is the year.
        let in_2027 = Schedule::parse("0 0 1 1 * 2027").unwrap();
        assert_eq!(in_2027.next(new_year), Some(new_year + 365 * 86_400));
        // Seven fields: seconds first.
        let every_ten_seconds = Schedule::parse("*/10 * * * * * *").unwrap();
        assert_eq!(every_ten_seconds.next(new_year + 1), Some(new_year + 10));
        assert_eq!(daily.latest(new_year + 10), Some(new_year));
        assert_eq!(daily.latest(new_year), Some(new_year));
        let every_minute = Schedule::parse("* * * * *").unwrap();
        assert_eq!(every_minute.next(new_year), Some(new_year + 60));
        for bad in [
            "",
            "* * * *",
            "not a cron",
            "61 * * * *",
            "0 0 31 2 *",
            "@sometimes",
        ] {
            assert!(Schedule::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn tournament_periods_follow_nakama() {
        let day = 1_767_225_600; // 2026-01-01T00:00:00Z
        let mut t = Board::leaderboard("t", day - 100);
        t.duration = 3600;
        t.start_time = day;
        // No schedule: one period from the start, for the duration.
        let d = t.deadlines(day + 10);
        assert_eq!(
            (d.start_active, d.end_active, d.expiry),
            (day, day + 3600, 0)
        );
        t.end_time = day + 1800;
        let d = t.deadlines(day + 10);
        assert_eq!(
            (d.start_active, d.end_active, d.expiry),
            (day, day + 1800, day + 1800)
        );
        // Daily resets: each day's period opens at midnight for an hour.
        t.end_time = 0;
        t.reset = Schedule::parse("0 0 * * *");
        let d = t.deadlines(day + 2 * 86_400 + 7200);
        assert_eq!(
            (d.start_active, d.end_active, d.expiry),
            (day + 2 * 86_400, day + 2 * 86_400 + 3600, day + 3 * 86_400)
        );
        // Before the start: the first period.
        t.start_time = day + 86_400 + 10;
        let d = t.deadlines(day);
        assert_eq!(
            (d.start_active, d.end_active, d.expiry),
            (day + 86_410, day + 86_400 + 3600, day + 2 * 86_400)
        );
        // A start inside a period opens it at the start.
        t.start_time = day + 600;
        let d = t.deadlines(day + 700);
        assert_eq!((d.start_active, d.end_active), (day + 600, day + 3600));
        assert_eq!(t.expiry_at(day + 700), day + 86_400);
    }

    #[test]
    fn operators_map_between_names_numbers_and_the_wire() {
        for op in [
            Operator::Best,
            Operator::Set,
            Operator::Increment,
            Operator::Decrement,
        ] {
            assert_eq!(Operator::from_stored(op.stored()), op);
            assert_eq!(Operator::from_wire(op.wire()), Ok(Some(op)));
            assert_eq!(Operator::from_name(op.name()), Some(op));
        }
        assert_eq!(Operator::from_wire(0), Ok(None));
        assert_eq!(Operator::from_wire(9), Err(()));
        assert_eq!(Operator::from_name("incr"), Some(Operator::Increment));
        assert_eq!(Operator::from_name("max"), None);
    }
}
