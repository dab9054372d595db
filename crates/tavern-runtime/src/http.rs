//! Outgoing HTTP requests from game code (Nakama's `http_request`): what to send and what
//! came back.

use std::collections::BTreeMap;
use std::time::Duration;

/// A request for [`Nk::http_request`](crate::Nk::http_request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// An `http://` or `https://` URL.
    pub url: String,
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE` or `HEAD`.
    pub method: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The whole exchange's time limit; Nakama's default is 5 seconds.
    pub timeout: Duration,
}

impl HttpRequest {
    /// A `method` request to `url` with no headers or body and a 5-second limit.
    pub fn new(method: &str, url: &str) -> HttpRequest {
        HttpRequest {
            url: url.to_owned(),
            method: method.to_owned(),
            headers: BTreeMap::new(),
            body: String::new(),
            timeout: Duration::from_secs(5),
        }
    }

    /// The same request with a JSON body (and its content type).
    pub fn json(mut self, body: &serde_json::Value) -> HttpRequest {
        self.headers
            .insert("Content-Type".to_owned(), "application/json".to_owned());
        self.body = body.to_string();
        self
    }
}

/// The answer to an [`HttpRequest`]; any status counts as an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}
