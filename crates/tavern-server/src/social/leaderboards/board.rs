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
}

impl Board {
    /// Whether this is a tournament.
    pub fn is_tournament(&self) -> bool {
        self.duration != 0
    }

    /// The expiry time of the period a record written at `now` belongs to: the next reset,
    /// or 0 for a leaderboard that never resets.
    pub fn expiry_at(&self, now: i64) -> i64 {
        self.reset
            .as_ref()
            .and_then(|r| r.next(now))
            .unwrap_or_default()
    }

    /// The next reset after `now`, 0 without a schedule.
    pub fn next_reset(&self, now: i64) -> i64 {
        self.expiry_at(now)
    }

    /// The last reset, 0 without one.
    pub fn prev_reset(&self, now: i64) -> i64 {
        self.reset
            .as_ref()
            .map_or(0, |r| r.previous(now, self.create_time))
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
