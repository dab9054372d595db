//! The server's side of the domain's `Nk` functions.

use tavern_runtime::StorageBackend;

use crate::runtime::nk_backend::ServerNk;

impl StorageBackend for ServerNk {}
