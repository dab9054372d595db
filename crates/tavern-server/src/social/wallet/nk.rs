//! The server's side of the domain's `Nk` functions.

use tavern_runtime::WalletBackend;

use crate::runtime::nk_backend::ServerNk;

impl WalletBackend for ServerNk {}
