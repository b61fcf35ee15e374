//! Graceful shutdown of HTTP. On SIGTERM or SIGINT the server drains: requests already being
//! served (an upload still arriving included) run to their end, for at most `LIMIT`; a request
//! that arrives meanwhile gets 503 with `Retry-After` and `Connection: close`, so a load
//! balancer or client tries another instance. Then the server stops and the worker lets its
//! running publishes finish.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use serde_json::json;
use tokio::sync::Notify;

use crate::AppState;

/// The longest a drain waits for requests in flight.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Whether the server is draining, and how many requests it is serving.
#[derive(Default)]
pub struct Drain {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

impl Drain {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Stops taking requests, then waits until those in flight are done (at most `limit`).
    /// Answers how many were still running when it gave up (0 when all finished).
    pub async fn drain(&self, limit: Duration) -> usize {
        self.draining.store(true, Ordering::SeqCst);
        let waited = tokio::time::timeout(limit, async {
            loop {
                let idle = self.idle.notified();
                if self.in_flight.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        })
        .await;
        match waited {
            Ok(()) => 0,
            Err(_) => self.in_flight.load(Ordering::SeqCst),
        }
    }
}

/// Counts a request in flight until dropped.
struct Serving<'a>(&'a Drain);

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The middleware: 503 while draining, otherwise counts the request while it is served.
pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let drain = &state.drain;
    if drain.is_draining() {
        let refused = HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .insert_header((header::CONNECTION, "close"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "msg": "socialgate is shutting down; retry in a few seconds" }));
        return Ok(req.into_response(refused).map_into_right_body());
    }
    drain.in_flight.fetch_add(1, Ordering::SeqCst);
    let _serving = Serving(drain);
    Ok(next.call(req).await?.map_into_left_body())
}

/// Waits for SIGTERM or SIGINT.
pub async fn signalled() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}
