//! The `echo` match: the loop sends every message back to all players. It also shows the rest
//! of the dispatcher and how faults stay inside one match, through op codes:
//!
//! | op code | effect |
//! |---|---|
//! | 1 | echoed to everyone, with the sender shown |
//! | 2 | echoed to the sender only |
//! | 3 | the data becomes the match label |
//! | 4 | the sender is kicked |
//! | 5 | the match ends (quietly, as Nakama ends matches) |
//! | 6 | the loop returns an error: the match ends and its players are disconnected |
//! | 7 | the loop panics: the same, and every other match keeps ticking |
//! | 8 | echoed to everyone after the tick (deferred) |
//!
//! Parameters: `{"tick_rate": 1..60, "label": "..."}` (defaults 10 and `{"mode":"echo"}`).
//! A join attempt with metadata `{"reject": "<reason>"}` is refused with that reason.

use tavern_runtime::matches::{
    Dispatcher, Flow, JoinDecision, MatchContext, MatchHandler, MatchInit, MatchMessage,
};
use tavern_runtime::{Initializer, Module, Presence, RuntimeError};

use crate::{match_id_reply, params};

/// The registered handler name.
pub const NAME: &str = "echo";

/// The `echo_match` module: the handler and the RPC `create_echo_match`, whose payload is the
/// match parameters.
pub const MODULE: Module = Module::new("echo_match", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_match(NAME, || Echo);
    init.register_rpc("create_echo_match", |_ctx, nk, payload| async move {
        let match_id = nk.match_create(NAME, params(&payload)?).await?;
        Ok(match_id_reply(&match_id))
    });
    Ok(())
}

/// The handler.
pub struct Echo;

impl MatchHandler for Echo {
    type State = ();

    fn init(
        &self,
        _: &MatchContext,
        params: &serde_json::Value,
    ) -> Result<MatchInit<()>, RuntimeError> {
        let tick_rate = params
            .get("tick_rate")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(10);
        let label = match params.get("label") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => r#"{"mode":"echo"}"#.to_owned(),
        };
        Ok(MatchInit {
            state: (),
            tick_rate: u32::try_from(tick_rate).unwrap_or(u32::MAX),
            label,
        })
    }

    fn join_attempt(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        _: &mut (),
        _: &Presence,
        metadata: &std::collections::HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        Ok(match metadata.get("reject") {
            Some(reason) => JoinDecision::Reject(reason.clone()),
            None => JoinDecision::Accept,
        })
    }

    fn join(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        _: &mut (),
        _: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        Ok(Flow::Continue)
    }

    fn leave(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        _: &mut (),
        _: &[Presence],
    ) -> Result<Flow, RuntimeError> {
        Ok(Flow::Continue)
    }

    fn tick(
        &self,
        _: &MatchContext,
        d: &mut Dispatcher,
        _: i64,
        _: &mut (),
        messages: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        for m in messages {
            let sender = m.sender.clone();
            match m.op_code {
                2 => d.broadcast(m.op_code, m.data, Some(&[sender]), None),
                3 => d.label_update(String::from_utf8_lossy(&m.data).into_owned())?,
                4 => d.kick(&[sender]),
                5 => return Ok(Flow::End),
                6 => return Err(RuntimeError::internal("echo: asked to fail")),
                7 => panic!("echo: asked to panic"),
                8 => d.broadcast_deferred(m.op_code, m.data, None, Some(&sender))?,
                _ => d.broadcast(m.op_code, m.data, None, Some(&sender)),
            }
        }
        Ok(Flow::Continue)
    }

    fn terminate(
        &self,
        _: &MatchContext,
        d: &mut Dispatcher,
        _: i64,
        _: &mut (),
        grace_seconds: u32,
    ) -> Result<Flow, RuntimeError> {
        let notice = serde_json::json!({ "grace_seconds": grace_seconds }).to_string();
        d.broadcast(99, notice.into_bytes(), None, None);
        Ok(Flow::End)
    }

    fn signal(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        tick: i64,
        _: &mut (),
        data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        Ok((
            Flow::Continue,
            serde_json::json!({ "tick": tick, "data": data }).to_string(),
        ))
    }
}
