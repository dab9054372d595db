//! The Tavern server as a library: storage, authentication, the REST API, the runtime host and
//! start-up.
//! The `tavern` binary wires it to the command line.

pub mod api;
pub mod auth;
pub mod log_throttle;
pub mod logging;
pub mod matches;
pub mod matchmaking;
pub mod realtime;
pub mod runtime;
pub mod serve;
pub mod server;
pub mod social;
pub mod state;
pub mod storage;
pub mod telemetry;

pub use server::{Server, StartError, shutdown_signal};
