//! Tavern's configuration: Nakama's sections, keys and defaults, read from built-in defaults,
//! then YAML files given with `--config FILE` (in order), then dotted command-line flags
//! (`--socket.port 7351`, `--socket.port=7351`). Flags beat files beat defaults.
//!
//! ```
//! let loaded = tavern_config::load(["--socket.port=7351".to_owned(), "migrate".to_owned(), "up".to_owned()])?;
//! assert_eq!(loaded.config.socket.port, 7351);
//! assert_eq!(loaded.positional, ["migrate", "up"]);
//! # Ok::<(), tavern_config::ConfigError>(())
//! ```
//!
//! One default differs from Nakama on purpose: `database.address` is empty, which means an
//! embedded SQLite database under `data_dir`, so a fresh checkout runs with no set-up.

mod args;
mod choices;
mod database_address;
mod error;
mod help;
mod overlay;
mod runtime_env;
mod sections;
mod unsupported;
mod validate;

use std::collections::HashSet;
use std::fs;

use serde_json::Value;

pub use choices::{LogFormat, LogLevel, SocketProtocol};
pub use database_address::{
    DEFAULT_DATABASE, DEFAULT_POSTGRES_PORT, DEFAULT_USER, DatabaseAddress, DatabaseAddressError,
};
pub use error::{ConfigError, ErrorKind};
pub use help::help_text;
pub use sections::{
    Config, Database, Fleet, Logger, Match, Matchmaker, Metrics, Odin, Runtime, Session, Socket,
    Tracker,
};

use args::CommandLine;

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The checked configuration (the defaults when `help` or `version` is set).
    pub config: Config,
    /// Words that are not flags, in order: the subcommand and its arguments.
    pub positional: Vec<String>,
    /// The `--config` files that were read, in order.
    pub config_files: Vec<String>,
    /// `-h` or `--help` was given.
    pub help: bool,
    /// `--version` was given.
    pub version: bool,
}

/// Loads the configuration from `args`, the command line without the program name.
///
/// When `--help` or `--version` is present nothing else is read or checked, and the defaults
/// are returned. Otherwise any unknown key, unreadable file, badly typed value or broken rule
/// is an error naming the key.
pub fn load<I: IntoIterator<Item = String>>(args: I) -> Result<Loaded, ConfigError> {
    load_with_env(args, |name| std::env::var(name).ok())
}

/// Environment variables read as if they were keys set before any file:
/// `ODIN_APP_ID`, `ODIN_API_TOKEN` and `ODIN_API_URL` for the ODIN Fleet adapter.
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("ODIN_APP_ID", "fleet.odin.app_id"),
    ("ODIN_API_TOKEN", "fleet.odin.api_token"),
    ("ODIN_API_URL", "fleet.odin.api_url"),
];

/// [`load`], reading the [`ENV_KEYS`] variables through `env` instead of the process
/// environment. Their values rank above the defaults and below files and flags.
pub fn load_with_env<I, E>(args: I, env: E) -> Result<Loaded, ConfigError>
where
    I: IntoIterator<Item = String>,
    E: Fn(&str) -> Option<String>,
{
    let mut tree = defaults_tree();
    let line = CommandLine::split(args.into_iter().collect(), &tree);
    if line.help || line.version {
        return Ok(Loaded {
            config: Config::default(),
            positional: line.positional,
            config_files: Vec::new(),
            help: line.help,
            version: line.version,
        });
    }
    if let Some(error) = line.error {
        return Err(error);
    }
    for (variable, key) in ENV_KEYS {
        if let Some(value) = env(variable).filter(|v| !v.trim().is_empty()) {
            overlay::apply_flag(&mut tree, key, value, &mut HashSet::new())?;
        }
    }
    for file in &line.files {
        let parsed = read_yaml(file).map_err(|error| error.in_file(file))?;
        overlay::merge_file(&mut tree, parsed).map_err(|error| error.in_file(file))?;
    }
    let mut cli_lists = HashSet::new();
    for (key, value) in line.flags {
        overlay::apply_flag(&mut tree, &key, value, &mut cli_lists)?;
    }
    let mut config: Config = serde_path_to_error::deserialize(tree).map_err(|error| {
        ConfigError::invalid(error.path().to_string(), tidy(&error.inner().to_string()))
    })?;
    if config.runtime.path.as_os_str().is_empty() {
        config.runtime.path = config.data_dir.join("modules");
    }
    config.validate()?;
    Ok(Loaded {
        config,
        positional: line.positional,
        config_files: line.files,
        help: false,
        version: false,
    })
}

/// The defaults as a JSON tree: the shape every file and flag is checked against.
fn defaults_tree() -> Value {
    serde_json::to_value(Config::default()).expect("the default configuration always serialises")
}

fn read_yaml(path: &str) -> Result<Value, ConfigError> {
    let text = fs::read_to_string(path).map_err(|error| ErrorKind::ReadFile {
        reason: error.to_string(),
    })?;
    serde_saphyr::from_str::<Value>(&text).map_err(|error| {
        ErrorKind::Yaml {
            reason: error.without_snippet().to_string().replace('\n', " "),
        }
        .into()
    })
}

/// Rewrites serde's wording for out-of-range integers (`expected u16`) in plain terms.
fn tidy(message: &str) -> String {
    let Some((number, ty)) = message
        .strip_prefix("invalid value: integer `")
        .and_then(|rest| rest.split_once("`, expected "))
    else {
        return message.to_owned();
    };
    let expected = match ty {
        "u16" => "an integer from 0 to 65535".to_owned(),
        "u32" => format!("an integer from 0 to {}", u32::MAX),
        "u64" | "usize" => "a non-negative integer".to_owned(),
        other => other.to_owned(),
    };
    format!("invalid value {number}, expected {expected}")
}
