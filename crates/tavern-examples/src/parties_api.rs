//! Realtime hooks on every party message (Nakama 3.15 has no party functions for server code;
//! its hooks on the party envelopes are how game code takes part), for the tests:
//!
//! * a before hook on every party message counts it per user and passes it on; on
//!   `party_create` it refuses a party of 13 (`thirteen is unlucky`), on `party_data_send` it
//!   turns op code 13 into 14 (a rewritten message);
//! * an after hook on every party message counts it per user once answered;
//! * RPC `rust_party_hook_counts` tells the caller theirs: `{"before": {"party_create": 1, ..},
//!   "after": {..}}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tavern_runtime::realtime::envelope::Message;
use tavern_runtime::{Code, Context, Initializer, MessageKind, Module, RuntimeError};

/// The `parties_api` module.
pub const MODULE: Module = Module::new("parties_api", init);

/// Every party message a client sends.
const PARTY_KINDS: &[MessageKind] = &[
    MessageKind::PartyCreate,
    MessageKind::PartyJoin,
    MessageKind::PartyLeave,
    MessageKind::PartyPromote,
    MessageKind::PartyAccept,
    MessageKind::PartyRemove,
    MessageKind::PartyClose,
    MessageKind::PartyJoinRequestList,
    MessageKind::PartyMatchmakerAdd,
    MessageKind::PartyMatchmakerRemove,
    MessageKind::PartyDataSend,
];

/// Hook calls per (user id, "before"/"after", message kind) since the server started.
type Counts = Arc<Mutex<HashMap<(String, &'static str, &'static str), u64>>>;

fn count(counts: &Counts, ctx: &Context, when: &'static str, kind: MessageKind) {
    if let Some(user_id) = ctx.user_id() {
        let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
        *counts
            .entry((user_id.to_owned(), when, kind.as_str()))
            .or_default() += 1;
    }
}

fn init(init: &mut Initializer) -> Result<(), RuntimeError> {
    let counts = Counts::default();
    for &kind in PARTY_KINDS {
        let c = counts.clone();
        init.register_before_realtime(kind, move |ctx, _nk, mut envelope| {
            count(&c, &ctx, "before", kind);
            async move {
                match &mut envelope.message {
                    Some(Message::PartyCreate(create)) if create.max_size == 13 => {
                        return Err(RuntimeError::new(
                            "thirteen is unlucky",
                            Code::InvalidArgument,
                        ));
                    }
                    Some(Message::PartyDataSend(data)) if data.op_code == 13 => data.op_code = 14,
                    _ => {}
                }
                Ok(Some(envelope))
            }
        });
        let c = counts.clone();
        init.register_after_realtime(kind, move |ctx, _nk, _request, _reply| {
            count(&c, &ctx, "after", kind);
            async { Ok(()) }
        });
    }
    init.register_rpc("rust_party_hook_counts", move |ctx, _nk, _payload| {
        let mine = ctx.user_id().map(|user_id| {
            let counts = counts.lock().unwrap_or_else(|p| p.into_inner());
            let mut out = serde_json::json!({ "before": {}, "after": {} });
            for ((user, when, kind), n) in counts.iter() {
                if user == user_id {
                    out[*when][*kind] = (*n).into();
                }
            }
            out
        });
        async move {
            let mine = mine.ok_or_else(|| {
                RuntimeError::new(
                    "rust_party_hook_counts needs a session",
                    Code::Unauthenticated,
                )
            })?;
            Ok(mine.to_string())
        }
    });
    Ok(())
}
