//! `matchmaker_add` and `matchmaker_remove`: tickets into and out of the pool, with Nakama's
//! validation messages.

use std::sync::Arc;

use tavern_matchmaker::{Presence, TicketRequest};
use tavern_proto::realtime::{
    MatchmakerAdd, MatchmakerRemove, MatchmakerTicket, envelope::Message, error::Code,
};

use super::Reply;
use crate::matchmaking::now_unix_nanos;
use crate::state::AppState;

fn code(n: i32) -> Code {
    Code::try_from(n).unwrap_or(Code::RuntimeException)
}

pub fn add(state: &Arc<AppState>, reply: &Reply<'_>, request: MatchmakerAdd) {
    let info = &reply.session.info;
    let ticket = TicketRequest {
        presence: Presence {
            user_id: info.user_id,
            session_id: info.id,
            username: info.username.clone(),
            node: state.config.name.clone(),
        },
        party_id: None,
        others: Vec::new(),
        min_count: request.min_count,
        max_count: request.max_count,
        count_multiple: request.count_multiple,
        query: request.query,
        string_properties: request.string_properties,
        numeric_properties: request.numeric_properties,
    };
    let added = state.matchmaker.pool().add(ticket, now_unix_nanos());
    match added {
        Ok(ticket) => reply.send(Message::MatchmakerTicket(MatchmakerTicket { ticket })),
        Err(e) => {
            tracing::debug!(error = %e, "matchmaker add refused");
            reply.error(code(e.code()), e.message());
        }
    }
}

pub fn remove(state: &Arc<AppState>, reply: &Reply<'_>, request: MatchmakerRemove) {
    let removed = state
        .matchmaker
        .pool()
        .remove(reply.session.id(), &request.ticket);
    match removed {
        Ok(()) => reply.ack(),
        Err(e) => reply.error(code(e.code()), e.message()),
    }
}
