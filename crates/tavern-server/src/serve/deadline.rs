//! The deadline of one HTTP connection, as Go's `http.Server` keeps it for Nakama:
//! `read_timeout` for a whole request from its first byte, `write_timeout` from the end of the
//! request's head to the end of its response, `idle_timeout` between requests (`read_timeout`
//! when zero). A zero timeout is no limit. A WebSocket upgrade leaves all three behind: the
//! socket keeps its own pings and write waits.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The three HTTP timeouts of `socket.*`; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    pub read: Option<Duration>,
    pub write: Option<Duration>,
    pub idle: Option<Duration>,
}

impl HttpTimeouts {
    /// From `socket.read_timeout_ms`, `write_timeout_ms` and `idle_timeout_ms` (0 = none; an
    /// idle timeout of 0 falls back to the read timeout, as Go's server does).
    pub fn from_millis(read: u64, write: u64, idle: u64) -> HttpTimeouts {
        let limit = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
        HttpTimeouts {
            read: limit(read),
            write: limit(write),
            idle: limit(idle).or(limit(read)),
        }
    }
}

/// Where the connection is in its request cycle.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for the rest of a request's head (or a TLS handshake).
    Reading { until: Option<Instant> },
    /// A request is being handled: its body may still be arriving (bounded by the read
    /// deadline) while its response must be written by the write deadline.
    Handling {
        read_until: Option<Instant>,
        write_until: Option<Instant>,
        body_done: bool,
    },
    /// Between requests.
    Idle { until: Option<Instant> },
    /// Handed to a WebSocket: no HTTP deadline any more.
    Upgraded,
}

/// Shared by the connection's I/O, its service and its watchdog.
pub(crate) struct Deadline {
    timeouts: HttpTimeouts,
    phase: Mutex<Phase>,
    changed: Notify,
}

impl Deadline {
    /// A connection just accepted: its first request is being read.
    pub(crate) fn new(timeouts: HttpTimeouts) -> Arc<Deadline> {
        Arc::new(Deadline {
            timeouts,
            phase: Mutex::new(Phase::Reading {
                until: after(timeouts.read),
            }),
            changed: Notify::new(),
        })
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        *phase = change(*phase);
        drop(phase);
        self.changed.notify_one();
    }

    /// The head of a request has been read.
    pub(crate) fn request_started(&self) {
        let write_until = after(self.timeouts.write);
        self.update(|phase| {
            let read_until = match phase {
                Phase::Reading { until } => until,
                // Pipelined after the previous one without an idle gap.
                _ => after(self.timeouts.read),
            };
            Phase::Handling {
                read_until,
                write_until,
                body_done: false,
            }
        });
    }

    /// The request's body has been read to its end (or dropped by its handler).
    fn body_done(&self) {
        self.update(|phase| match phase {
            Phase::Handling {
                read_until,
                write_until,
                ..
            } => Phase::Handling {
                read_until,
                write_until,
                body_done: true,
            },
            other => other,
        });
    }

    /// The response has been written: wait for the next request.
    fn response_done(&self) {
        let until = after(self.timeouts.idle);
        self.update(|phase| match phase {
            Phase::Upgraded => Phase::Upgraded,
            _ => Phase::Idle { until },
        });
    }

    /// The connection now carries a WebSocket.
    pub(crate) fn upgraded(&self) {
        self.update(|_| Phase::Upgraded);
    }

    /// Bytes arrived; between requests they start the next one.
    fn bytes_read(&self) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Phase::Idle { .. } = *phase {
            *phase = Phase::Reading {
                until: after(self.timeouts.read),
            };
            drop(phase);
            self.changed.notify_one();
        }
    }

    fn current(&self) -> Option<Instant> {
        match *self.phase.lock().unwrap_or_else(PoisonError::into_inner) {
            Phase::Reading { until } | Phase::Idle { until } => until,
            Phase::Handling {
                read_until,
                write_until,
                body_done,
            } => {
                if body_done {
                    write_until
                } else {
                    earliest(read_until, write_until)
                }
            }
            Phase::Upgraded => None,
        }
    }

    /// Completes when the connection has overrun its current deadline.
    pub(crate) async fn expired(&self) {
        loop {
            let changed = self.changed.notified();
            match self.current() {
                Some(until) if until <= Instant::now() => return,
                Some(until) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(until) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

fn after(limit: Option<Duration>) -> Option<Instant> {
    limit.map(|limit| Instant::now() + limit)
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The connection's byte stream, telling the deadline when a new request starts arriving.
pub(crate) struct WatchedIo<S> {
    inner: S,
    deadline: Arc<Deadline>,
}

impl<S> WatchedIo<S> {
    pub(crate) fn new(inner: S, deadline: Arc<Deadline>) -> WatchedIo<S> {
        WatchedIo { inner, deadline }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WatchedIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.deadline.bytes_read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WatchedIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Which end of the request cycle a [`WatchedBody`] marks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyEnd {
    Request,
    Response,
}

/// A body that tells the deadline when it has ended or was dropped.
pub(crate) struct WatchedBody<B> {
    inner: B,
    deadline: Option<Arc<Deadline>>,
    end: BodyEnd,
}

impl<B> WatchedBody<B> {
    pub(crate) fn new(inner: B, deadline: Arc<Deadline>, end: BodyEnd) -> WatchedBody<B> {
        WatchedBody {
            inner,
            deadline: Some(deadline),
            end,
        }
    }

    fn finish(&mut self) {
        if let Some(deadline) = self.deadline.take() {
            match self.end {
                BodyEnd::Request => deadline.body_done(),
                BodyEnd::Response => deadline.response_done(),
            }
        }
    }
}

impl<B> Drop for WatchedBody<B> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for WatchedBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts() -> HttpTimeouts {
        HttpTimeouts::from_millis(100, 300, 1000)
    }

    #[test]
    fn zero_is_no_limit_and_idle_falls_back_to_read() {
        let t = HttpTimeouts::from_millis(0, 0, 0);
        assert_eq!((t.read, t.write, t.idle), (None, None, None));
        let t = HttpTimeouts::from_millis(5, 0, 0);
        assert_eq!(t.idle, Some(Duration::from_millis(5)));
    }

    /// `expired` completes within a few milliseconds of `after` (real time, short timers).
    async fn expires_near(deadline: &Deadline, start: Instant, after: Duration) {
        deadline.expired().await;
        let elapsed = start.elapsed();
        assert!(
            elapsed >= after && elapsed < after + Duration::from_millis(500),
            "expired after {elapsed:?}, expected {after:?}"
        );
    }

    #[tokio::test]
    async fn a_half_sent_request_expires_after_the_read_timeout() {
        let deadline = Deadline::new(timeouts());
        expires_near(&deadline, Instant::now(), Duration::from_millis(100)).await;
    }

    #[tokio::test]
    async fn a_handler_gets_the_write_timeout_once_its_body_is_read() {
        let deadline = Deadline::new(timeouts());
        let start = Instant::now();
        deadline.request_started();
        deadline.body_done();
        expires_near(&deadline, start, Duration::from_millis(300)).await;
    }

    #[tokio::test]
    async fn idle_then_reading_then_upgraded() {
        let deadline = Deadline::new(timeouts());
        deadline.request_started();
        deadline.response_done();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let start = Instant::now();
        deadline.bytes_read();
        expires_near(&deadline, start, Duration::from_millis(100)).await;
        deadline.upgraded();
        assert!(deadline.current().is_none());
    }
}
