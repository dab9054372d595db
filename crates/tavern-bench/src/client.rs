//! The protocol client: the loopback-only target address, device authentication and other
//! REST calls over a keep-alive HTTP/1.1 connection, and realtime sockets exchanging
//! `Envelope`s in either encoding.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tavern_proto::api;
use tavern_proto::realtime::Envelope;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use crate::cli::{Format, Target};

/// Upper bound on connecting a TCP socket, an HTTP exchange or a WebSocket upgrade.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A loopback server address plus the headers every request needs.
#[derive(Debug)]
pub struct Endpoint {
    address: SocketAddr,
    /// `host:port` as written in the Host header and the socket URL.
    authority: String,
    /// `Basic base64(server_key:)`.
    basic_auth: String,
}

impl Endpoint {
    /// Resolves the target, refusing anything that is not a loopback address.
    pub fn new(target: &Target) -> Result<Endpoint, String> {
        let ip = loopback_ip(&target.host)?;
        let address = SocketAddr::new(ip, target.port);
        let authority = match ip {
            IpAddr::V4(v4) => format!("{v4}:{}", target.port),
            IpAddr::V6(v6) => format!("[{v6}]:{}", target.port),
        };
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", target.server_key));
        Ok(Endpoint {
            address,
            authority,
            basic_auth: format!("Basic {credentials}"),
        })
    }

    /// The same loopback host on another port (the server's metrics listener).
    pub fn with_port(&self, port: u16) -> Endpoint {
        let address = SocketAddr::new(self.address.ip(), port);
        let authority = match address.ip() {
            IpAddr::V4(v4) => format!("{v4}:{port}"),
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        };
        Endpoint {
            address,
            authority,
            basic_auth: self.basic_auth.clone(),
        }
    }

    async fn connect_tcp(&self) -> Result<TcpStream, String> {
        let stream = timeout(IO_TIMEOUT, TcpStream::connect(self.address))
            .await
            .map_err(|_| format!("connect to {} timed out", self.address))?
            .map_err(|e| format!("connect to {}: {e}", self.address))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("set TCP_NODELAY: {e}"))?;
        Ok(stream)
    }
}

/// Accepts 127.0.0.0/8, ::1 and `localhost` (taken as 127.0.0.1, never resolved).
fn loopback_ip(host: &str) -> Result<IpAddr, String> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let trimmed = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = trimmed
        .parse()
        .map_err(|_| format!("host {host:?} is not an IP address or localhost"))?;
    if ip.is_loopback() {
        Ok(ip)
    } else {
        Err(format!(
            "refusing non-loopback host {host}: only 127.0.0.0/8, ::1 and localhost are allowed"
        ))
    }
}

/// One HTTP/1.1 keep-alive connection used sequentially; it reconnects after a failure.
pub struct HttpClient<'a> {
    endpoint: &'a Endpoint,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl<'a> HttpClient<'a> {
    /// A client that connects on its first request.
    pub fn new(endpoint: &'a Endpoint) -> HttpClient<'a> {
        HttpClient {
            endpoint,
            sender: None,
        }
    }

    async fn connection(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = self.endpoint.connect_tcp().await?;
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("HTTP handshake: {e}"))?;
            tokio::spawn(connection);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("connection was just set");
        sender
            .ready()
            .await
            .map_err(|e| format!("HTTP connection: {e}"))?;
        Ok(sender)
    }

    /// `POST /v2/account/authenticate/device?create=true` with the given device id.
    pub async fn authenticate_device(&mut self, device_id: &str) -> Result<api::Session, String> {
        let result = timeout(IO_TIMEOUT, self.authenticate_once(device_id))
            .await
            .unwrap_or_else(|_| Err("authenticate timed out".to_string()));
        if result.is_err() {
            // The connection may be half-used; start clean next time.
            self.sender = None;
        }
        result
    }

    /// `GET path`, returning the body of a 200 answer as text.
    pub async fn get_text(&mut self, path: &str) -> Result<String, String> {
        let request = Request::get(path)
            .header(HOST, &self.endpoint.authority)
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("build request: {e}"))?;
        let exchange = async {
            let response = self
                .connection()
                .await?
                .send_request(request)
                .await
                .map_err(|e| format!("HTTP request: {e}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("HTTP body: {e}"))?
                .to_bytes();
            if status != StatusCode::OK {
                return Err(format!("GET {path}: HTTP {}", status.as_u16()));
            }
            String::from_utf8(body.to_vec()).map_err(|_| format!("GET {path}: body is not UTF-8"))
        };
        let result = timeout(IO_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("GET {path} timed out")));
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    /// `method path` with a bearer token and a JSON body, returning the body of a 200 answer;
    /// any other status is an error carrying the start of the answer.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> Result<Bytes, String> {
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(HOST, &self.endpoint.authority)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("build request: {e}"))?;
        let exchange = async {
            let response = self
                .connection()
                .await?
                .send_request(request)
                .await
                .map_err(|e| format!("HTTP request: {e}"))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("HTTP body: {e}"))?
                .to_bytes();
            if status != StatusCode::OK {
                let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                return Err(format!("{method} {path}: HTTP {}: {text}", status.as_u16()));
            }
            Ok(body)
        };
        let result = timeout(IO_TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("{method} {path} timed out")));
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn authenticate_once(&mut self, device_id: &str) -> Result<api::Session, String> {
        let body = serde_json::to_vec(&api::AccountDevice {
            id: device_id.to_string(),
            ..Default::default()
        })
        .map_err(|e| format!("encode request: {e}"))?;
        let request = Request::post("/v2/account/authenticate/device?create=true")
            .header(HOST, &self.endpoint.authority)
            .header(AUTHORIZATION, &self.endpoint.basic_auth)
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("build request: {e}"))?;
        let response = self
            .connection()
            .await?
            .send_request(request)
            .await
            .map_err(|e| format!("HTTP request: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("HTTP body: {e}"))?
            .to_bytes();
        if status != StatusCode::OK {
            let text = String::from_utf8_lossy(&body);
            let text: String = text.chars().take(200).collect();
            return Err(format!("HTTP {}: {text}", status.as_u16()));
        }
        let session: api::Session =
            serde_json::from_slice(&body).map_err(|e| format!("decode Session: {e}"))?;
        if session.token.is_empty() {
            return Err("Session without token".to_string());
        }
        Ok(session)
    }
}

/// A connected realtime socket and the encoding it was opened with.
pub struct Socket {
    stream: WebSocketStream<TcpStream>,
    format: Format,
}

impl Socket {
    /// Opens `/ws?token=...&format=...` with small client-side buffers.
    pub async fn connect(
        endpoint: &Endpoint,
        token: &str,
        format: Format,
    ) -> Result<Socket, String> {
        let url = format!(
            "ws://{}/ws?token={token}&format={}",
            endpoint.authority,
            format.query_value()
        );
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0)
            .max_message_size(Some(1 << 20));
        let stream = endpoint.connect_tcp().await?;
        let (stream, _response) = timeout(
            IO_TIMEOUT,
            client_async_with_config(url, stream, Some(config)),
        )
        .await
        .map_err(|_| "WebSocket upgrade timed out".to_string())?
        .map_err(|e| format!("WebSocket upgrade: {e}"))?;
        Ok(Socket { stream, format })
    }

    /// Sends one envelope as a text (JSON) or binary (protobuf) frame.
    pub async fn send(&mut self, envelope: &Envelope) -> Result<(), String> {
        let message = match self.format {
            Format::Json => Message::text(envelope.to_json()),
            Format::Protobuf => Message::binary(envelope.to_protobuf()),
        };
        self.stream
            .send(message)
            .await
            .map_err(|e| format!("socket send: {e}"))
    }

    /// Waits for the next envelope; control frames are answered by the library and skipped.
    /// Errors when the socket closes or a frame cannot be decoded.
    pub async fn receive(&mut self) -> Result<Envelope, String> {
        // Bounded: each iteration consumes one frame, and control frames are rare.
        for _ in 0..1_000_000 {
            let frame = match self.stream.next().await {
                None => return Err("socket closed".to_string()),
                Some(Err(e)) => return Err(format!("socket read: {e}")),
                Some(Ok(frame)) => frame,
            };
            let decoded = match (frame, self.format) {
                (Message::Text(text), Format::Json) => Envelope::from_json(text.as_str()),
                (Message::Binary(bytes), Format::Protobuf) => Envelope::from_protobuf(&bytes),
                (Message::Close(close), _) => {
                    return Err(format!(
                        "socket closed by server{}",
                        close
                            .map(|c| format!(": {} {}", c.code, c.reason))
                            .unwrap_or_default()
                    ));
                }
                (Message::Ping(_) | Message::Pong(_) | Message::Frame(_), _) => continue,
                (Message::Text(_) | Message::Binary(_), _) => {
                    return Err("frame type does not match the socket format".to_string());
                }
            };
            return decoded.map_err(|e| e.to_string());
        }
        Err("too many control frames".to_string())
    }

    /// Reads and discards envelopes until the socket fails or closes; returns why. Callers
    /// race it against their own deadline. Bounded by a large envelope count.
    pub async fn receive_until_error(&mut self) -> String {
        for _ in 0..100_000_000u64 {
            if let Err(e) = self.receive().await {
                return e;
            }
        }
        "too many unsolicited envelopes".to_string()
    }

    /// Sends a request with `cid` and waits (bounded) for the reply carrying the same cid,
    /// skipping unrelated events. A reply holding `error` is reported as an error.
    pub async fn request(&mut self, mut envelope: Envelope, cid: &str) -> Result<Envelope, String> {
        envelope.cid = cid.to_string();
        self.send(&envelope).await?;
        let wait = async {
            for _ in 0..10_000 {
                let reply = self.receive().await?;
                if reply.cid != cid {
                    continue;
                }
                if let Some(tavern_proto::realtime::envelope::Message::Error(e)) = &reply.message {
                    return Err(format!("server error {}: {}", e.code, e.message));
                }
                return Ok(reply);
            }
            Err(format!("no reply for cid {cid} among 10000 envelopes"))
        };
        timeout(IO_TIMEOUT, wait)
            .await
            .unwrap_or_else(|_| Err(format!("no reply for cid {cid} within {IO_TIMEOUT:?}")))
    }

    /// Sends a normal close frame and waits briefly for the server to finish.
    pub async fn close(mut self) {
        let _ = timeout(Duration::from_secs(2), self.stream.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::loopback_ip;

    #[test]
    fn only_loopback_hosts_are_accepted() {
        for ok in [
            "127.0.0.1",
            "127.1.2.3",
            "localhost",
            "LOCALHOST",
            "::1",
            "[::1]",
        ] {
            assert!(loopback_ip(ok).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.1",
            "0.0.0.0",
            "::",
            "example.com",
            "192.168.1.1",
            "::ffff:8.8.8.8",
        ] {
            assert!(loopback_ip(bad).is_err(), "{bad}");
        }
    }
}
