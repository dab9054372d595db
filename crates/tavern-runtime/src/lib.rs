//! The API game code is written against: everything a Tavern module may use, and nothing of the
//! server's internals. A module written against this crate keeps compiling when the server changes.

mod error;
pub mod matches;
mod presence;

pub use error::{Code, RuntimeError};
pub use presence::Presence;
