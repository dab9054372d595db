//! JSON-lines logs through `tracing`, at the configured level.

use tavern_config::LogLevel;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls are ignored (tests start many servers).
pub fn init(level: LogLevel) {
    let filter = EnvFilter::new(format!(
        "{},sqlx=warn,tower_http=warn,hyper=warn",
        level.as_str()
    ));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}
