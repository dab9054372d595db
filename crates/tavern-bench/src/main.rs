//! `tavern-bench`: drives a Nakama-protocol server on this machine through its real client
//! protocol (REST device authentication, realtime socket in JSON or protobuf) and reports
//! throughput, latency percentiles and, given its pid, the server's CPU and memory.

mod cli;
mod client;
mod proc_stats;
mod report;
mod scenario;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;

/// mimalloc: cheaper than glibc's malloc for the small per-message buffers the players
/// allocate on two threads, so the load generator leaves more of the machine to the server
/// it measures. (The server keeps the system allocator; docs/PERFORMANCE.md says why.)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::cli::{Cli, Scenario};
use crate::client::Endpoint;
use crate::report::Report;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(report) => {
            report.print_table();
            if let Some(path) = &cli.target.json
                && let Err(e) = report.write_json(path)
            {
                eprintln!("tavern-bench: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tavern-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<Report, String> {
    let endpoint = Arc::new(Endpoint::new(&cli.target)?);
    if let Some(pid) = cli.target.server_pid {
        proc_stats::sample(pid)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let target = &cli.target;
    runtime.block_on(async {
        match &cli.scenario {
            Scenario::Auth(args) => scenario::auth::run(endpoint, target, args).await,
            Scenario::Ccu(args) => scenario::ccu::run(endpoint, target, args).await,
            Scenario::Relay(args) => scenario::match_traffic::relay(endpoint, target, args).await,
            Scenario::Echo(args) => scenario::match_traffic::echo(endpoint, target, args).await,
            Scenario::Matchmake(args) => scenario::matchmake::run(endpoint, target, args).await,
            Scenario::Idle(args) => scenario::idle::run(endpoint, target, args).await,
            Scenario::LuaIdle(args) => scenario::idle::lua(endpoint, target, args).await,
            Scenario::LuaEcho(args) => {
                scenario::match_traffic::lua_echo(endpoint, target, args).await
            }
            Scenario::Storage(args) => scenario::storage::run(endpoint, target, args).await,
            Scenario::Chat(args) => scenario::chat::run(endpoint, target, args).await,
        }
    })
}
