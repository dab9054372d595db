//! The `tavern` binary: the server with the bundled example modules.

use std::process::ExitCode;

fn main() -> ExitCode {
    tavern::run(tavern_examples::MODULES)
}
