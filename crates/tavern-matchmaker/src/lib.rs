//! Nakama's matchmaker as pure, synchronous logic: ticket validation with
//! Nakama's client messages, a pool indexed with `tavern-query`, matching
//! passes following Nakama's default algorithm, and pool statistics.
//!
//! The server drives it: [`Matchmaker::add`] and [`Matchmaker::remove`]
//! from the socket pipeline, [`Matchmaker::remove_session`] when a socket
//! closes, and [`Matchmaker::process`] every `matchmaker.interval_sec`,
//! then sends `matchmaker_matched` to each entry of each returned group.
//!
//! ```
//! use std::collections::HashMap;
//! use tavern_matchmaker::{Config, Matchmaker, Presence, TicketRequest};
//! use uuid::Uuid;
//!
//! let mut mm = Matchmaker::new(Config::default());
//! for name in ["ann", "bob"] {
//!     let presence = Presence {
//!         user_id: Uuid::new_v4(),
//!         session_id: Uuid::new_v4(),
//!         username: name.into(),
//!         node: "tavern".into(),
//!     };
//!     let req = TicketRequest {
//!         presence,
//!         party_id: None,
//!         others: Vec::new(),
//!         min_count: 2,
//!         max_count: 2,
//!         count_multiple: None,
//!         query: "+properties.region:eu".into(),
//!         string_properties: HashMap::from([("region".into(), "eu".into())]),
//!         numeric_properties: HashMap::new(),
//!     };
//!     mm.add(req, 1_700_000_000_000_000_000).unwrap();
//! }
//! let groups = mm.process(1_700_000_015_000_000_000);
//! assert_eq!(groups.len(), 1);
//! assert_eq!(groups[0].len(), 2);
//! assert!(mm.is_empty());
//! ```
//!
//! Party tickets (`party_matchmaker_add`) hold every member: a group's size
//! counts presences, and each member gets an entry when matched. Not
//! supported: Nakama's custom matchmaker functions.

mod config;
mod hits;
mod pool;
mod process;
mod stats;
mod ticket;
mod validate;

pub use config::Config;
pub use pool::Matchmaker;
pub use stats::{Completion, Stats};
pub use ticket::{Entry, Presence, TicketRequest};
pub use validate::{AddError, RemoveError};
