//! Match messages: create, join (by id or matchmaker token), leave, and data relayed between
//! the members of a client-relayed match.

use std::sync::Arc;

use tavern_proto::realtime::{
    Match, MatchCreate, MatchData, MatchDataSend, MatchJoin, MatchLeave, UserPresence,
    envelope::Message, error::Code, match_join::Id,
};
use uuid::Uuid;

use super::Reply;
use crate::matches::JoinOutcome;
use crate::matches::output::user_presence;
use crate::realtime::session::{Outbound, SessionHandle};
use crate::realtime::stream::{MatchId, Presence, Stream, StreamMode};
use crate::realtime::tracker::Tracked;
use crate::state::AppState;
use tavern_runtime::matches::MatchMessage;

const MATCH_MODES: [StreamMode; 2] = [StreamMode::MatchRelayed, StreamMode::MatchAuthoritative];

fn presence_of(session: &SessionHandle) -> Presence {
    Presence {
        session_id: session.id(),
        user_id: session.user_id(),
        username: session.info.username.clone(),
        ..Presence::default()
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
    let named = !request.name.is_empty();
    // The creator's answer goes out before its own presence event (Nakama's order).
    state.realtime.tracker.track_and_reply(
        stream.clone(),
        me.clone(),
        session.clone(),
        |tracked, listed| {
            let (size, presences) = if named {
                let others = listed
                    .iter()
                    .filter(|p| !(tracked == Tracked::New && p.session_id == me.session_id))
                    .map(Presence::to_user_presence)
                    .collect();
                (listed.len() as i32, others)
            } else {
                (1, Vec::new())
            };
            reply.send(Message::Match(Match {
                match_id: format!("{id}."),
                authoritative: false,
                label: None,
                size,
                presences,
                self_: Some(me.to_user_presence()),
            }));
        },
    );
    if state.config.session.single_match {
        state
            .realtime
            .tracker
            .untrack_modes_except(session.id(), &MATCH_MODES, &stream);
    }
}

/// `match_join`: joins a relayed match by id or by a matchmaker token (created on demand), or
/// asks an authoritative match's handler to let the session in.
pub async fn join(state: &Arc<AppState>, reply: &Reply<'_>, request: MatchJoin) {
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
        return join_authoritative(state, reply, match_id, id_text, request.metadata).await;
    }
    let session = reply.session;
    let tracker = &state.realtime.tracker;
    let stream = Stream::for_match(&match_id);
    if !from_token && !tracker.stream_exists(&stream) {
        return reply.error(Code::MatchNotFound, "Match not found");
    }
    let me = presence_of(session);
    let answer = |presences: Vec<UserPresence>| {
        reply.send(Message::Match(Match {
            match_id: id_text.clone(),
            authoritative: false,
            label: None,
            size: presences.len() as i32,
            presences,
            self_: Some(me.to_user_presence()),
        }));
    };
    if tracker.get(session.id(), &stream).is_some() {
        // Already in: nothing changes and nothing is announced.
        let presences = tracker
            .list(&stream)
            .iter()
            .map(Presence::to_user_presence)
            .collect();
        return answer(presences);
    }
    // The joiner's answer goes out before its own presence event (Nakama's order).
    tracker.track_and_reply(stream.clone(), me.clone(), session.clone(), |_, listed| {
        answer(
            listed
                .iter()
                .filter(|p| p.session_id != me.session_id)
                .map(Presence::to_user_presence)
                .collect(),
        )
    });
    if state.config.session.single_match {
        tracker.untrack_modes_except(session.id(), &MATCH_MODES, &stream);
    }
}

async fn join_authoritative(
    state: &Arc<AppState>,
    reply: &Reply<'_>,
    match_id: MatchId,
    id_text: String,
    metadata: std::collections::HashMap<String, String>,
) {
    let session = reply.session;
    let me = presence_of(session);
    let outcome = state
        .matches
        .join_attempt(
            match_id.uuid,
            &match_id.node,
            me.to_runtime(state.matches.node()),
            metadata,
        )
        .await;
    let (label, others, is_new) = match outcome {
        JoinOutcome::NotFound => return reply.error(Code::MatchNotFound, "Match not found"),
        JoinOutcome::Rejected(reason) => {
            let reason = if reason.is_empty() {
                "Match join rejected".to_owned()
            } else {
                reason
            };
            return reply.error(Code::MatchJoinRejected, &reason);
        }
        JoinOutcome::Accepted {
            label,
            others,
            is_new,
        } => (label, others, is_new),
    };
    let presences: Vec<_> = others.iter().map(user_presence).collect();
    let answer = || {
        reply.send(Message::Match(Match {
            match_id: id_text,
            authoritative: true,
            label: Some(label),
            size: presences.len() as i32,
            presences,
            self_: Some(me.to_user_presence()),
        }))
    };
    if !is_new {
        return answer();
    }
    let stream = Stream::for_match(&match_id);
    let tracker = &state.realtime.tracker;
    // The joiner's answer goes out before its own presence event (Nakama's order).
    tracker.track_and_reply(stream.clone(), me.clone(), session.clone(), |_, _| answer());
    if state.config.session.single_match {
        tracker.untrack_modes_except(session.id(), &MATCH_MODES, &stream);
    }
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
        return Reply::new(session, String::new()).error(Code::BadInput, "Invalid match ID");
    };
    let tracker = &state.realtime.tracker;
    let stream = Stream::for_match(&match_id);
    let Some(sender) = tracker.get(session.id(), &stream) else {
        return;
    };
    if !match_id.node.is_empty() {
        let message = MatchMessage {
            sender: sender.to_runtime(state.matches.node()),
            op_code: request.op_code,
            data: request.data,
            reliable: request.reliable,
            receive_time_ms: crate::storage::now_unix_millis(),
        };
        state
            .matches
            .send_data(match_id.uuid, &match_id.node, message);
        return;
    }
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
