//! ODIN Fleet (4Players) for Tavern: a typed client of the ODIN Fleet REST API
//! ([`OdinClient`]) and a fleet manager over an ODIN app's servers ([`OdinFleetManager`]),
//! implementing the runtime's [`FleetManager`](tavern_runtime::FleetManager).
//!
//! docs/FLEET.md describes the wiring, each method, and where this adapter differs from
//! 4Players' reference Nakama integration.

mod client;
mod conversion;
mod list_query;
mod manager;
mod metadata_filter;
pub mod model;
mod tls;

pub use client::{DEFAULT_API_URL, OdinClient, OdinError, RetryPolicy};
pub use conversion::{PLAYER_COUNT_KEY, Unreachable, connection_info, instance_info};
pub use list_query::ListQuery;
pub use manager::{
    CLAIM_KEY, CLAIM_UNTIL_KEY, MAX_PLAYERS_KEY, OdinFleetManager, OdinSettings, STATE_ALLOCATED,
    STATE_IDLE, STATE_KEY,
};
pub use metadata_filter::metadata_filter;
