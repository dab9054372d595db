//! The server's side of the domain's `Nk` functions.

use tavern_runtime::GroupsBackend;

use crate::runtime::nk_backend::ServerNk;

impl GroupsBackend for ServerNk {}
