//! Parties: the `Nk` functions and the part of the backend behind them.

/// The server's side of the parties functions of [`Nk`](super::Nk).
pub trait PartiesBackend: Send + Sync {}
