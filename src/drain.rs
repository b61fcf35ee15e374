//! Graceful shutdown of HTTP. On SIGTERM or SIGINT the server drains: requests already being
//! served (an upload still arriving included) run to their end, for at most `LIMIT`; a request
//! that arrives meanwhile gets 503 with `Retry-After` and `Connection: close`, so a load
//! balancer or client tries another instance. Then the server stops and the worker lets its
//! running publishes finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::header;
use serde_json::json;
use tokio::sync::Notify;

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
pub struct Serving(Arc<Drain>);

impl Drop for Serving {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Drain {
    /// Counts a request in flight until the guard is dropped; `None` while draining, when the
    /// request is to be refused (`refusal`).
    pub fn serving(self: &Arc<Self>) -> Option<Serving> {
        if self.is_draining() {
            return None;
        }
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Some(Serving(self.clone()))
    }
}

/// What a request that arrives while draining gets: 503, retry in a few seconds, elsewhere.
pub fn refusal() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, "5"))
        .insert_header((header::CONNECTION, "close"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "msg": "socialgate is shutting down; retry in a few seconds" }))
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
