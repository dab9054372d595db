//! The server's side of the domain's `Nk` functions.

use tavern_runtime::FriendsBackend;

use crate::runtime::nk_backend::ServerNk;

impl FriendsBackend for ServerNk {}
