//! Request extractors: the seams where credentials, query strings and bodies are checked.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use crate::state::AppState;

/// Proof that the request carried the server key as HTTP Basic credentials.
pub struct ServerKey;

impl FromRequestParts<Arc<AppState>> for ServerKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let Some(value) = single_authorization(&parts.headers) else {
            return Err(ApiError::unauthenticated("Server key required"));
        };
        match basic_username(value) {
            Some(key) if key == state.config.socket.server_key => Ok(ServerKey),
            _ => Err(ApiError::unauthenticated("Server key invalid")),
        }
    }
}

/// The one `Authorization` header, or `None` when absent or repeated.
fn single_authorization(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok()
}

/// The username part of `Basic base64(user:password)`.
pub fn basic_username(value: &str) -> Option<String> {
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, _password) = text.split_once(':')?;
    Some(user.to_owned())
}

/// The caller of a call that needs a session token.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub username: String,
    pub vars: HashMap<String, String>,
    pub token_id: String,
    /// Token expiry, unix seconds.
    pub expiry: i64,
}

impl FromRequestParts<Arc<AppState>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Err(ApiError::unauthenticated("Auth token required"));
        }
        single_authorization(&parts.headers)
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|token| state.verify_session(token))
            .ok_or_else(|| ApiError::unauthenticated("Auth token invalid"))
    }
}

/// The raw query string as ordered pairs; keys may repeat.
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Params::parse(parts.uri.query().unwrap_or_default()))
    }
}

impl Params {
    pub fn parse(query: &str) -> Params {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a field, by its proto name or its JSON (camelCase) name.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated field.
    pub fn all(&self, names: &[&str]) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a key is present at all, whatever its value.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A bool field, parsed as Go's `strconv.ParseBool` does.
    pub fn bool(&self, names: &[&str]) -> Result<Option<bool>, ApiError> {
        self.get(names)
            .map(|v| {
                parse_go_bool(v).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "parsing field \"{}\": strconv.ParseBool: parsing {v:?}: invalid syntax",
                        names[0]
                    ))
                })
            })
            .transpose()
    }

    /// An int32 field.
    pub fn int32(&self, names: &[&str]) -> Result<Option<i32>, ApiError> {
        self.get(names)
            .map(|v| {
                v.parse::<i32>().map_err(|_| {
                    ApiError::invalid(format!(
                        "parsing field \"{}\": strconv.ParseInt: parsing {v:?}: invalid syntax",
                        names[0]
                    ))
                })
            })
            .transpose()
    }
}

/// Go's `strconv.ParseBool` spellings.
pub fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A JSON request body, whatever the Content-Type; an empty body is the empty message.
pub struct Body<T>(pub T);

impl<T> FromRequest<Arc<AppState>> for Body<T>
where
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let limit = state.config.socket.max_request_size_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::invalid("http: request body too large"))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| ApiError::invalid(json_error_message(&e)))
    }
}

/// A decoder message in the spirit of Go's (`unexpected EOF` for truncated input).
pub fn json_error_message(e: &serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected EOF".to_owned()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_compare_the_username_only() {
        assert_eq!(
            basic_username("Basic ZGVmYXVsdGtleTo=").as_deref(),
            Some("defaultkey")
        );
        assert_eq!(basic_username("Basic !!!"), None);
        assert_eq!(basic_username("Bearer abc"), None);
        // "nocolon" base64-encoded: no separator, not valid credentials.
        assert_eq!(basic_username("Basic bm9jb2xvbg=="), None);
    }

    #[test]
    fn params_accept_trailing_separators_and_repeats() {
        let p = Params::parse("create=true&username=bob&ids=a&ids=b&");
        assert_eq!(p.get(&["username"]), Some("bob"));
        assert_eq!(p.all(&["ids"]), vec!["a", "b"]);
        assert_eq!(p.bool(&["create"]).unwrap(), Some(true));
        assert!(Params::parse("create=yes").bool(&["create"]).is_err());
        assert_eq!(Params::parse("").get(&["x"]), None);
        assert_eq!(
            Params::parse("minSize=3")
                .int32(&["min_size", "minSize"])
                .unwrap(),
            Some(3)
        );
    }
}
