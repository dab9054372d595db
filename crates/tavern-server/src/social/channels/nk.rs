//! The server's side of the domain's `Nk` functions.

use tavern_runtime::ChannelsBackend;

use crate::runtime::nk_backend::ServerNk;

impl ChannelsBackend for ServerNk {}
