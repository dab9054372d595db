//! Date-time parsing with the leniency of Go's `time.Parse`.
//!
//! Nakama indexes a string as a date-time when it parses with one of the
//! layouts RFC 3339 (with or without fraction), `2006-01-02T15:04:05`,
//! `2006-01-02 15:04:05` or `2006-01-02`; range bounds in queries are parsed
//! as RFC 3339. Go accepts a one-digit hour, a fraction of any length after
//! the seconds (with `.` or `,`), and zone offsets up to `±24:60`; it rejects
//! days that do not exist in the month.

/// What may follow the seconds.
#[derive(Clone, Copy, PartialEq)]
enum Zone {
    Required,
    Forbidden,
}

/// Seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Instant {
    pub(crate) secs: i64,
    pub(crate) nanos: u32,
}

/// Seconds from 1970-01-01 to 0001-01-01, Go's zero `time.Time`.
const GO_ZERO_SECS: i64 = -62_135_596_800;

impl Instant {
    /// Nanoseconds since the epoch computed as Go's `UnixNano` does, wrapping
    /// on overflow.
    pub(crate) fn unix_nanos_wrapping(self) -> i64 {
        self.secs
            .wrapping_mul(1_000_000_000)
            .wrapping_add(i64::from(self.nanos))
    }

    /// Nanoseconds since the epoch, or `None` outside the i64 range.
    pub(crate) fn unix_nanos(self) -> Option<i64> {
        let n = i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos);
        i64::try_from(n).ok()
    }

    /// True for Go's zero time, which Bluge reads as an open range end.
    pub(crate) fn is_go_zero(self) -> bool {
        self.secs == GO_ZERO_SECS && self.nanos == 0
    }
}

/// Parses the layouts Nakama tries when it indexes a string.
pub(crate) fn parse_indexed(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    let (days, rest) = date(b)?;
    match rest.first() {
        None => Some(Instant {
            secs: days * 86_400,
            nanos: 0,
        }),
        Some(b'T') => time(days, &rest[1..], None),
        Some(b' ') => time(days, &rest[1..], Some(Zone::Forbidden)),
        Some(_) => None,
    }
}

/// Parses an RFC 3339 date-time as Go's `time.Parse(time.RFC3339, s)` does.
pub(crate) fn parse_rfc3339(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    let (days, rest) = date(b)?;
    match rest.first() {
        Some(b'T') => time(days, &rest[1..], Some(Zone::Required)),
        _ => None,
    }
}

fn digit(b: &[u8], i: usize) -> Option<i64> {
    b.get(i)
        .filter(|c| c.is_ascii_digit())
        .map(|c| i64::from(c - b'0'))
}

fn two_digits(b: &[u8]) -> Option<(i64, &[u8])> {
    Some((digit(b, 0)? * 10 + digit(b, 1)?, &b[2..]))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD`, returning days since the epoch and the rest.
fn date(b: &[u8]) -> Option<(i64, &[u8])> {
    let year = digit(b, 0)? * 1000 + digit(b, 1)? * 100 + digit(b, 2)? * 10 + digit(b, 3)?;
    if b.get(4) != Some(&b'-') {
        return None;
    }
    let (month, rest) = two_digits(&b[5..])?;
    if rest.first() != Some(&b'-') {
        return None;
    }
    let (day, rest) = two_digits(&rest[1..])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some((days_from_civil(year, month, day), rest))
}

/// `H[H]:MM:SS[(.|,)fraction][zone]` after the date. `zone` is `None` when
/// both a zone and its absence are accepted.
fn time(days: i64, b: &[u8], zone: Option<Zone>) -> Option<Instant> {
    let (hour, rest) = match (digit(b, 0), digit(b, 1)) {
        (Some(h1), Some(h2)) => (h1 * 10 + h2, &b[2..]),
        (Some(h), None) => (h, &b[1..]),
        _ => return None,
    };
    if hour >= 24 || rest.first() != Some(&b':') {
        return None;
    }
    let (minute, rest) = two_digits(&rest[1..])?;
    if minute >= 60 || rest.first() != Some(&b':') {
        return None;
    }
    let (second, mut rest) = two_digits(&rest[1..])?;
    if second >= 60 {
        return None;
    }
    let mut nanos: u32 = 0;
    if matches!(rest.first(), Some(b'.' | b',')) && digit(rest, 1).is_some() {
        let count = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        for c in rest[1..=count].iter().take(9) {
            nanos = nanos * 10 + u32::from(c - b'0');
        }
        for _ in count..9 {
            nanos *= 10;
        }
        rest = &rest[1 + count..];
    }
    let mut secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    match rest.first() {
        None if zone != Some(Zone::Required) => {}
        Some(b'Z') if zone != Some(Zone::Forbidden) && rest.len() == 1 => {}
        Some(&sign @ (b'+' | b'-')) if zone != Some(Zone::Forbidden) => {
            if rest.len() != 6 || rest[3] != b':' {
                return None;
            }
            let (oh, _) = two_digits(&rest[1..3])?;
            let (om, _) = two_digits(&rest[4..6])?;
            if oh > 24 || om > 60 {
                return None;
            }
            let offset = oh * 3600 + om * 60;
            secs += if sign == b'+' { -offset } else { offset };
        }
        _ => return None,
    }
    Some(Instant { secs, nanos })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(s: &str) -> Option<i64> {
        parse_indexed(s).map(Instant::unix_nanos_wrapping)
    }

    #[test]
    fn indexed_layouts() {
        assert_eq!(nanos("1970-01-01"), Some(0));
        assert_eq!(nanos("1970-01-02 00:00:01"), Some(86_401_000_000_000));
        assert_eq!(nanos("1970-01-01T00:00:01.5"), Some(1_500_000_000));
        assert_eq!(nanos("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(nanos("1970-01-01T00:00:00-00:30"), Some(1_800_000_000_000));
        assert_eq!(nanos("1970-01-01T0:00:00,123456789999Z"), Some(123_456_789));
        assert_eq!(nanos("2024-02-29"), Some(1_709_164_800_000_000_000));
        assert_eq!(nanos("2023-02-29"), None);
        assert_eq!(nanos("1970-01-01 00:00:00Z"), None);
        assert_eq!(nanos("1970-01-01T24:00:00Z"), None);
        assert_eq!(nanos("1970-01-01T00:00:60Z"), None);
        assert_eq!(nanos("1970-1-01"), None);
        assert_eq!(nanos("1970-01-01t00:00:00Z"), None);
        assert_eq!(nanos("1970-01-01T00:00:00z"), None);
        assert_eq!(nanos("1970-01-01x"), None);
        assert_eq!(nanos("ranked"), None);
    }

    #[test]
    fn rfc3339_needs_time_and_zone() {
        assert!(parse_rfc3339("2024-01-01").is_none());
        assert!(parse_rfc3339("2024-01-01T00:00:00").is_none());
        assert!(parse_rfc3339("2024-01-01T00:00:00Z").is_some());
        assert!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap().is_go_zero());
        assert!(
            parse_rfc3339("0001-01-01T00:00:00Z")
                .unwrap()
                .unix_nanos()
                .is_none()
        );
    }
}
