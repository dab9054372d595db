//! Authentication: token issue and checks, revocation, password hashing, input rules.

pub mod password;
pub mod session_cache;
pub mod token;
pub mod validate;
