//! Wallets and their ledgers: the `Nk` functions and the part of the backend behind them.

/// The server's side of the wallets and their ledgers functions of [`Nk`](super::Nk).
pub trait WalletBackend: Send + Sync {}
