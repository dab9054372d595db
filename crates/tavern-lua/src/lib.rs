//! Nakama's Lua runtime for Tavern: the `.lua` modules of `runtime.path` run unchanged.
//!
//! At start every module is loaded into a first VM (syntax and runtime errors stop the start
//! with the file and line); `nk.run_once` runs there, once. What the modules register (RPCs,
//! before and after hooks, the matchmaker-matched hook) is registered with the server through
//! [`tavern_runtime::registry::Registry::extend`], under Nakama's precedence: a Rust module's
//! registration wins over Lua's, Lua's wins over a bundled example's. Calls run on a pool of
//! VMs (`runtime.lua_min_count`..`lua_max_count`) on blocking threads, never on the async
//! workers. Every module name is also a match handler name: `match_create` gives the match its
//! own VM that `require`s the module and calls its `match_*` functions, on threads of the Lua
//! runtime's own (`runtime.lua_match_threads`), which the server awaits.
//!
//! Each VM has a memory limit and an instruction budget per call, so a runaway script ends its
//! own call or match only.

mod bit32;
mod calls;
mod convert;
mod match_ffi;
mod matches;
mod modules;
mod nakama;
mod pool;
mod sandbox;
mod threads;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mlua::Lua;
use tavern_runtime::matches::MatchExecutor;
use tavern_runtime::registry::{LoadError, Registry};
use tavern_runtime::{Nk, Origin};

pub use modules::{LuaModule, scan};

/// The Lua settings of the configuration.
#[derive(Debug, Clone)]
pub struct LuaSettings {
    /// VMs created at start for RPCs and hooks (`runtime.lua_min_count`).
    pub min_count: usize,
    /// Most VMs for RPCs and hooks at once (`runtime.lua_max_count`); calls wait for one.
    pub max_count: usize,
    /// Bytes one VM may allocate; 0 for no limit.
    pub memory_limit: usize,
    /// Lua instructions one call (an RPC, a hook, one match callback) may run; 0 for no limit.
    pub instruction_budget: u64,
    /// Threads that run Lua match callbacks (`runtime.lua_match_threads`); 0: one per CPU.
    pub match_threads: usize,
}

/// Where a registration made by Lua code points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Rpc(String),
    Before(String),
    After(String),
    RealtimeBefore(String),
    RealtimeAfter(String),
    Matchmaker,
    LeaderboardReset,
    TournamentReset,
    TournamentEnd,
}

impl Key {
    /// The key in a VM's callback table.
    pub(crate) fn slot(&self) -> String {
        match self {
            Key::Rpc(id) => format!("rpc/{id}"),
            Key::Before(op) => format!("before/{op}"),
            Key::After(op) => format!("after/{op}"),
            Key::RealtimeBefore(kind) => format!("rt_before/{kind}"),
            Key::RealtimeAfter(kind) => format!("rt_after/{kind}"),
            Key::Matchmaker => "matchmaker".to_owned(),
            Key::LeaderboardReset => "leaderboard_reset".to_owned(),
            Key::TournamentReset => "tournament_reset".to_owned(),
            Key::TournamentEnd => "tournament_end".to_owned(),
        }
    }
}

/// What every VM of one server shares.
pub(crate) struct Shared {
    /// `runtime.path`: where the modules are, and the only folder `file_read` reads.
    pub(crate) root: PathBuf,
    pub(crate) modules: Vec<LuaModule>,
    pub(crate) settings: LuaSettings,
    pub(crate) nk: Nk,
    pub(crate) node: String,
    pub(crate) env: BTreeMap<String, String>,
    /// What the first VM registered, in order.
    pub(crate) registered: Mutex<Vec<Key>>,
    /// Registrations made inside `run_once`: they exist in the first VM only, so their calls
    /// run there.
    pub(crate) first_only: Mutex<HashSet<Key>>,
    /// Whether `run_once` has run.
    pub(crate) once_done: Mutex<bool>,
    /// The first VM.
    pub(crate) first: Mutex<Option<Lua>>,
    pub(crate) pool: pool::Pool,
}

/// Loads the Lua modules under `root` into `registry`. Without `.lua` files it does nothing.
/// Run it on a thread that may block (the caller wraps it in `block_in_place` at start).
pub fn load_into(
    registry: &mut Registry,
    root: &Path,
    settings: LuaSettings,
) -> Result<usize, LoadError> {
    let fail = |problem: String| LoadError {
        problems: vec![problem],
    };
    let modules = scan(root).map_err(fail)?;
    if modules.is_empty() {
        return Ok(0);
    }
    let count = modules.len();
    let shared = Arc::new(Shared {
        root: root.to_path_buf(),
        modules,
        pool: pool::Pool::new(settings.max_count),
        settings,
        nk: registry.nk().clone(),
        node: registry.node().to_owned(),
        env: registry.env().clone(),
        registered: Mutex::new(Vec::new()),
        first_only: Mutex::new(HashSet::new()),
        once_done: Mutex::new(false),
        first: Mutex::new(None),
    });
    let first = sandbox::new_vm(&shared, sandbox::Role::Init)
        .map_err(|e| fail(format!("Lua module failed to load: {e}")))?;
    sandbox::run_modules(&first, &shared)
        .map_err(|e| fail(format!("Lua module failed to load: {e}")))?;
    *shared.first.lock().unwrap_or_else(|p| p.into_inner()) = Some(first);
    let keys = shared
        .registered
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let match_threads: Arc<dyn MatchExecutor> =
        Arc::new(threads::MatchThreads::new(shared.settings.match_threads));
    registry.extend("lua", Origin::Lua, |init| {
        for key in keys {
            calls::register(init, &shared, key);
        }
        for module in &shared.modules {
            init.register_match_factory(
                &module.name,
                matches::factory(shared.clone(), module.name.clone(), match_threads.clone()),
            );
        }
        Ok(())
    })?;
    pool::warm(&shared).map_err(|e| fail(format!("Lua module failed to load: {e}")))?;
    tracing::info!(modules = count, path = %root.display(), "Lua runtime modules loaded");
    Ok(count)
}
