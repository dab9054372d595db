//! The `tavern` binary: the server with tic-tac-toe (its web client at `/play`) and the bundled
//! example and test modules, which load only when `runtime.bundled_modules` names them.

mod play;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Tic-tac-toe stays on in a plain start: its matchmaker hook acts only on tickets asking
    // for tic-tac-toe, so other clients see Nakama's behaviour (docs/TICTACTOE.md).
    let modules: Vec<_> = tavern_examples::MODULES
        .iter()
        .map(|module| module.opt_in())
        .chain([tavern_tictactoe::MODULE])
        .map(tavern_runtime::Module::bundled)
        .collect();
    tavern::run_with_routes(&modules, play::routes())
}
