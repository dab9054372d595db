//! What a callback knows about the call it serves: who called, how, from where, on which node.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::logger::Logger;

/// Why the server is running a callback, as Nakama's `RUNTIME_CTX_MODE` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExecutionMode {
    /// An RPC called over HTTP or the socket.
    Rpc,
    /// A before hook of a REST operation or realtime message.
    Before,
    /// An after hook of a REST operation or realtime message.
    After,
    /// A match handler creating its match.
    MatchCreate,
    /// A match handler running its match.
    Match,
    /// The matchmaker-matched hook.
    Matchmaker,
    /// A leaderboard's reset callback.
    LeaderboardReset,
    /// A tournament's reset callback.
    TournamentReset,
    /// A tournament's end callback.
    TournamentEnd,
    /// An event handler (`register_event`).
    Event,
}

impl ExecutionMode {
    /// Nakama's name for the mode (`rpc`, `before`, `after`, `match_create`, `match`,
    /// `matchmaker`, `leaderboard_reset`, `tournament_reset`, `tournament_end`, `event`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionMode::Rpc => "rpc",
            ExecutionMode::Before => "before",
            ExecutionMode::After => "after",
            ExecutionMode::MatchCreate => "match_create",
            ExecutionMode::Match => "match",
            ExecutionMode::Matchmaker => "matchmaker",
            ExecutionMode::LeaderboardReset => "leaderboard_reset",
            ExecutionMode::TournamentReset => "tournament_reset",
            ExecutionMode::TournamentEnd => "tournament_end",
            ExecutionMode::Event => "event",
        }
    }
}

impl fmt::Display for ExecutionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made the call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// Nobody outside: the server itself (matchmaker, match loop).
    Server,
    /// A client that showed the server key: the authenticate and session-refresh calls, before
    /// an account is known.
    ServerKey,
    /// A trusted caller that showed the runtime HTTP key (`runtime.http_key`); no user.
    HttpKey,
    /// A user with a session.
    User(UserSession),
}

/// The user behind a session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    /// The user's id, a UUID.
    pub user_id: String,
    /// The username when the token was issued.
    pub username: String,
    /// The session vars given at authentication.
    pub vars: HashMap<String, String>,
    /// When the session token expires, in unix seconds.
    pub expiry: i64,
    /// The realtime session id, for calls that arrive over the socket.
    pub session_id: Option<String>,
}

/// The context of one callback: the caller, the HTTP request it came with, the node and the
/// `runtime.env` values. The server builds it; game code reads it.
///
/// ```
/// use tavern_runtime::{Caller, Context};
///
/// fn greeting(ctx: &Context) -> String {
///     match &ctx.caller {
///         Caller::User(user) => format!("hello {} from {}", user.username, ctx.node),
///         Caller::HttpKey => "hello, trusted server".to_owned(),
///         _ => "hello".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Context {
    /// Why the callback runs.
    pub mode: ExecutionMode,
    /// Who called.
    pub caller: Caller,
    /// The name of this server node (`name` in the configuration).
    pub node: String,
    /// The `runtime.env` values of the configuration.
    pub env: Arc<BTreeMap<String, String>>,
    /// The client's IP address, when the call came from a client.
    pub client_ip: Option<IpAddr>,
    /// The client's port, when the call came from a client.
    pub client_port: Option<u16>,
    /// The HTTP request headers, names lower-cased; empty for socket calls.
    pub headers: HashMap<String, Vec<String>>,
    /// The HTTP query parameters (without `http_key`); empty for socket calls.
    pub query: HashMap<String, Vec<String>>,
    /// A logger that names the module that registered the callback.
    pub logger: Logger,
}

impl Context {
    /// A context for `mode` on `node` with no caller and no request; the server fills in the
    /// rest.
    pub fn new(
        mode: ExecutionMode,
        node: impl Into<String>,
        env: Arc<BTreeMap<String, String>>,
    ) -> Context {
        Context {
            mode,
            caller: Caller::Server,
            node: node.into(),
            env,
            client_ip: None,
            client_port: None,
            headers: HashMap::new(),
            query: HashMap::new(),
            logger: Logger::new("tavern"),
        }
    }

    /// The calling user's session, if a user called.
    pub fn user(&self) -> Option<&UserSession> {
        match &self.caller {
            Caller::User(user) => Some(user),
            _ => None,
        }
    }

    /// The calling user's id, if a user called.
    pub fn user_id(&self) -> Option<&str> {
        self.user().map(|u| u.user_id.as_str())
    }

    /// The calling user's username, if a user called.
    pub fn username(&self) -> Option<&str> {
        self.user().map(|u| u.username.as_str())
    }

    /// Whether the call was authorised with the runtime HTTP key.
    pub fn used_http_key(&self) -> bool {
        matches!(self.caller, Caller::HttpKey)
    }

    /// A `runtime.env` value.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }

    /// The first value of an HTTP header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_read_the_caller_and_request() {
        let mut ctx = Context::new(ExecutionMode::Rpc, "node1", Arc::default());
        assert_eq!(ctx.user_id(), None);
        assert!(!ctx.used_http_key());
        ctx.caller = Caller::User(UserSession {
            user_id: "u1".into(),
            username: "bob".into(),
            vars: HashMap::new(),
            expiry: 10,
            session_id: None,
        });
        ctx.headers
            .insert("x-game".into(), vec!["a".into(), "b".into()]);
        ctx.query.insert("payload".into(), vec!["p".into()]);
        assert_eq!(ctx.user_id(), Some("u1"));
        assert_eq!(ctx.username(), Some("bob"));
        assert_eq!(ctx.header("X-Game"), Some("a"));
        assert_eq!(ctx.query_param("payload"), Some("p"));
        assert_eq!(ExecutionMode::MatchCreate.to_string(), "match_create");
    }
}
