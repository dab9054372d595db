//! Warnings that clients can trigger at will (a full match input queue, a flooding socket) are
//! written at most once per interval, with the number of occurrences since the last line, so
//! no client can make the log grow faster than one line per interval per kind.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One kind of repeated warning. Use as a `static`.
pub struct Throttle {
    interval: Duration,
    state: Mutex<Window>,
}

struct Window {
    last_line: Option<Instant>,
    count: u64,
}

impl Throttle {
    /// A kind of warning written at most once per `interval`.
    pub const fn new(interval: Duration) -> Throttle {
        Throttle {
            interval,
            state: Mutex::new(Window {
                last_line: None,
                count: 0,
            }),
        }
    }

    /// Counts one occurrence. When a line is due (the first occurrence, or the first one an
    /// interval after the last line), returns how many occurrences it stands for.
    pub fn hit(&self) -> Option<u64> {
        self.hit_at(Instant::now())
    }

    fn hit_at(&self, now: Instant) -> Option<u64> {
        let mut window = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        window.count += 1;
        let due = window
            .last_line
            .is_none_or(|last| now.duration_since(last) >= self.interval);
        if !due {
            return None;
        }
        window.last_line = Some(now);
        Some(std::mem::take(&mut window.count))
    }
}

/// The interval of Tavern's throttled warnings.
pub const INTERVAL: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_with_the_count() {
        let throttle = Throttle::new(Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(throttle.hit_at(start), Some(1));
        for i in 1..1000 {
            assert_eq!(throttle.hit_at(start + Duration::from_millis(i)), None);
        }
        assert_eq!(throttle.hit_at(start + Duration::from_secs(10)), Some(1000));
        assert_eq!(throttle.hit_at(start + Duration::from_secs(11)), None);
    }
}
