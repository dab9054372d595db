//! The runtime host: the modules' callbacks loaded at start, and the calls the REST API and
//! the realtime socket make into them.

mod events;
mod http_client;
mod nk_accounts;
pub(crate) mod nk_backend;

use std::sync::Arc;

use tavern_config::Config;
use tavern_proto::{api, realtime};
use tavern_runtime::registry::{LoadError, Registry, RpcError, RuntimeSetup};
use tavern_runtime::{
    Caller, Context, Database, ExecutionMode, FleetManager, Module, Nk, RuntimeError, UserSession,
};

use crate::api::extract::Session;
use crate::social::leaderboards::Leaderboards;
use crate::storage::Db;
use nk_backend::ServerNk;

/// The loaded modules and the way into them. One per server, shared by every request.
pub struct RuntimeHost {
    registry: Registry,
    nk: Arc<ServerNk>,
    leaderboards: Arc<Leaderboards>,
    events: events::EventQueue,
}

impl RuntimeHost {
    /// Loads `modules` in order, giving them this node's name, `runtime.env` and the database.
    /// `fleet_manager` is registered before the modules load.
    pub fn load(
        modules: &[Module],
        config: &Config,
        db: &Db,
        fleet_manager: Option<Arc<dyn FleetManager>>,
    ) -> Result<RuntimeHost, LoadError> {
        let database = match db {
            Db::Sqlite(sqlite) => Database::Sqlite(sqlite.write.clone()),
            Db::Postgres(pg) => Database::Postgres(pg.clone()),
        };
        let leaderboards = Leaderboards::new(db.clone());
        let backend = Arc::new(ServerNk::new(leaderboards.clone()));
        let nk = Nk::new(backend.clone(), database);
        let setup = RuntimeSetup {
            node: config.name.clone(),
            env: config.runtime.env.clone(),
            nk,
            fleet_manager,
        };
        let mut registry = Registry::load(modules, setup)?;
        let r = &config.runtime;
        let settings = tavern_lua::LuaSettings {
            min_count: r.lua_min_count,
            max_count: r.lua_max_count,
            memory_limit: r.lua_memory_limit_mb.saturating_mul(1024 * 1024),
            instruction_budget: r.lua_instruction_budget,
            match_threads: r.lua_match_threads,
        };
        let js = tavern_js::JsSettings {
            entrypoint: r.js_entrypoint.clone(),
            min_count: r.js_min_count,
            max_count: r.js_max_count,
            memory_limit: r.js_memory_limit_mb.saturating_mul(1024 * 1024),
            instruction_budget: r.js_instruction_budget,
        };
        // Lua modules and the JavaScript entry file run their top-level code now; keep that off
        // the async workers. JavaScript comes after Lua: Lua's registrations win (Nakama's
        // precedence).
        let load_scripts = || -> Result<(), LoadError> {
            tavern_lua::load_into(&mut registry, &r.path, settings)?;
            tavern_js::load_into(&mut registry, &r.path, js)?;
            Ok(())
        };
        let on_workers = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_workers {
            tokio::task::block_in_place(load_scripts)?;
        } else {
            load_scripts()?;
        }
        Ok(RuntimeHost {
            registry,
            nk: backend,
            leaderboards,
            events: events::EventQueue::default(),
        })
    }

    /// Connects the modules to the running server: their `nk` calls reach it from now on, and
    /// their match handlers are registered with the match registry.
    pub fn attach(&self, state: &Arc<crate::state::AppState>) {
        self.nk.attach(state);
        for (name, factory) in self.registry.match_handlers() {
            state.matches.register(name, factory.clone());
        }
    }

    /// The leaderboards the modules see (read from the database by [`Leaderboards::load`]).
    pub fn leaderboards(&self) -> &Arc<Leaderboards> {
        &self.leaderboards
    }

    /// The registered callbacks, for the typed hook calls (`before`, `after`, ...).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Hands `event` to the modules' event handlers (after this call returns).
    pub fn event(&self, state: &Arc<crate::state::AppState>, ctx: Context, event: api::Event) {
        self.events.dispatch(state, ctx, event);
    }

    /// A fresh context for `mode` on this node, with no caller and no request.
    pub fn context(&self, mode: ExecutionMode) -> Context {
        self.registry.context(mode)
    }

    /// Calls RPC `id` with `payload`. `ctx` carries the caller; its mode is set to `Rpc`.
    pub async fn call_rpc(
        &self,
        ctx: Context,
        id: &str,
        payload: String,
    ) -> Result<String, RpcError> {
        self.registry.call_rpc(ctx, id, payload).await
    }

    /// Runs the before hook of the envelope's message kind: `Ok(Some(envelope))` to handle the
    /// (possibly rewritten) message, `Ok(None)` when the hook refused it (answer realtime
    /// code 1 `Requested resource was not found.` and close), or an error (answer code 7 with
    /// its message, keep the socket).
    pub async fn before_realtime(
        &self,
        ctx: Context,
        envelope: realtime::Envelope,
    ) -> Result<Option<realtime::Envelope>, RuntimeError> {
        self.registry.before_realtime(ctx, envelope).await
    }

    /// Runs the after hook of the request's message kind with the reply sent, if any.
    pub async fn after_realtime(
        &self,
        ctx: Context,
        request: realtime::Envelope,
        reply: Option<realtime::Envelope>,
    ) {
        self.registry.after_realtime(ctx, request, reply).await
    }
}

/// The realtime `error` for a failed RPC: code 3 for a missing id, 6 for an unknown one, 7 with
/// the function's message otherwise (the function's own code is not shown over the socket).
pub fn rpc_realtime_error(error: &RpcError) -> realtime::Error {
    let code = match error {
        RpcError::MissingId => 3,
        RpcError::NotFound => 6,
        RpcError::Failed(_) => 7,
    };
    realtime::Error {
        code,
        message: error.to_string(),
        ..Default::default()
    }
}

/// The caller behind a verified session token.
pub fn session_caller(session: &Session) -> Caller {
    Caller::User(UserSession {
        user_id: session.user_id.to_string(),
        username: session.username.clone(),
        vars: session.vars.clone(),
        expiry: session.expiry,
        session_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tavern_runtime::Code;

    #[test]
    fn rpc_errors_map_to_realtime_codes() {
        let error = rpc_realtime_error(&RpcError::NotFound);
        assert_eq!(
            (error.code, error.message.as_str()),
            (6, "RPC function not found")
        );
        assert_eq!(rpc_realtime_error(&RpcError::MissingId).code, 3);
        let failed = RpcError::Failed(RuntimeError::new("bad move", Code::FailedPrecondition));
        let error = rpc_realtime_error(&failed);
        assert_eq!((error.code, error.message.as_str()), (7, "bad move"));
    }
}
