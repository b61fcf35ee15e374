//! Device login (RFC 8628) and the endpoints the Postiz CLI's `auth:login` calls
//! (`POST /device/code`, `POST /device/token`). A device code waits for a signed-in user to
//! enter its user code on `/device` and approve the same consent screen.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::apps::{self, Client};
use super::authorize::{self, PendingRequest};
use super::error::OAuthError;
use super::params::Params;
use super::scopes::Scopes;
use super::tokens;
use crate::AppState;
use crate::accounts::SignedIn;
use crate::accounts::throttle::{self, Limit};
use crate::crypto;
use crate::db::schema::{oauth_device_codes, oauth_grants};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::pages;

pub const LIFETIME: Duration = Duration::minutes(15);
pub const INTERVAL_SECONDS: i32 = 5;
/// No 0/O, 1/I/L: easy to read aloud and type.
const USER_CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789X";

/// Wrong user codes a signed-in user may enter within 15 minutes.
const USER_CODE_GUESSES: Limit = Limit {
    max_failures: 10,
    window: Duration::minutes(15),
};

/// `XXXX-XXXX` from an alphabet without look-alike characters (≈40 bits).
fn new_user_code() -> String {
    let mut bytes = [0u8; 8];
    crypto::os_random(&mut bytes);
    let chars: String = bytes
        .iter()
        .map(|b| USER_CODE_ALPHABET[(*b % 32) as usize] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The user code as typed, reduced to its 8 characters (case, dashes and spaces ignored).
fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A new device code for the app: (device_code, user_code).
fn create(conn: &mut DbConn, app_id: &str, scopes: Scopes) -> Result<(String, String), AppError> {
    let mut device = [0u8; 32];
    crypto::os_random(&mut device);
    let device_code = crypto::hex(&device);
    let user_code = new_user_code();
    let now = now();
    diesel::insert_into(oauth_device_codes::table)
        .values((
            oauth_device_codes::id.eq(crypto::new_id()),
            oauth_device_codes::device_code_hash.eq(crypto::sha256_hex(&device_code)),
            oauth_device_codes::user_code_hash
                .eq(crypto::sha256_hex(&normalize_user_code(&user_code))),
            oauth_device_codes::app_id.eq(app_id),
            oauth_device_codes::scopes.eq(scopes.to_string()),
            oauth_device_codes::status.eq("pending"),
            oauth_device_codes::interval_seconds.eq(INTERVAL_SECONDS),
            oauth_device_codes::created_at.eq(now),
            oauth_device_codes::expires_at.eq(now + LIFETIME),
        ))
        .execute(conn)?;
    Ok((device_code, user_code))
}

/// Records the user's answer; false when the device code is no longer waiting.
pub fn answer(
    conn: &mut DbConn,
    device_code_id: &str,
    grant_id: Option<&str>,
) -> Result<bool, AppError> {
    let status = if grant_id.is_some() {
        "approved"
    } else {
        "denied"
    };
    let n = diesel::update(
        oauth_device_codes::table
            .find(device_code_id)
            .filter(oauth_device_codes::status.eq("pending"))
            .filter(oauth_device_codes::expires_at.gt(now())),
    )
    .set((
        oauth_device_codes::status.eq(status),
        oauth_device_codes::grant_id.eq(grant_id),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

#[derive(Queryable)]
struct DeviceRow {
    id: String,
    app_id: String,
    scopes: String,
    status: String,
    grant_id: Option<String>,
    interval_seconds: i32,
    expires_at: NaiveDateTime,
    last_polled_at: Option<NaiveDateTime>,
}

/// What a poll finds.
pub enum Poll {
    Unknown,
    Pending,
    SlowDown,
    Expired,
    Denied,
    Approved {
        access_token: String,
        organization_id: String,
        scopes: String,
    },
}

/// One poll of a device code. `enforce_interval` answers `slow_down` to a client polling faster
/// than the interval (RFC 8628 §3.5), and widens the interval by 5 seconds.
fn poll(
    conn: &mut DbConn,
    device_code: &str,
    client_app_id: Option<&str>,
    enforce_interval: bool,
) -> Result<Poll, AppError> {
    let row: Option<DeviceRow> = oauth_device_codes::table
        .filter(oauth_device_codes::device_code_hash.eq(crypto::sha256_hex(device_code)))
        .select((
            oauth_device_codes::id,
            oauth_device_codes::app_id,
            oauth_device_codes::scopes,
            oauth_device_codes::status,
            oauth_device_codes::grant_id,
            oauth_device_codes::interval_seconds,
            oauth_device_codes::expires_at,
            oauth_device_codes::last_polled_at,
        ))
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(Poll::Unknown);
    };
    if client_app_id.is_some_and(|a| a != row.app_id) || row.status == "spent" {
        return Ok(Poll::Unknown);
    }
    let now = now();
    if row.expires_at <= now {
        return Ok(Poll::Expired);
    }
    let too_fast = row
        .last_polled_at
        .is_some_and(|t| now - t < Duration::seconds(i64::from(row.interval_seconds)));
    if enforce_interval && too_fast {
        diesel::update(oauth_device_codes::table.find(&row.id))
            .set((
                oauth_device_codes::last_polled_at.eq(now),
                oauth_device_codes::interval_seconds.eq(row.interval_seconds + 5),
            ))
            .execute(conn)?;
        return Ok(Poll::SlowDown);
    }
    diesel::update(oauth_device_codes::table.find(&row.id))
        .set(oauth_device_codes::last_polled_at.eq(now))
        .execute(conn)?;
    match row.status.as_str() {
        "pending" => Ok(Poll::Pending),
        "denied" => Ok(Poll::Denied),
        "approved" => {
            let Some(grant_id) = row.grant_id else {
                return Ok(Poll::Denied);
            };
            let grant: Option<(String, String)> = oauth_grants::table
                .find(&grant_id)
                .filter(oauth_grants::revoked_at.is_null())
                .select((oauth_grants::user_id, oauth_grants::organization_id))
                .first(conn)
                .optional()?;
            let Some((user_id, organization_id)) = grant else {
                return Ok(Poll::Denied);
            };
            // Spend the code first: only one poll may turn it into a token.
            let spent = diesel::update(
                oauth_device_codes::table
                    .find(&row.id)
                    .filter(oauth_device_codes::status.eq("approved")),
            )
            .set(oauth_device_codes::status.eq("spent"))
            .execute(conn)?;
            if spent == 0 {
                return Ok(Poll::Unknown);
            }
            let access_token = tokens::mint(
                conn,
                tokens::NewToken {
                    grant_id: &grant_id,
                    app_id: &row.app_id,
                    user_id: &user_id,
                    organization_id: &organization_id,
                    scopes: &row.scopes,
                    code_id: None,
                    resource: None,
                },
            )?;
            Ok(Poll::Approved {
                access_token,
                organization_id,
                scopes: row.scopes,
            })
        }
        _ => Ok(Poll::Unknown),
    }
}

/// Failed device-token polls (unknown codes) from one IP within 15 minutes.
const DEVICE_GUESSES: Limit = Limit {
    max_failures: 50,
    window: Duration::minutes(15),
};

fn client_ip(req: &HttpRequest) -> String {
    crate::client_ip::text(req)
}

#[derive(Serialize)]
struct CodeResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification_uri_complete: Option<String>,
    expires_in: i64,
    interval: i32,
}

/// `POST /device/code` (Postiz CLI): no body needed; the built-in first-party client.
pub async fn postiz_code(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (device_code, user_code) = state
        .db
        .run(|conn| {
            let app = apps::find_by_client_id(conn, apps::CLI_CLIENT_ID)?
                .ok_or_else(|| AppError::internal("the built-in CLI client is missing"))?;
            create(conn, &app.id, Scopes::all())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(CodeResponse {
            device_code,
            user_code,
            verification_uri: format!("{}/device", state.config.public_url),
            verification_uri_complete: None,
            expires_in: LIFETIME.num_seconds(),
            interval: INTERVAL_SECONDS,
        }))
}

#[derive(Deserialize)]
pub struct PostizTokenBody {
    device_code: Option<String>,
}

/// `POST /device/token` (Postiz CLI): JSON `{"device_code": …}`.
pub async fn postiz_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let error = |e: &str| {
        HttpResponse::BadRequest()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "error": e }))
    };
    let Some(device_code) = serde_json::from_slice::<PostizTokenBody>(&body)
        .ok()
        .and_then(|b| b.device_code)
        .filter(|c| !c.is_empty())
    else {
        return error("invalid_request");
    };
    let ip_key = format!("device:ip:{}", client_ip(&req));
    let polled = state
        .db
        .run(move |conn| {
            throttle::check(conn, &ip_key, DEVICE_GUESSES)?;
            let outcome = poll(conn, &device_code, None, false)?;
            if matches!(outcome, Poll::Unknown) {
                throttle::record_failure(conn, &ip_key, DEVICE_GUESSES)?;
            }
            Ok::<_, AppError>(outcome)
        })
        .await;
    match polled {
        Ok(Poll::Approved {
            access_token,
            organization_id,
            ..
        }) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({
                "access_token": access_token,
                "api_url": state.config.public_url,
                "organization_id": organization_id,
            })),
        Ok(Poll::Pending | Poll::SlowDown) => error("authorization_pending"),
        Ok(Poll::Expired) => error("expired_token"),
        Ok(Poll::Denied) => error("access_denied"),
        Ok(Poll::Unknown) => error("invalid_device_code"),
        Err(AppError::TooManyRequests { retry_after }) => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", retry_after.to_string()))
            .json(json!({ "error": "slow_down" })),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

/// `POST /oauth/device_authorization` (RFC 8628 §3.1), for public clients and confidential
/// clients that authenticate as at the token endpoint.
pub async fn device_authorization(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let params = Params::from_body(&req, &body)?;
    let client = super::token::authenticate_client(&state, &req, &params).await?;
    let scopes = Scopes::parse(params.one("scope")?.unwrap_or(""))
        .map_err(|unknown| OAuthError::invalid_scope(&format!("unknown scope {unknown}")))?;
    let app_id = client.id.clone();
    let (device_code, user_code) = state
        .db
        .run(move |conn| create(conn, &app_id, scopes))
        .await?;
    let verification_uri = format!("{}/device", state.config.public_url);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(CodeResponse {
            verification_uri_complete: Some(format!("{verification_uri}?code={user_code}")),
            device_code,
            user_code,
            verification_uri,
            expires_in: LIFETIME.num_seconds(),
            interval: INTERVAL_SECONDS,
        }))
}

/// The device-code grant at the token endpoint.
pub async fn grant(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<HttpResponse, OAuthError> {
    let device_code = params
        .one("device_code")?
        .ok_or_else(|| OAuthError::invalid_request("device_code is required"))?
        .to_owned();
    let app_id = client.id.clone();
    let outcome = state
        .db
        .run(move |conn| poll(conn, &device_code, Some(&app_id), true))
        .await?;
    match outcome {
        Poll::Approved {
            access_token,
            organization_id,
            scopes,
        } => Ok(super::token::token_response(
            organization_id,
            access_token,
            scopes,
        )),
        Poll::Pending => Err(OAuthError::bare("authorization_pending")),
        Poll::SlowDown => Err(OAuthError::bare("slow_down")),
        Poll::Expired => Err(OAuthError::bare("expired_token")),
        Poll::Denied => Err(OAuthError::bare("access_denied")),
        Poll::Unknown => Err(OAuthError::invalid_grant(
            "the device code is unknown, spent, or was issued to another client",
        )),
    }
}

#[derive(Template)]
#[template(path = "oauth/device.html")]
struct DevicePage {
    csrf_token: String,
    code: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct DeviceQuery {
    #[serde(default)]
    code: String,
}

/// `GET /device[?code=XXXX-XXXX]`: signed-in users enter the code.
pub async fn verify_page(
    me: SignedIn,
    query: web::Query<DeviceQuery>,
) -> Result<HttpResponse, AppError> {
    let code: String = query
        .code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(9)
        .collect();
    pages::html(
        StatusCode::OK,
        &DevicePage {
            csrf_token: me.csrf_token,
            code,
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct DeviceForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    user_code: String,
}

/// `POST /device`: a valid code leads to the consent screen.
pub async fn verify(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<DeviceForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let typed = normalize_user_code(&form.user_code);
    let guess_key = format!("device:user:{}", me.user_id);
    let sid = me.session_id.clone();
    let found = state
        .db
        .run(move |conn| {
            throttle::check(conn, &guess_key, USER_CODE_GUESSES)?;
            let row: Option<(String, String, String)> = oauth_device_codes::table
                .filter(oauth_device_codes::user_code_hash.eq(crypto::sha256_hex(&typed)))
                .filter(oauth_device_codes::status.eq("pending"))
                .filter(oauth_device_codes::expires_at.gt(now()))
                .select((
                    oauth_device_codes::id,
                    oauth_device_codes::app_id,
                    oauth_device_codes::scopes,
                ))
                .first(conn)
                .optional()?;
            let Some((device_id, app_id, scopes)) = row else {
                throttle::record_failure(conn, &guess_key, USER_CODE_GUESSES)?;
                return Ok(None);
            };
            let scopes = Scopes::parse(&scopes).map_err(|_| AppError::internal("stored scopes"))?;
            let Some(app) = apps::find(conn, &app_id)? else {
                return Ok(None);
            };
            let request_id = authorize::store_request(
                conn,
                PendingRequest {
                    session_id: &sid,
                    app_id: &app.id,
                    redirect_uri: None,
                    redirect_uri_sent: false,
                    state: None,
                    scopes,
                    code_challenge: None,
                    device_code_id: Some(&device_id),
                    resource: None,
                },
            )?;
            Ok::<_, AppError>(Some((app, scopes, request_id)))
        })
        .await;
    let page_error = |status: StatusCode, error: String| {
        pages::html(
            status,
            &DevicePage {
                csrf_token: me.csrf_token.clone(),
                code: form.user_code.chars().take(9).collect(),
                error: Some(error),
            },
        )
    };
    match found {
        Ok(Some((app, scopes, request_id))) => {
            authorize::consent_page(&state, &me, app, scopes, request_id, None).await
        }
        Ok(None) => page_error(
            StatusCode::BAD_REQUEST,
            "That code is not valid or has expired. Check it and try again.".into(),
        ),
        Err(AppError::TooManyRequests { retry_after }) => page_error(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many wrong codes. Try again in {} minutes.",
                retry_after.div_ceil(60)
            ),
        ),
        Err(e) => Err(e),
    }
}
