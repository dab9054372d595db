//! The server's side of the domain's `Nk` functions.

use tavern_runtime::PartiesBackend;

use crate::runtime::nk_backend::ServerNk;

impl PartiesBackend for ServerNk {}
