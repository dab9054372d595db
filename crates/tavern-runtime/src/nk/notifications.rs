//! Notifications: the `Nk` functions and the part of the backend behind them.

/// The server's side of the notifications functions of [`Nk`](super::Nk).
pub trait NotificationsBackend: Send + Sync {}
