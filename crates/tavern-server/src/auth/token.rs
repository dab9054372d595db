//! Session and refresh tokens: HS256 JWTs with Nakama's claims (`tid uid usn vrs exp iat`).

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The claims of a session or refresh token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Token id, shared by a session token and its refresh token, kept across refreshes.
    #[serde(default)]
    pub tid: String,
    /// User id.
    pub uid: String,
    /// Username at issue time.
    pub usn: String,
    /// Session variables given at authentication.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub vrs: HashMap<String, String>,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Issue time of the original authentication, unix seconds.
    #[serde(default)]
    pub iat: i64,
}

impl Claims {
    /// The user id as a UUID; tokens whose `uid` is not one are invalid.
    pub fn user_id(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.uid).ok()
    }
}

/// How long a matchmaker token may be used to join its match.
const MATCH_TOKEN_LIFETIME_SEC: i64 = 30;

/// The claims of a matchmaker token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MatchClaims {
    mid: String,
    exp: i64,
}

/// One HMAC key with its lifetime.
struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime_sec: i64,
}

impl Signer {
    fn new(secret: &str, lifetime_sec: i64) -> Signer {
        Signer {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            lifetime_sec,
        }
    }
}

/// Issues and checks the two kinds of token.
pub struct TokenIssuer {
    session: Signer,
    refresh: Signer,
    validation: Validation,
}

/// A freshly issued pair.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub token: String,
    pub refresh_token: String,
    pub claims: Claims,
}

impl TokenIssuer {
    pub fn new(
        session_key: &str,
        session_lifetime_sec: i64,
        refresh_key: &str,
        refresh_lifetime_sec: i64,
    ) -> TokenIssuer {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp"]);
        TokenIssuer {
            session: Signer::new(session_key, session_lifetime_sec),
            refresh: Signer::new(refresh_key, refresh_lifetime_sec),
            validation,
        }
    }

    /// Lifetime of session tokens in seconds.
    pub fn session_lifetime_sec(&self) -> i64 {
        self.session.lifetime_sec
    }

    /// Lifetime of refresh tokens in seconds.
    pub fn refresh_lifetime_sec(&self) -> i64 {
        self.refresh.lifetime_sec
    }

    /// Issues a session token and a refresh token sharing `tid` and `iat`.
    pub fn issue(
        &self,
        tid: &str,
        user_id: &str,
        username: &str,
        vars: HashMap<String, String>,
        iat: i64,
        now: i64,
    ) -> TokenPair {
        let claims = Claims {
            tid: tid.to_owned(),
            uid: user_id.to_owned(),
            usn: username.to_owned(),
            vrs: vars,
            exp: now + self.session.lifetime_sec,
            iat,
        };
        let refresh_claims = Claims {
            exp: now + self.refresh.lifetime_sec,
            ..claims.clone()
        };
        TokenPair {
            token: sign(&claims, &self.session.encoding),
            refresh_token: sign(&refresh_claims, &self.refresh.encoding),
            claims,
        }
    }

    /// Checks a session token's signature, expiry and user id.
    pub fn verify_session(&self, token: &str) -> Option<Claims> {
        self.verify(token, &self.session.decoding)
    }

    /// Checks a refresh token's signature, expiry and user id.
    pub fn verify_refresh(&self, token: &str) -> Option<Claims> {
        self.verify(token, &self.refresh.decoding)
    }

    /// A relayed-match token for a matchmaker group: `mid` = `<uuid>.`, valid for 30 seconds.
    pub fn issue_match_token(&self, match_id: &str, now: i64) -> String {
        let claims = MatchClaims {
            mid: match_id.to_owned(),
            exp: now + MATCH_TOKEN_LIFETIME_SEC,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.session.encoding,
        )
        .expect("claims serialise to JSON")
    }

    /// The match id inside a valid matchmaker token.
    pub fn verify_match_token(&self, token: &str) -> Option<String> {
        jsonwebtoken::decode::<MatchClaims>(token, &self.session.decoding, &self.validation)
            .ok()
            .map(|data| data.claims.mid)
    }

    fn verify(&self, token: &str, key: &DecodingKey) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation).ok()?;
        data.claims.user_id()?;
        Some(data.claims)
    }
}

fn sign(claims: &Claims, key: &EncodingKey) -> String {
    // Serialising a struct of strings and integers cannot fail.
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, key)
        .expect("claims serialise to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new("sessionkey", 60, "refreshkey", 3600)
    }

    const UID: &str = "2cdbce2d-752e-4244-9276-79ee1b5bdfa3";

    #[test]
    fn issued_tokens_carry_nakama_claims() {
        let pair = issuer().issue("tid-1", UID, "alice", HashMap::new(), 1000, 1000);
        let payload = pair.token.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["tid"], "tid-1");
        assert_eq!(value["uid"], UID);
        assert_eq!(value["usn"], "alice");
        assert_eq!(value["exp"], 1060);
        assert_eq!(value["iat"], 1000);
        assert!(value.get("vrs").is_none(), "empty vars are omitted");
        let header = pair.token.split('.').next().unwrap();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&header).unwrap()["alg"],
            "HS256"
        );
    }

    #[test]
    fn vars_travel_in_vrs() {
        let vars = HashMap::from([("k".to_owned(), "v".to_owned())]);
        let now = crate::storage::now_unix();
        let pair = issuer().issue("t", UID, "bob", vars.clone(), now, now);
        let claims = issuer().verify_session(&pair.token).unwrap();
        assert_eq!(claims.vrs, vars);
    }

    #[test]
    fn session_and_refresh_keys_are_not_interchangeable() {
        let now = crate::storage::now_unix();
        let pair = issuer().issue("t", UID, "bob", HashMap::new(), now, now);
        assert!(issuer().verify_session(&pair.token).is_some());
        assert!(issuer().verify_refresh(&pair.refresh_token).is_some());
        assert!(issuer().verify_session(&pair.refresh_token).is_none());
        assert!(issuer().verify_refresh(&pair.token).is_none());
    }

    #[test]
    fn expired_tokens_are_rejected_without_leeway() {
        let now = crate::storage::now_unix();
        // Issued 61 s ago with a 60 s life: expired one second ago.
        let pair = issuer().issue("t", UID, "bob", HashMap::new(), now - 61, now - 61);
        assert!(issuer().verify_session(&pair.token).is_none());
    }

    #[test]
    fn forged_and_malformed_tokens_are_rejected() {
        let now = crate::storage::now_unix();
        let other = TokenIssuer::new("otherkey", 60, "refreshkey", 3600);
        let forged = other.issue("t", UID, "bob", HashMap::new(), now, now);
        assert!(issuer().verify_session(&forged.token).is_none());
        assert!(issuer().verify_session("not.a.token").is_none());
        assert!(issuer().verify_session("").is_none());
    }

    #[test]
    fn match_tokens_carry_the_match_id() {
        let now = crate::storage::now_unix();
        let token = issuer().issue_match_token("5c0e5c0e-0000-4000-8000-000000000000.", now);
        assert_eq!(
            issuer().verify_match_token(&token).as_deref(),
            Some("5c0e5c0e-0000-4000-8000-000000000000.")
        );
        let expired = issuer().issue_match_token("x.", now - 31);
        assert!(issuer().verify_match_token(&expired).is_none());
        let pair = issuer().issue("t", UID, "bob", HashMap::new(), now, now);
        assert!(issuer().verify_match_token(&pair.token).is_none());
    }

    #[test]
    fn non_uuid_user_ids_are_rejected() {
        let now = crate::storage::now_unix();
        let pair = issuer().issue("t", "not-a-uuid", "bob", HashMap::new(), now, now);
        assert!(issuer().verify_session(&pair.token).is_none());
    }
}
