//! The envelope pipeline: one handler per client message kind. Requests from one socket are
//! handled in arrival order; replies echo the request's `cid`.

mod matches;
mod matchmaker;
mod rpc;
mod status;

use std::sync::{Arc, Mutex};

use tavern_proto::realtime::{Envelope, Error, Pong, envelope::Message, error::Code};

use tavern_runtime::{ExecutionMode, MessageKind};

use super::session::{CloseReason, SessionHandle};
use crate::social::channels::realtime as channels;
use crate::social::parties::realtime as parties;
use crate::state::AppState;

/// Handles one envelope. An `Err` closes the socket with that reason.
pub async fn handle(
    state: &Arc<AppState>,
    session: &Arc<SessionHandle>,
    envelope: Envelope,
) -> Result<(), CloseReason> {
    if envelope.message.is_none() {
        Reply::new(session, envelope.cid.clone()).error(Code::MissingPayload, "Missing message.");
        return Err(CloseReason::PROCESSING_ERROR);
    }
    let kind = MessageKind::of(&envelope);
    let registry = state.runtime.registry();
    let envelope = match kind {
        Some(kind) if registry.has_before_realtime(kind) => {
            let ctx = rpc::context(state, session, ExecutionMode::Before);
            match state.runtime.before_realtime(ctx, envelope.clone()).await {
                Ok(Some(rewritten)) => rewritten,
                Ok(None) => {
                    Reply::new(session, envelope.cid.clone()).error(
                        Code::UnrecognizedPayload,
                        "Requested resource was not found.",
                    );
                    return Err(CloseReason::PROCESSING_ERROR);
                }
                Err(e) => {
                    Reply::new(session, envelope.cid.clone())
                        .error(Code::RuntimeFunctionException, &e.message);
                    return Ok(());
                }
            }
        }
        _ => envelope,
    };
    let after = kind
        .filter(|k| registry.has_after_realtime(*k))
        .map(|_| envelope.clone());
    let mut reply = Reply::new(session, envelope.cid.clone());
    if after.is_some() {
        reply = reply.keeping_answer();
    }
    let result = dispatch(state, &reply, envelope).await;
    // As Nakama: the after hook sees the request and the answer, and runs only on success.
    if let Some(request) = after
        && let Some(answer) = reply.kept_answer()
    {
        let ctx = rpc::context(state, session, ExecutionMode::After);
        state.runtime.after_realtime(ctx, request, answer).await;
    }
    result
}

/// Runs the handler of one message kind.
async fn dispatch(
    state: &Arc<AppState>,
    reply: &Reply<'_>,
    envelope: Envelope,
) -> Result<(), CloseReason> {
    let Some(message) = envelope.message else {
        return Ok(());
    };
    let session = reply.session;
    match message {
        Message::Ping(_) => reply.send(Message::Pong(Pong {})),
        Message::Pong(_) => {}
        Message::MatchCreate(m) => matches::create(state, reply, m),
        Message::MatchJoin(m) => matches::join(state, reply, m).await,
        Message::MatchLeave(m) => matches::leave(state, reply, m),
        Message::MatchDataSend(m) => matches::data_send(state, session, m),
        Message::StatusFollow(m) => status::follow(state, reply, m).await,
        Message::StatusUnfollow(m) => status::unfollow(state, reply, m),
        Message::StatusUpdate(m) => status::update(state, reply, m),
        Message::Rpc(m) => rpc::call(state, reply, m).await,
        Message::MatchmakerAdd(m) => matchmaker::add(state, reply, m),
        Message::MatchmakerRemove(m) => matchmaker::remove(state, reply, m),
        Message::ChannelJoin(m) => channels::join(state, reply, m).await,
        Message::ChannelLeave(m) => channels::leave(state, reply, m),
        Message::ChannelMessageSend(m) => channels::send(state, reply, m).await,
        Message::ChannelMessageUpdate(m) => channels::update(state, reply, m).await,
        Message::ChannelMessageRemove(m) => channels::remove(state, reply, m).await,
        Message::PartyCreate(m) => parties::create(state, reply, m),
        Message::PartyJoin(m) => parties::join(state, reply, m),
        Message::PartyLeave(m) => parties::leave(state, reply, m),
        Message::PartyPromote(m) => parties::promote(state, reply, m),
        Message::PartyAccept(m) => parties::accept(state, reply, m),
        Message::PartyRemove(m) => parties::remove(state, reply, m),
        Message::PartyClose(m) => parties::close(state, reply, m),
        Message::PartyJoinRequestList(m) => parties::join_request_list(state, reply, m),
        Message::PartyDataSend(m) => parties::data_send(state, reply, m),
        Message::PartyMatchmakerAdd(m) => parties::matchmaker_add(state, reply, m),
        Message::PartyMatchmakerRemove(m) => parties::matchmaker_remove(state, reply, m),
        // Server-to-client kinds sent by a client.
        _ => {
            reply.error(Code::UnrecognizedPayload, "Unrecognized message.");
            return Err(CloseReason::PROCESSING_ERROR);
        }
    }
    Ok(())
}

/// Where a request's answer goes: its session, tagged with its cid.
pub struct Reply<'a> {
    pub session: &'a Arc<SessionHandle>,
    pub cid: String,
    /// When an after hook waits for it: the answer sent, and whether it was an error.
    kept: Option<Mutex<Answer>>,
}

#[derive(Default)]
struct Answer {
    sent: Option<Envelope>,
    failed: bool,
}

impl<'a> Reply<'a> {
    pub fn new(session: &'a Arc<SessionHandle>, cid: String) -> Reply<'a> {
        Reply {
            session,
            cid,
            kept: None,
        }
    }

    /// Also keeps a copy of the answer, for [`Reply::kept_answer`].
    fn keeping_answer(mut self) -> Self {
        self.kept = Some(Mutex::default());
        self
    }

    /// For a request that succeeded: its answer (`None` inside when it had none, as
    /// `match_data_send`); `None` when it failed or nothing was kept.
    fn kept_answer(&self) -> Option<Option<Envelope>> {
        let answer = std::mem::take(&mut *self.kept.as_ref()?.lock().ok()?);
        (!answer.failed).then_some(answer.sent)
    }

    fn deliver(&self, envelope: Envelope, failed: bool) {
        if let Some(kept) = &self.kept
            && let Ok(mut answer) = kept.lock()
        {
            answer.sent = Some(envelope.clone());
            answer.failed |= failed;
        }
        self.session.send(envelope);
    }

    /// Sends a reply message.
    pub fn send(&self, message: Message) {
        let failed = matches!(message, Message::Error(_));
        let envelope = Envelope {
            cid: self.cid.clone(),
            message: Some(message),
        };
        self.deliver(envelope, failed);
    }

    /// Sends the empty acknowledgement `{"cid": "..."}`.
    pub fn ack(&self) {
        self.deliver(
            Envelope {
                cid: self.cid.clone(),
                message: None,
            },
            false,
        );
    }

    /// Sends an error reply.
    pub fn error(&self, code: Code, message: &str) {
        self.send(Message::Error(Error {
            code: code as i32,
            message: message.to_owned(),
            context: Default::default(),
        }));
    }
}
