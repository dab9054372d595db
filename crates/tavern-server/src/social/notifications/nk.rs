//! The server's side of the domain's `Nk` functions.

use tavern_runtime::NotificationsBackend;

use crate::runtime::nk_backend::ServerNk;

impl NotificationsBackend for ServerNk {}
