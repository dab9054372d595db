//! The HTTP/1.1 listener of the socket port: one task per connection, each with the deadlines
//! of `socket.read_timeout_ms`/`write_timeout_ms`/`idle_timeout_ms` (see [`deadline`]), and a
//! shutdown that ends within a fixed bound whatever clients hold open.

pub mod deadline;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;
use tracing::{debug, info};

pub use deadline::HttpTimeouts;
use deadline::{BodyEnd, Deadline, WatchedBody, WatchedIo};

/// How long connections still open when the server stops may take to finish the response they
/// are writing; then they are closed.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets open
/// connections finish their current response for at most [`SHUTDOWN_DRAIN`] and closes them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: HttpTimeouts,
    shutdown: impl Future<Output = ()>,
) {
    let (stopping, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, client)) => {
                    connections.spawn(connection(stream, client, app.clone(), timeouts, stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: do not spin.
                    debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    let open = connections.len();
    let drained = tokio::time::timeout(SHUTDOWN_DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        info!(
            open,
            closed = connections.len(),
            "HTTP connections still open after the drain were closed"
        );
        connections.shutdown().await;
    }
}

/// One connection: HTTP/1.1 with upgrades, closed when it overruns its deadline; on shutdown it
/// stops after its current response.
async fn connection(
    stream: TcpStream,
    client: SocketAddr,
    app: Router,
    timeouts: HttpTimeouts,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let deadline = Deadline::new(timeouts);
    let io = TokioIo::new(WatchedIo::new(stream, deadline.clone()));
    let service_deadline = deadline.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let deadline = service_deadline.clone();
        let app = app.clone();
        async move {
            deadline.request_started();
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(client));
            let body = WatchedBody::new(body, deadline.clone(), BodyEnd::Request);
            let request = hyper::Request::from_parts(parts, axum::body::Body::new(body));
            let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
            if response.status() == hyper::StatusCode::SWITCHING_PROTOCOLS {
                deadline.upgraded();
            }
            Ok::<_, Infallible>(
                response.map(|body| WatchedBody::new(body, deadline, BodyEnd::Response)),
            )
        }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    debug!(%client, error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            () = deadline.expired() => {
                debug!(%client, "HTTP connection closed: read, write or idle timeout");
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The HTTP timeouts `socket.*` configures.
pub fn timeouts_of(socket: &tavern_config::Socket) -> HttpTimeouts {
    HttpTimeouts::from_millis(
        socket.read_timeout_ms,
        socket.write_timeout_ms,
        socket.idle_timeout_ms,
    )
}
