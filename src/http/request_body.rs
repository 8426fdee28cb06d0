//! Time limits for request bodies, on every route. actix's `client_request_timeout` (5 s) covers the
//! request head only: a client that sends `Content-Length: 100` and one byte, or a chunked body whose last
//! chunk never comes, would otherwise hold a connection (and the handler waiting for the body) for as long
//! as it likes.
//!
//! The middleware hands the handler a body that fails with a time-out when no byte arrives for
//! [`BODY_IDLE_TIMEOUT`] or the whole body takes longer than [`BODY_TOTAL_TIMEOUT`]; the body readers in
//! `crate::http::extract` answer that with 408 problem+json. And whenever a response leaves before the body was
//! read to its end (a 408, a 401 before the body was looked at, a handler that ignores it), the connection
//! is closed after the response: actix would otherwise keep reading and discarding a chunked body that
//! never ends.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::rt::time::{sleep_until, Instant, Sleep};
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;

/// How long the server waits for the next bytes of a request body before answering 408.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// The whole body, however slowly it trickles in (an 8 MiB import needs about 1 Mbit/s).
pub const BODY_TOTAL_TIMEOUT: Duration = Duration::from_secs(60);

/// The message of the error a timed-out body read ends with; `crate::http::extract` turns it into 408.
pub const TIMED_OUT: &str = "the request body stopped arriving";

/// Whether `error` is the time-out of this module.
pub fn is_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

struct Body {
    payload: Payload,
    /// The client's body was read to its end (or failed for good).
    finished: bool,
    /// The time ran out: the reader got its error, the rest of the body is not awaited.
    timed_out: bool,
    deadline: Instant,
}

/// A response body that keeps the unread request body alive until the response is written: actix then
/// sees a reader that has not finished and closes the connection, instead of draining the rest.
pub struct HoldingBody {
    inner: BoxBody,
    _unread: Option<Rc<RefCell<Body>>>,
}

impl MessageBody for HoldingBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

struct Bounded {
    body: Rc<RefCell<Body>>,
    idle: Option<Pin<Box<Sleep>>>,
}

impl Stream for Bounded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let mut body = this.body.borrow_mut();
        if body.finished || body.timed_out {
            return Poll::Ready(None);
        }
        match Pin::new(&mut body.payload).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.idle = None;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                body.finished = true;
                this.idle = None;
                Poll::Ready(other)
            }
            Poll::Pending => {
                let wake_at = (Instant::now() + BODY_IDLE_TIMEOUT).min(body.deadline);
                let timer = this
                    .idle
                    .get_or_insert_with(|| Box::pin(sleep_until(wake_at)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        body.timed_out = true;
                        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            TIMED_OUT,
                        )))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<HoldingBody>, actix_web::Error> {
    let hold = |res: ServiceResponse<_>, unread| {
        res.map_body(|_, body| HoldingBody {
            inner: BoxBody::new(body),
            _unread: unread,
        })
    };
    if !has_body(&req) {
        return Ok(hold(next.call(req).await?, None));
    }
    let body = Rc::new(RefCell::new(Body {
        payload: req.take_payload(),
        finished: false,
        timed_out: false,
        deadline: Instant::now() + BODY_TOTAL_TIMEOUT,
    }));
    let bounded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Bounded {
        body: body.clone(),
        idle: None,
    });
    req.set_payload(Payload::from(bounded));
    let res = next.call(req).await?;
    if body.borrow().finished {
        return Ok(hold(res, None));
    }
    // Whether the rest has arrived by the time the response is written is actix's to see: an unfinished
    // body it still sees a reader for closes the connection after the response.
    Ok(hold(res, Some(body)))
}
