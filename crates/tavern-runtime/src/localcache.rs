//! The node-local cache game code keeps values in between calls (`localcache_get`/`put`/
//! `delete`/`clear` in Nakama's runtimes): JSON values by key, each with an optional time to
//! live. Shared by every runtime of the node (Rust, Lua, JavaScript); not shared between nodes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Expired entries are swept on a put once this many puts have happened since the last sweep.
const SWEEP_EVERY: u32 = 1024;

#[derive(Default)]
pub struct LocalCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, (serde_json::Value, Option<Instant>)>,
    puts_since_sweep: u32,
}

impl LocalCache {
    /// The value under `key`, unless absent or expired.
    pub fn get(&self, key: &str) -> Option<serde_json::Value> {
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some((_, Some(expiry))) if *expiry <= Instant::now() => {
                inner.entries.remove(key);
                None
            }
            Some((value, _)) => Some(value.clone()),
            None => None,
        }
    }

    /// Stores `value` under `key`, for `ttl` if given (else until deleted or cleared).
    pub fn put(&self, key: &str, value: serde_json::Value, ttl: Option<Duration>) {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.puts_since_sweep += 1;
        if inner.puts_since_sweep >= SWEEP_EVERY {
            inner.puts_since_sweep = 0;
            inner
                .entries
                .retain(|_, (_, expiry)| expiry.is_none_or(|e| e > now));
        }
        let expiry = ttl.and_then(|t| now.checked_add(t));
        inner.entries.insert(key.to_owned(), (value, expiry));
    }

    /// Removes `key`.
    pub fn delete(&self, key: &str) {
        self.lock().entries.remove(key);
    }

    /// Removes every entry.
    pub fn clear(&self) {
        self.lock().entries.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for LocalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCache")
            .field("entries", &self.lock().entries.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_clear() {
        let cache = LocalCache::default();
        cache.put("a", 1.into(), None);
        cache.put("b", 2.into(), Some(Duration::ZERO));
        assert_eq!(cache.get("a"), Some(1.into()));
        assert_eq!(cache.get("b"), None);
        cache.delete("a");
        assert_eq!(cache.get("a"), None);
        cache.put("c", 3.into(), Some(Duration::from_secs(60)));
        cache.clear();
        assert_eq!(cache.get("c"), None);
    }
}
