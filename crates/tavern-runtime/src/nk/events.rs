//! `Nk` functions for events: what game code reports for the registered event handlers.

use std::collections::HashMap;
use std::time::SystemTime;

use super::Nk;
use crate::api;

impl Nk {
    /// Reports an event to every handler registered with
    /// [`Initializer::register_event`](crate::Initializer::register_event). It returns at once:
    /// the handlers run afterwards, on the server's workers. `timestamp` defaults to now.
    pub fn event(
        &self,
        name: &str,
        properties: HashMap<String, String>,
        timestamp: Option<SystemTime>,
        external: bool,
    ) {
        self.backend.event(api::Event {
            name: name.to_owned(),
            properties,
            timestamp: Some(timestamp.unwrap_or_else(SystemTime::now).into()),
            external,
        });
    }
}
