//! Token black-list: token ids revoked by logout and per-user "everything issued before" marks.
//!
//! Tokens are stateless JWTs; this is the only state that can make a well-signed, unexpired
//! token invalid. It is per node and in memory, as in Nakama.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

#[derive(Default)]
struct UserEntry {
    /// Revoked token ids with the time (unix seconds) after which the token expires anyway.
    revoked: HashMap<String, i64>,
    /// Tokens issued before this time (unix seconds) are invalid.
    invalid_before: i64,
}

/// Revoked tokens, by user.
#[derive(Default)]
pub struct SessionCache {
    users: Mutex<HashMap<Uuid, UserEntry>>,
}

impl SessionCache {
    pub fn new() -> SessionCache {
        SessionCache::default()
    }

    /// Whether a token with this id, issued at `issued_at`, is still allowed.
    pub fn is_valid(&self, user_id: Uuid, token_id: &str, issued_at: i64) -> bool {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        match users.get(&user_id) {
            None => true,
            Some(entry) => {
                issued_at >= entry.invalid_before && !entry.revoked.contains_key(token_id)
            }
        }
    }

    /// Revokes one token id until `expires_at`, when the token would die anyway.
    pub fn revoke(&self, user_id: Uuid, token_id: &str, expires_at: i64, now: i64) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let entry = users.entry(user_id).or_default();
        entry.revoked.retain(|_, exp| *exp > now);
        entry.revoked.insert(token_id.to_owned(), expires_at);
    }

    /// Invalidates every token of the user issued before `now`.
    pub fn revoke_all(&self, user_id: Uuid, now: i64) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let entry = users.entry(user_id).or_default();
        entry.revoked.clear();
        entry.invalid_before = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_ids_are_rejected_and_others_kept() {
        let cache = SessionCache::new();
        let user = Uuid::new_v4();
        assert!(cache.is_valid(user, "a", 100));
        cache.revoke(user, "a", 200, 100);
        assert!(!cache.is_valid(user, "a", 100));
        assert!(cache.is_valid(user, "b", 100));
        assert!(cache.is_valid(Uuid::new_v4(), "a", 100));
    }

    #[test]
    fn revoke_all_invalidates_older_tokens_only() {
        let cache = SessionCache::new();
        let user = Uuid::new_v4();
        cache.revoke_all(user, 1000);
        assert!(!cache.is_valid(user, "old", 999));
        assert!(cache.is_valid(user, "new", 1000));
    }

    #[test]
    fn expired_revocations_are_pruned() {
        let cache = SessionCache::new();
        let user = Uuid::new_v4();
        cache.revoke(user, "a", 150, 100);
        cache.revoke(user, "b", 400, 200);
        let users = cache.users.lock().unwrap();
        assert_eq!(users[&user].revoked.len(), 1);
    }
}
