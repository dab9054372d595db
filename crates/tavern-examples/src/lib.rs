//! The example modules the `tavern` binary ships with, each a small lesson in the runtime API:
//!
//! * [`echo`] — RPC `echo`, returning its payload.
//! * [`errors`] — RPC `rpc_error`, failing with the gRPC code its payload asks for, and RPC
//!   `panic`, showing that a panicking RPC fails alone.
//! * [`custom_id_guard`] — a before hook admitting only custom ids shaped like `cid-000000`.
//! * [`login_counter`] — after hooks counting each user's logins, and RPC `login_count`.

pub mod custom_id_guard;
pub mod echo;
pub mod errors;
pub mod login_counter;

use tavern_runtime::Module;

/// Every bundled module, in load order.
pub const MODULES: &[Module] = &[
    echo::MODULE,
    errors::MODULE,
    custom_id_guard::MODULE,
    login_counter::MODULE,
];
