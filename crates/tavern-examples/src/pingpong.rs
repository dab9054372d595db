//! The ping-pong match of Nakama's authoritative multiplayer guide: every message a player
//! sends comes back to that player on the next tick; the RPC `create_match_rpc` starts one.

use std::collections::HashMap;

use tavern_runtime::matches::{
    Dispatcher, Flow, MatchContext, MatchHandler, MatchInit, MatchMessage,
};
use tavern_runtime::{Initializer, Module, Presence, RuntimeError};

use crate::{match_id_reply, params};

/// The registered handler name.
pub const NAME: &str = "pingpong";
/// Op code of the message sent to everyone when the server shuts down.
pub const OP_SHUTDOWN: i64 = 99;

/// The `pingpong` module: the match handler and the RPC `create_match_rpc` that starts one with
/// the payload as its parameters.
pub const MODULE: Module = Module::new("pingpong", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_match(NAME, || PingPong);
    init.register_rpc("create_match_rpc", |_ctx, nk, payload| async move {
        let match_id = nk.match_create(NAME, params(&payload)?).await?;
        Ok(match_id_reply(&match_id))
    });
    Ok(())
}

/// The handler.
pub struct PingPong;

/// Who is in the match, by session id.
#[derive(Default)]
pub struct State {
    presences: HashMap<String, Presence>,
}

impl MatchHandler for PingPong {
    type State = State;

    fn init(
        &self,
        _: &MatchContext,
        _: &serde_json::Value,
    ) -> Result<MatchInit<State>, RuntimeError> {
        Ok(MatchInit {
            state: State::default(),
            tick_rate: 1,
            label: String::new(),
        })
    }

    fn join(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        state: &mut State,
        joins: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        for p in joins {
            state.presences.insert(p.session_id.clone(), p.clone());
        }
        Ok(Flow::Continue)
    }

    fn leave(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        state: &mut State,
        leaves: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        for p in leaves {
            state.presences.remove(&p.session_id);
        }
        Ok(Flow::Continue)
    }

    fn tick(
        &self,
        _: &MatchContext,
        dispatcher: &mut Dispatcher,
        _: i64,
        _: &mut State,
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        for message in messages {
            let sender = [message.sender.clone()];
            dispatcher.broadcast(message.op_code, message.data, Some(&sender), None);
        }
        Ok(Flow::Continue)
    }

    fn terminate(
        &self,
        _: &MatchContext,
        dispatcher: &mut Dispatcher,
        _: i64,
        _: &mut State,
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        let notice = serde_json::json!({ "grace_seconds": grace_seconds }).to_string();
        dispatcher.broadcast(OP_SHUTDOWN, notice.into_bytes(), None, None);
        Ok(Flow::End)
    }
}
