//! The envelope pipeline: one handler per client message kind. Requests from one socket are
//! handled in arrival order; replies echo the request's `cid`.

mod matches;
mod matchmaker;
mod rpc;
mod status;

use std::sync::Arc;

use tavern_proto::realtime::{Envelope, Error, Pong, envelope::Message, error::Code};

use tavern_runtime::{ExecutionMode, MessageKind};

use super::session::{CloseReason, SessionHandle};
use crate::state::AppState;

/// Handles one envelope. An `Err` closes the socket with that reason.
pub async fn handle(
    state: &Arc<AppState>,
    session: &Arc<SessionHandle>,
    envelope: Envelope,
) -> Result<(), CloseReason> {
    if envelope.message.is_none() {
        reply_error(
            session,
            &envelope.cid,
            Code::MissingPayload,
            "Missing message.",
        );
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
                    reply_error(
                        session,
                        &envelope.cid,
                        Code::UnrecognizedPayload,
                        "Requested resource was not found.",
                    );
                    return Err(CloseReason::PROCESSING_ERROR);
                }
                Err(e) => {
                    reply_error(
                        session,
                        &envelope.cid,
                        Code::RuntimeFunctionException,
                        &e.message,
                    );
                    return Ok(());
                }
            }
        }
        _ => envelope,
    };
    let after = kind
        .filter(|k| registry.has_after_realtime(*k))
        .map(|_| envelope.clone());
    let result = dispatch(state, session, envelope).await;
    if let Some(request) = after {
        let ctx = rpc::context(state, session, ExecutionMode::After);
        state.runtime.after_realtime(ctx, request, None).await;
    }
    result
}

/// Runs the handler of one message kind.
async fn dispatch(
    state: &Arc<AppState>,
    session: &Arc<SessionHandle>,
    envelope: Envelope,
) -> Result<(), CloseReason> {
    let cid = envelope.cid;
    let Some(message) = envelope.message else {
        return Ok(());
    };
    let reply = Reply { session, cid };
    match message {
        Message::Ping(_) => reply.send(Message::Pong(Pong {})),
        Message::Pong(_) => {}
        Message::MatchCreate(m) => matches::create(state, &reply, m),
        Message::MatchJoin(m) => matches::join(state, &reply, m).await,
        Message::MatchLeave(m) => matches::leave(state, &reply, m),
        Message::MatchDataSend(m) => matches::data_send(state, session, m),
        Message::StatusFollow(m) => status::follow(state, &reply, m).await,
        Message::StatusUnfollow(m) => status::unfollow(state, &reply, m),
        Message::StatusUpdate(m) => status::update(state, &reply, m),
        Message::Rpc(m) => rpc::call(state, &reply, m).await,
        Message::MatchmakerAdd(m) => matchmaker::add(state, &reply, m),
        Message::MatchmakerRemove(m) => matchmaker::remove(state, &reply, m),
        Message::ChannelJoin(_)
        | Message::ChannelLeave(_)
        | Message::ChannelMessageSend(_)
        | Message::ChannelMessageUpdate(_)
        | Message::ChannelMessageRemove(_)
        | Message::PartyCreate(_)
        | Message::PartyJoin(_)
        | Message::PartyLeave(_)
        | Message::PartyPromote(_)
        | Message::PartyAccept(_)
        | Message::PartyRemove(_)
        | Message::PartyClose(_)
        | Message::PartyJoinRequestList(_)
        | Message::PartyMatchmakerAdd(_)
        | Message::PartyMatchmakerRemove(_)
        | Message::PartyDataSend(_)
        | Message::PartyUpdate(_) => reply.error(
            Code::RuntimeException,
            "This realtime message is not supported by this server yet.",
        ),
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
}

impl Reply<'_> {
    /// Sends a reply message.
    pub fn send(&self, message: Message) {
        self.session.send(Envelope {
            cid: self.cid.clone(),
            message: Some(message),
        });
    }

    /// Sends the empty acknowledgement `{"cid": "..."}`.
    pub fn ack(&self) {
        self.session.send(Envelope {
            cid: self.cid.clone(),
            message: None,
        });
    }

    /// Sends an error reply.
    pub fn error(&self, code: Code, message: &str) {
        reply_error(self.session, &self.cid, code, message);
    }
}

fn reply_error(session: &SessionHandle, cid: &str, code: Code, message: &str) {
    session.send(Envelope {
        cid: cid.to_owned(),
        message: Some(Message::Error(Error {
            code: code as i32,
            message: message.to_owned(),
            context: Default::default(),
        })),
    });
}
