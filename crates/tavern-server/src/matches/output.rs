//! The server side of a match's dispatcher: broadcasts go straight to the recipients' sessions;
//! kicks and label changes are collected and applied once the callback returns.

use std::sync::{Arc, Mutex};

use tavern_proto::realtime::{Envelope, MatchData, UserPresence, envelope::Message};
use tavern_runtime::Presence;
use tavern_runtime::matches::{Broadcast, MatchOutput};
use uuid::Uuid;

use crate::realtime::session::Outbound;
use crate::state::AppState;

/// A presence as clients see it.
pub fn user_presence(p: &Presence) -> UserPresence {
    UserPresence {
        user_id: p.user_id.clone(),
        session_id: p.session_id.clone(),
        username: p.username.clone(),
        persistence: false,
        status: None,
    }
}

/// Dispatcher effects for one callback.
pub struct Sink<'a> {
    pub state: &'a Arc<AppState>,
    pub match_id: &'a str,
    pub presences: &'a [Presence],
    pub kicks: Mutex<Vec<Presence>>,
    pub label: Mutex<Option<String>>,
}

impl<'a> Sink<'a> {
    pub fn new(state: &'a Arc<AppState>, match_id: &'a str, presences: &'a [Presence]) -> Sink<'a> {
        Sink {
            state,
            match_id,
            presences,
            kicks: Mutex::new(Vec::new()),
            label: Mutex::new(None),
        }
    }
}

impl MatchOutput for Sink<'_> {
    fn broadcast(&self, message: Broadcast) {
        let outbound = Outbound::new(Envelope {
            cid: String::new(),
            message: Some(Message::MatchData(MatchData {
                match_id: self.match_id.to_owned(),
                presence: message.sender.as_ref().map(user_presence),
                op_code: message.op_code,
                data: message.data,
                reliable: message.reliable,
            })),
        });
        let recipients = message.presences.as_deref().unwrap_or(self.presences);
        let sessions = &self.state.realtime.sessions;
        for presence in recipients {
            if let Some(session) = Uuid::parse_str(&presence.session_id)
                .ok()
                .and_then(|id| sessions.get(id))
            {
                session.send_outbound(outbound.clone());
            }
        }
    }

    fn kick(&self, presences: Vec<Presence>) {
        self.kicks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(presences);
    }

    fn label_update(&self, label: String) {
        *self.label.lock().unwrap_or_else(|p| p.into_inner()) = Some(label);
    }
}
