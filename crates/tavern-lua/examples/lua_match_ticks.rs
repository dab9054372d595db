//! Ticks Lua matches outside the server, for profilers: loads the Lua modules of a folder as the
//! server does, creates `MATCHES` matches of handler `HANDLER` (each its own VM), then ticks them
//! round-robin `TICKS` times each, the first `IDLE_SHARE` percent of the rounds with no messages
//! and the rest with one op code 1 message per match. It prints the process's memory per match
//! and the time per tick; under `valgrind --tool=callgrind` the instruction count per tick is
//! the total over the ticks' part (`--toggle-collect='*tick_all*'`).
//!
//! ```sh
//! cargo run --release -p tavern-lua --example lua_match_ticks -- crates/tavern-bench/lua bench_match 2000 50 100
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tavern_runtime::matches::{
    Broadcast, Dispatcher, MatchContext, MatchCore, MatchMessage, MatchOutput,
};

use tavern_lua::LuaSettings;
use tavern_runtime::registry::{Registry, RuntimeSetup};
use tavern_runtime::{BoxFuture, Database, Nk, NkBackend, Presence, RuntimeError, api};

/// A server without data: the ticks never reach it.
struct NoServer;

impl NkBackend for NoServer {
    fn account_get_id(&self, _: String) -> BoxFuture<'_, Result<api::Account, RuntimeError>> {
        Box::pin(async { Err(RuntimeError::internal("no server")) })
    }
    fn users_get(
        &self,
        _: Vec<String>,
        _: Vec<String>,
    ) -> BoxFuture<'_, Result<Vec<api::User>, RuntimeError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn account_update_id(
        &self,
        _: String,
        _: api::UpdateAccountRequest,
    ) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async { Ok(()) })
    }
    fn account_delete_id(&self, _: String) -> BoxFuture<'_, Result<(), RuntimeError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Counts what the matches send.
#[derive(Default)]
struct Counted(std::sync::atomic::AtomicU64);

impl MatchOutput for Counted {
    fn broadcast(&self, _: Broadcast) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    fn kick(&self, _: Vec<Presence>) {}
    fn label_update(&self, _: String) {}
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// One round: every match ticks once, with `messages` each.
#[inline(never)]
fn tick_all(
    cores: &mut [Box<dyn MatchCore>],
    output: &Counted,
    tick: i64,
    message: Option<&MatchMessage>,
) {
    for core in cores.iter_mut() {
        let mut dispatcher = Dispatcher::new(output, 128);
        let messages = message.map(|m| vec![m.clone()]).unwrap_or_default();
        core.tick(&mut dispatcher, tick, messages)
            .expect("the tick runs");
        dispatcher.flush_deferred();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let folder = args
        .get(1)
        .cloned()
        .unwrap_or("crates/tavern-bench/lua".to_owned());
    let handler = args.get(2).cloned().unwrap_or("bench_match".to_owned());
    let matches: usize = arg(&args, 3, 2000);
    let ticks: i64 = arg(&args, 4, 50);
    let idle_share: i64 = arg(&args, 5, 100);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _entered = runtime.enter();
    let pool = tavern_runtime::sqlx::SqlitePool::connect_lazy("sqlite::memory:").expect("a pool");
    let setup = RuntimeSetup {
        node: "nakama".into(),
        env: BTreeMap::new(),
        nk: Nk::new(Arc::new(NoServer), Database::Sqlite(pool)),
        fleet_manager: None,
    };
    let mut registry = Registry::load(&[], setup).expect("an empty registry");
    let settings = LuaSettings {
        min_count: 1,
        max_count: 1,
        memory_limit: 32 << 20,
        instruction_budget: 50_000_000,
        match_threads: 1,
    };
    tavern_lua::load_into(&mut registry, std::path::Path::new(&folder), settings)
        .expect("the modules load");
    let factory = registry
        .match_handlers()
        .find(|(name, _)| *name == handler)
        .map(|(_, f)| f.clone())
        .expect("the handler exists");

    let before = rss_kib();
    let env = Arc::new(BTreeMap::new());
    let mut cores = Vec::with_capacity(matches);
    for i in 0..matches {
        let ctx = MatchContext {
            match_id: format!("{:08x}-0000-4000-8000-000000000000.nakama", i),
            node: "nakama".into(),
            handler_name: handler.clone(),
            env: env.clone(),
        };
        let created = factory
            .create(ctx, &serde_json::json!({ "tick_rate": 10 }))
            .expect("the match starts");
        cores.push(created.core);
    }
    let after = rss_kib();

    let output = Counted::default();
    let sender = Presence {
        user_id: "2b5fd4a8-1c8e-4a39-9a5e-6f7c7b0f3a11".into(),
        session_id: "6d1f1e52-7a4c-11ee-8c90-0242ac120002".into(),
        username: "player".into(),
        node: "nakama".into(),
    };
    let message = MatchMessage {
        sender,
        op_code: 1,
        data: vec![7; 32],
        reliable: true,
        receive_time_ms: 0,
    };
    let idle_rounds = ticks * idle_share / 100;
    let started = Instant::now();
    for tick in 0..idle_rounds {
        tick_all(&mut cores, &output, tick, None);
    }
    let idle_elapsed = started.elapsed();
    let started = Instant::now();
    for tick in idle_rounds..ticks {
        tick_all(&mut cores, &output, tick, Some(&message));
    }
    let busy_elapsed = started.elapsed();
    let per = |elapsed: std::time::Duration, rounds: i64| {
        if rounds == 0 {
            0.0
        } else {
            elapsed.as_secs_f64() * 1e6 / (rounds as f64 * matches as f64)
        }
    };
    println!(
        "{matches} matches: {:.1} KiB each (RSS {before} -> {after} KiB, {} KiB after the ticks); \
         idle tick {:.2} us ({idle_rounds} rounds), tick with one message {:.2} us ({} rounds), {} sent",
        (after.saturating_sub(before)) as f64 / matches as f64,
        rss_kib(),
        per(idle_elapsed, idle_rounds),
        per(busy_elapsed, ticks - idle_rounds),
        ticks - idle_rounds,
        output.0.load(std::sync::atomic::Ordering::Relaxed),
    );
}
