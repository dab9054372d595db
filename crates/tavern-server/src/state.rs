//! What every request handler shares: configuration, database, token issuer, revocations and
//! the runtime modules.

use std::sync::{Arc, OnceLock};

use tavern_config::Config;

use crate::api::extract::Session;
use crate::auth::session_cache::SessionCache;
use crate::auth::token::{Claims, TokenIssuer};
use crate::matches::MatchRegistry;
use crate::matchmaking::MatchmakerHost;
use crate::realtime::Realtime;
use crate::runtime::RuntimeHost;
use crate::social::channels::MessageWriter;
use crate::social::leaderboards::Leaderboards;
use crate::social::parties::PartyRegistry;
use crate::storage::Db;

/// Shared server state, behind an `Arc`.
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: TokenIssuer,
    pub session_cache: SessionCache,
    pub realtime: Realtime,
    pub matches: Arc<MatchRegistry>,
    pub runtime: RuntimeHost,
    pub matchmaker: Arc<MatchmakerHost>,
    pub parties: Arc<PartyRegistry>,
    pub leaderboards: Arc<Leaderboards>,
    /// Stores persisted channel messages in groups (`social/channels/writer.rs`).
    pub message_writer: OnceLock<MessageWriter>,
}

impl AppState {
    pub fn new(config: Arc<Config>, db: Db, runtime: RuntimeHost) -> AppState {
        let tokens = TokenIssuer::new(
            &config.session.encryption_key,
            config.session.token_expiry_sec as i64,
            &config.session.refresh_encryption_key,
            config.session.refresh_token_expiry_sec as i64,
        );
        let config_matchmaker = config.matchmaker.clone();
        let matches = Arc::new(MatchRegistry::new(&config.name));
        let matchmaker = Arc::new(MatchmakerHost::new(&config_matchmaker));
        let parties = Arc::new(PartyRegistry::new(&config.name, matchmaker.clone()));
        let realtime = Realtime::new(&config.name, matches.clone(), parties.clone());
        let leaderboards = runtime.leaderboards().clone();
        AppState {
            config,
            db,
            tokens,
            session_cache: SessionCache::new(),
            realtime,
            matches,
            runtime,
            matchmaker,
            parties,
            leaderboards,
            message_writer: OnceLock::new(),
        }
    }

    /// The caller behind a session token: well signed, unexpired, not revoked.
    pub fn verify_session(&self, token: &str) -> Option<Session> {
        let claims = self.tokens.verify_session(token)?;
        let issued = claims.exp - self.tokens.session_lifetime_sec();
        self.session_from_claims(claims, issued)
    }

    /// The claims of a refresh token that is well signed, unexpired and not revoked.
    pub fn verify_refresh(&self, token: &str) -> Option<Claims> {
        let claims = self.tokens.verify_refresh(token)?;
        let issued = claims.exp - self.tokens.refresh_lifetime_sec();
        let user_id = claims.user_id()?;
        self.session_cache
            .is_valid(user_id, &claims.tid, issued)
            .then_some(claims)
    }

    /// Whether a user shows as online: some session of theirs is on their status stream.
    pub fn is_online(&self, user_id: &str) -> bool {
        uuid::Uuid::parse_str(user_id).is_ok_and(|id| {
            self.realtime
                .tracker
                .stream_exists(&crate::realtime::stream::Stream::status(id))
        })
    }

    fn session_from_claims(&self, claims: Claims, issued: i64) -> Option<Session> {
        let user_id = claims.user_id()?;
        if !self.session_cache.is_valid(user_id, &claims.tid, issued) {
            return None;
        }
        Some(Session {
            user_id,
            username: claims.usn,
            vars: claims.vrs,
            token_id: claims.tid,
            expiry: claims.exp,
        })
    }
}
