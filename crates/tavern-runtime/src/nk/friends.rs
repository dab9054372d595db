//! Friends: the `Nk` functions and the part of the backend behind them.

/// The server's side of the friends functions of [`Nk`](super::Nk).
pub trait FriendsBackend: Send + Sync {}
