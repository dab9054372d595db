//! Running game code so that a panic becomes an error for that one call.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::nk::BoxFuture;
use crate::{Logger, RuntimeError};

/// The message a client sees when game code panicked.
pub const PANIC_MESSAGE: &str = "Internal Server Error";

/// A future that completes with `Err(payload)` instead of unwinding when the inner one panics.
struct CatchPanic<'a, T> {
    inner: BoxFuture<'a, T>,
}

impl<T> Future for CatchPanic<'_, T> {
    type Output = Result<T, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The text of a panic payload, when it is one.
fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

/// Runs a callback's future; a panic is logged on the module's logger and becomes an internal
/// error with [`PANIC_MESSAGE`].
pub(crate) async fn guarded<T>(
    logger: &Logger,
    what: &str,
    future: impl Future<Output = Result<T, RuntimeError>> + Send,
) -> Result<T, RuntimeError> {
    match (CatchPanic {
        inner: Box::pin(future),
    })
    .await
    {
        Ok(result) => result,
        Err(payload) => {
            logger.error(format_args!(
                "{what} panicked: {}",
                panic_text(payload.as_ref())
            ));
            Err(RuntimeError::internal(PANIC_MESSAGE))
        }
    }
}

/// Runs a synchronous step of game code (a module's init) the same way.
pub(crate) fn guarded_sync<T>(
    logger: &Logger,
    what: &str,
    step: impl FnOnce() -> Result<T, RuntimeError>,
) -> Result<T, RuntimeError> {
    match catch_unwind(AssertUnwindSafe(step)) {
        Ok(result) => result,
        Err(payload) => {
            logger.error(format_args!(
                "{what} panicked: {}",
                panic_text(payload.as_ref())
            ));
            Err(RuntimeError::internal(PANIC_MESSAGE))
        }
    }
}
