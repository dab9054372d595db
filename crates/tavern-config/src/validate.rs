//! Rules a loaded configuration must satisfy, each error naming its key.
//!
//! Nakama's own start-up checks, plus upper bounds that keep values clear of overflow in time
//! arithmetic and channel sizes. Word-valued keys (`logger.level`, …), `runtime.env` entries and
//! `database.address` entries are already checked while the configuration is read.

use crate::error::ConfigError;
use crate::sections::Config;

/// Upper bound for milliseconds (about 49 days).
const MAX_MS: u64 = u32::MAX as u64;
/// Upper bound for seconds (about 68 years; keeps token expiry times within `i32`/`i64`).
const MAX_SEC: u64 = i32::MAX as u64;
/// Upper bound for queue lengths.
const MAX_QUEUE: u64 = 1 << 24;
/// Upper bound for byte sizes (1 GiB).
const MAX_BYTES: u64 = 1 << 30;
/// Upper bound for runtime instance counts and similar tallies.
const MAX_COUNT: u64 = 1 << 16;

/// Checks `value` is within `min..=max`.
fn range(key: &str, value: impl TryInto<u64>, min: u64, max: u64) -> Result<(), ConfigError> {
    match value.try_into() {
        Ok(value) if (min..=max).contains(&value) => Ok(()),
        Ok(value) => Err(ConfigError::invalid(
            key,
            format!("must be from {min} to {max}, got {value}"),
        )),
        Err(_) => Err(ConfigError::invalid(key, format!("must be at most {max}"))),
    }
}

fn required(key: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        Err(ConfigError::invalid(key, "must be set"))
    } else {
        Ok(())
    }
}

impl Config {
    /// Checks every rule; the first broken one is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name_len = self.name.chars().count();
        if !(1..=16).contains(&name_len) {
            return Err(ConfigError::invalid(
                "name",
                format!("must be 1 to 16 characters, got {name_len}"),
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("data_dir", "must be set"));
        }
        range("shutdown_grace_sec", self.shutdown_grace_sec, 0, MAX_SEC)?;
        self.validate_session()?;
        self.validate_socket()?;
        self.validate_database()?;
        self.validate_runtime()?;
        self.validate_match()?;
        self.validate_matchmaker()?;
        range(
            "tracker.event_queue_size",
            self.tracker.event_queue_size,
            1,
            MAX_QUEUE,
        )?;
        self.validate_metrics()?;
        self.validate_fleet()
    }

    fn validate_session(&self) -> Result<(), ConfigError> {
        let s = &self.session;
        required("session.encryption_key", &s.encryption_key)?;
        required("session.refresh_encryption_key", &s.refresh_encryption_key)?;
        if s.encryption_key == s.refresh_encryption_key {
            return Err(ConfigError::invalid(
                "session.refresh_encryption_key",
                "must differ from session.encryption_key",
            ));
        }
        range("session.token_expiry_sec", s.token_expiry_sec, 1, MAX_SEC)?;
        range(
            "session.refresh_token_expiry_sec",
            s.refresh_token_expiry_sec,
            1,
            MAX_SEC,
        )?;
        if s.single_match && !s.single_socket {
            return Err(ConfigError::invalid(
                "session.single_match",
                "needs session.single_socket",
            ));
        }
        if s.single_party && !s.single_socket {
            return Err(ConfigError::invalid(
                "session.single_party",
                "needs session.single_socket",
            ));
        }
        Ok(())
    }

    fn validate_socket(&self) -> Result<(), ConfigError> {
        let s = &self.socket;
        required("socket.server_key", &s.server_key)?;
        range("socket.port", s.port, 1, 65_535)?;
        for (key, value) in [
            ("socket.max_message_size_bytes", s.max_message_size_bytes),
            ("socket.max_request_size_bytes", s.max_request_size_bytes),
            ("socket.read_buffer_size_bytes", s.read_buffer_size_bytes),
            ("socket.write_buffer_size_bytes", s.write_buffer_size_bytes),
        ] {
            range(key, value, 1, MAX_BYTES)?;
        }
        for (key, value) in [
            ("socket.read_timeout_ms", s.read_timeout_ms),
            ("socket.write_timeout_ms", s.write_timeout_ms),
            ("socket.idle_timeout_ms", s.idle_timeout_ms),
            ("socket.write_wait_ms", s.write_wait_ms),
            ("socket.pong_wait_ms", s.pong_wait_ms),
            ("socket.ping_period_ms", s.ping_period_ms),
            ("socket.close_ack_wait_ms", s.close_ack_wait_ms),
        ] {
            range(key, value, 1, MAX_MS)?;
        }
        if s.ping_period_ms >= s.pong_wait_ms {
            return Err(ConfigError::invalid(
                "socket.ping_period_ms",
                format!(
                    "must be less than socket.pong_wait_ms ({}), got {}",
                    s.pong_wait_ms, s.ping_period_ms
                ),
            ));
        }
        range(
            "socket.ping_backoff_threshold",
            s.ping_backoff_threshold,
            0,
            MAX_QUEUE,
        )?;
        range(
            "socket.outgoing_queue_size",
            s.outgoing_queue_size,
            1,
            MAX_QUEUE,
        )?;
        range(
            "socket.max_inbound_messages_per_sec",
            s.max_inbound_messages_per_sec,
            0,
            1_000_000,
        )?;
        match (s.ssl_certificate.is_empty(), s.ssl_private_key.is_empty()) {
            (false, true) => {
                return Err(ConfigError::invalid(
                    "socket.ssl_private_key",
                    "must be set when socket.ssl_certificate is",
                ));
            }
            (true, false) => {
                return Err(ConfigError::invalid(
                    "socket.ssl_certificate",
                    "must be set when socket.ssl_private_key is",
                ));
            }
            _ => {}
        }
        for header in &s.response_headers {
            if !matches!(header.split_once('='), Some((name, _)) if !name.is_empty()) {
                return Err(ConfigError::invalid(
                    "socket.response_headers",
                    format!("invalid value {header:?}, expected Name=Value"),
                ));
            }
        }
        Ok(())
    }

    fn validate_database(&self) -> Result<(), ConfigError> {
        let d = &self.database;
        range(
            "database.conn_max_lifetime_ms",
            d.conn_max_lifetime_ms,
            0,
            MAX_MS,
        )?;
        range("database.max_open_conns", d.max_open_conns, 1, MAX_COUNT)?;
        range("database.max_idle_conns", d.max_idle_conns, 0, MAX_COUNT)
    }

    fn validate_runtime(&self) -> Result<(), ConfigError> {
        let r = &self.runtime;
        required("runtime.http_key", &r.http_key)?;
        range("runtime.lua_max_count", r.lua_max_count, 1, MAX_COUNT)?;
        if r.lua_min_count > r.lua_max_count {
            return Err(ConfigError::invalid(
                "runtime.lua_min_count",
                format!(
                    "must not exceed runtime.lua_max_count ({}), got {}",
                    r.lua_max_count, r.lua_min_count
                ),
            ));
        }
        range(
            "runtime.lua_call_stack_size",
            r.lua_call_stack_size,
            1,
            MAX_QUEUE,
        )?;
        range(
            "runtime.lua_registry_size",
            r.lua_registry_size,
            128,
            MAX_QUEUE,
        )?;
        range("runtime.lua_match_threads", r.lua_match_threads, 0, 1024)?;
        range("runtime.js_max_count", r.js_max_count, 1, MAX_COUNT)?;
        if r.js_min_count > r.js_max_count {
            return Err(ConfigError::invalid(
                "runtime.js_min_count",
                format!(
                    "must not exceed runtime.js_max_count ({}), got {}",
                    r.js_max_count, r.js_min_count
                ),
            ));
        }
        if !r.js_entrypoint.is_empty() && !r.js_entrypoint.ends_with(".js") {
            return Err(ConfigError::invalid(
                "runtime.js_entrypoint",
                format!("must name a .js file, got {:?}", r.js_entrypoint),
            ));
        }
        Ok(())
    }

    fn validate_match(&self) -> Result<(), ConfigError> {
        let m = &self.match_;
        for (key, value) in [
            ("match.input_queue_size", m.input_queue_size),
            ("match.call_queue_size", m.call_queue_size),
            ("match.signal_queue_size", m.signal_queue_size),
            ("match.join_attempt_queue_size", m.join_attempt_queue_size),
            ("match.deferred_queue_size", m.deferred_queue_size),
        ] {
            range(key, value, 1, MAX_QUEUE)?;
        }
        range(
            "match.join_marker_deadline_ms",
            m.join_marker_deadline_ms,
            1,
            MAX_MS,
        )?;
        range("match.max_empty_sec", m.max_empty_sec, 0, MAX_SEC)?;
        range(
            "match.label_update_interval_ms",
            m.label_update_interval_ms,
            1,
            MAX_MS,
        )
    }

    fn validate_matchmaker(&self) -> Result<(), ConfigError> {
        let m = &self.matchmaker;
        range("matchmaker.max_tickets", m.max_tickets, 1, MAX_COUNT)?;
        range("matchmaker.interval_sec", m.interval_sec, 1, MAX_SEC)?;
        range("matchmaker.max_intervals", m.max_intervals, 1, MAX_COUNT)?;
        range("matchmaker.rev_threshold", m.rev_threshold, 0, MAX_COUNT)
    }

    fn validate_metrics(&self) -> Result<(), ConfigError> {
        let m = &self.metrics;
        if m.prometheus_port != 0 && m.prometheus_port == self.socket.port {
            return Err(ConfigError::invalid(
                "metrics.prometheus_port",
                format!("must differ from socket.port ({})", self.socket.port),
            ));
        }
        range(
            "metrics.reporting_freq_sec",
            m.reporting_freq_sec,
            1,
            MAX_SEC,
        )
    }

    fn validate_fleet(&self) -> Result<(), ConfigError> {
        let odin = &self.fleet.odin;
        if !odin.app_id.is_empty() && !matches!(odin.app_id.parse::<i32>(), Ok(id) if id > 0) {
            return Err(ConfigError::invalid(
                "fleet.odin.app_id",
                format!(
                    "invalid value {:?}, expected a positive integer (or empty for off)",
                    odin.app_id
                ),
            ));
        }
        if !odin.app_id.is_empty() && odin.api_token.trim().is_empty() {
            return Err(ConfigError::invalid(
                "fleet.odin.api_token",
                "must be set when fleet.odin.app_id is (or set ODIN_API_TOKEN)",
            ));
        }
        if odin.port_name.trim().is_empty() {
            return Err(ConfigError::invalid(
                "fleet.odin.port_name",
                "must name the server port players connect to",
            ));
        }
        if !(odin.api_url.starts_with("https://") || odin.api_url.starts_with("http://")) {
            return Err(ConfigError::invalid(
                "fleet.odin.api_url",
                format!(
                    "invalid value {:?}, expected an http:// or https:// URL",
                    odin.api_url
                ),
            ));
        }
        Ok(())
    }
}
