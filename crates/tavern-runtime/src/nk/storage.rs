//! Storage objects: the `Nk` functions and the part of the backend behind them.

/// The server's side of the storage objects functions of [`Nk`](super::Nk).
pub trait StorageBackend: Send + Sync {}
