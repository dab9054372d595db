//! Command-line interface: the target server options shared by every scenario, and one
//! subcommand per scenario with its own bounded parameters.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

/// Load generator speaking Nakama's client protocol (REST + realtime socket).
///
/// Only loopback targets are accepted: 127.0.0.0/8, ::1 and localhost.
#[derive(Debug, Parser)]
#[command(name = "tavern-bench", version)]
pub struct Cli {
    #[command(flatten)]
    pub target: Target,
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// Where the server is and how to reach it; common to all scenarios.
#[derive(Debug, Args, Serialize)]
pub struct Target {
    /// Server host: 127.0.0.0/8, ::1 or localhost.
    #[arg(long, global = true, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port (REST and socket share it, like Nakama's 7350).
    #[arg(long, global = true, default_value_t = 7350)]
    pub port: u16,
    /// Server key sent as HTTP Basic user name on authenticate calls.
    #[arg(long, global = true, default_value = "defaultkey")]
    #[serde(skip)]
    pub server_key: String,
    /// Process id of the server, to sample its CPU time and RSS from /proc.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Write the result as JSON to this file.
    #[arg(long, global = true)]
    #[serde(skip)]
    pub json: Option<PathBuf>,
    /// Seconds between progress lines on stderr.
    #[arg(long, global = true, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    #[serde(skip)]
    pub progress_secs: u64,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
pub enum Scenario {
    /// Device authentication throughput: new accounts or logins of existing ones.
    Auth(AuthArgs),
    /// Open N sockets, hold them idle, report server memory per socket.
    Ccu(CcuArgs),
    /// M relayed 2-player matches exchanging match_data_send; delivery latency.
    Relay(RelayArgs),
    /// M authoritative 2-player matches created through an RPC; the loop echoes each
    /// message back; round-trip latency.
    Echo(EchoArgs),
    /// N clients add 2-player matchmaker tickets; time from add to `matchmaker_matched`.
    Matchmake(MatchmakeArgs),
    /// Creates idle authoritative matches through an RPC and reads the server's tick
    /// lateness from its Prometheus endpoint.
    Idle(IdleArgs),
    /// Idle Lua matches: `idle` with the Lua module `crates/tavern-bench/lua/bench_match.lua`
    /// (2,000 matches at 10 Hz by default); reports server CPU and memory per match, and the
    /// tick lateness when `--metrics-port` is given.
    LuaIdle(LuaIdleArgs),
    /// Lua echo: `echo` with the Lua module `crates/tavern-bench/lua/bench_match.lua` (250
    /// 2-player matches at 10 Hz, each player sending op code 1 ten times a second, by default).
    LuaEcho(LuaEchoArgs),
    /// Storage object writes or reads per second: one object per user, every user in one
    /// collection.
    Storage(StorageArgs),
    /// Chat rooms: N users in rooms of K, each sending R channel messages a second (stored in
    /// the history or not); delivery latency of every copy a member receives.
    Chat(ChatArgs),
}

/// Parameters of `chat`.
#[derive(Debug, Args, Serialize)]
pub struct ChatArgs {
    /// Users, each with one socket and one account.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub users: u64,
    /// Users per room (the last room may have fewer).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub room_size: u64,
    /// channel_message_send messages per second sent by each user.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub rate: u64,
    /// Whether messages are kept in the channel history (joins with `persistence`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub persist: bool,
    /// Measurement time in seconds (sending phase).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Socket encoding.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Socket openings per second during setup.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub open_rate: u64,
    /// Concurrent HTTP clients creating the accounts beforehand.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub auth_clients: u64,
}

/// What each request of the `storage` scenario does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageOp {
    /// `PUT /v2/storage` of a new object (a new key, version `*`): an insert, like a new
    /// account.
    Create,
    /// `PUT /v2/storage` over the user's object without a version: an unconditional update.
    Write,
    /// `PUT /v2/storage` over the user's object with the version it last got back: an
    /// update with a version check (each user has one writer, so checks never fail).
    Update,
    /// `POST /v2/storage` reading the user's object.
    Read,
}

/// Which accounts the `auth` scenario authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Accounts {
    /// Every request uses a fresh device id, so every request creates an account.
    New,
    /// A pool of accounts is created first (not measured); the run measures logins.
    Existing,
}

/// Realtime socket encoding (`?format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Text frames carrying JSON envelopes.
    Json,
    /// Binary frames carrying protobuf envelopes.
    Protobuf,
}

impl Format {
    /// The value of the `format` query parameter.
    pub fn query_value(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Protobuf => "protobuf",
        }
    }
}

/// Parameters of `auth`.
#[derive(Debug, Args, Serialize)]
pub struct AuthArgs {
    /// New accounts, or logins of pre-created accounts.
    #[arg(long, value_enum, default_value_t = Accounts::New)]
    pub accounts: Accounts,
    /// Concurrent clients, each on its own keep-alive HTTP/1.1 connection.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub clients: u64,
    /// Measurement time in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Stop after this many requests even if time remains.
    #[arg(long, default_value_t = 5_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_requests: u64,
    /// With `--accounts existing`: how many accounts to pre-create and log in round-robin.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub pool: u64,
}

/// Parameters of `ccu`.
#[derive(Debug, Args, Serialize)]
pub struct CcuArgs {
    /// Sockets to open, each with its own device account.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub sockets: u64,
    /// Seconds to hold the sockets once all are open.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Socket encoding.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Socket openings per second.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub open_rate: u64,
    /// Concurrent HTTP clients creating the accounts beforehand.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub auth_clients: u64,
}

/// Parameters of `relay`.
#[derive(Debug, Args, Serialize)]
pub struct RelayArgs {
    /// Relayed 2-player matches (2 sockets and 2 accounts each).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub matches: u64,
    /// match_data_send messages per second sent by each player.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub rate: u64,
    /// Measurement time in seconds (sending phase).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Bytes of payload per message (at least the 16-byte timestamp header).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(16..=3000))]
    pub payload: u64,
    /// Socket encoding.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Socket openings per second during setup.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub open_rate: u64,
    /// Concurrent HTTP clients creating the accounts beforehand.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub auth_clients: u64,
}

/// Parameters of `echo`.
#[derive(Debug, Args, Serialize)]
pub struct EchoArgs {
    /// Authoritative 2-player matches (2 sockets and 2 accounts each).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub matches: u64,
    /// match_data_send messages per second sent by each player.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub rate: u64,
    /// Measurement time in seconds (sending phase).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Bytes of payload per message (at least the 16-byte timestamp header).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(16..=3000))]
    pub payload: u64,
    /// Socket encoding.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Socket openings per second during setup.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub open_rate: u64,
    /// Concurrent HTTP clients creating the accounts beforehand.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub auth_clients: u64,
    /// RPC creating one match and answering `{"match_id": "..."}`.
    #[arg(long, default_value = "create_echo_match")]
    pub rpc: String,
    /// Payload of that RPC (for the bundled echo match: `{"tick_rate": 1..60}`).
    #[arg(long, default_value = "{}")]
    pub rpc_payload: String,
    /// Op code of the messages: the bundled echo match sends op 1 back to both players and
    /// op 2 to the sender only. Only a player's own messages count as round trips.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i64).range(0..=i64::MAX))]
    pub op_code: i64,
}

/// Parameters of `matchmake`.
#[derive(Debug, Args, Serialize)]
pub struct MatchmakeArgs {
    /// Clients, each adding one ticket (an even number pairs everyone).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(2..=100_000))]
    pub clients: u64,
    /// Ticket additions per second.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub add_rate: u64,
    /// Ticket `min_count`.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i32).range(2..=256))]
    pub min_count: i32,
    /// Ticket `max_count`.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i32).range(2..=256))]
    pub max_count: i32,
    /// Ticket query.
    #[arg(long, default_value = "*")]
    pub query: String,
    /// Seconds each client waits for its match after adding its ticket.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Socket encoding.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Socket openings per second during setup.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub open_rate: u64,
    /// Concurrent HTTP clients creating the accounts beforehand.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub auth_clients: u64,
}

/// Parameters of `idle`.
#[derive(Debug, Args, Serialize)]
pub struct IdleArgs {
    /// Idle matches to create.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=200_000))]
    pub matches: u64,
    /// Their tick rate.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub tick_rate: u64,
    /// Matches created per RPC call.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch: u64,
    /// RPC creating `count` matches from the payload `{"count": n, "tick_rate": r}`.
    #[arg(long, default_value = "create_idle_matches")]
    pub rpc: String,
    /// Seconds to wait after creating them before measuring.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub settle: u64,
    /// Measurement time in seconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Port of the server's Prometheus endpoint (`metrics.prometheus_port`), scraped at the
    /// start and end of the measurement for the tick lateness histogram.
    #[arg(long, default_value_t = 9100)]
    pub metrics_port: u16,
}

/// The RPC of `crates/tavern-bench/lua/bench_match.lua` creating one match.
pub const BENCH_MATCH_CREATE: &str = "bench_match_create";
/// The RPC of `crates/tavern-bench/lua/bench_match.lua` creating up to 1,000 matches a call.
pub const BENCH_MATCH_CREATE_MANY: &str = "bench_match_create_many";

/// Parameters of `lua-idle`.
#[derive(Debug, Args, Serialize)]
pub struct LuaIdleArgs {
    /// Idle Lua matches to create.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=200_000))]
    pub matches: u64,
    /// Their tick rate.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub tick_rate: u64,
    /// Seconds to wait after creating them before measuring.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub settle: u64,
    /// Measurement time in seconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Port of Tavern's Prometheus endpoint, for the tick lateness; without it only CPU and
    /// memory are measured (so the scenario runs against any Nakama-compatible server).
    #[arg(long)]
    pub metrics_port: Option<u16>,
}

impl LuaIdleArgs {
    /// The `idle` scenario these parameters stand for.
    pub fn idle(&self) -> IdleArgs {
        IdleArgs {
            matches: self.matches,
            tick_rate: self.tick_rate,
            batch: 100,
            rpc: BENCH_MATCH_CREATE_MANY.to_owned(),
            settle: self.settle,
            duration: self.duration,
            metrics_port: 0,
        }
    }
}

/// Parameters of `lua-echo`.
#[derive(Debug, Args, Serialize)]
pub struct LuaEchoArgs {
    /// Lua matches, 2 players each.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub matches: u64,
    /// Messages per second sent by each player.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub rate: u64,
    /// The matches' tick rate.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub tick_rate: u64,
    /// Measurement time in seconds (sending phase).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Bytes of payload per message (at least the 16-byte timestamp header).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(16..=3000))]
    pub payload: u64,
    /// Socket encoding.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Socket openings per second during setup.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub open_rate: u64,
}

impl LuaEchoArgs {
    /// The `echo` scenario these parameters stand for: op code 1, which the bench match sends
    /// back to its sender.
    pub fn echo(&self) -> EchoArgs {
        EchoArgs {
            matches: self.matches,
            rate: self.rate,
            duration: self.duration,
            payload: self.payload,
            format: self.format,
            open_rate: self.open_rate,
            auth_clients: 32,
            rpc: BENCH_MATCH_CREATE.to_owned(),
            rpc_payload: format!("{{\"tick_rate\":{}}}", self.tick_rate),
            op_code: 1,
        }
    }
}

/// Parameters of `storage`.
#[derive(Debug, Args, Serialize)]
pub struct StorageArgs {
    /// What each request does.
    #[arg(long, value_enum, default_value_t = StorageOp::Write)]
    pub op: StorageOp,
    /// Users (device accounts created beforehand, not measured), each with one object in the
    /// collection, written before the run except for `--op create`.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub users: u64,
    /// Concurrent clients, each on its own keep-alive HTTP/1.1 connection, each serving its
    /// own share of the users.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub clients: u64,
    /// Measurement time in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Stop after this many requests even if time remains.
    #[arg(long, default_value_t = 5_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub max_requests: u64,
    /// Bytes of each object's value (a JSON object with a counter and padding).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(32..=65_536))]
    pub value_bytes: u64,
}
