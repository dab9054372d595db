//! The server's side of the streams functions of `Nk`: game code's access to the one presence
//! layer (`tracker.rs`), with Nakama's checks and messages.

use tavern_runtime::realtime::Envelope;
use tavern_runtime::{
    Code, Presence as RuntimePresence, PresenceMeta, RuntimeError, StreamId, StreamPresence,
    StreamsBackend,
};
use uuid::Uuid;

use super::stream::{Presence, Stream, StreamMode};
use crate::runtime::nk_backend::ServerNk;

impl StreamsBackend for ServerNk {
    fn stream_user_list(
        &self,
        stream: &StreamId,
        include_hidden: bool,
        include_not_hidden: bool,
    ) -> Result<Vec<StreamPresence>, RuntimeError> {
        let stream = parse_stream(stream)?;
        let state = self.state()?;
        let node = state.matches.node();
        Ok(state
            .realtime
            .tracker
            .list(&stream)
            .into_iter()
            .filter(|p| {
                if p.hidden {
                    include_hidden
                } else {
                    include_not_hidden
                }
            })
            .map(|p| StreamPresence {
                presence: p.to_runtime(node),
                meta: meta_of(&p),
            })
            .collect())
    }

    fn stream_user_get(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<PresenceMeta>, RuntimeError> {
        let (user_id, session_id) = ids(user_id, session_id)?;
        let stream = parse_stream(stream)?;
        let state = self.state()?;
        Ok(state
            .realtime
            .tracker
            .get(session_id, &stream)
            .filter(|p| p.user_id == user_id)
            .map(|p| meta_of(&p)))
    }

    fn stream_user_track(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
        meta: PresenceMeta,
        update: bool,
    ) -> Result<bool, RuntimeError> {
        let (user_id, session_id) = ids(user_id, session_id)?;
        let stream = parse_stream(stream)?;
        let state = self.state()?;
        let Some(session) = state.realtime.sessions.get(session_id) else {
            return Err(RuntimeError::new("session not found", Code::NotFound));
        };
        let tracker = &state.realtime.tracker;
        // As Nakama: a join leaves an existing presence as it is; an update replaces it.
        if !update && tracker.get(session_id, &stream).is_some() {
            return Ok(false);
        }
        let presence = Presence {
            session_id,
            user_id,
            username: session.info.username.clone(),
            status: (!meta.status.is_empty()).then_some(meta.status),
            hidden: meta.hidden,
            persistence: meta.persistence,
        };
        let tracked = tracker.track(stream, presence, session);
        Ok(tracked == super::tracker::Tracked::New)
    }

    fn stream_user_leave(
        &self,
        stream: &StreamId,
        user_id: &str,
        session_id: &str,
    ) -> Result<(), RuntimeError> {
        let (user_id, session_id) = ids(user_id, session_id)?;
        let stream = parse_stream(stream)?;
        let state = self.state()?;
        let tracker = &state.realtime.tracker;
        if tracker
            .get(session_id, &stream)
            .is_some_and(|p| p.user_id == user_id)
        {
            tracker.untrack(session_id, &stream);
        }
        Ok(())
    }

    fn stream_count(&self, stream: &StreamId) -> Result<usize, RuntimeError> {
        let stream = parse_stream(stream)?;
        Ok(self.state()?.realtime.tracker.count(&stream))
    }

    fn stream_close(&self, stream: &StreamId) -> Result<(), RuntimeError> {
        let stream = parse_stream(stream)?;
        // As Nakama: everyone goes at once, announced to no one.
        self.state()?.realtime.tracker.remove_stream(&stream);
        Ok(())
    }

    fn stream_send_raw(
        &self,
        stream: &StreamId,
        envelope: Envelope,
        presences: &[RuntimePresence],
    ) -> Result<(), RuntimeError> {
        let stream = parse_stream(stream)?;
        if envelope.message.is_none() {
            return Err(RuntimeError::invalid_argument("expects a valid message"));
        }
        let session_ids = presences
            .iter()
            .map(|p| {
                Uuid::parse_str(&p.session_id).map_err(|_| {
                    RuntimeError::invalid_argument(
                        "expects each presence session id to be a valid identifier",
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let state = self.state()?;
        let tracker = &state.realtime.tracker;
        if session_ids.is_empty() {
            tracker.send(&stream, envelope);
        } else {
            tracker.send_to_sessions(&session_ids, envelope);
        }
        Ok(())
    }
}

/// A stream from game code: ids empty or UUIDs, any mode.
fn parse_stream(stream: &StreamId) -> Result<Stream, RuntimeError> {
    let id = |text: &str, message: &str| {
        if text.is_empty() {
            Ok(Uuid::nil())
        } else {
            Uuid::parse_str(text).map_err(|_| RuntimeError::invalid_argument(message))
        }
    };
    Ok(Stream {
        mode: StreamMode::from_number(stream.mode),
        subject: id(&stream.subject, "stream subject must be a valid identifier")?,
        subcontext: id(
            &stream.subcontext,
            "stream subcontext must be a valid identifier",
        )?,
        label: stream.label.clone(),
    })
}

fn ids(user_id: &str, session_id: &str) -> Result<(Uuid, Uuid), RuntimeError> {
    let user_id = Uuid::parse_str(user_id)
        .map_err(|_| RuntimeError::invalid_argument("expects valid user id"))?;
    let session_id = Uuid::parse_str(session_id)
        .map_err(|_| RuntimeError::invalid_argument("expects valid session id"))?;
    Ok((user_id, session_id))
}

fn meta_of(presence: &Presence) -> PresenceMeta {
    PresenceMeta {
        hidden: presence.hidden,
        persistence: presence.persistence,
        username: presence.username.clone(),
        status: presence.status.clone().unwrap_or_default(),
    }
}
