//! Streams and the presences on them: the `Nk` functions and the part of the backend behind them.

/// The server's side of the streams and the presences on them functions of [`Nk`](super::Nk).
pub trait StreamsBackend: Send + Sync {}
