//! My Game's server: Tavern with the `my_game` module, and every Tavern command and flag.

use std::process::ExitCode;

fn main() -> ExitCode {
    tavern::run(&[my_game::module()])
}
