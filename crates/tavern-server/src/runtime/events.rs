//! Events for the modules' event handlers: from game code (`nk.event`) and from clients
//! (`POST /v2/event`). Each event runs its handlers on a task of its own after the sending call
//! returned; at most [`MAX_IN_FLIGHT`] wait or run at once, and events beyond that are dropped
//! with a warning, so no client can make the server queue unbounded work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tavern_proto::api;
use tavern_runtime::Context;

use crate::state::AppState;

/// Events waiting for or running in their handlers at once (Nakama's default event queue).
pub const MAX_IN_FLIGHT: usize = 65_536;

/// Counts the events in flight.
#[derive(Debug, Default)]
pub struct EventQueue {
    in_flight: Arc<AtomicUsize>,
    /// Events dropped so far; a warning is logged at each power of two, not per event.
    dropped: AtomicUsize,
}

impl EventQueue {
    /// Hands `event` to the registered handlers, if there are any.
    pub fn dispatch(&self, state: &Arc<AppState>, ctx: Context, event: api::Event) {
        if !state.runtime.registry().has_event_handlers() {
            return;
        }
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= MAX_IN_FLIGHT {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed);
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped = dropped + 1,
                    "events dropped: the event queue is full"
                );
            }
            return;
        }
        let (state, in_flight) = (state.clone(), self.in_flight.clone());
        tokio::spawn(async move {
            state.runtime.registry().dispatch_event(ctx, event).await;
            in_flight.fetch_sub(1, Ordering::AcqRel);
        });
    }
}
