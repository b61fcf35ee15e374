//! Rate limits: every `/public/v1` request per credential per minute, `POST /posts` per
//! organization per hour. Counters are fixed windows. On SQLite (one instance) they live in
//! memory. On PostgreSQL they live in `api_rate`, so they hold across instances, and each
//! instance adds its own counts there in batches (`shared`): a request costs a statement only
//! when its counter has not been brought up to date for a quarter of a second.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};
use serde_json::json;

use crate::AppState;
use crate::config::DbBackend;
use crate::crypto::sha256_hex;
use crate::db::{DbConn, now};
use crate::error::AppError;

/// Where a counter stands after this request.
#[derive(Clone, Copy, Debug)]
pub struct Decision {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window starts again.
    pub reset: i64,
    pub allowed: bool,
}

impl Decision {
    fn headers(&self) -> [(HeaderName, String); 3] {
        [
            (
                HeaderName::from_static("x-ratelimit-limit"),
                self.limit.to_string(),
            ),
            (
                HeaderName::from_static("x-ratelimit-remaining"),
                self.remaining.to_string(),
            ),
            (
                HeaderName::from_static("x-ratelimit-reset"),
                self.reset.to_string(),
            ),
        ]
    }

    /// 429 with `Retry-After` and the rate headers.
    pub fn refusal(&self) -> HttpResponse {
        let mut r = HttpResponse::TooManyRequests();
        r.insert_header((header::RETRY_AFTER, self.reset.max(1).to_string()));
        r.insert_header((header::CACHE_CONTROL, "no-store"));
        for h in self.headers() {
            r.insert_header(h);
        }
        r.json(json!({ "msg": "Too many requests, try again later" }))
    }

    /// Adds the rate headers to a response, unless a narrower limit (posts per organization)
    /// already set them.
    pub fn annotate<B>(&self, res: &mut ServiceResponse<B>) {
        if res.headers().contains_key("x-ratelimit-limit") {
            return;
        }
        for (name, value) in self.headers() {
            if let Ok(v) = HeaderValue::from_str(&value) {
                res.headers_mut().insert(name, v);
            }
        }
    }
}

static WINDOWS: LazyLock<Mutex<HashMap<String, (NaiveDateTime, u32)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn decide(
    limit: u32,
    count: u32,
    started: NaiveDateTime,
    window: Duration,
    at: NaiveDateTime,
) -> Decision {
    Decision {
        limit,
        remaining: limit.saturating_sub(count),
        reset: (started + window - at).num_seconds().max(0),
        allowed: count <= limit,
    }
}

fn in_memory(key: &str, limit: u32, window: Duration) -> Decision {
    let at = now();
    let mut map = WINDOWS.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() > 50_000 {
        map.retain(|_, (started, _)| *started + window > at);
    }
    let entry = map.entry(key.to_owned()).or_insert((at, 0));
    if entry.0 + window <= at {
        *entry = (at, 0);
    }
    entry.1 = entry.1.saturating_add(1);
    decide(limit, entry.1, entry.0, window, at)
}

#[derive(QueryableByName)]
struct Counter {
    #[diesel(sql_type = Integer)]
    count: i32,
    #[diesel(sql_type = Timestamp)]
    window_started_at: NaiveDateTime,
}

/// Adds `delta` requests to the shared counter `key` (starting its window again when it has
/// ended) and returns where it stands (PostgreSQL). One statement, on a counters connection
/// (`Db::count`) whose commit does not wait for the disk: a counter is not worth a flush.
fn add_shared(
    conn: &mut DbConn,
    key: &str,
    delta: u32,
    window: Duration,
    at: NaiveDateTime,
) -> Result<Counter, AppError> {
    let delta = i32::try_from(delta).unwrap_or(i32::MAX);
    let DbConn::Pg(c) = conn else {
        return Err(AppError::internal(
            "shared rate counters are kept on PostgreSQL only",
        ));
    };
    Ok(diesel::sql_query(
        "INSERT INTO api_rate (key, window_started_at, count) VALUES ($1, $2, $4) \
         ON CONFLICT (key) DO UPDATE SET \
           count = CASE WHEN api_rate.window_started_at <= $3 THEN $4 ELSE api_rate.count + $4 END, \
           window_started_at = CASE WHEN api_rate.window_started_at <= $3 THEN $2 ELSE api_rate.window_started_at END \
         RETURNING count, window_started_at",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamp, _>(at)
    .bind::<Timestamp, _>(at - window)
    .bind::<Integer, _>(delta)
    .get_result(c)?)
}

/// This instance's view of a shared counter.
struct Shared {
    started: NaiveDateTime,
    /// The count in `api_rate` when it was last read.
    seen: u32,
    /// This instance's requests since then, not yet added there.
    pending: u32,
    synced: Option<std::time::Instant>,
    syncing: bool,
}

/// Shared counters by key. Keys name a credential's hash or an organization, unique across
/// databases, so one map serves every `Db` of the process.
static SHARED: LazyLock<Mutex<HashMap<String, Shared>>> = LazyLock::new(Default::default);

/// How long this instance counts a key alone before adding its counts to the shared counter.
/// Other instances' requests in that time are seen late; a refusal is never wrong, because
/// `seen + pending` never exceeds the true count.
const SYNC: std::time::Duration = std::time::Duration::from_millis(250);

/// Counts one request against the shared counter `key` (PostgreSQL).
async fn shared(
    state: &AppState,
    key: String,
    limit: u32,
    window: Duration,
) -> Result<Decision, AppError> {
    let at = now();
    let delta = {
        let mut map = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            map.retain(|_, c| c.started + window > at || c.syncing);
        }
        let c = map.entry(key.clone()).or_insert(Shared {
            started: at,
            seen: 0,
            pending: 0,
            synced: None,
            syncing: false,
        });
        if c.started + window <= at && !c.syncing {
            (c.started, c.seen, c.pending) = (at, 0, 0);
        }
        c.pending = c.pending.saturating_add(1);
        let due = !c.syncing && c.synced.is_none_or(|t| t.elapsed() >= SYNC);
        if !due {
            return Ok(decide(
                limit,
                c.seen.saturating_add(c.pending),
                c.started,
                window,
                at,
            ));
        }
        c.syncing = true;
        std::mem::take(&mut c.pending)
    };
    let counted = {
        let key = key.clone();
        state
            .db
            .count(move |conn| add_shared(conn, &key, delta, window, at))
            .await
    };
    let mut map = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    let Some(c) = map.get_mut(&key) else {
        return counted.map(|n| {
            decide(
                limit,
                n.count.max(0) as u32,
                n.window_started_at,
                window,
                at,
            )
        });
    };
    c.syncing = false;
    match counted {
        Ok(n) => {
            (c.started, c.seen) = (n.window_started_at, n.count.max(0) as u32);
            c.synced = Some(std::time::Instant::now());
            Ok(decide(
                limit,
                c.seen.saturating_add(c.pending),
                c.started,
                window,
                at,
            ))
        }
        Err(e) => {
            c.pending = c.pending.saturating_add(delta);
            Err(e)
        }
    }
}

/// Counts one request against `key`; `None` when the limit is off (0).
pub async fn hit(
    state: &AppState,
    key: String,
    limit: u32,
    window: Duration,
) -> Result<Option<Decision>, AppError> {
    if limit == 0 {
        return Ok(None);
    }
    match state.db.backend() {
        DbBackend::Sqlite => Ok(Some(in_memory(&key, limit, window))),
        DbBackend::Postgres => Ok(Some(shared(state, key, limit, window).await?)),
    }
}

/// `POST /posts` per organization per hour (`SOCIALGATE_API_LIMIT`).
pub async fn posts_of(state: &AppState, org: &str) -> Result<Option<Decision>, AppError> {
    hit(
        state,
        format!("posts:{org}"),
        state.config.api_post_limit,
        Duration::hours(1),
    )
    .await
}

/// Counts one request of a credential (the bare key or token) against its budget per minute
/// (`SOCIALGATE_API_RATE`), shared by `/public/v1` and `/mcp`.
pub async fn per_minute(state: &AppState, credential: &str) -> Result<Option<Decision>, AppError> {
    let bucket = format!("rate:{}", sha256_hex(credential));
    hit(state, bucket, state.config.api_rate, Duration::minutes(1)).await
}

/// Middleware on `/public/v1`: every request per credential per minute (`SOCIALGATE_API_RATE`),
/// and answers never cached (`Cache-Control: no-store` unless the handler set its own).
pub async fn per_credential(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let credential = super::auth::presented(req.request());
    let decision = match (state, credential) {
        (Some(state), Some(credential)) => per_minute(&state, &credential).await?,
        _ => None,
    };
    if let Some(d) = decision
        && !d.allowed
    {
        return Ok(req.into_response(d.refusal()).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    if let Some(d) = decision {
        d.annotate(&mut res);
    }
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res.map_into_left_body())
}
