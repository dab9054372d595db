//! Groups: the `Nk` functions and the part of the backend behind them.

/// The server's side of the groups functions of [`Nk`](super::Nk).
pub trait GroupsBackend: Send + Sync {}
