//! A typed client of the ODIN Fleet REST API: the calls the fleet manager and the example game
//! server make. Every request carries the bearer token and a time limit; answers 429 and 5xx
//! (and connection failures) are retried with exponential backoff; errors say which kind of
//! failure happened.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::model::{Metadata, Page, Server, ServerFilter};

/// ODIN's production API base URL.
pub const DEFAULT_API_URL: &str = "https://fleet.4players.io/api";

/// How a call to the ODIN API failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdinError {
    /// 404: no such app or server.
    #[error("not found: {0}")]
    NotFound(String),
    /// 401 or 403: the token is missing, wrong, or lacks the right.
    #[error("unauthorized (HTTP {status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// 400 or 422: the API rejected the request's values.
    #[error("invalid request: {message}")]
    Invalid {
        message: String,
        /// Field name -> problems, from a 422 body.
        errors: BTreeMap<String, Vec<String>>,
    },
    /// 429, 5xx, a timeout or a connection failure, still so after the retries.
    #[error("ODIN API unavailable: {0}")]
    Unavailable(String),
    /// Any other answer, or a body that is not what the spec describes.
    #[error("unexpected answer from the ODIN API: {0}")]
    Unexpected(String),
}

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// The first pause; each further pause doubles, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `attempt + 1` (0-based `attempt` that just failed); a
    /// `Retry-After` in seconds is honoured up to `max_delay`.
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX));
        retry_after
            .unwrap_or(exponential)
            .min(self.max_delay)
            .max(Duration::from_millis(1))
    }
}

/// A client of one ODIN Fleet API base URL with one token. Cheap to clone.
#[derive(Clone)]
pub struct OdinClient {
    http: reqwest::Client,
    base: Url,
    token: String,
    retry: RetryPolicy,
}

impl std::fmt::Debug for OdinClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token stays out of logs.
        f.debug_struct("OdinClient")
            .field("base", &self.base.as_str())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl OdinClient {
    /// A client for `base_url` (such as [`DEFAULT_API_URL`]) sending `token`, with a
    /// `timeout` per request.
    pub fn new(base_url: &str, token: &str, timeout: Duration) -> Result<OdinClient, OdinError> {
        crate::tls::install_crypto_provider();
        let mut base = Url::parse(base_url).map_err(|e| OdinError::Invalid {
            message: format!("API URL {base_url:?}: {e}"),
            errors: BTreeMap::new(),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(OdinError::Invalid {
                message: format!("API URL {base_url:?} must be http:// or https://"),
                errors: BTreeMap::new(),
            });
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("tavern-odin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OdinError::Unexpected(format!("HTTP client: {e}")))?;
        Ok(OdinClient {
            http,
            base,
            token: token.to_owned(),
            retry: RetryPolicy::default(),
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> OdinClient {
        self.retry = retry;
        self
    }

    /// `GET /v1/apps/{app}/services`: one page of the app's servers.
    pub async fn list_servers(
        &self,
        app: i64,
        filter: &ServerFilter,
    ) -> Result<Page<Server>, OdinError> {
        let mut url = self.url(&format!("v1/apps/{app}/services"));
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("perPage", &filter.per_page.clamp(1, 100).to_string());
            query.append_pair("page", &filter.page.max(1).to_string());
            let optional = [
                ("filter[status]", &filter.status),
                ("filter[locationCity]", &filter.location_city),
                ("filter[locationCountry]", &filter.location_country),
                ("filter[locationContinent]", &filter.location_continent),
                ("filter[metadata]", &filter.metadata),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
        }
        self.call(Method::GET, url, None).await
    }

    /// `GET /v1/apps/{app}/services/{id}`: one server.
    pub async fn get_server(&self, app: i64, id: i64) -> Result<Server, OdinError> {
        let url = self.url(&format!("v1/apps/{app}/services/{id}"));
        self.call(Method::GET, url, None).await
    }

    /// `PATCH /v1/services/{id}/metadata`: sets the given keys, keeps the others.
    pub async fn patch_metadata(&self, id: i64, metadata: &Metadata) -> Result<Server, OdinError> {
        let url = self.url(&format!("v1/services/{id}/metadata"));
        let body = serde_json::json!({ "metadata": metadata });
        self.call(Method::PATCH, url, Some(body)).await
    }

    /// `PUT /v1/services/{id}/metadata`: replaces the whole metadata.
    pub async fn put_metadata(&self, id: i64, metadata: &Metadata) -> Result<Server, OdinError> {
        let url = self.url(&format!("v1/services/{id}/metadata"));
        let body = serde_json::json!({ "metadata": metadata });
        self.call(Method::PUT, url, Some(body)).await
    }

    /// `POST /v1/services/{id}/restart`.
    pub async fn restart(&self, id: i64) -> Result<(), OdinError> {
        self.action(id, "restart").await
    }

    /// `POST /v1/services/{id}/stop`.
    pub async fn stop(&self, id: i64) -> Result<(), OdinError> {
        self.action(id, "stop").await
    }

    /// `POST /v1/services/{id}/start`.
    pub async fn start(&self, id: i64) -> Result<(), OdinError> {
        self.action(id, "start").await
    }

    async fn action(&self, id: i64, action: &str) -> Result<(), OdinError> {
        let url = self.url(&format!("v1/services/{id}/{action}"));
        self.send(Method::POST, url, None).await.map(drop)
    }

    fn url(&self, path: &str) -> Url {
        // `path` is built from integers and fixed words, so joining cannot fail.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<T, OdinError> {
        let bytes = self.send(method, url, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| OdinError::Unexpected(format!("body: {e}")))
    }

    /// Sends with retries; returns the body of a 2xx answer.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<Vec<u8>, OdinError> {
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&self.token)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string());
            }
            let (error, retry_after) = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let bytes = response.bytes().await.map_err(|e| {
                        OdinError::Unavailable(format!("{method} {}: {e}", url.path()))
                    });
                    match bytes {
                        Ok(bytes) if status.is_success() => return Ok(bytes.to_vec()),
                        Ok(bytes) => (classify(status, &bytes), retry_after),
                        Err(e) => (e, None),
                    }
                }
                Err(e) => (
                    OdinError::Unavailable(format!("{method} {}: {}", url.path(), describe(&e))),
                    None,
                ),
            };
            attempt += 1;
            if !matches!(error, OdinError::Unavailable(_)) || attempt >= self.retry.attempts {
                return Err(error);
            }
            let delay = self.retry.delay(attempt - 1, retry_after);
            tracing::debug!(%error, attempt, ?delay, "ODIN API call failed; retrying");
            tokio::time::sleep(delay).await;
        }
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        format!("cannot connect: {error}")
    } else {
        error.to_string()
    }
}

/// The error an unsuccessful status and its body stand for.
fn classify(status: StatusCode, body: &[u8]) -> OdinError {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct ErrorBody {
        message: String,
        errors: BTreeMap<String, Vec<String>>,
    }
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let message = if parsed.message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        parsed.message
    };
    match status.as_u16() {
        404 => OdinError::NotFound(message),
        401 | 403 => OdinError::Unauthorized {
            status: status.as_u16(),
            message,
        },
        400 | 422 => OdinError::Invalid {
            message,
            errors: parsed.errors,
        },
        408 | 429 | 500..=599 => OdinError::Unavailable(format!("HTTP {status}: {message}")),
        _ => OdinError::Unexpected(format!("HTTP {status}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let body = br#"{"message":"The given data was invalid.","errors":{"metadata":["must be an object"]}}"#;
        match classify(StatusCode::UNPROCESSABLE_ENTITY, body) {
            OdinError::Invalid { message, errors } => {
                assert_eq!(message, "The given data was invalid.");
                assert_eq!(errors["metadata"], ["must be an object"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, b"{\"message\":\"No query results\"}"),
            OdinError::NotFound(m) if m == "No query results"
        ));
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, b"not json"),
            OdinError::Unauthorized { status: 401, .. }
        ));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, b""),
            OdinError::Unavailable(_)
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, b""),
            OdinError::Unavailable(_)
        ));
        assert!(matches!(
            classify(StatusCode::IM_A_TEAPOT, b""),
            OdinError::Unexpected(_)
        ));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        assert_eq!(policy.delay(0, None), Duration::from_millis(100));
        assert_eq!(policy.delay(1, None), Duration::from_millis(200));
        assert_eq!(policy.delay(2, None), Duration::from_millis(350));
        assert_eq!(policy.delay(40, None), Duration::from_millis(350));
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(60))),
            Duration::from_millis(350)
        );
    }

    #[test]
    fn base_urls_are_checked_and_joined() {
        let timeout = Duration::from_secs(1);
        assert!(OdinClient::new("ftp://x", "t", timeout).is_err());
        assert!(OdinClient::new("not a url", "t", timeout).is_err());
        let client = OdinClient::new("http://127.0.0.1:9/api", "t", timeout).unwrap();
        assert_eq!(
            client.url("v1/apps/1/services").as_str(),
            "http://127.0.0.1:9/api/v1/apps/1/services"
        );
        assert!(!format!("{client:?}").contains("\"t\""));
    }
}
