//! The matches whose handler has an executor (Lua's match threads) have no task of their own:
//! they wait here between steps, and one timer task hands every match that is due (its tick,
//! a call, the end of its grace) to the executor in batches, a few jobs each draining one
//! shared list. A tick then costs one step of the engine on the executor's thread instead of
//! a task wake-up, a job and a wake-up back for every match: with thousands of matches a
//! wake-up of the timer serves dozens of ticks. Several jobs drain each batch, so a long
//! callback holds up its own thread while the other threads take the rest of the batch.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use tavern_runtime::matches::MatchExecutor;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::engine::{End, Engine};

/// Matches per job of a batch: small enough that the threads share a batch, large enough
/// that a job is worth its hand-off.
const PER_JOB: usize = 16;
/// Most jobs draining one batch.
const MOST_JOBS: usize = 8;

/// The matches of every handler with an executor, on one node.
#[derive(Default)]
pub(super) struct Scheduler {
    queue: Mutex<Queue>,
    /// Wakes the timer task: a match is due before the instant it sleeps to.
    notify: Notify,
    /// The timer task, started with the first match.
    started: OnceLock<()>,
}

#[derive(Default)]
struct Queue {
    /// One slot per match, for its whole life; a parked match is in its slot.
    slots: Vec<Slot>,
    /// Slots free for new matches.
    free: Vec<usize>,
    /// When each parked match is due next.
    timers: Timers,
    /// Slots of parked matches that have calls waiting.
    called: Vec<usize>,
    /// The instant the timer task sleeps to; `None` while it works, or after it was notified.
    sleeping_until: Option<Instant>,
    /// Parkings so far: numbers them.
    parkings: u64,
}

#[derive(Default)]
struct Slot {
    /// The match, while it is parked.
    parked: Option<Scheduled>,
    /// The number of its latest parking.
    parking: u64,
}

/// A match on an executor, between its steps.
struct Scheduled {
    engine: Box<Engine>,
    executor: Arc<dyn MatchExecutor>,
    /// Wakes the scheduler when a call arrives for this match.
    waker: Waker,
    /// When its next tick is due.
    next_tick: Instant,
    /// Its slot in the queue.
    slot: usize,
    /// Whether it is in `called` already.
    called: bool,
}

impl Scheduled {
    /// When the match must run next, calls aside: its tick, or the end of its grace.
    fn deadline(&self) -> Instant {
        match self.engine.grace {
            Some(grace) => grace.min(self.next_tick),
            None => self.next_tick,
        }
    }
}

/// A call arrived for a match: the scheduler runs it soon if it is parked (a match in a job
/// finds its calls when it is parked again).
struct CallWaker {
    scheduler: Weak<Scheduler>,
    slot: usize,
}

impl Wake for CallWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(scheduler) = self.scheduler.upgrade() {
            scheduler.mark_called(self.slot);
        }
    }
}

impl Scheduler {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a new match: its first tick is one period from now.
    pub(super) fn start(self: &Arc<Self>, engine: Engine, executor: Arc<dyn MatchExecutor>) {
        self.started.get_or_init(|| {
            tokio::spawn(run(self.clone()));
        });
        let slot = {
            let mut queue = self.lock();
            match queue.free.pop() {
                Some(slot) => slot,
                None => {
                    queue.slots.push(Slot::default());
                    queue.slots.len() - 1
                }
            }
        };
        let waker = Waker::from(Arc::new(CallWaker {
            scheduler: Arc::downgrade(self),
            slot,
        }));
        let next_tick = Instant::now() + engine.period;
        self.park(Scheduled {
            engine: Box::new(engine),
            executor,
            waker,
            next_tick,
            slot,
            called: false,
        });
    }

    /// Puts a match back to wait for its next deadline or call.
    fn park(&self, mut scheduled: Scheduled) {
        let slot = scheduled.slot;
        let waker = scheduled.waker.clone();
        let entry = scheduled.engine.entry.clone();
        {
            let mut queue = self.lock();
            queue.parkings += 1;
            let parking = queue.parkings;
            scheduled.called = false;
            let deadline = scheduled.deadline();
            queue.timers.push(Timer {
                deadline,
                parking,
                slot,
            });
            queue.slots[slot] = Slot {
                parked: Some(scheduled),
                parking,
            };
            if queue.sleeping_until.is_some_and(|at| deadline < at) {
                queue.sleeping_until = None;
                self.notify.notify_one();
            }
        }
        // Outside the lock: registering may call the waker at once. A call that arrived while
        // the match ran is seen here; one arriving from now on wakes the waker.
        if entry
            .mailbox
            .poll_calls(&mut Context::from_waker(&waker))
            .is_ready()
        {
            self.mark_called(slot);
        }
    }

    /// The match of `slot` ended: the slot serves another one.
    fn release(&self, slot: usize) {
        self.lock().free.push(slot);
    }

    /// A parked match has calls waiting: it runs with the next batch.
    fn mark_called(&self, slot: usize) {
        let mut queue = self.lock();
        let Some(scheduled) = queue.slots.get_mut(slot).and_then(|s| s.parked.as_mut()) else {
            return;
        };
        if scheduled.called {
            return;
        }
        scheduled.called = true;
        queue.called.push(slot);
        if queue.sleeping_until.is_some() {
            queue.sleeping_until = None;
            self.notify.notify_one();
        }
    }

    /// Takes every match due at `now` (its deadline passed, or it has calls), and the instant
    /// the next one is due.
    fn take_due(&self, now: Instant) -> (Vec<Scheduled>, Option<Instant>) {
        let mut queue = self.lock();
        let mut due = Vec::new();
        let called = std::mem::take(&mut queue.called);
        for slot in called {
            if let Some(scheduled) = queue.slots[slot].parked.take() {
                due.push(scheduled);
            }
        }
        let mut timers = std::mem::take(&mut queue.timers.due);
        queue.timers.take_due(now, &mut timers);
        for timer in timers.drain(..) {
            let slot = &mut queue.slots[timer.slot];
            if slot.parking == timer.parking
                && let Some(scheduled) = slot.parked.take()
            {
                due.push(scheduled);
            }
        }
        queue.timers.due = timers;
        let next = queue.timers.next();
        queue.sleeping_until = next.or(Some(far_future()));
        (due, next)
    }

    /// Hands the due matches to their executors: per executor, a batch that a few jobs drain.
    fn dispatch(self: &Arc<Self>, mut due: Vec<Scheduled>) {
        while !due.is_empty() {
            let executor = due[0].executor.clone();
            let mine = if due.iter().all(|s| same_executor(&s.executor, &executor)) {
                std::mem::take(&mut due)
            } else {
                let (mine, rest) = due
                    .into_iter()
                    .partition(|s| same_executor(&s.executor, &executor));
                due = rest;
                mine
            };
            let jobs = mine.len().div_ceil(PER_JOB).min(MOST_JOBS);
            let batch = Arc::new(Batch {
                scheduler: self.clone(),
                matches: Mutex::new(mine),
            });
            for _ in 0..jobs {
                let batch = batch.clone();
                executor.execute(Box::new(move || batch.drain()));
            }
        }
    }
}

/// Milliseconds the ring of [`Timers`] covers: more than one period at the slowest tick rate.
const RING: u64 = 2048;

/// A parked match's deadline, with the number of that parking: an entry whose slot has been
/// parked again since is stale and skipped.
#[derive(Clone, Copy)]
struct Timer {
    deadline: Instant,
    parking: u64,
    slot: usize,
}

/// Deadlines by millisecond: a ring of buckets, one per millisecond of the next [`RING`], so
/// parking a match and taking the due ones cost no ordering; deadlines further out (a long
/// shutdown grace) wait in a heap until they come within reach.
#[derive(Default)]
struct Timers {
    origin: Option<Instant>,
    ring: Vec<Vec<Timer>>,
    /// The millisecond (since `origin`) of the first bucket not taken yet.
    cursor: u64,
    /// Entries in the ring.
    len: usize,
    later: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    /// A buffer `take_due` fills, kept for its capacity.
    due: Vec<Timer>,
}

impl Timers {
    fn millisecond(&mut self, at: Instant) -> u64 {
        let origin = *self.origin.get_or_insert(at);
        u64::try_from(at.saturating_duration_since(origin).as_millis()).unwrap_or(u64::MAX)
    }

    fn push(&mut self, timer: Timer) {
        if self.ring.is_empty() {
            self.ring = (0..RING).map(|_| Vec::new()).collect();
        }
        // A deadline already passed goes in the first bucket not taken.
        let at = self.millisecond(timer.deadline).max(self.cursor);
        if at < self.cursor + RING {
            self.ring[(at % RING) as usize].push(timer);
            self.len += 1;
        } else {
            self.later
                .push(Reverse((timer.deadline, timer.parking, timer.slot)));
        }
    }

    /// Moves every entry due at `now` to `out`.
    fn take_due(&mut self, now: Instant, out: &mut Vec<Timer>) {
        if self.ring.is_empty() {
            return;
        }
        let now_ms = self.millisecond(now);
        // Whole buckets before this millisecond; once a full turn is taken, the ring is empty.
        let end = now_ms.min(self.cursor + RING);
        while self.cursor < end {
            let bucket = &mut self.ring[(self.cursor % RING) as usize];
            self.len -= bucket.len();
            out.append(bucket);
            self.cursor += 1;
        }
        self.cursor = self.cursor.max(now_ms);
        while let Some(Reverse((deadline, parking, slot))) = self.later.peek().copied() {
            if self.millisecond(deadline) >= self.cursor + RING {
                break;
            }
            self.later.pop();
            self.push(Timer {
                deadline,
                parking,
                slot,
            });
        }
        // This millisecond's bucket: what is due by now.
        let bucket = &mut self.ring[(self.cursor % RING) as usize];
        let before = bucket.len();
        bucket.retain(|timer| {
            let due = timer.deadline <= now;
            if due {
                out.push(*timer);
            }
            !due
        });
        self.len -= before - bucket.len();
    }

    /// The earliest deadline waiting, stale entries included.
    fn next(&self) -> Option<Instant> {
        if self.len > 0 {
            for offset in 0..RING {
                let bucket = &self.ring[((self.cursor + offset) % RING) as usize];
                if let Some(earliest) = bucket.iter().map(|t| t.deadline).min() {
                    return Some(earliest);
                }
            }
        }
        self.later.peek().map(|Reverse((deadline, _, _))| *deadline)
    }
}

/// An instant the timer task never reaches: it sleeps until notified.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}

fn same_executor(a: &Arc<dyn MatchExecutor>, b: &Arc<dyn MatchExecutor>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// The timer task: wakes when the earliest match is due or when told, and dispatches.
async fn run(scheduler: Arc<Scheduler>) {
    loop {
        let (due, next) = scheduler.take_due(Instant::now());
        if !due.is_empty() {
            scheduler.dispatch(due);
        }
        match next {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => {}
                    _ = scheduler.notify.notified() => {}
                }
            }
            None => scheduler.notify.notified().await,
        }
    }
}

/// Matches due together on one executor; every job of the batch takes them one by one.
struct Batch {
    scheduler: Arc<Scheduler>,
    matches: Mutex<Vec<Scheduled>>,
}

impl Batch {
    fn next(&self) -> Option<Scheduled> {
        self.matches.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Runs the batch's matches until none is left.
    fn drain(&self) {
        while let Some(scheduled) = self.next() {
            self.scheduler.step(scheduled);
        }
    }
}

impl Drop for Batch {
    /// Jobs dropped unrun (the executor stopped): their matches end as failed.
    fn drop(&mut self) {
        let left = std::mem::take(self.matches.get_mut().unwrap_or_else(|p| p.into_inner()));
        for scheduled in left {
            self.scheduler
                .end(scheduled, End::Failed("match executor stopped".to_owned()));
        }
    }
}

impl Scheduler {
    /// One step of a match on its executor's thread: its calls, then its tick if due; then it
    /// waits again, or ends.
    fn step(&self, mut scheduled: Scheduled) {
        let now = Instant::now();
        let engine = &mut scheduled.engine;
        let outcome = (|| {
            if engine.entry.mailbox.calls_waiting() {
                engine.handle_calls()?;
            }
            if engine.grace.is_some_and(|grace| grace <= now) {
                return Err(End::Normal);
            }
            let due = scheduled.next_tick;
            if due <= now {
                engine.run_tick(due, now)?;
                scheduled.next_tick = next_tick(due, engine.period, now);
            }
            Ok(())
        })();
        match outcome {
            Ok(()) => self.park(scheduled),
            Err(end) => self.end(scheduled, end),
        }
    }

    /// Ends a match that is not parked, and frees its slot.
    fn end(&self, scheduled: Scheduled, end: End) {
        let Scheduled { engine, slot, .. } = scheduled;
        engine.finish(end);
        self.release(slot);
    }
}

/// The tick after the one due at `due`: one period later, or, when that has passed already,
/// the first instant of the schedule still ahead (missed ticks are skipped, not made up).
fn next_tick(due: Instant, period: Duration, now: Instant) -> Instant {
    let next = due + period;
    if next > now {
        return next;
    }
    let behind = now.duration_since(due).as_nanos();
    let periods = behind / period.as_nanos().max(1) + 1;
    due + period * u32::try_from(periods).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(start: Instant, ms: u64, slot: usize) -> Timer {
        Timer {
            deadline: start + Duration::from_millis(ms),
            parking: 0,
            slot,
        }
    }

    fn slots(timers: &mut Timers, at: Instant) -> Vec<usize> {
        let mut out = Vec::new();
        timers.take_due(at, &mut out);
        let mut slots: Vec<usize> = out.iter().map(|t| t.slot).collect();
        slots.sort_unstable();
        slots
    }

    #[test]
    fn timers_give_back_what_is_due_in_order_of_time() {
        let start = Instant::now();
        let mut timers = Timers::default();
        for (ms, slot) in [(5, 1), (5, 2), (100, 3), (1500, 4), (9000, 5)] {
            timers.push(timer(start, ms, slot));
        }
        assert_eq!(timers.next(), Some(start + Duration::from_millis(5)));
        assert!(slots(&mut timers, start + Duration::from_millis(4)).is_empty());
        assert_eq!(slots(&mut timers, start + Duration::from_millis(5)), [1, 2]);
        assert_eq!(timers.next(), Some(start + Duration::from_millis(100)));
        assert_eq!(
            slots(&mut timers, start + Duration::from_millis(1600)),
            [3, 4]
        );
        // A deadline already passed is due at once; one beyond the ring waits in the heap.
        timers.push(timer(start, 10, 6));
        assert_eq!(slots(&mut timers, start + Duration::from_millis(1600)), [6]);
        assert_eq!(timers.next(), Some(start + Duration::from_millis(9000)));
        assert!(slots(&mut timers, start + Duration::from_millis(8999)).is_empty());
        assert_eq!(
            slots(&mut timers, start + Duration::from_millis(20_000)),
            [5]
        );
        assert_eq!(timers.next(), None);
    }

    #[test]
    fn missed_ticks_are_skipped() {
        let start = Instant::now();
        let period = Duration::from_millis(100);
        assert_eq!(
            next_tick(start, period, start + Duration::from_millis(10)),
            start + period
        );
        assert_eq!(
            next_tick(start, period, start + Duration::from_millis(250)),
            start + Duration::from_millis(300)
        );
        assert_eq!(
            next_tick(start, period, start + Duration::from_millis(300)),
            start + Duration::from_millis(400)
        );
    }
}
