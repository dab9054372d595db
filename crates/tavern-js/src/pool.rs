//! The VMs that serve RPCs and hooks: up to `js_max_count`, made on demand, reused.

use std::sync::{Arc, Condvar, Mutex};

use crate::Shared;
use crate::vm::Vm;

pub(crate) struct Pool {
    state: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
}

struct PoolState {
    idle: Vec<Vm>,
    /// VMs in existence, idle or busy.
    count: usize,
}

impl Pool {
    pub(crate) fn new(max: usize) -> Pool {
        Pool {
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                count: 0,
            }),
            freed: Condvar::new(),
            max: max.max(1),
        }
    }

    /// An idle VM, a new one while under the maximum, or the next one freed.
    pub(crate) fn get(&self, shared: &Arc<Shared>) -> Result<Vm, String> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(vm) = state.idle.pop() {
                return Ok(vm);
            }
            if state.count < self.max {
                state.count += 1;
                drop(state);
                let made = Vm::new(shared);
                if made.is_err() {
                    self.discard();
                }
                return made;
            }
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Gives a VM back.
    pub(crate) fn put(&self, vm: Vm) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .idle
            .push(vm);
        self.freed.notify_one();
    }

    /// Forgets a VM that was dropped (after running out of memory, say).
    pub(crate) fn discard(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.count = state.count.saturating_sub(1);
        drop(state);
        self.freed.notify_one();
    }
}

/// Creates `js_min_count` VMs at start.
pub(crate) fn warm(shared: &Arc<Shared>) -> Result<(), String> {
    let mut made = Vec::new();
    for _ in 0..shared.settings.min_count.min(shared.pool.max) {
        made.push(shared.pool.get(shared)?);
    }
    for vm in made {
        shared.pool.put(vm);
    }
    Ok(())
}
