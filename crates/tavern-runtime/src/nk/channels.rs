//! Chat channels and their messages: the `Nk` functions and the part of the backend behind them.

/// The server's side of the chat channels and their messages functions of [`Nk`](super::Nk).
pub trait ChannelsBackend: Send + Sync {}
