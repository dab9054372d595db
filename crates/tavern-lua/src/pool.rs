//! The VMs that serve RPCs and hooks: up to `lua_max_count`, made on demand, reused.

use std::sync::{Condvar, Mutex};

use mlua::Lua;

use crate::Shared;
use crate::sandbox::{Role, new_vm, run_modules};

pub(crate) struct Pool {
    state: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
}

struct PoolState {
    idle: Vec<Lua>,
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
    pub(crate) fn get(&self, shared: &std::sync::Arc<Shared>) -> Result<Lua, String> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(vm) = state.idle.pop() {
                return Ok(vm);
            }
            if state.count < self.max {
                state.count += 1;
                drop(state);
                let made = new_vm(shared, Role::Pool).and_then(|vm| {
                    run_modules(&vm, shared)?;
                    Ok(vm)
                });
                if made.is_err() {
                    self.discard();
                }
                return made;
            }
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Gives a VM back.
    pub(crate) fn put(&self, vm: Lua) {
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

/// Creates `lua_min_count` VMs at start.
pub(crate) fn warm(shared: &std::sync::Arc<Shared>) -> Result<(), String> {
    let mut made = Vec::new();
    for _ in 0..shared.settings.min_count.min(shared.pool.max) {
        made.push(shared.pool.get(shared)?);
    }
    for vm in made {
        shared.pool.put(vm);
    }
    Ok(())
}
