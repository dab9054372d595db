//! The typed configuration: one struct per Nakama section, with Nakama's key names and defaults.
//!
//! Field names are the YAML keys and, joined with dots, the command-line flags (`socket.port` is
//! `--socket.port`). Numbers use the type their consumers want: ports are `u16`, byte sizes and
//! queue lengths `usize`, durations (`*_ms`, `*_sec`) `u64`, counts `u32`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::choices::{LogFormat, LogLevel, SocketProtocol};
use crate::database_address::DatabaseAddress;

/// The whole server configuration.
///
/// `Config::default()` holds the built-in defaults as written, so `runtime.path` is empty there;
/// [`crate::load`] replaces an empty `runtime.path` with `<data_dir>/modules` and validates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Node name, 1 to 16 characters; part of authoritative match ids (`<uuid>.<name>`).
    pub name: String,
    /// Writable folder for the embedded database and, by default, runtime modules.
    pub data_dir: PathBuf,
    /// Seconds to wait for work to finish after a termination signal; 0 stops at once.
    pub shutdown_grace_sec: u64,
    pub logger: Logger,
    pub session: Session,
    pub socket: Socket,
    pub database: Database,
    pub runtime: Runtime,
    #[serde(rename = "match")]
    pub match_: Match,
    pub matchmaker: Matchmaker,
    pub tracker: Tracker,
    pub metrics: Metrics,
    pub fleet: Fleet,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: "nakama".to_owned(),
            data_dir: PathBuf::from("./data"),
            shutdown_grace_sec: 0,
            logger: Logger::default(),
            session: Session::default(),
            socket: Socket::default(),
            database: Database::default(),
            runtime: Runtime::default(),
            match_: Match::default(),
            matchmaker: Matchmaker::default(),
            tracker: Tracker::default(),
            metrics: Metrics::default(),
            fleet: Fleet::default(),
        }
    }
}

/// `logger.*`: log level and output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Logger {
    /// `debug`, `info`, `warn` or `error` (any letter case).
    pub level: LogLevel,
    /// `json` or `stackdriver` (any letter case; empty means `json`).
    pub format: LogFormat,
    /// Write logs to standard output.
    pub stdout: bool,
    /// Also write logs to this file; empty means no file.
    pub file: String,
}

impl Default for Logger {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            format: LogFormat::Json,
            stdout: true,
            file: String::new(),
        }
    }
}

/// `session.*`: session and refresh tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Session {
    /// HMAC key of session tokens (and of matchmaker tokens).
    pub encryption_key: String,
    pub token_expiry_sec: u64,
    /// HMAC key of refresh tokens; must differ from `encryption_key`.
    pub refresh_encryption_key: String,
    pub refresh_token_expiry_sec: u64,
    /// One socket per user; older sockets are closed.
    pub single_socket: bool,
    /// One match per user; needs `single_socket`.
    pub single_match: bool,
    /// One party per user; needs `single_socket`.
    pub single_party: bool,
    /// One session token per user; older tokens stop working.
    pub single_session: bool,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            encryption_key: "defaultencryptionkey".to_owned(),
            token_expiry_sec: 60,
            refresh_encryption_key: "defaultrefreshencryptionkey".to_owned(),
            refresh_token_expiry_sec: 3600,
            single_socket: false,
            single_match: false,
            single_party: false,
            single_session: false,
        }
    }
}

/// `socket.*`: the client listener (REST and realtime).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Socket {
    /// The key clients send as the Basic-auth user name when authenticating.
    pub server_key: String,
    pub port: u16,
    /// Interface address to listen on; empty means every interface.
    pub address: String,
    /// `tcp` (IPv4 and IPv6), `tcp4` or `tcp6`.
    pub protocol: SocketProtocol,
    /// Largest realtime message accepted from a client.
    pub max_message_size_bytes: usize,
    /// Largest REST request body accepted.
    pub max_request_size_bytes: usize,
    pub read_buffer_size_bytes: usize,
    pub write_buffer_size_bytes: usize,
    pub read_timeout_ms: u64,
    pub write_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub write_wait_ms: u64,
    pub pong_wait_ms: u64,
    /// Must be less than `pong_wait_ms`.
    pub ping_period_ms: u64,
    /// Messages received in one ping period that make the next ping unnecessary.
    pub ping_backoff_threshold: u32,
    /// Messages queued for one client before it is considered too slow and disconnected.
    pub outgoing_queue_size: usize,
    /// Tavern's own key: realtime messages one socket may send per second (sustained, with a
    /// burst of as many) before it is closed for flooding; 0: no limit.
    pub max_inbound_messages_per_sec: u32,
    pub close_ack_wait_ms: u64,
    /// Certificate file for direct TLS; needs `ssl_private_key`.
    pub ssl_certificate: String,
    /// Private key file for direct TLS; needs `ssl_certificate`.
    pub ssl_private_key: String,
    /// Extra response headers, each `Name=Value`.
    pub response_headers: Vec<String>,
}

impl Default for Socket {
    fn default() -> Self {
        Self {
            server_key: "defaultkey".to_owned(),
            port: 7350,
            address: String::new(),
            protocol: SocketProtocol::Tcp,
            max_message_size_bytes: 4096,
            max_request_size_bytes: 262_144,
            read_buffer_size_bytes: 4096,
            write_buffer_size_bytes: 4096,
            read_timeout_ms: 10_000,
            write_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            write_wait_ms: 5000,
            pong_wait_ms: 25_000,
            ping_period_ms: 15_000,
            ping_backoff_threshold: 20,
            outgoing_queue_size: 64,
            max_inbound_messages_per_sec: 240,
            close_ack_wait_ms: 2000,
            ssl_certificate: String::new(),
            ssl_private_key: String::new(),
            response_headers: Vec::new(),
        }
    }
}

impl Socket {
    /// `response_headers` split into `(name, value)` pairs (validated to contain `=`).
    pub fn response_header_pairs(&self) -> Vec<(&str, &str)> {
        self.response_headers
            .iter()
            .filter_map(|header| header.split_once('='))
            .collect()
    }
}

/// `database.*`: where accounts and game data live.
///
/// Tavern's one deliberate departure from Nakama's defaults: `address` defaults to an empty list,
/// meaning an embedded SQLite database under `data_dir`, so the server starts with no set-up.
/// Nakama defaults to `root@localhost:26257` (CockroachDB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    /// PostgreSQL servers (`postgres://…` or Nakama's `user:pass@host:port/db`); the first is
    /// used. Empty means embedded SQLite.
    pub address: Vec<DatabaseAddress>,
    /// Milliseconds a connection is reused before it is replaced; 0 means no limit.
    pub conn_max_lifetime_ms: u64,
    pub max_open_conns: u32,
    pub max_idle_conns: u32,
}

impl Default for Database {
    fn default() -> Self {
        Self {
            address: Vec::new(),
            conn_max_lifetime_ms: 3_600_000,
            max_open_conns: 100,
            max_idle_conns: 100,
        }
    }
}

/// `runtime.*`: server-side game code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Runtime {
    /// Values passed to game code. Written as a list of `KEY=VALUE` strings (YAML list or
    /// repeated `--runtime.env` flags); entries from every file and flag are merged, later
    /// ones winning for the same key.
    #[serde(with = "crate::runtime_env")]
    pub env: BTreeMap<String, String>,
    /// Folder scanned for modules; after loading, empty becomes `<data_dir>/modules`.
    pub path: PathBuf,
    /// Tavern's own key: the example and test modules bundled with the binary to load, by name
    /// (`echo`, `custom_id_guard`, ...), or `*` for all of them. Empty (the default): none, so a
    /// plain start behaves as Nakama with no modules.
    pub bundled_modules: Vec<String>,
    /// Key for calling RPCs over HTTP without a session (`?http_key=`).
    pub http_key: String,
    pub lua_min_count: usize,
    pub lua_max_count: usize,
    pub lua_call_stack_size: usize,
    pub lua_registry_size: usize,
    pub lua_read_only_globals: bool,
    /// Include the Lua stack trace in errors returned to clients.
    pub lua_api_stacktrace: bool,
    /// Megabytes one Lua VM (one per match, one per pooled runtime) may allocate; 0: no limit.
    pub lua_memory_limit_mb: usize,
    /// Lua instructions one call (an RPC, a hook, one match callback) may run before it is
    /// stopped with an error; 0: no limit.
    pub lua_instruction_budget: u64,
    /// Threads that run Lua match callbacks, shared by every Lua match; 0: one per CPU.
    pub lua_match_threads: usize,
    /// The JavaScript entry file under `path`; empty: `index.js` when it exists.
    pub js_entrypoint: String,
    pub js_min_count: usize,
    pub js_max_count: usize,
    /// Megabytes one JavaScript VM (one per match, one per pooled runtime) may allocate; 0: no
    /// limit.
    pub js_memory_limit_mb: usize,
    /// JavaScript work one call (an RPC, a hook, one match callback) may do before it is
    /// stopped with an error, in jumps and calls; 0: no limit.
    pub js_instruction_budget: u64,
}

impl Default for Runtime {
    fn default() -> Self {
        Self {
            env: BTreeMap::new(),
            path: PathBuf::new(),
            bundled_modules: Vec::new(),
            http_key: "defaulthttpkey".to_owned(),
            lua_min_count: 16,
            lua_max_count: 48,
            lua_call_stack_size: 128,
            lua_registry_size: 512,
            lua_read_only_globals: true,
            lua_api_stacktrace: false,
            lua_memory_limit_mb: 32,
            lua_instruction_budget: 50_000_000,
            lua_match_threads: 0,
            js_entrypoint: String::new(),
            js_min_count: 16,
            js_max_count: 32,
            js_memory_limit_mb: 32,
            js_instruction_budget: 50_000_000,
        }
    }
}

/// `match.*`: authoritative matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Match {
    pub input_queue_size: usize,
    pub call_queue_size: usize,
    pub signal_queue_size: usize,
    pub join_attempt_queue_size: usize,
    pub deferred_queue_size: usize,
    pub join_marker_deadline_ms: u64,
    /// Seconds a match may stay empty before it is stopped; 0 means never.
    pub max_empty_sec: u64,
    pub label_update_interval_ms: u64,
}

impl Default for Match {
    fn default() -> Self {
        Self {
            input_queue_size: 128,
            call_queue_size: 128,
            signal_queue_size: 10,
            join_attempt_queue_size: 128,
            deferred_queue_size: 128,
            join_marker_deadline_ms: 15_000,
            max_empty_sec: 0,
            label_update_interval_ms: 1000,
        }
    }
}

/// `matchmaker.*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Matchmaker {
    /// Tickets one session or party may hold at once.
    pub max_tickets: u32,
    pub interval_sec: u64,
    /// Passes at the full count before a ticket settles for fewer players.
    pub max_intervals: u32,
    /// Each ticket's query must accept the others too (both directions). On by default, unlike
    /// Nakama, so a ticket asking for ranked players never lands among casual ones.
    pub rev_precision: bool,
    pub rev_threshold: u32,
}

impl Default for Matchmaker {
    fn default() -> Self {
        Self {
            max_tickets: 3,
            interval_sec: 15,
            max_intervals: 2,
            rev_precision: true,
            rev_threshold: 1,
        }
    }
}

/// `tracker.*`: presence tracking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tracker {
    pub event_queue_size: usize,
}

impl Default for Tracker {
    fn default() -> Self {
        Self {
            event_queue_size: 1024,
        }
    }
}

/// `metrics.*`: Prometheus export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// Port of the Prometheus endpoint; 0 turns it off.
    pub prometheus_port: u16,
    pub reporting_freq_sec: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            prometheus_port: 0,
            reporting_freq_sec: 60,
        }
    }
}

/// `fleet.*`: fleet managers (Tavern's own section; Nakama configures these in code).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fleet {
    pub odin: Odin,
}

/// `fleet.odin.*`: the 4Players ODIN Fleet adapter, on only when `app_id` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Odin {
    /// Numeric ODIN Fleet app id; empty turns the adapter off.
    pub app_id: String,
    /// API key sent as `Authorization: Bearer …`; required when `app_id` is set.
    pub api_token: String,
    pub api_url: String,
    /// The server port players connect to: its published port is the instance's port.
    pub port_name: String,
}

impl Default for Odin {
    fn default() -> Self {
        Self {
            app_id: String::new(),
            api_token: String::new(),
            api_url: "https://fleet.4players.io/api".to_owned(),
            port_name: "game_port".to_owned(),
        }
    }
}
