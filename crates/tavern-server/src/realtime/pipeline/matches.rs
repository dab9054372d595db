//! Match messages: create, join (by id or matchmaker token), leave, and data relayed between
//! the members of a client-relayed match.

use std::sync::Arc;

use tavern_proto::realtime::{
    Match, MatchCreate, MatchData, MatchDataSend, MatchJoin, MatchLeave, envelope::Message,
    error::Code, match_join::Id,
};
use uuid::Uuid;

use super::Reply;
use crate::realtime::session::{Outbound, SessionHandle};
use crate::realtime::stream::{MatchId, Presence, Stream, StreamMode};
use crate::state::AppState;

const MATCH_MODES: [StreamMode; 2] = [StreamMode::MatchRelayed, StreamMode::MatchAuthoritative];

fn presence_of(session: &SessionHandle) -> Presence {
    Presence {
        session_id: session.id(),
        user_id: session.user_id(),
        username: session.info.username.clone(),
        status: None,
    }
}

/// `match_create`: a new relayed match, or the named one (a stable id from the name).
pub fn create(state: &Arc<AppState>, reply: &Reply<'_>, request: MatchCreate) {
    let session = reply.session;
    let id = if request.name.is_empty() {
        Uuid::new_v4()
    } else {
        Uuid::new_v5(&Uuid::NAMESPACE_DNS, request.name.as_bytes())
    };
    let stream = Stream::new(StreamMode::MatchRelayed, id, "");
    let me = presence_of(session);
    let tracked = state
        .realtime
        .tracker
        .track(stream.clone(), me.clone(), session.clone());
    if state.config.session.single_match {
        state
            .realtime
            .tracker
            .untrack_modes_except(session.id(), &MATCH_MODES, &stream);
    }
    let (size, presences) = if request.name.is_empty() {
        (1, Vec::new())
    } else {
        let all = state.realtime.tracker.list(&stream);
        let size = all.len() as i32;
        let others = all
            .iter()
            .filter(|p| {
                !(tracked == crate::realtime::tracker::Tracked::New
                    && p.session_id == me.session_id)
            })
            .map(Presence::to_user_presence)
            .collect();
        (size, others)
    };
    reply.send(Message::Match(Match {
        match_id: format!("{id}."),
        authoritative: false,
        label: None,
        size,
        presences,
        self_: Some(me.to_user_presence()),
    }));
}

/// `match_join`: joins a relayed match by id, or by a matchmaker token (created on demand).
pub fn join(state: &Arc<AppState>, reply: &Reply<'_>, request: MatchJoin) {
    let (id_text, from_token) = match request.id {
        Some(Id::MatchId(id)) => (id, false),
        Some(Id::Token(token)) => match state.tokens.verify_match_token(&token) {
            Some(mid) => (mid, true),
            None => return reply.error(Code::BadInput, "Invalid match token"),
        },
        None => return reply.error(Code::BadInput, "No match ID or token found"),
    };
    let Some(match_id) = MatchId::parse(&id_text) else {
        let message = if from_token {
            "Invalid match token"
        } else {
            "Invalid match ID"
        };
        return reply.error(Code::BadInput, message);
    };
    if !match_id.node.is_empty() {
        // Authoritative matches arrive with the match engine.
        return reply.error(Code::MatchNotFound, "Match not found");
    }
    let session = reply.session;
    let tracker = &state.realtime.tracker;
    let stream = Stream::for_match(&match_id);
    if !from_token && !tracker.stream_exists(&stream) {
        return reply.error(Code::MatchNotFound, "Match not found");
    }
    let me = presence_of(session);
    let is_new = tracker.get(session.id(), &stream).is_none();
    if is_new {
        tracker.track(stream.clone(), me.clone(), session.clone());
        if state.config.session.single_match {
            tracker.untrack_modes_except(session.id(), &MATCH_MODES, &stream);
        }
    }
    let presences: Vec<_> = tracker
        .list(&stream)
        .iter()
        .filter(|p| !(is_new && p.session_id == me.session_id))
        .map(Presence::to_user_presence)
        .collect();
    reply.send(Message::Match(Match {
        match_id: id_text,
        authoritative: false,
        label: None,
        size: presences.len() as i32,
        presences,
        self_: Some(me.to_user_presence()),
    }));
}

/// `match_leave`: always acknowledged, even when the session was not in the match.
pub fn leave(state: &Arc<AppState>, reply: &Reply<'_>, request: MatchLeave) {
    let Some(match_id) = MatchId::parse(&request.match_id) else {
        return reply.error(Code::BadInput, "Invalid match ID");
    };
    state
        .realtime
        .tracker
        .untrack(reply.session.id(), &Stream::for_match(&match_id));
    reply.ack();
}

/// `match_data_send`: relayed to the other members (or the listed sessions); no reply.
pub fn data_send(state: &Arc<AppState>, session: &Arc<SessionHandle>, request: MatchDataSend) {
    let Some(match_id) = MatchId::parse(&request.match_id) else {
        let reply = Reply {
            session,
            cid: String::new(),
        };
        return reply.error(Code::BadInput, "Invalid match ID");
    };
    if !match_id.node.is_empty() {
        return;
    }
    let tracker = &state.realtime.tracker;
    let stream = Stream::for_match(&match_id);
    let Some(sender) = tracker.get(session.id(), &stream) else {
        return;
    };
    let targets: Option<Vec<Uuid>> = (!request.presences.is_empty()).then(|| {
        request
            .presences
            .iter()
            .filter_map(|p| Uuid::parse_str(&p.session_id).ok())
            .collect()
    });
    let outbound = Outbound::new(tavern_proto::realtime::Envelope {
        cid: String::new(),
        message: Some(Message::MatchData(MatchData {
            match_id: request.match_id,
            presence: Some(sender.to_user_presence()),
            op_code: request.op_code,
            data: request.data,
            reliable: request.reliable,
        })),
    });
    for member in tracker.sessions_on(&stream) {
        let wanted = match &targets {
            Some(ids) => ids.contains(&member.id()),
            None => member.id() != session.id(),
        };
        if wanted {
            member.send_outbound(outbound.clone());
        }
    }
}
