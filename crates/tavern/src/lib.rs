//! The Tavern server as a command line a game's own binary runs: `tavern::run(modules)` serves
//! with those modules (`tavern`), migrates the database (`tavern migrate up`) or probes a
//! running server (`tavern healthcheck [port]`). Every config key is a dotted flag.
//!
//! A studio's `main.rs`:
//!
//! ```no_run
//! use std::process::ExitCode;
//!
//! fn init(init: &mut tavern_runtime::Initializer) -> Result<(), tavern_runtime::RuntimeError> {
//!     init.register_rpc("hello", |_ctx, _nk, _payload| async { Ok("{}".to_owned()) });
//!     Ok(())
//! }
//!
//! fn main() -> ExitCode {
//!     tavern::run(&[tavern_runtime::Module::new("my_game", init)])
//! }
//! ```

mod healthcheck;

use std::process::ExitCode;
use std::sync::Arc;

use tavern_config::{Config, Loaded};
use tavern_runtime::Module;
use tavern_server::server::{Server, describe_storage, shutdown_signal};
use tavern_server::storage::Db;

/// Runs the command line given to this process with `modules` loaded, in order, and returns
/// the exit code: the whole `tavern` binary, with a game's own modules.
pub fn run(modules: &[Module]) -> ExitCode {
    run_with_routes(modules, axum::Router::new())
}

/// [`run`], also serving `routes` (a game's web pages, say) beside the API on the socket port.
pub fn run_with_routes(modules: &[Module], routes: axum::Router) -> ExitCode {
    let loaded = match tavern_config::load(std::env::args().skip(1)) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            return exit(e.exit_code());
        }
    };
    if loaded.help {
        print!("{}", tavern_config::help_text());
        return ExitCode::SUCCESS;
    }
    if loaded.version {
        println!("tavern {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Loaded {
        config, positional, ..
    } = loaded;
    let words: Vec<&str> = positional.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] => match tavern_runtime::select_modules(modules, &config.runtime.bundled_modules) {
            Ok(selected) => block_on(serve(config, &selected, routes)),
            Err(message) => {
                eprintln!("config error: runtime.bundled_modules: {message}");
                exit(2)
            }
        },
        ["migrate", "up"] => block_on(migrate_up(config)),
        ["healthcheck"] => healthcheck::probe(config.socket.port),
        ["healthcheck", port] => match port.parse::<u16>() {
            Ok(port) if port > 0 => healthcheck::probe(port),
            _ => {
                eprintln!("healthcheck: invalid port {port:?}");
                exit(2)
            }
        },
        _ => {
            eprintln!(
                "unknown command {:?}; try `tavern --help`",
                positional.join(" ")
            );
            exit(2)
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs an async command on a multi-threaded runtime; errors are printed and exit 1.
fn block_on(command: impl Future<Output = Result<(), String>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(command);
    // Blocking work still running (a long game-code call) does not hold the exit up.
    runtime.shutdown_timeout(RUNTIME_STOP_WAIT);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// How long the exit waits for blocking tasks once the server has stopped.
const RUNTIME_STOP_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

async fn serve(config: Config, modules: &[Module], routes: axum::Router) -> Result<(), String> {
    tavern_server::logging::init(config.logger.level);
    log_panics();
    tracing::info!(node = %config.name, version = env!("CARGO_PKG_VERSION"), "Tavern starting");
    let fleet = odin_fleet_manager(&config.fleet.odin)?;
    let server = Server::bind_with_fleet(config, modules, fleet)
        .await
        .map_err(|e| e.to_string())?
        .with_routes(routes);
    server
        .run(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// The ODIN Fleet adapter when `fleet.odin.app_id` is set (the configuration was checked when
/// loaded; a value the adapter still cannot use stops the start).
fn odin_fleet_manager(
    odin: &tavern_config::Odin,
) -> Result<Option<Arc<dyn tavern_runtime::FleetManager>>, String> {
    if odin.app_id.is_empty() {
        return Ok(None);
    }
    let app_id = odin
        .app_id
        .parse::<i64>()
        .map_err(|_| format!("fleet.odin.app_id: invalid value {:?}", odin.app_id))?;
    let mut settings = tavern_odin::OdinSettings::new(app_id, &odin.api_token, &odin.api_url);
    settings.port_name = odin.port_name.clone();
    let manager =
        tavern_odin::OdinFleetManager::new(settings).map_err(|e| format!("fleet.odin: {e}"))?;
    tracing::info!(app_id, api_url = %odin.api_url, "ODIN Fleet adapter on");
    Ok(Some(Arc::new(manager)))
}

async fn migrate_up(config: Config) -> Result<(), String> {
    tavern_server::logging::init(config.logger.level);
    let target = tavern_server::server::storage_target(&config);
    let db = Db::connect(&target).await.map_err(|e| e.to_string())?;
    db.migrate_up().await.map_err(|e| e.to_string())?;
    tracing::info!(database = %describe_storage(&config), "Migrations applied");
    db.close().await;
    Ok(())
}

/// A panic (in game code, most likely: the call fails alone) becomes one error line in the log
/// instead of a backtrace on stderr, which is slow to print and interleaves with the JSON log.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let location = info.location().map(ToString::to_string).unwrap_or_default();
        tracing::error!(location = %location, "panic: {message}");
    }));
}
