//! Leaderboards and their records: the `Nk` functions and the part of the backend behind them.

/// The server's side of the leaderboards and their records functions of [`Nk`](super::Nk).
pub trait LeaderboardsBackend: Send + Sync {}
