//! `Idempotency-Key` on every `POST /public/v1/…`: the same key and body within 24 hours get
//! the first answer again; the same key with another body is 422; while the first request is
//! still running, 409. Keys are scoped to the credential that sent them. A running request
//! renews its record every `BEAT`; a record left unrenewed for `ABANDONED` belongs to a process
//! that died mid-request (no answer was given), and the key may be used again.

use actix_web::body::{self, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use chrono::Duration;
use diesel::prelude::*;
use futures_util::StreamExt;
use serde_json::json;

use crate::AppState;
use crate::crypto::sha256_hex;
use crate::db::schema::idempotency_keys;
use crate::db::{DbConn, now, write_transaction};
use crate::error::AppError;

/// Bodies larger than this cannot be sent with an `Idempotency-Key`.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// How often a running request renews its key's record.
const BEAT: std::time::Duration = std::time::Duration::from_secs(20);

/// A running record not renewed for this long was left by a process that died.
const ABANDONED: Duration = Duration::seconds(90);

/// Renews a running request's record until dropped.
struct Heartbeat(actix_web::rt::task::JoinHandle<()>);

impl Heartbeat {
    fn start(db: crate::db::Db, key_hash: String) -> Heartbeat {
        Heartbeat(actix_web::rt::spawn(async move {
            loop {
                tokio::time::sleep(BEAT).await;
                let key = key_hash.clone();
                let renewed = db
                    .run(move |conn| {
                        diesel::update(
                            idempotency_keys::table
                                .find(&key)
                                .filter(idempotency_keys::status.is_null()),
                        )
                        .set(idempotency_keys::created_at.eq(now()))
                        .execute(conn)
                        .map_err(AppError::from)
                    })
                    .await;
                if let Err(e) = renewed {
                    tracing::warn!(error = %e, "could not renew an idempotency key");
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

enum Begin {
    Proceed,
    Replay(u16, String),
    InFlight,
    OtherBody,
}

/// Records a new key, or says what the one already recorded means. A new key (the usual case)
/// costs one statement; only a key seen before needs the transaction that reads and decides.
fn begin(conn: &mut DbConn, key_hash: &str, request_hash: &str) -> Result<Begin, AppError> {
    let insert = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::key_hash.eq(key_hash),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::created_at.eq(now()),
        ))
        .on_conflict_do_nothing();
    if crate::per_backend!(conn, |c| insert.execute(c))? == 1 {
        return Ok(Begin::Proceed);
    }
    begin_again(conn, key_hash, request_hash)
}

fn begin_again(conn: &mut DbConn, key_hash: &str, request_hash: &str) -> Result<Begin, AppError> {
    write_transaction(conn, |conn| {
        let existing: Option<(String, Option<i32>, Option<String>, chrono::NaiveDateTime)> =
            idempotency_keys::table
                .find(key_hash)
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::response,
                    idempotency_keys::created_at,
                ))
                .first(conn)
                .optional()?;
        if let Some((hash, status, response, created)) = existing {
            let abandoned = status.is_none() && created <= now() - ABANDONED;
            if created > now() - Duration::hours(24) && !abandoned {
                return Ok(match (hash == request_hash, status) {
                    (false, _) => Begin::OtherBody,
                    (true, None) => Begin::InFlight,
                    (true, Some(s)) => Begin::Replay(s as u16, response.unwrap_or_default()),
                });
            }
            diesel::delete(idempotency_keys::table.find(key_hash)).execute(conn)?;
        }
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::key_hash.eq(key_hash),
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(Begin::Proceed)
    })
    .or_else(|e: AppError| match e {
        // Another instance inserted the same key a moment ago.
        AppError::Internal(cause)
            if cause.to_string().contains("unique") || cause.to_string().contains("UNIQUE") =>
        {
            Ok(Begin::InFlight)
        }
        other => Err(other),
    })
}

fn finish(
    conn: &mut DbConn,
    key_hash: &str,
    status: u16,
    response: Option<String>,
) -> Result<(), AppError> {
    match response {
        Some(body) => diesel::update(idempotency_keys::table.find(key_hash))
            .set((
                idempotency_keys::status.eq(i32::from(status)),
                idempotency_keys::response.eq(body),
            ))
            .execute(conn)?,
        // Answers that say nothing about the request (auth, limits, server errors) are forgotten
        // so the client may try again with the same key.
        None => diesel::delete(idempotency_keys::table.find(key_hash)).execute(conn)?,
    };
    Ok(())
}

/// Runs `run` once per key and request for a caller outside HTTP (an MCP write tool's
/// `idempotencyKey`), with the header's rules: the same key and request within 24 hours get
/// the first outcome again, the same key with another request or while the first still runs
/// is refused with the message the header would give.
pub async fn once<F>(
    state: &AppState,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
    run: F,
) -> Result<Result<String, String>, AppError>
where
    F: std::future::Future<Output = Result<String, String>>,
{
    if key.len() > 255 {
        return Ok(Err("idempotencyKey has at most 255 characters".into()));
    }
    let key_hash = sha256_hex(&format!("{scope}\n{key}"));
    let request_hash = crate::crypto::hex(&sha2_digest(fingerprint));
    let k = key_hash.clone();
    match state
        .db
        .write_autocommit(move |conn| begin(conn, &k, &request_hash))
        .await?
    {
        Begin::Proceed => {}
        Begin::Replay(200, stored) => return Ok(Ok(stored)),
        Begin::Replay(_, stored) => return Ok(Err(stored)),
        Begin::InFlight => {
            return Ok(Err(
                "A request with this idempotencyKey is still in progress".into(),
            ));
        }
        Begin::OtherBody => {
            return Ok(Err(
                "This idempotencyKey was already used with a different request".into(),
            ));
        }
    }
    let beating = Heartbeat::start(state.db.clone(), key_hash.clone());
    let outcome = run.await;
    drop(beating);
    let (status, stored) = match &outcome {
        Ok(body) => (200, body.clone()),
        Err(message) => (400, message.clone()),
    };
    state
        .db
        .write_autocommit(move |conn| finish(conn, &key_hash, status, Some(stored)))
        .await?;
    Ok(outcome)
}

fn answer(status: StatusCode, msg: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "msg": msg }))
}

/// The middleware.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let (Some(key), Some(state), true) = (key, state, req.method() == Method::POST) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if key.len() > 255 {
        return Ok(req
            .into_response(answer(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key has at most 255 characters",
            ))
            .map_into_right_body());
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_BODY {
            return Ok(req
                .into_response(answer(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Requests with an Idempotency-Key may have at most 16 MB of body",
                ))
                .map_into_right_body());
        }
        body.extend_from_slice(&chunk);
    }
    let credential = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_owned();
    let key_hash = sha256_hex(&format!("{credential}\n{key}"));
    let mut fingerprint = format!("{} {}\n", req.method(), req.path()).into_bytes();
    fingerprint.extend_from_slice(&body);
    let request_hash = crate::crypto::hex(&sha2_digest(&fingerprint));
    let (k, r) = (key_hash.clone(), request_hash);
    match state
        .db
        .write_autocommit(move |conn| begin(conn, &k, &r))
        .await?
    {
        Begin::Proceed => {}
        Begin::Replay(status, stored) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let response = HttpResponse::build(status)
                .content_type("application/json")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header(("Idempotent-Replayed", "true"))
                .body(stored);
            return Ok(req.into_response(response).map_into_right_body());
        }
        Begin::InFlight => {
            return Ok(req
                .into_response(answer(
                    StatusCode::CONFLICT,
                    "A request with this Idempotency-Key is still in progress",
                ))
                .map_into_right_body());
        }
        Begin::OtherBody => {
            return Ok(req
                .into_response(answer(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "This Idempotency-Key was already used with a different request",
                ))
                .map_into_right_body());
        }
    }
    let (_, mut replay) = actix_http::h1::Payload::create(true);
    replay.unread_data(body.freeze());
    req.set_payload(replay.into());
    let beating = Heartbeat::start(state.db.clone(), key_hash.clone());
    let res = next.call(req).await;
    drop(beating);
    let res = res?;
    let status = res.status();
    let (http_req, response) = res.into_parts();
    let (head, response_body) = response.into_parts();
    let bytes = body::to_bytes(response_body)
        .await
        .map_err(|_| AppError::internal("response body"))?;
    let keep = !(status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        ));
    let stored = keep.then(|| String::from_utf8_lossy(&bytes).into_owned());
    state
        .db
        .write_autocommit(move |conn| finish(conn, &key_hash, status.as_u16(), stored))
        .await?;
    let response = head.set_body(BoxBody::new(bytes));
    Ok(ServiceResponse::new(http_req, response).map_into_right_body())
}

fn sha2_digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
