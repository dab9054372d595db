//! Nakama's JavaScript runtime for Tavern: the entry file of `runtime.path` (what `tsc` makes of
//! a TypeScript project, or plain JavaScript) runs unchanged, on QuickJS.
//!
//! At start the entry file (`runtime.js_entrypoint`, or `index.js` when it exists) is evaluated
//! in a first VM and its global `InitModule(ctx, logger, nk, initializer)` is called. What it
//! registers must be top-level named functions, as in Nakama: each registration is kept as the
//! function's global name, and every other VM (a pool of `runtime.js_min_count`..
//! `js_max_count` for RPCs and hooks, one per match) evaluates the file and calls the function
//! of that name. Registrations go to the server through
//! [`tavern_runtime::registry::Registry::extend`] with Nakama's precedence: Rust (Go's part)
//! and Lua win over JavaScript, JavaScript replaces a bundled example.
//!
//! Each VM has a memory limit and an instruction budget per call, so a runaway script ends its
//! own call (or match) only. Scripts reach nothing outside the VM but `nk`.

mod calls;
mod context;
mod convert;
mod errors;
mod init;
mod logger;
mod pool;
mod vm;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tavern_runtime::registry::{LoadError, Registry};
use tavern_runtime::{MessageKind, Origin};

/// The entry file Nakama looks for when `runtime.js_entrypoint` is empty.
pub const DEFAULT_ENTRYPOINT: &str = "index.js";

/// The JavaScript settings of the configuration.
#[derive(Debug, Clone)]
pub struct JsSettings {
    /// `runtime.js_entrypoint`: the entry file under `runtime.path`; empty: `index.js` if it
    /// exists.
    pub entrypoint: String,
    /// VMs created at start for RPCs and hooks (`runtime.js_min_count`).
    pub min_count: usize,
    /// Most VMs for RPCs and hooks at once (`runtime.js_max_count`); calls wait for one.
    pub max_count: usize,
    /// Bytes one VM may allocate; 0 for no limit.
    pub memory_limit: usize,
    /// Interrupt checks' worth of work one call may do, counted in QuickJS's units (a check
    /// every 10,000 jumps and calls); 0 for no limit.
    pub instruction_budget: u64,
}

/// Where a registration made by JavaScript code points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Rpc(String),
    /// A REST operation's before hook, by the operation's name (`AuthenticateDevice`).
    Before(&'static str),
    After(&'static str),
    RealtimeBefore(MessageKind),
    RealtimeAfter(MessageKind),
    Matchmaker,
}

/// A registered function: what it is for and the global name it is called by.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) key: Key,
    pub(crate) function: String,
}

/// What every VM of one server shares.
pub(crate) struct Shared {
    /// The entry file's name, for stack traces and errors.
    pub(crate) file_name: String,
    pub(crate) source: Vec<u8>,
    /// The names the file declares, for finding registered functions by name.
    pub(crate) declared: Vec<String>,
    pub(crate) settings: JsSettings,
    pub(crate) node: String,
    pub(crate) env: BTreeMap<String, String>,
    /// What `InitModule` registered, in order.
    pub(crate) registered: Mutex<Vec<Registration>>,
    pub(crate) pool: pool::Pool,
}

/// The entry file to load under `root`, if any: `entrypoint` must exist and be a `.js` file;
/// without one, `index.js` is used when it exists.
fn entry_file(root: &Path, entrypoint: &str) -> Result<Option<PathBuf>, String> {
    if entrypoint.is_empty() {
        let path = root.join(DEFAULT_ENTRYPOINT);
        return Ok(path.is_file().then_some(path));
    }
    let path = root.join(entrypoint);
    if !path.is_file() {
        return Err(format!(
            "JavaScript entrypoint must be a valid path: {}",
            path.display()
        ));
    }
    let is_js = path.extension().is_some_and(|e| e == "js");
    if !is_js {
        return Err(format!(
            "JavaScript entrypoint must point to a .js file: {}",
            path.display()
        ));
    }
    Ok(Some(path))
}

/// Loads the JavaScript entry file under `root` into `registry`; false when there is none.
/// Run it on a thread that may block (the caller wraps it in `block_in_place` at start).
pub fn load_into(
    registry: &mut Registry,
    root: &Path,
    settings: JsSettings,
) -> Result<bool, LoadError> {
    let fail = |problem: String| LoadError {
        problems: vec![problem],
    };
    let Some(path) = entry_file(root, &settings.entrypoint).map_err(fail)? else {
        return Ok(false);
    };
    let source =
        std::fs::read(&path).map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    let file_name = path.file_name().map_or_else(
        || DEFAULT_ENTRYPOINT.to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let declared = init::declared_names(&String::from_utf8_lossy(&source));
    let shared = Arc::new(Shared {
        declared,
        file_name,
        source,
        pool: pool::Pool::new(settings.max_count),
        settings,
        node: registry.node().to_owned(),
        env: registry.env().clone(),
        registered: Mutex::new(Vec::new()),
    });
    init::run(&shared).map_err(|e| fail(format!("JavaScript module failed to load: {e}")))?;
    let registered = shared
        .registered
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    registry.extend("javascript", Origin::JavaScript, |init| {
        for registration in registered {
            calls::register(init, &shared, registration);
        }
        Ok(())
    })?;
    pool::warm(&shared).map_err(|e| fail(format!("JavaScript module failed to load: {e}")))?;
    tracing::info!(path = %path.display(), "JavaScript runtime module loaded");
    Ok(true)
}

#[cfg(test)]
mod tests;
