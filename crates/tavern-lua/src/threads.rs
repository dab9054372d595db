//! The threads Lua matches run on: plain OS threads of their own (up to
//! `runtime.lua_match_threads`, started as work arrives), so a match callback neither runs on
//! an async worker nor takes one out of service. Every thread takes jobs from one queue, so a
//! slow match holds up one thread, not the matches that happen to share it. Each thread enters
//! the server's Tokio runtime, for the `nk` functions that wait on the server. A thread waiting
//! on the server does not count against the limit meanwhile: what it waits for may itself be a
//! job of this queue (a match it creates, a match it signals).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tavern_runtime::matches::{MatchExecutor, MatchJob};

/// The executor of every Lua match of one server. When it is dropped (no handler nor match
/// holds it any more) the threads finish the queued jobs and end.
pub(crate) struct MatchThreads {
    queue: Arc<Queue>,
}

struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    max_threads: usize,
}

struct QueueState {
    jobs: VecDeque<MatchJob>,
    /// Threads started and not ended.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
    /// Threads running a job that waits on the server.
    waiting: usize,
    closed: bool,
}

impl QueueState {
    /// Threads that may run Lua now: started, and not waiting on the server.
    fn running(&self) -> usize {
        self.threads - self.waiting
    }
}

thread_local! {
    /// The queue this thread serves, on a Lua match thread.
    static SERVED: RefCell<Option<Arc<Queue>>> = const { RefCell::new(None) };
}

impl MatchThreads {
    /// An executor of at most `max_threads` threads (0: one per CPU).
    pub(crate) fn new(max_threads: usize) -> MatchThreads {
        let max_threads = match max_threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        MatchThreads {
            queue: Arc::new(Queue {
                state: Mutex::new(QueueState {
                    jobs: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    waiting: 0,
                    closed: false,
                }),
                ready: Condvar::new(),
                max_threads,
            }),
        }
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A thread's life: run jobs until the executor is gone and the queue empty, or until the
    /// threads that waited on the server are back and this one is over the limit.
    fn serve(&self) {
        let mut state = self.lock();
        loop {
            if state.running() > self.max_threads {
                state.threads -= 1;
                return;
            }
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                // A panic outside a callback's own guard (creating a match, say) must not end
                // the thread; the job's waiter sees its result channel closed.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                state = self.lock();
            } else if state.closed {
                state.threads -= 1;
                return;
            } else {
                state.idle += 1;
                state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
                state.idle -= 1;
            }
        }
    }
}

/// Starts a thread if more jobs wait than threads wait for them, while under the limit;
/// otherwise wakes a waiting thread.
fn start_or_wake(queue: &Arc<Queue>, mut state: MutexGuard<'_, QueueState>) {
    let start = state.jobs.len() > state.idle && state.running() < queue.max_threads;
    if start {
        state.threads += 1;
    }
    let number = state.threads;
    drop(state);
    if !start {
        queue.ready.notify_one();
        return;
    }
    let serving = queue.clone();
    let runtime = tokio::runtime::Handle::try_current().ok();
    let started = std::thread::Builder::new()
        .name(format!("tavern-lua-match-{number}"))
        .spawn(move || {
            let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
            SERVED.with(|served| *served.borrow_mut() = Some(serving.clone()));
            serving.serve();
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "could not start a Lua match thread");
        queue.lock().threads -= 1;
        queue.ready.notify_one();
    }
}

/// Runs `wait`, Lua waiting on the server. On a Lua match thread, the thread stops counting
/// against the limit until `wait` returns, and a queued job may get a thread of its own.
pub(crate) fn waiting_on_server<T>(wait: impl FnOnce() -> T) -> T {
    let Some(queue) = SERVED.with(|served| served.borrow().clone()) else {
        return wait();
    };
    let mut state = queue.lock();
    state.waiting += 1;
    if !state.jobs.is_empty() {
        start_or_wake(&queue, state);
    } else {
        drop(state);
    }
    let out = wait();
    queue.lock().waiting -= 1;
    out
}

impl MatchExecutor for MatchThreads {
    fn execute(&self, job: MatchJob) {
        let mut state = self.queue.lock();
        state.jobs.push_back(job);
        start_or_wake(&self.queue, state);
    }
}

impl Drop for MatchThreads {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn runs_jobs_on_at_most_its_threads_and_survives_a_panic() {
        let threads = MatchThreads::new(2);
        let (tx, rx) = mpsc::channel();
        threads.execute(Box::new(|| panic!("a job panics")));
        for i in 0..20 {
            let tx = tx.clone();
            threads.execute(Box::new(move || {
                std::thread::sleep(Duration::from_millis(2));
                let name = std::thread::current().name().map(str::to_owned);
                let _ = tx.send((i, name));
            }));
        }
        let mut names = std::collections::HashSet::new();
        for _ in 0..20 {
            let (_, name) = rx.recv_timeout(Duration::from_secs(5)).expect("a job ran");
            names.insert(name.expect("a named thread"));
        }
        assert!(names.len() <= 2, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("tavern-lua-match-")));
        assert!(threads.queue.lock().threads <= 2);
    }

    #[test]
    fn threads_end_once_the_executor_is_dropped() {
        let threads = MatchThreads::new(1);
        let queue = threads.queue.clone();
        let (tx, rx) = mpsc::channel();
        threads.execute(Box::new(move || {
            let _ = tx.send(());
        }));
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the job ran");
        drop(threads);
        for _ in 0..500 {
            if queue.lock().threads == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the thread did not end");
    }
}
