//! What other tasks hand a match task: calls (join attempts, leaves, signals, terminate), which
//! wake the task at once, and client data, which waits for the next tick without waking it.
//! Both sit behind one lock, so a tick takes everything queued with a single lock and no
//! per-channel bookkeeping — the cheapest thing a match that ticks 60 times a second can do.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use tavern_runtime::matches::MatchMessage;

use super::Call;

/// A full queue: the item was not taken.
#[derive(Debug)]
pub(super) struct Full;

/// The two bounded queues of one match.
pub(super) struct Mailbox {
    queues: Mutex<Queues>,
    /// Set while calls wait, so the task's poll can skip the lock.
    calls_waiting: AtomicBool,
    waker: AtomicWaker,
    call_capacity: usize,
    input_capacity: usize,
}

#[derive(Default)]
struct Queues {
    calls: VecDeque<Call>,
    inputs: Vec<MatchMessage>,
}

impl Mailbox {
    pub(super) fn new(call_capacity: usize, input_capacity: usize) -> Mailbox {
        Mailbox {
            queues: Mutex::new(Queues::default()),
            calls_waiting: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            call_capacity: call_capacity.max(1),
            input_capacity: input_capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a call and wakes the match task.
    pub(super) fn call(&self, call: Call) -> Result<(), Full> {
        {
            let mut queues = self.lock();
            if queues.calls.len() >= self.call_capacity {
                return Err(Full);
            }
            queues.calls.push_back(call);
            self.calls_waiting.store(true, Ordering::Release);
        }
        self.waker.wake();
        Ok(())
    }

    /// Queues client data for the next tick; the task is not woken.
    pub(super) fn input(&self, message: MatchMessage) -> Result<(), Full> {
        let mut queues = self.lock();
        if queues.inputs.len() >= self.input_capacity {
            return Err(Full);
        }
        queues.inputs.push(message);
        Ok(())
    }

    /// Ready once calls wait; registers the task to be woken by the next call otherwise.
    pub(super) fn poll_calls(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.calls_waiting.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // A call queued between the check and the registration must not be missed.
        if self.calls_waiting.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Whether calls wait.
    pub(super) fn calls_waiting(&self) -> bool {
        self.calls_waiting.load(Ordering::Acquire)
    }

    /// Takes the calls waiting, oldest first.
    pub(super) fn take_calls(&self) -> VecDeque<Call> {
        let mut queues = self.lock();
        self.calls_waiting.store(false, Ordering::Release);
        std::mem::take(&mut queues.calls)
    }

    /// Takes the client data queued since the last tick, oldest first.
    pub(super) fn take_inputs(&self) -> Vec<MatchMessage> {
        let mut queues = self.lock();
        if queues.inputs.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut queues.inputs)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::Wake;

    use tavern_runtime::Presence;

    use super::*;

    struct Count(std::sync::atomic::AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn message(op_code: i64) -> MatchMessage {
        MatchMessage {
            sender: Presence {
                user_id: String::new(),
                session_id: String::new(),
                username: String::new(),
                node: String::new(),
            },
            op_code,
            data: Vec::new(),
            reliable: true,
            receive_time_ms: 0,
        }
    }

    #[test]
    fn inputs_are_bounded_and_do_not_wake() {
        let mailbox = Mailbox::new(2, 3);
        let count = Arc::new(Count(Default::default()));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(mailbox.poll_calls(&mut cx).is_pending());
        for op in 0..3 {
            mailbox.input(message(op)).unwrap();
        }
        assert!(mailbox.input(message(3)).is_err());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        let taken: Vec<i64> = mailbox.take_inputs().iter().map(|m| m.op_code).collect();
        assert_eq!(taken, [0, 1, 2]);
        assert!(mailbox.take_inputs().is_empty());
        mailbox.input(message(4)).unwrap();
    }

    #[test]
    fn calls_wake_the_task_and_are_bounded() {
        let mailbox = Mailbox::new(2, 3);
        let count = Arc::new(Count(Default::default()));
        let waker = std::task::Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(mailbox.poll_calls(&mut cx).is_pending());
        mailbox.call(Call::Leave(Vec::new())).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        mailbox.call(Call::Leave(Vec::new())).unwrap();
        assert!(mailbox.call(Call::Leave(Vec::new())).is_err());
        assert!(mailbox.poll_calls(&mut cx).is_ready());
        assert_eq!(mailbox.take_calls().len(), 2);
        assert!(mailbox.poll_calls(&mut cx).is_pending());
    }
}
