//! One party: its members in the order they joined, its leader, the join requests waiting for
//! the leader and the joins under way. The members are the presences on the party's stream;
//! the tracker tells the party when they come and go ([`Party::joined`], [`Party::left`]).

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use tavern_proto::realtime::{
    Envelope, PartyClose, PartyData, PartyJoinRequest, PartyLeader, UserPresence, envelope::Message,
};
use uuid::Uuid;

use crate::realtime::session::SessionHandle;
use crate::realtime::stream::{Presence, Stream, StreamMode};
use crate::realtime::tracker::Tracker;

/// Why a party operation was refused; the text is Nakama's, which clients see after a prefix
/// naming the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyError {
    NotFound,
    Closed,
    Full,
    JoinRequestsFull,
    NotLeader,
    NotMember,
    NotRequest,
    AcceptRequest,
    RemoveSelf,
}

impl fmt::Display for PartyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PartyError::NotFound => "party not found",
            PartyError::Closed => "party closed",
            PartyError::Full => "party full",
            PartyError::JoinRequestsFull => "party join requests full",
            PartyError::NotLeader => "party leader only",
            PartyError::NotMember => "party member not found",
            PartyError::NotRequest => "party join request not found",
            PartyError::AcceptRequest => "party could not accept request",
            PartyError::RemoveSelf => "party cannot remove self",
        })
    }
}

/// A member, or a session asking to become one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
}

impl Member {
    pub fn of_session(session: &SessionHandle) -> Member {
        Member {
            session_id: session.id(),
            user_id: session.user_id(),
            username: session.info.username.clone(),
        }
    }

    fn of_presence(presence: &Presence) -> Member {
        Member {
            session_id: presence.session_id,
            user_id: presence.user_id,
            username: presence.username.clone(),
        }
    }

    /// The member's presence on the party stream.
    pub fn presence(&self) -> Presence {
        Presence {
            session_id: self.session_id,
            user_id: self.user_id,
            username: self.username.clone(),
            ..Presence::default()
        }
    }

    pub fn wire(&self) -> UserPresence {
        UserPresence {
            user_id: self.user_id.to_string(),
            session_id: self.session_id.to_string(),
            username: self.username.clone(),
            persistence: false,
            status: None,
        }
    }

    /// Whether a presence a client named is this one: session, user and username all equal,
    /// as Nakama compares them.
    fn is(&self, presence: &UserPresence) -> bool {
        presence.session_id == self.session_id.to_string()
            && presence.user_id == self.user_id.to_string()
            && presence.username == self.username
    }
}

#[derive(Default)]
struct State {
    /// Closed or empty: every operation is refused.
    stopped: bool,
    /// The creator's session, made leader when it joins first.
    expected_leader: Option<Uuid>,
    leader: Option<Member>,
    /// Oldest first: the first one leads when the leader leaves.
    members: Vec<Member>,
    /// Sessions let in (open party, accepted request) but not yet on the stream: they count
    /// towards the size.
    joins_in_progress: Vec<Uuid>,
    join_requests: Vec<Member>,
}

/// A party, in memory on the node that created it.
pub struct Party {
    pub id: Uuid,
    /// Nakama's form, `<uuid>.<node>`.
    pub id_str: String,
    pub open: bool,
    /// Counts the leader.
    pub max_size: usize,
    pub stream: Stream,
    state: Mutex<State>,
}

impl Party {
    pub fn new(id: Uuid, node: &str, open: bool, max_size: usize, creator: Uuid) -> Party {
        Party {
            id,
            id_str: format!("{id}.{node}"),
            open,
            max_size,
            stream: Stream::new(StreamMode::Party, id, node),
            state: Mutex::new(State {
                expected_leader: Some(creator),
                ..State::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn envelope(message: Message) -> Envelope {
        Envelope {
            cid: String::new(),
            message: Some(message),
        }
    }

    /// `party_join`: `Ok(true)` when the session may go onto the stream now (open party, or
    /// already a member), `Ok(false)` when it became a join request the leader is told about.
    pub fn join_request(&self, who: Member, tracker: &Tracker) -> Result<bool, PartyError> {
        let mut state = self.lock();
        if state.stopped {
            return Err(PartyError::Closed);
        }
        // A member joining again changes nothing (and takes no place).
        if state.members.iter().any(|m| m.session_id == who.session_id) {
            return Ok(true);
        }
        if state.members.len() + state.joins_in_progress.len() >= self.max_size {
            return Err(PartyError::Full);
        }
        if self.open {
            state.joins_in_progress.push(who.session_id);
            return Ok(true);
        }
        if state
            .join_requests
            .iter()
            .any(|r| r.session_id == who.session_id)
        {
            return Ok(false);
        }
        if state.join_requests.len() >= self.max_size {
            return Err(PartyError::JoinRequestsFull);
        }
        state.join_requests.push(who.clone());
        let leader = state.leader.as_ref().map(|l| l.session_id);
        drop(state);
        if let Some(leader) = leader {
            let request = Message::PartyJoinRequest(PartyJoinRequest {
                party_id: self.id_str.clone(),
                presences: vec![who.wire()],
            });
            tracker.send_to(&self.stream, &[leader], Self::envelope(request));
        }
        Ok(false)
    }

    /// Presences came onto the stream: they become members (the creator the leader) and each
    /// but the creator, who had the answer to `party_create`, gets the party.
    pub fn joined(&self, joins: &[Presence], tracker: &Tracker) {
        let mut state = self.lock();
        if state.stopped || joins.is_empty() {
            return;
        }
        let mut creator = None;
        if state.leader.is_none() {
            if let Some(expected) = state.expected_leader.take()
                && let Some(first) = joins.iter().find(|p| p.session_id == expected)
            {
                state.leader = Some(Member::of_presence(first));
                creator = Some(expected);
            }
            if state.leader.is_none() {
                state.leader = joins.first().map(Member::of_presence);
            }
        }
        let mut new = Vec::with_capacity(joins.len());
        for presence in joins {
            let member = Member::of_presence(presence);
            state.joins_in_progress.retain(|s| *s != member.session_id);
            if !state.members.contains(&member) {
                state.members.push(member.clone());
                new.push(member);
            }
        }
        let presences: Vec<UserPresence> = state.members.iter().map(Member::wire).collect();
        let leader = state.leader.as_ref().map(Member::wire);
        drop(state);
        for member in new {
            if Some(member.session_id) == creator {
                continue;
            }
            let party = Message::Party(tavern_proto::realtime::Party {
                party_id: self.id_str.clone(),
                open: self.open,
                max_size: self.max_size as i32,
                self_: Some(member.wire()),
                leader: leader.clone(),
                presences: presences.clone(),
            });
            tracker.send_to(&self.stream, &[member.session_id], Self::envelope(party));
        }
    }

    /// Presences left the stream. When the leader was one of them the oldest member leads and
    /// every member hears of it. Returns true when no member is left: the party is over.
    pub fn left(&self, leaves: &[Presence], tracker: &Tracker) -> bool {
        let mut state = self.lock();
        if state.stopped {
            return false;
        }
        for presence in leaves {
            if state
                .leader
                .as_ref()
                .is_some_and(|l| l.session_id == presence.session_id)
            {
                state.leader = None;
            }
            state
                .members
                .retain(|m| m.session_id != presence.session_id);
        }
        if state.leader.is_some() {
            return false;
        }
        let Some(oldest) = state.members.first().cloned() else {
            state.stopped = true;
            return true;
        };
        state.leader = Some(oldest.clone());
        drop(state);
        self.announce_leader(&oldest, tracker);
        false
    }

    fn announce_leader(&self, leader: &Member, tracker: &Tracker) {
        let event = Message::PartyLeader(PartyLeader {
            party_id: self.id_str.clone(),
            presence: Some(leader.wire()),
        });
        tracker.send(&self.stream, Self::envelope(event));
    }

    /// The leader's state, for the leader-only operations.
    fn as_leader(&self, session_id: Uuid) -> Result<MutexGuard<'_, State>, PartyError> {
        let state = self.lock();
        if state.stopped {
            return Err(PartyError::Closed);
        }
        if state.leader.as_ref().map(|l| l.session_id) != Some(session_id) {
            return Err(PartyError::NotLeader);
        }
        Ok(state)
    }

    /// `party_promote`: another member leads; every member hears of it.
    pub fn promote(
        &self,
        session_id: Uuid,
        presence: &UserPresence,
        tracker: &Tracker,
    ) -> Result<(), PartyError> {
        let mut state = self.as_leader(session_id)?;
        let member = state
            .members
            .iter()
            .find(|m| m.is(presence))
            .cloned()
            .ok_or(PartyError::NotMember)?;
        state.leader = Some(member.clone());
        drop(state);
        self.announce_leader(&member, tracker);
        Ok(())
    }

    /// `party_accept`: takes a join request, keeping a place for the session; the caller puts
    /// it on the stream, or calls [`Party::cancel_join`] when it cannot.
    pub fn accept(&self, session_id: Uuid, presence: &UserPresence) -> Result<Member, PartyError> {
        let mut state = self.as_leader(session_id)?;
        if state.members.len() + state.joins_in_progress.len() >= self.max_size {
            return Err(PartyError::Full);
        }
        let at = state
            .join_requests
            .iter()
            .position(|r| r.is(presence))
            .ok_or(PartyError::NotRequest)?;
        let member = state.join_requests.remove(at);
        state.joins_in_progress.push(member.session_id);
        Ok(member)
    }

    /// Gives up the place a join under way held.
    pub fn cancel_join(&self, session_id: Uuid) {
        self.lock().joins_in_progress.retain(|s| *s != session_id);
    }

    /// `party_remove`: a member to take off the stream (`Some`), or a join request declined
    /// (`None`).
    pub fn remove(
        &self,
        session_id: Uuid,
        presence: &UserPresence,
    ) -> Result<Option<Member>, PartyError> {
        let mut state = self.as_leader(session_id)?;
        if state.leader.as_ref().is_some_and(|l| l.is(presence)) {
            return Err(PartyError::RemoveSelf);
        }
        if let Some(at) = state.members.iter().position(|m| m.is(presence)) {
            return Ok(Some(state.members.remove(at)));
        }
        let at = state
            .join_requests
            .iter()
            .position(|r| r.is(presence))
            .ok_or(PartyError::NotMember)?;
        state.join_requests.remove(at);
        Ok(None)
    }

    /// `party_close` by the leader: every member gets `party_close`; the caller then drops the
    /// party.
    pub fn close(&self, session_id: Uuid, tracker: &Tracker) -> Result<(), PartyError> {
        let mut state = self.as_leader(session_id)?;
        state.stopped = true;
        drop(state);
        tracker.send(&self.stream, self.close_event());
        Ok(())
    }

    /// The `party_close` event of this party.
    pub fn close_event(&self) -> Envelope {
        Self::envelope(Message::PartyClose(PartyClose {
            party_id: self.id_str.clone(),
        }))
    }

    /// `party_matchmaker_add`: the members, oldest first, all in the party's ticket.
    pub fn matchmaker_members(&self, session_id: Uuid) -> Result<Vec<Member>, PartyError> {
        Ok(self.as_leader(session_id)?.members.clone())
    }

    /// Fails unless the session leads the party (`party_matchmaker_remove`).
    pub fn check_leader(&self, session_id: Uuid) -> Result<(), PartyError> {
        self.as_leader(session_id).map(drop)
    }

    /// `party_join_request_list`: the waiting requests, oldest first.
    pub fn join_requests(&self, session_id: Uuid) -> Result<Vec<UserPresence>, PartyError> {
        let state = self.as_leader(session_id)?;
        Ok(state.join_requests.iter().map(Member::wire).collect())
    }

    /// `party_data_send`: the data goes to every other member, with the sender.
    pub fn data_send(
        &self,
        session_id: Uuid,
        op_code: i64,
        data: Vec<u8>,
        tracker: &Tracker,
    ) -> Result<(), PartyError> {
        let state = self.lock();
        if state.stopped {
            return Err(PartyError::Closed);
        }
        let sender = state
            .members
            .iter()
            .find(|m| m.session_id == session_id)
            .cloned()
            .ok_or(PartyError::NotMember)?;
        let recipients: Vec<Uuid> = state
            .members
            .iter()
            .map(|m| m.session_id)
            .filter(|s| *s != session_id)
            .collect();
        drop(state);
        if recipients.is_empty() {
            return Ok(());
        }
        let data = Message::PartyData(PartyData {
            party_id: self.id_str.clone(),
            presence: Some(sender.wire()),
            op_code,
            data,
        });
        tracker.send_to(&self.stream, &recipients, Self::envelope(data));
        Ok(())
    }
}
