//! The socket side of parties: `party_create`, `party_join`, `party_leave`, `party_promote`,
//! `party_accept`, `party_remove`, `party_close`, `party_join_request_list`,
//! `party_matchmaker_add`, `party_matchmaker_remove` and `party_data_send`, with Nakama's
//! answers and messages.

use std::sync::Arc;

use tavern_matchmaker::{AddError, TicketRequest};
use tavern_proto::realtime::{
    Envelope, Party as PartyMessage, PartyAccept, PartyClose, PartyCreate, PartyDataSend,
    PartyJoin, PartyJoinRequest, PartyJoinRequestList, PartyLeave, PartyMatchmakerAdd,
    PartyMatchmakerRemove, PartyMatchmakerTicket, PartyPromote, PartyRemove, UserPresence,
    envelope::Message, error::Code,
};

use super::party::{Member, Party, PartyError};
use super::registry::parse_id;
use crate::matchmaking::now_unix_nanos;
use crate::realtime::pipeline::Reply;
use crate::realtime::stream::{Stream, StreamMode};
use crate::state::AppState;

const INVALID_ID: &str = "Invalid party ID";

/// The party a request names, or the error it gets: `Invalid party ID`, or `party not
/// found` after the operation's prefix.
fn find(state: &AppState, reply: &Reply<'_>, party_id: &str, prefix: &str) -> Option<Arc<Party>> {
    let Some((id, node)) = parse_id(party_id) else {
        reply.error(Code::BadInput, INVALID_ID);
        return None;
    };
    match state.parties.get(id, node) {
        Ok(party) => Some(party),
        Err(e) => {
            refuse(reply, prefix, e);
            None
        }
    }
}

fn refuse(reply: &Reply<'_>, prefix: &str, error: PartyError) {
    reply.error(Code::BadInput, &format!("{prefix}: {error}"));
}

/// The presence a leader names (promote, accept, remove): all three fields are required.
fn named_presence<'a>(
    reply: &Reply<'_>,
    presence: &'a Option<UserPresence>,
) -> Option<&'a UserPresence> {
    match presence {
        Some(p) if !p.user_id.is_empty() && !p.session_id.is_empty() && !p.username.is_empty() => {
            Some(p)
        }
        _ => {
            reply.error(Code::BadInput, "Invalid presence");
            None
        }
    }
}

/// `party_create`: the creator is the first member and the leader; the answer is the party,
/// sent before the creator's own presence event.
pub fn create(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyCreate) {
    if !(0..=256).contains(&request.max_size) {
        return reply.error(Code::BadInput, "Invalid party max size, must be 1-256");
    }
    let session = reply.session;
    let me = Member::of_session(session);
    let party = state
        .parties
        .create(request.open, request.max_size as usize, me.session_id);
    let answer = PartyMessage {
        party_id: party.id_str.clone(),
        open: request.open,
        max_size: request.max_size,
        self_: Some(me.wire()),
        leader: Some(me.wire()),
        presences: vec![me.wire()],
    };
    state.realtime.tracker.track_and_reply(
        party.stream.clone(),
        me.presence(),
        session.clone(),
        |_, _| reply.send(Message::Party(answer)),
    );
}

/// `party_join`: an open party takes the session at once (the answer is empty; the party
/// follows); a closed one passes the request to the leader.
pub fn join(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyJoin) {
    const PREFIX: &str = "Error joining party";
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    let session = reply.session;
    let me = Member::of_session(session);
    let tracker = &state.realtime.tracker;
    match party.join_request(me.clone(), tracker) {
        Err(e) => refuse(reply, PREFIX, e),
        Ok(false) => reply.ack(),
        Ok(true) => {
            tracker.track_and_reply(
                party.stream.clone(),
                me.presence(),
                session.clone(),
                |_, _| reply.ack(),
            );
        }
    }
}

/// `party_leave`: takes the session off the party's stream, member or not.
pub fn leave(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyLeave) {
    let Some((id, node)) = parse_id(&request.party_id) else {
        return reply.error(Code::BadInput, INVALID_ID);
    };
    let stream = Stream::new(StreamMode::Party, id, node);
    state.realtime.tracker.untrack(reply.session.id(), &stream);
    reply.ack();
}

/// `party_promote`: the leader hands over; every member gets `party_leader`.
pub fn promote(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyPromote) {
    const PREFIX: &str = "Error promoting new party leader";
    let Some(presence) = named_presence(reply, &request.presence) else {
        return;
    };
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    match party.promote(reply.session.id(), presence, &state.realtime.tracker) {
        Ok(()) => reply.ack(),
        Err(e) => refuse(reply, PREFIX, e),
    }
}

/// `party_accept`: the leader lets a requester in; it gets the party, members its presence.
pub fn accept(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyAccept) {
    const PREFIX: &str = "Error accepting party join request";
    let Some(presence) = named_presence(reply, &request.presence) else {
        return;
    };
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    let member = match party.accept(reply.session.id(), presence) {
        Ok(member) => member,
        Err(e) => return refuse(reply, PREFIX, e),
    };
    // The requester must still be connected to this node.
    let Some(session) = state.realtime.sessions.get(member.session_id) else {
        party.cancel_join(member.session_id);
        return refuse(reply, PREFIX, PartyError::AcceptRequest);
    };
    state
        .realtime
        .tracker
        .track(party.stream.clone(), member.presence(), session);
    reply.ack();
}

/// `party_remove`: the leader removes a member (who gets `party_close`; the others its leave)
/// or declines a join request.
pub fn remove(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyRemove) {
    const PREFIX: &str = "Error removing party member or join request";
    let Some(presence) = named_presence(reply, &request.presence) else {
        return;
    };
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    match party.remove(reply.session.id(), presence) {
        Ok(Some(member)) => {
            let tracker = &state.realtime.tracker;
            tracker.send_to(&party.stream, &[member.session_id], party.close_event());
            tracker.untrack(member.session_id, &party.stream);
            reply.ack();
        }
        Ok(None) => reply.ack(),
        Err(e) => refuse(reply, PREFIX, e),
    }
}

/// `party_close`: the leader ends the party; every member gets `party_close`.
pub fn close(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyClose) {
    const PREFIX: &str = "Error closing party";
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    let tracker = &state.realtime.tracker;
    match party.close(reply.session.id(), tracker) {
        Ok(()) => {
            state.parties.stop(&party, tracker);
            reply.ack();
        }
        Err(e) => refuse(reply, PREFIX, e),
    }
}

/// `party_join_request_list`: the leader's view of the waiting requests.
pub fn join_request_list(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyJoinRequestList) {
    const PREFIX: &str = "Error listing party join requests";
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    match party.join_requests(reply.session.id()) {
        Ok(presences) => reply.send(Message::PartyJoinRequest(PartyJoinRequest {
            party_id: request.party_id,
            presences,
        })),
        Err(e) => refuse(reply, PREFIX, e),
    }
}

/// `party_data_send`: a member's data to the other members.
pub fn data_send(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyDataSend) {
    const PREFIX: &str = "Error sending party data";
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    match party.data_send(
        reply.session.id(),
        request.op_code,
        request.data,
        &state.realtime.tracker,
    ) {
        Ok(()) => reply.ack(),
        Err(e) => refuse(reply, PREFIX, e),
    }
}

/// `party_matchmaker_add`: the leader puts the whole party into the matchmaker as one ticket;
/// the leader gets it in the answer, every other member as an event.
pub fn matchmaker_add(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyMatchmakerAdd) {
    const PREFIX: &str = "Error adding party to matchmaker";
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    let session = reply.session;
    let mut members = match party.matchmaker_members(session.id()) {
        Ok(members) => members.into_iter(),
        Err(e) => return refuse(reply, PREFIX, e),
    };
    let node = &state.config.name;
    let presence = |m: Member| tavern_matchmaker::Presence {
        user_id: m.user_id,
        session_id: m.session_id,
        username: m.username,
        node: node.clone(),
    };
    // A party always has a member: the leader asking.
    let Some(first) = members.next() else {
        return refuse(reply, PREFIX, PartyError::NotMember);
    };
    let others: Vec<_> = members.map(presence).collect();
    let recipients: Vec<_> = others
        .iter()
        .map(|p| p.session_id)
        .chain(std::iter::once(first.session_id))
        .filter(|s| *s != session.id())
        .collect();
    let ticket = TicketRequest {
        presence: presence(first),
        others,
        party_id: Some(party.id_str.clone()),
        min_count: request.min_count,
        max_count: request.max_count,
        count_multiple: request.count_multiple,
        query: request.query,
        string_properties: request.string_properties,
        numeric_properties: request.numeric_properties,
    };
    let added = state.matchmaker.pool().add(ticket, now_unix_nanos());
    let ticket = match added {
        Ok(ticket) => ticket,
        // The counts are checked with the solo ticket's messages; the rest are the
        // matchmaker's own words after the prefix.
        Err(e @ (AddError::Query(_) | AddError::TooManyTickets)) => {
            let why = match e {
                AddError::Query(_) => "matchmaker query invalid",
                _ => "matchmaker too many tickets",
            };
            return reply.error(Code::BadInput, &format!("{PREFIX}: {why}"));
        }
        Err(e) => return reply.error(Code::BadInput, e.message()),
    };
    let answer = PartyMatchmakerTicket {
        party_id: request.party_id,
        ticket,
    };
    reply.send(Message::PartyMatchmakerTicket(answer.clone()));
    if !recipients.is_empty() {
        let event = Envelope {
            cid: String::new(),
            message: Some(Message::PartyMatchmakerTicket(answer)),
        };
        state
            .realtime
            .tracker
            .send_to(&party.stream, &recipients, event);
    }
}

/// `party_matchmaker_remove`: the leader takes one of the party's tickets back.
pub fn matchmaker_remove(state: &Arc<AppState>, reply: &Reply<'_>, request: PartyMatchmakerRemove) {
    // Nakama's words, the prefix of `party_close` included.
    const PREFIX: &str = "Error closing party";
    if request.ticket.is_empty() {
        return reply.error(Code::BadInput, "Invalid matchmaker ticket");
    }
    let Some(party) = find(state, reply, &request.party_id, PREFIX) else {
        return;
    };
    if let Err(e) = party.check_leader(reply.session.id()) {
        return refuse(reply, PREFIX, e);
    }
    let removed = state
        .matchmaker
        .pool()
        .remove_party(&party.id_str, &request.ticket);
    match removed {
        Ok(()) => reply.ack(),
        Err(_) => reply.error(
            Code::BadInput,
            &format!("{PREFIX}: matchmaker ticket not found"),
        ),
    }
}
