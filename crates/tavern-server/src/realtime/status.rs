//! Status follows: which sessions want to hear when which users come, go or change status.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use uuid::Uuid;

#[derive(Default)]
struct Follows {
    /// Followed user -> following sessions.
    followers: HashMap<Uuid, HashSet<Uuid>>,
    /// Following session -> followed users.
    following: HashMap<Uuid, HashSet<Uuid>>,
}

/// The status registry.
#[derive(Default)]
pub struct StatusRegistry {
    inner: RwLock<Follows>,
}

impl StatusRegistry {
    pub fn new() -> StatusRegistry {
        StatusRegistry::default()
    }

    pub fn follow(&self, session_id: Uuid, user_ids: impl IntoIterator<Item = Uuid>) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        for user_id in user_ids {
            inner
                .followers
                .entry(user_id)
                .or_default()
                .insert(session_id);
            inner
                .following
                .entry(session_id)
                .or_default()
                .insert(user_id);
        }
    }

    pub fn unfollow(&self, session_id: Uuid, user_ids: &[Uuid]) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        for user_id in user_ids {
            remove_link(&mut inner.followers, *user_id, session_id);
            remove_link(&mut inner.following, session_id, *user_id);
        }
    }

    pub fn unfollow_all(&self, session_id: Uuid) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if let Some(users) = inner.following.remove(&session_id) {
            for user_id in users {
                remove_link(&mut inner.followers, user_id, session_id);
            }
        }
    }

    /// Sessions following a user.
    pub fn followers(&self, user_id: Uuid) -> Vec<Uuid> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner
            .followers
            .get(&user_id)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
}

fn remove_link(map: &mut HashMap<Uuid, HashSet<Uuid>>, key: Uuid, value: Uuid) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(&value);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_unfollow_and_cleanup() {
        let registry = StatusRegistry::new();
        let (s1, s2, u) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        registry.follow(s1, [u]);
        registry.follow(s2, [u]);
        let mut followers = registry.followers(u);
        followers.sort();
        let mut expected = vec![s1, s2];
        expected.sort();
        assert_eq!(followers, expected);
        registry.unfollow(s1, &[u]);
        assert_eq!(registry.followers(u), vec![s2]);
        registry.unfollow_all(s2);
        assert!(registry.followers(u).is_empty());
        assert!(registry.inner.read().unwrap().following.is_empty());
    }
}
