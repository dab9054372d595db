//! Every live socket session on this node, by session id and by user.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use uuid::Uuid;

use super::session::{CloseReason, SessionHandle};

#[derive(Default)]
struct Sessions {
    by_id: HashMap<Uuid, Arc<SessionHandle>>,
    by_user: HashMap<Uuid, Vec<Uuid>>,
}

/// The session registry.
#[derive(Default)]
pub struct SessionRegistry {
    inner: RwLock<Sessions>,
}

impl SessionRegistry {
    pub fn new() -> SessionRegistry {
        SessionRegistry::default()
    }

    pub fn add(&self, session: Arc<SessionHandle>) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner
            .by_user
            .entry(session.user_id())
            .or_default()
            .push(session.id());
        inner.by_id.insert(session.id(), session);
    }

    pub fn remove(&self, session_id: Uuid) -> Option<Arc<SessionHandle>> {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let session = inner.by_id.remove(&session_id)?;
        if let Some(ids) = inner.by_user.get_mut(&session.user_id()) {
            ids.retain(|id| *id != session_id);
            if ids.is_empty() {
                inner.by_user.remove(&session.user_id());
            }
        }
        Some(session)
    }

    pub fn get(&self, session_id: Uuid) -> Option<Arc<SessionHandle>> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.by_id.get(&session_id).cloned()
    }

    /// Every session of a user on this node.
    pub fn of_user(&self, user_id: Uuid) -> Vec<Arc<SessionHandle>> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner
            .by_user
            .get(&user_id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| inner.by_id.get(id).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every session on this node.
    pub fn all(&self) -> Vec<Arc<SessionHandle>> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.by_id.values().cloned().collect()
    }

    pub fn count(&self) -> usize {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner.by_id.len()
    }

    /// Asks every session to close (shutdown).
    pub fn close_all(&self, reason: CloseReason) {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        for session in inner.by_id.values() {
            session.close(reason.clone());
        }
    }
}
