//! [`ConfigError`]: one line naming the key (and the file, when a file was at fault).

use std::fmt;

/// What went wrong while loading or checking the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// A flag or file key that Tavern does not know.
    #[error("unknown key {key:?}")]
    UnknownKey { key: String },
    /// A key of Nakama's that Tavern does not implement (`unsupported.rs`).
    #[error("{key}: not supported by Tavern (a Nakama key it does not implement); remove it")]
    NotSupported { key: String },
    /// A section name used where a key is needed (`--socket 1`).
    #[error("{key:?} is a section, not a key; set one of its keys, e.g. --{example}")]
    NotAKey { key: String, example: String },
    /// A flag at the end of the arguments with no value after it.
    #[error("flag {flag} needs a value")]
    MissingValue { flag: String },
    /// A value of the wrong kind for its key.
    #[error("{key}: invalid value {value}, expected {expected}")]
    InvalidValue {
        key: String,
        value: String,
        expected: String,
    },
    /// A value of the right kind that breaks a rule (range, consistency between keys).
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
    /// A `--config` file that could not be read.
    #[error("cannot read the file: {reason}")]
    ReadFile { reason: String },
    /// A `--config` file that is not valid YAML, or not a mapping at the top.
    #[error("not a valid configuration file: {reason}")]
    Yaml { reason: String },
}

/// A configuration error. Displays as one line starting with `config error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    file: Option<String>,
    kind: ErrorKind,
}

impl ConfigError {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self { file: None, kind }
    }

    pub(crate) fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_owned());
        self
    }

    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid {
            key: key.into(),
            message: message.into(),
        })
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The `--config` file at fault, if the error came from one.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }

    /// The dotted key the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::UnknownKey { key }
            | ErrorKind::NotSupported { key }
            | ErrorKind::NotAKey { key, .. }
            | ErrorKind::InvalidValue { key, .. }
            | ErrorKind::Invalid { key, .. } => Some(key),
            ErrorKind::MissingValue { flag } => Some(flag.trim_start_matches('-')),
            ErrorKind::ReadFile { .. } | ErrorKind::Yaml { .. } => None,
        }
    }

    /// The process exit code for a configuration error: 2, as for any usage error.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("config error: ")?;
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ConfigError {}

impl From<ErrorKind> for ConfigError {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}
