//! The HTTP side of a call that game code sees in its `Context`: client address, headers and
//! query parameters.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tavern_runtime::{Caller, Context, ExecutionMode};

use crate::runtime::RuntimeHost;

/// Who sent the request and with what headers and query.
pub struct CallInfo {
    client: Option<SocketAddr>,
    headers: HashMap<String, Vec<String>>,
    query: HashMap<String, Vec<String>>,
    http_key: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for CallInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let mut headers: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in &parts.headers {
            if let Ok(value) = value.to_str() {
                headers
                    .entry(name.as_str().to_owned())
                    .or_default()
                    .push(value.to_owned());
            }
        }
        let mut query: HashMap<String, Vec<String>> = HashMap::new();
        let mut http_key = None;
        let raw = parts.uri.query().unwrap_or_default();
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            if key == "http_key" {
                http_key.get_or_insert_with(|| value.into_owned());
            } else if !key.is_empty() {
                query
                    .entry(key.into_owned())
                    .or_default()
                    .push(value.into_owned());
            }
        }
        Ok(CallInfo {
            client: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
            headers,
            query,
            http_key,
        })
    }
}

impl CallInfo {
    /// A context for `mode` on behalf of `caller`, with this request's details.
    pub fn context(&self, host: &RuntimeHost, mode: ExecutionMode, caller: Caller) -> Context {
        let mut ctx = host.context(mode);
        ctx.caller = caller;
        ctx.client_ip = self.client.map(|a| a.ip());
        ctx.client_port = self.client.map(|a| a.port());
        ctx.headers = self.headers.clone();
        ctx.query = self.query.clone();
        ctx
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name)?.first().map(String::as_str)
    }

    /// The `http_key` query parameter, which game code never sees.
    pub fn http_key(&self) -> Option<&str> {
        self.http_key.as_deref()
    }

    /// Whether a query parameter is present, whatever its value.
    pub fn has_query(&self, name: &str) -> bool {
        self.query.contains_key(name)
    }
}
