//! Building one Lua VM the way Nakama's look: Lua 5.1 (LuaJIT's interpreter, which also takes
//! `goto`) with base, package, table, string, math, a trimmed `os` and `bit32`; no io, no
//! debug, no files; `require` finds only the modules of `runtime.path` and `nakama`. Each VM
//! has a memory limit and an instruction budget per call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};

use crate::Shared;

/// Instructions between two budget checks.
const CHECK_EVERY: u32 = 1000;

/// What a VM is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The first VM: its registrations are the server's, and `run_once` runs in it.
    Init,
    /// A VM of the pool serving RPCs and hooks.
    Pool,
    /// A match's own VM.
    Match,
}

/// Per-VM data, reached from the `nakama` functions.
pub(crate) struct VmData {
    pub(crate) shared: Arc<Shared>,
    pub(crate) role: Role,
    /// Budget checks passed in the current call (shared with the hook that counts them).
    checks: Arc<AtomicU64>,
    /// Whether the `run_once` function is running (registrations made in it live in this VM
    /// only).
    pub(crate) in_run_once: AtomicBool,
}

/// The marker an `error({msg, code})` is turned into on its way out of Lua.
pub(crate) const ERROR_TAG: &str = "#tavern-error#";

const SETUP: &str = r#"
jit.off()
jit.flush()
jit = nil
package.loaded.jit = nil
local os_lib = { clock = os.clock, date = os.date, difftime = os.difftime, time = os.time }
os = os_lib
package.loaded.os = os_lib
dofile = nil
loadfile = nil
package.loadlib = nil
package.path = ""
package.cpath = ""
package.loaders = { package.loaders[1] }
"#;

const INVOKE: &str = r#"
local pcall, select, type, tostring, tonumber, error, unpack = pcall, select, type, tostring, tonumber, error, unpack
local tag = ...
local function results(ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "table" then
    local code = tonumber(e[2]) or 13
    error(tag .. tostring(code) .. tag .. tostring(e[1]), 0)
  end
  error(e, 0)
end
return function(f, ...) return results(pcall(f, ...)) end
"#;

/// A fresh VM with the modules preloaded (not yet run).
pub(crate) fn new_vm(shared: &Arc<Shared>, role: Role) -> Result<Lua, String> {
    let libs =
        StdLib::PACKAGE | StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::OS | StdLib::JIT;
    let lua = Lua::new_with(libs, LuaOptions::new()).map_err(|e| e.to_string())?;
    build(&lua, shared, role).map_err(|e| describe(&e))?;
    lua.set_app_data(LiveVm::new());
    Ok(lua)
}

/// Counts the VM in the `tavern_lua_vms` gauge while it lives: the VM drops its app data with
/// itself. Without a metrics exporter the gauge goes nowhere.
struct LiveVm;

/// The gauge's name, as the server's metrics module exports it.
const LUA_VMS: &str = "tavern_lua_vms";

impl LiveVm {
    fn new() -> LiveVm {
        metrics::gauge!(LUA_VMS).increment(1.0);
        LiveVm
    }
}

impl Drop for LiveVm {
    fn drop(&mut self) {
        metrics::gauge!(LUA_VMS).decrement(1.0);
    }
}

fn build(lua: &Lua, shared: &Arc<Shared>, role: Role) -> mlua::Result<()> {
    lua.load(SETUP).set_name("=setup").exec()?;
    let globals = lua.globals();
    let package: Table = globals.get("package")?;
    let loaded: Table = package.get("loaded")?;
    let bit32 = crate::bit32::table(lua)?;
    globals.set("bit32", bit32.clone())?;
    loaded.set("bit32", bit32)?;
    globals.set(
        "print",
        lua.create_function(|lua, args: mlua::Variadic<Value>| {
            let parts: Vec<String> = args
                .iter()
                .map(|v| {
                    lua.coerce_string(v.clone())
                        .ok()
                        .flatten()
                        .map_or_else(|| format!("{v:?}"), |s| s.to_string_lossy())
                })
                .collect();
            tracing::info!(target: "tavern::runtime", module = "lua", "{}", parts.join("\t"));
            Ok(())
        })?,
    )?;
    let invoke: Function = lua.load(INVOKE).set_name("=invoke").call(ERROR_TAG)?;
    lua.set_named_registry_value("tavern_invoke", invoke)?;
    lua.set_named_registry_value("tavern_callbacks", lua.create_table()?)?;
    let preload: Table = package.get("preload")?;
    let nakama = crate::nakama::module(lua)?;
    preload.set(
        "nakama",
        lua.create_function(move |_, ()| Ok(nakama.clone()))?,
    )?;
    for module in &shared.modules {
        let chunk = lua
            .load(&module.source[..])
            .set_name(format!("@{}", module.path.display()))
            .into_function()?;
        preload.set(module.name.as_str(), chunk)?;
    }
    let checks = Arc::new(AtomicU64::new(0));
    lua.set_app_data(VmData {
        shared: shared.clone(),
        role,
        checks: checks.clone(),
        in_run_once: AtomicBool::new(false),
    });
    if shared.settings.memory_limit > 0 {
        lua.set_memory_limit(shared.settings.memory_limit)?;
    }
    let budget = shared.settings.instruction_budget;
    if budget > 0 {
        let max_checks = budget.div_ceil(u64::from(CHECK_EVERY));
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(CHECK_EVERY),
            move |_, _| {
                if checks.fetch_add(1, Ordering::Relaxed) >= max_checks {
                    return Err(mlua::Error::runtime("instruction budget exceeded"));
                }
                Ok(VmState::Continue)
            },
        )?;
    }
    Ok(())
}

/// Starts a call: the instruction budget is full again.
pub(crate) fn begin_call(lua: &Lua) {
    if let Some(data) = lua.app_data_ref::<VmData>() {
        data.checks.store(0, Ordering::Relaxed);
    }
}

/// The budget counter of a VM, for a caller that starts many calls (a match): storing 0 in it
/// is [`begin_call`] without looking the VM's data up.
pub(crate) fn budget_counter(lua: &Lua) -> Arc<AtomicU64> {
    lua.app_data_ref::<VmData>()
        .map(|d| d.checks.clone())
        .unwrap_or_default()
}

/// Runs every module (through `require`, so each runs once), as at server start.
pub(crate) fn run_modules(lua: &Lua, shared: &Shared) -> Result<(), String> {
    let require: Function = lua.globals().get("require").map_err(|e| describe(&e))?;
    for module in &shared.modules {
        begin_call(lua);
        require
            .call::<Value>(module.name.as_str())
            .map_err(|e| describe(&e))?;
    }
    Ok(())
}

/// Calls `f` through the error-mapping wrapper.
pub(crate) fn invoke<R: mlua::FromLuaMulti>(
    lua: &Lua,
    f: &Function,
    args: impl mlua::IntoLuaMulti,
) -> mlua::Result<R> {
    begin_call(lua);
    let invoke: Function = lua.named_registry_value("tavern_invoke")?;
    let mut all = args.into_lua_multi(lua)?;
    all.push_front(Value::Function(f.clone()));
    invoke.call(all)
}

/// The innermost message of a Lua error, without mlua's wrapping and tracebacks.
pub(crate) fn describe(e: &mlua::Error) -> String {
    let full = describe_with_traceback(e);
    match full.find("\nstack traceback:") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

fn describe_with_traceback(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => describe_with_traceback(cause),
        mlua::Error::RuntimeError(s) | mlua::Error::MemoryError(s) => s.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::WithContext { cause, .. } => describe_with_traceback(cause),
        other => other.to_string(),
    }
}
