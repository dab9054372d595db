//! Start-up and shutdown: open the database, bind the socket port, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tavern_config::Config;
use tavern_runtime::Module;
use tavern_runtime::registry::LoadError;
use tokio::net::TcpListener;
use tracing::info;

use crate::realtime::session::CloseReason;
use crate::runtime::RuntimeHost;
use crate::state::AppState;
use crate::storage::{Db, StorageError, StorageTarget};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Runtime(#[from] LoadError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// Where the configuration says the data lives.
pub fn storage_target(config: &Config) -> StorageTarget {
    match config.database.address.first() {
        None => StorageTarget::Sqlite {
            path: config.data_dir.join("tavern.db"),
        },
        Some(address) => StorageTarget::Postgres {
            url: address.url(),
            max_connections: config.database.max_open_conns,
        },
    }
}

/// Human description of the database in use, never with its password.
pub fn describe_storage(config: &Config) -> String {
    match config.database.address.first() {
        None => format!("sqlite:{}", config.data_dir.join("tavern.db").display()),
        Some(address) => address.redacted(),
    }
}

/// Opens the configured database; SQLite migrates itself, PostgreSQL must be migrated already.
pub async fn open_database(config: &Config) -> Result<Db, StorageError> {
    let db = Db::connect(&storage_target(config)).await?;
    match db {
        Db::Sqlite(_) => db.migrate_up().await?,
        Db::Postgres(_) => db.ensure_migrated().await?,
    }
    Ok(db)
}

/// A server whose port is bound and whose database is open.
pub struct Server {
    state: Arc<AppState>,
    listener: TcpListener,
    routes: axum::Router,
}

impl Server {
    /// Opens the database, loads the runtime modules in order and binds the socket port.
    pub async fn bind(config: Config, modules: &[Module]) -> Result<Server, StartError> {
        Server::bind_with_fleet(config, modules, None).await
    }

    /// [`Server::bind`], with a fleet manager registered before the modules load.
    pub async fn bind_with_fleet(
        config: Config,
        modules: &[Module],
        fleet_manager: Option<Arc<dyn tavern_runtime::FleetManager>>,
    ) -> Result<Server, StartError> {
        let config = Arc::new(config);
        let db = open_database(&config).await?;
        info!(database = %describe_storage(&config), kind = db.kind(), "Database connected");
        if config.metrics.prometheus_port != 0 {
            // Before the modules load, so what they create (Lua VMs) is counted. A failure is
            // reported when the metrics listener starts, which installs again.
            let _ = crate::telemetry::install();
        }
        let runtime = RuntimeHost::load(modules, &config, &db, fleet_manager)?;
        info!(modules = ?runtime.registry().modules(), "Runtime modules loaded");
        // After the modules, so the boards they created are read with the others.
        runtime
            .leaderboards()
            .load()
            .await
            .map_err(StorageError::from)?;
        let host = if config.socket.address.is_empty() {
            "0.0.0.0"
        } else {
            config.socket.address.as_str()
        };
        let host = host.to_owned();
        let address = format!("{host}:{}", config.socket.port);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| StartError::Bind {
                address: address.clone(),
                source,
            })?;
        let state = Arc::new(AppState::new(config, db, runtime));
        state.runtime.attach(&state);
        let metrics_port = state.config.metrics.prometheus_port;
        if metrics_port != 0 {
            let address = format!("{host}:{metrics_port}");
            let serve = crate::telemetry::bind(state.clone(), &address)
                .await
                .map_err(|source| StartError::Bind {
                    address: address.clone(),
                    source,
                })?;
            tokio::spawn(serve);
            info!(port = metrics_port, "Prometheus metrics served at /metrics");
        }
        crate::social::leaderboards::start_scheduler(state.clone());
        crate::matchmaking::MatchmakerHost::start(
            state.clone(),
            Duration::from_secs(state.config.matchmaker.interval_sec),
        );
        Ok(Server {
            state,
            listener,
            routes: axum::Router::new(),
        })
    }

    /// Adds routes of the binary's own (static pages such as the tic-tac-toe client) beside
    /// the API; they are served without the API's authentication.
    pub fn with_routes(mut self, routes: axum::Router) -> Server {
        self.routes = self.routes.merge(routes);
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.listener.local_addr()?;
        info!(port = addr.port(), address = %addr.ip(), "Starting API server for gRPC-gateway-style REST and the realtime socket");
        let app = crate::api::router(self.state.clone()).merge(self.routes);
        let state = self.state.clone();
        let timeouts = crate::serve::timeouts_of(&self.state.config.socket);
        crate::serve::serve(self.listener, app, timeouts, async move {
            shutdown.await;
            wind_down(&state).await;
        })
        .await;
        info!("Shutting down");
        self.state.db.close().await;
        Ok(())
    }
}

/// Lets matches finish within `shutdown_grace_sec`, then closes every socket.
async fn wind_down(state: &AppState) {
    let grace = state.config.shutdown_grace_sec;
    info!(
        grace_sec = grace,
        matches = state.matches.count(),
        "Shutdown started"
    );
    if grace > 0 {
        state
            .matches
            .terminate_all(u32::try_from(grace).unwrap_or(u32::MAX));
        state.matches.wait_empty(Duration::from_secs(grace)).await;
    } else {
        state.matches.stop_accepting();
    }
    state.realtime.sessions.close_all(CloseReason::SHUTDOWN);
    // Give the writers a moment to flush their last messages and close frames.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
