//! The module logger: messages go to the server's `tracing` output, tagged with the module name.

use std::fmt;
use std::sync::Arc;

/// Logs on behalf of a module. Cheap to clone.
///
/// ```
/// let log = tavern_runtime::Logger::new("my_game");
/// log.info(format_args!("{} players online", 3));
/// ```
#[derive(Clone)]
pub struct Logger {
    module: Arc<str>,
}

impl Logger {
    /// A logger that tags every line with `module`.
    pub fn new(module: &str) -> Logger {
        Logger {
            module: Arc::from(module),
        }
    }

    /// The module name on each line.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// Logs at debug level.
    pub fn debug(&self, message: impl fmt::Display) {
        tracing::debug!(target: "tavern::runtime", module = %self.module, "{message}");
    }

    /// Logs at info level.
    pub fn info(&self, message: impl fmt::Display) {
        tracing::info!(target: "tavern::runtime", module = %self.module, "{message}");
    }

    /// Logs at warn level.
    pub fn warn(&self, message: impl fmt::Display) {
        tracing::warn!(target: "tavern::runtime", module = %self.module, "{message}");
    }

    /// Logs at error level.
    pub fn error(&self, message: impl fmt::Display) {
        tracing::error!(target: "tavern::runtime", module = %self.module, "{message}");
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("module", &self.module)
            .finish()
    }
}
