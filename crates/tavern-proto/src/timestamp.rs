//! [`Timestamp`]: the Rust type behind every `google.protobuf.Timestamp`
//! field in the generated messages.
//!
//! On protobuf it is the standard two-field message (seconds = 1,
//! nanos = 2). In JSON it is what Go's protojson writes: an RFC 3339 UTC
//! string ending in `Z`, with 0, 3, 6 or 9 fraction digits as needed, e.g.
//! `"2026-11-22T01:39:06Z"` or `"2026-11-22T01:39:06.250Z"`. Any RFC 3339
//! string (any offset, 0..9 fraction digits) is accepted on input.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// A point in time as seconds and nanoseconds since the Unix epoch (UTC).
///
/// `nanos` is expected in `0..1_000_000_000`; out-of-range values are
/// normalised when the timestamp is rendered as text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Sub-second part, in nanoseconds.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// Error returned when a string is not a valid RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampParseError {
    input: String,
    reason: String,
}

impl fmt::Display for TimestampParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid RFC 3339 timestamp {:?}: {}",
            self.input, self.reason
        )
    }
}

impl std::error::Error for TimestampParseError {}

impl Timestamp {
    /// A timestamp from seconds and nanoseconds since the Unix epoch.
    pub const fn new(seconds: i64, nanos: i32) -> Self {
        Timestamp { seconds, nanos }
    }

    /// A timestamp at a whole number of seconds since the Unix epoch.
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Timestamp { seconds, nanos: 0 }
    }

    /// A timestamp from milliseconds since the Unix epoch.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Timestamp {
            seconds: millis.div_euclid(1000),
            nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
        }
    }

    /// The current system time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Parses an RFC 3339 date-time (any offset) into a UTC timestamp.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampParseError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| TimestampParseError {
            input: text.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self::from(parsed))
    }

    /// Renders the timestamp the way Go's protojson does (see module docs).
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }

    /// Seconds and nanoseconds with `nanos` brought into `0..1_000_000_000`.
    fn normalized(&self) -> (i64, i64) {
        let nanos = i64::from(self.nanos);
        (
            self.seconds
                .saturating_add(nanos.div_euclid(NANOS_PER_SECOND)),
            nanos.rem_euclid(NANOS_PER_SECOND),
        )
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(value: OffsetDateTime) -> Self {
        Timestamp {
            seconds: value.unix_timestamp(),
            nanos: value.nanosecond() as i32,
        }
    }
}

impl From<SystemTime> for Timestamp {
    fn from(value: SystemTime) -> Self {
        match value.duration_since(UNIX_EPOCH) {
            Ok(after) => Timestamp {
                seconds: after.as_secs() as i64,
                nanos: after.subsec_nanos() as i32,
            },
            Err(before) => {
                let before = before.duration();
                let (seconds, nanos) = (before.as_secs() as i64, before.subsec_nanos() as i32);
                if nanos == 0 {
                    Timestamp::new(-seconds, 0)
                } else {
                    Timestamp::new(-seconds - 1, 1_000_000_000 - nanos)
                }
            }
        }
    }
}

/// Converts days since 1970-01-01 into a proleptic Gregorian (year, month,
/// day). Works for the whole `i64` day range that a `Timestamp` can reach.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seconds, nanos) = self.normalized();
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )?;
        if nanos == 0 {
        } else if nanos % 1_000_000 == 0 {
            write!(f, ".{:03}", nanos / 1_000_000)?;
        } else if nanos % 1_000 == 0 {
            write!(f, ".{:06}", nanos / 1_000)?;
        } else {
            write!(f, ".{nanos:09}")?;
        }
        f.write_str("Z")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimestampVisitor;

        impl serde::de::Visitor<'_> for TimestampVisitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Timestamp, E> {
                Timestamp::parse_rfc3339(value).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(ts: Timestamp) -> String {
        serde_json::to_string(&ts).unwrap()
    }

    #[test]
    fn writes_utc_with_z_and_go_fraction_widths() {
        assert_eq!(
            json(Timestamp::from_unix_seconds(1_795_311_546)),
            r#""2026-11-22T01:39:06Z""#
        );
        assert_eq!(Timestamp::new(0, 0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::new(1, 500_000_000).to_string(),
            "1970-01-01T00:00:01.500Z"
        );
        assert_eq!(
            Timestamp::new(1, 120_000).to_string(),
            "1970-01-01T00:00:01.000120Z"
        );
        assert_eq!(
            Timestamp::new(1, 7).to_string(),
            "1970-01-01T00:00:01.000000007Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp::from_unix_seconds(951_782_400).to_string(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix_seconds(253_402_300_799).to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            Timestamp::from_unix_seconds(-62_135_596_800).to_string(),
            "0001-01-01T00:00:00Z"
        );
        // Unnormalised nanos are folded into seconds.
        assert_eq!(
            Timestamp::new(0, -1).to_string(),
            "1969-12-31T23:59:59.999999999Z"
        );
    }

    #[test]
    fn reads_any_rfc3339_offset() {
        let parse = |s: &str| serde_json::from_str::<Timestamp>(s).unwrap();
        let expected = Timestamp::from_unix_seconds(1_795_311_546);
        assert_eq!(parse(r#""2026-11-22T01:39:06Z""#), expected);
        assert_eq!(parse(r#""2026-11-22T03:39:06+02:00""#), expected);
        assert_eq!(
            parse(r#""2026-11-22T01:39:06.25Z""#),
            Timestamp::new(1_795_311_546, 250_000_000)
        );
        assert!(serde_json::from_str::<Timestamp>(r#""yesterday""#).is_err());
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
        let error = Timestamp::parse_rfc3339("2026-13-01T00:00:00Z").unwrap_err();
        assert!(error.to_string().contains("2026-13-01"));
    }

    #[test]
    fn converts_from_system_and_offset_times() {
        let before = UNIX_EPOCH - std::time::Duration::from_millis(1500);
        assert_eq!(Timestamp::from(before), Timestamp::new(-2, 500_000_000));
        let after = UNIX_EPOCH + std::time::Duration::from_secs(5);
        assert_eq!(Timestamp::from(after), Timestamp::from_unix_seconds(5));
        assert!(Timestamp::now().seconds > 1_700_000_000);
        let odt = OffsetDateTime::from_unix_timestamp(42).unwrap();
        assert_eq!(Timestamp::from(odt), Timestamp::from_unix_seconds(42));
    }
}
