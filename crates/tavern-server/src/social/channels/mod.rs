//! Chat channels: rooms, direct messages and group channels, and their persisted messages.
//!
//! A channel is a stream of the one presence layer (`realtime/tracker.rs`): its members are the
//! sessions tracked on it, and every message goes to them through the tracker.
//!
//! - `write.rs`: the one path that writes a message into a channel (send, update, remove, and
//!   the group events the groups domain writes), storing it when the channel persists and
//!   pushing it to the members;
//! - `target.rs`: from a join's target to the channel's stream, with Nakama's rules;
//! - `access.rs`: who may join a group channel or a direct-message channel;
//! - `realtime.rs`: the socket messages (join, leave, send, update, remove);
//! - `history.rs`: a page of a channel's history with Nakama's cursors; `rest.rs` its route;
//! - `writer.rs`: the task that commits persisted messages in groups;
//! - `sql.rs`: the message table (migration 0006);
//! - `nk.rs`: the `Nk` functions for game code.

mod access;
mod history;
mod nk;
pub mod realtime;
mod rest;
mod sql;
mod target;
mod write;
mod writer;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use write::{ChannelWrite, Sender, WriteError, code, group_event, remove, send, update};
pub use writer::MessageWriter;

use crate::state::AppState;

/// The domain's REST routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v2/channel/{channel_id}", get(rest::list))
}
