//! `nk.http_request`: outgoing HTTP for game code, over one shared client (rustls with
//! `ring`, no redirects followed beyond reqwest's default of 10).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use tavern_runtime::{Code, HttpRequest, HttpResponse, RuntimeError};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

fn client() -> Result<&'static reqwest::Client, RuntimeError> {
    static CLIENT: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .user_agent(concat!("tavern/", env!("CARGO_PKG_VERSION")))
                .build()
                .ok()
        })
        .as_ref()
        .ok_or_else(|| RuntimeError::internal("the HTTP client could not be built"))
}

/// Sends `request`; any status is an answer, a bad request or a failed exchange an error.
pub(crate) async fn send(request: HttpRequest) -> Result<HttpResponse, RuntimeError> {
    let method = request.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(RuntimeError::invalid_argument(format!(
            "HTTP method must be one of {}",
            METHODS.join(", ")
        )));
    }
    let url = reqwest::Url::parse(&request.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| RuntimeError::invalid_argument("URL must be an http:// or https:// URL"))?;
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| RuntimeError::invalid_argument("invalid HTTP method"))?;
    let mut builder = client()?.request(method, url).timeout(request.timeout);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !request.body.is_empty() {
        builder = builder.body(request.body);
    }
    let unavailable = |e: reqwest::Error| {
        RuntimeError::new(format!("HTTP request failed: {e}"), Code::Unavailable)
    };
    let response = builder.send().await.map_err(unavailable)?;
    let status = response.status().as_u16();
    let headers: BTreeMap<String, String> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let body = response.text().await.map_err(unavailable)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}
