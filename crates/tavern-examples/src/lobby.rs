//! A lobby match with a JSON label, found or created by the RPC `find_or_create_match`, as in
//! Nakama's match-listing guide: the label says the mode and whether seats are free, so
//! clients and server code can query `+label.mode:duel +label.open:T`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tavern_runtime::matches::{
    Dispatcher, Flow, JoinDecision, MatchContext, MatchHandler, MatchInit, MatchMessage,
};
use tavern_runtime::{Initializer, MatchFilter, Module, Presence, RuntimeError};

use crate::{match_id_reply, params};

/// The registered handler name.
pub const NAME: &str = "lobby";

/// Seats per lobby.
pub const MAX_PLAYERS: usize = 4;

/// The `lobby` module: the handler and the RPC `find_or_create_match` (payload `{"mode": "..."}`):
/// an open lobby of that mode if one exists, otherwise a new one.
pub const MODULE: Module = Module::new("lobby", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_match(NAME, || Lobby);
    init.register_rpc("find_or_create_match", |_ctx, nk, payload| async move {
        let params = params(&payload)?;
        let mode = params
            .get("mode")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("casual");
        if mode.is_empty()
            || !mode
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(RuntimeError::invalid_argument(
                "mode must be letters, digits, _ or -",
            ));
        }
        let open = nk
            .match_list(MatchFilter {
                limit: 1,
                authoritative: Some(true),
                query: Some(format!("+label.mode:{mode} +label.open:T")),
                ..Default::default()
            })
            .await?;
        let match_id = match open.first() {
            Some(found) => found.match_id.clone(),
            None => {
                nk.match_create(NAME, serde_json::json!({ "mode": mode }))
                    .await?
            }
        };
        Ok(match_id_reply(&match_id))
    });
    Ok(())
}

/// The label every lobby shows to listings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Label {
    pub mode: String,
    pub open: bool,
    pub players: usize,
    pub max_players: usize,
}

/// Lobby state: its label and who sits in it.
pub struct State {
    label: Label,
    presences: HashMap<String, Presence>,
}

/// The handler.
pub struct Lobby;

impl State {
    fn relabel(&mut self, dispatcher: &mut Dispatcher) -> Result<(), RuntimeError> {
        self.label.players = self.presences.len();
        self.label.open = self.presences.len() < self.label.max_players;
        let text = serde_json::to_string(&self.label)
            .map_err(|e| RuntimeError::internal(e.to_string()))?;
        dispatcher.label_update(text)
    }
}

impl MatchHandler for Lobby {
    type State = State;

    fn init(
        &self,
        _: &MatchContext,
        params: &serde_json::Value,
    ) -> Result<MatchInit<State>, RuntimeError> {
        let mode = params
            .get("mode")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("casual")
            .to_owned();
        let label = Label {
            mode,
            open: true,
            players: 0,
            max_players: MAX_PLAYERS,
        };
        let text =
            serde_json::to_string(&label).map_err(|e| RuntimeError::internal(e.to_string()))?;
        Ok(MatchInit {
            state: State {
                label,
                presences: HashMap::new(),
            },
            tick_rate: 5,
            label: text,
        })
    }

    fn join_attempt(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        state: &mut State,
        _: &Presence,
        _: &HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        Ok(if state.presences.len() >= state.label.max_players {
            JoinDecision::Reject("Lobby is full".to_owned())
        } else {
            JoinDecision::Accept
        })
    }

    fn join(
        &self,
        _: &MatchContext,
        d: &mut Dispatcher,
        _: i64,
        state: &mut State,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        for p in joins {
            state.presences.insert(p.session_id.clone(), p.clone());
        }
        state.relabel(d)?;
        Ok(Flow::Continue)
    }

    fn leave(
        &self,
        _: &MatchContext,
        d: &mut Dispatcher,
        _: i64,
        state: &mut State,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        for p in leaves {
            state.presences.remove(&p.session_id);
        }
        state.relabel(d)?;
        Ok(Flow::Continue)
    }

    fn tick(
        &self,
        _: &MatchContext,
        d: &mut Dispatcher,
        _: i64,
        _: &mut State,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        for m in messages {
            let sender = m.sender.clone();
            d.broadcast(m.op_code, m.data, None, Some(&sender));
        }
        Ok(Flow::Continue)
    }

    fn terminate(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        _: &mut State,
        _: u32,
    ) -> Result<Flow, RuntimeError> {
        Ok(Flow::End)
    }
}
