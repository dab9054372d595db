//! Tournaments: the `Nk` functions and the part of the backend behind them.

/// The server's side of the tournaments functions of [`Nk`](super::Nk).
pub trait TournamentsBackend: Send + Sync {}
