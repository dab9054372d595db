//! The `tavern` binary: the server with the bundled example modules, and the tic-tac-toe web
//! client at `/play`.

mod play;

use std::process::ExitCode;

fn main() -> ExitCode {
    let modules: Vec<_> = tavern_examples::MODULES
        .iter()
        .copied()
        .chain([tavern_tictactoe::MODULE])
        .map(tavern_runtime::Module::bundled)
        .collect();
    tavern::run_with_routes(&modules, play::routes())
}
