//! Nakama's configuration keys that Tavern does not implement: setting one, in a file or as a
//! flag, stops the start (exit 2) with a message naming the key and saying it is not supported,
//! instead of the key being ignored in silence.
//!
//! **When you implement one of these keys, add it to `sections.rs` and delete its line here.**
//! Keys of Nakama 3.15 (`server/config.go`) and a few later ones clients' configurations carry.

/// Every Nakama key Tavern refuses, as a dotted key.
pub(crate) const NOT_SUPPORTED: &[&str] = &[
    // logger: file rotation
    "logger.rotation",
    "logger.max_size",
    "logger.max_age",
    "logger.max_backups",
    "logger.local_time",
    "logger.compress",
    // metrics: Tavern's metric names are its own (docs/OBSERVABILITY.md)
    "metrics.namespace",
    "metrics.prefix",
    "metrics.custom_prefix",
    // socket
    "socket.proxy_count",
    // database
    "database.dns_scan_interval_sec",
    // social: third-party login checks
    "social.steam.publisher_key",
    "social.steam.app_id",
    "social.facebook_instant_game.app_secret",
    "social.facebook_limited_login.app_id",
    "social.apple.bundle_id",
    // runtime: frozen JavaScript globals, the event queue, and the pre-3.0 spellings of lua_* keys
    "runtime.js_read_only_globals",
    "runtime.event_queue_size",
    "runtime.event_queue_workers",
    "runtime.min_count",
    "runtime.max_count",
    "runtime.call_stack_size",
    "runtime.registry_size",
    "runtime.read_only_globals",
    // console
    "console.port",
    "console.address",
    "console.max_message_size_bytes",
    "console.read_timeout_ms",
    "console.write_timeout_ms",
    "console.idle_timeout_ms",
    "console.username",
    "console.password",
    "console.token_expiry_sec",
    "console.signing_key",
    // leaderboards
    "leaderboard.blacklist_rank_cache",
    "leaderboard.callback_queue_size",
    "leaderboard.callback_queue_workers",
    // matchmaker
    "matchmaker.batch_pool_size",
    // in-app purchases
    "iap.apple.shared_password",
    "iap.apple.notifications_endpoint_id",
    "iap.google.client_email",
    "iap.google.private_key",
    "iap.google.notifications_endpoint_id",
    "iap.google.refund_check_period_min",
    "iap.google.package_name",
    "iap.huawei.public_key",
    "iap.huawei.client_id",
    "iap.huawei.client_secret",
];

/// Whether `key` is a Nakama key Tavern refuses.
pub(crate) fn is_not_supported(key: &str) -> bool {
    NOT_SUPPORTED.contains(&key)
}

/// Whether some refused key lies under `section` (`console` for `console.port`).
pub(crate) fn has_keys_under(section: &str) -> bool {
    NOT_SUPPORTED.iter().any(|key| {
        key.strip_prefix(section)
            .is_some_and(|rest| rest.starts_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_sections() {
        assert!(is_not_supported("console.port"));
        assert!(!is_not_supported("console"));
        assert!(has_keys_under("console"));
        assert!(has_keys_under("social.steam"));
        assert!(!has_keys_under("cons"));
        assert!(!has_keys_under("socket.port"));
    }

    #[test]
    fn no_listed_key_is_one_tavern_has() {
        let defaults = serde_json::to_value(crate::Config::default()).unwrap();
        for key in NOT_SUPPORTED {
            assert!(
                crate::overlay::lookup(&defaults, key).is_none(),
                "{key} is implemented: delete it from NOT_SUPPORTED"
            );
        }
    }

    #[test]
    fn no_key_is_listed_twice() {
        let mut keys = NOT_SUPPORTED.to_vec();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), NOT_SUPPORTED.len());
    }
}
