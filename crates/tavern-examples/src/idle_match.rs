//! The `idle` match: it ticks and does nothing else, to measure what a running match costs
//! the server by itself. RPC `create_idle_matches` takes `{"count": 1..10000, "tick_rate":
//! 1..60}` (defaults 1 and 10) and answers `{"match_ids": [...]}`. Players may join; their
//! messages are dropped.

use tavern_runtime::matches::{
    Dispatcher, Flow, JoinDecision, MatchContext, MatchHandler, MatchInit, MatchMessage,
};
use tavern_runtime::{Initializer, Module, Presence, RuntimeError};

use crate::params;

/// The registered handler name.
pub const NAME: &str = "idle";

/// Most matches one call creates.
const MAX_COUNT: u64 = 10_000;

/// The `idle_match` module: the handler and the RPC `create_idle_matches`.
pub const MODULE: Module = Module::new("idle_match", init);

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    init.register_match(NAME, || Idle);
    init.register_rpc("create_idle_matches", |_ctx, nk, payload| async move {
        let params = params(&payload)?;
        let count = match params.get("count") {
            None => 1,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=MAX_COUNT).contains(n))
                .ok_or_else(|| {
                    RuntimeError::invalid_argument(format!("count must be 1..={MAX_COUNT}"))
                })?,
        };
        let tick_rate = match params.get("tick_rate") {
            None => 10,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=60).contains(n))
                .ok_or_else(|| RuntimeError::invalid_argument("tick_rate must be 1..=60"))?,
        };
        let mut ids = Vec::new();
        for _ in 0..count {
            let id = nk
                .match_create(NAME, serde_json::json!({ "tick_rate": tick_rate }))
                .await?;
            ids.push(id);
        }
        Ok(serde_json::json!({ "match_ids": ids }).to_string())
    });
    Ok(())
}

/// The handler.
pub struct Idle;

impl MatchHandler for Idle {
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
        Ok(MatchInit {
            state: (),
            tick_rate: u32::try_from(tick_rate).unwrap_or(u32::MAX),
            label: String::new(),
        })
    }

    fn join_attempt(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        _: &mut (),
        _: &Presence,
        _: &std::collections::HashMap<String, String>,
    ) -> Result<JoinDecision, RuntimeError> {
        Ok(JoinDecision::Accept)
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
        _: &mut Dispatcher,
        _: i64,
        _: &mut (),
        _: Vec<MatchMessage>,
    ) -> Result<Flow, RuntimeError> {
        Ok(Flow::Continue)
    }

    fn terminate(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        _: &mut (),
        _: u32,
    ) -> Result<Flow, RuntimeError> {
        Ok(Flow::End)
    }

    fn signal(
        &self,
        _: &MatchContext,
        _: &mut Dispatcher,
        _: i64,
        _: &mut (),
        data: &str,
    ) -> Result<(Flow, String), RuntimeError> {
        Ok((Flow::Continue, data.to_owned()))
    }
}
