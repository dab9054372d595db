//! The server's side of the domain's `Nk` functions.

use tavern_runtime::LeaderboardsBackend;

use crate::runtime::nk_backend::ServerNk;

impl LeaderboardsBackend for ServerNk {}
