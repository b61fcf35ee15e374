//! The authorization endpoint and the consent screen. The consent form is bound to a
//! server-side record of the request (and to the session by its CSRF token), so tampering with
//! hidden fields changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Deserialize;

use super::apps::{self, App};
use super::codes::{self, NewCode};
use super::params::Params;
use super::scopes::{Scope, Scopes};
use super::{device, grants};
use super::{redirect, resource};
use crate::AppState;
use crate::accounts::SignedIn;
use crate::accounts::users::{self, Organization};
use crate::crypto;
use crate::db::schema::oauth_requests;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::pages;

/// How long a consent screen may stay open.
const REQUEST_LIFETIME: Duration = Duration::minutes(30);

#[derive(Template)]
#[template(path = "oauth/consent.html")]
pub struct ConsentPage {
    pub app: App,
    pub user_email: String,
    pub scopes: Vec<Scope>,
    pub csrf_token: String,
    pub request_id: String,
    pub organizations: Vec<Organization>,
    pub current_organization_id: String,
    pub redirect_host: Option<String>,
}

/// A page that explains a problem and sends the browser nowhere.
pub fn message(status: StatusCode, title: &str, message: &str) -> Result<HttpResponse, AppError> {
    pages::message(status, title, message)
}

fn error_page(message: &str) -> Result<HttpResponse, AppError> {
    self::message(
        StatusCode::BAD_REQUEST,
        "This authorization request cannot be used",
        message,
    )
}

/// What the consent screen is about, stored until it is answered.
pub struct PendingRequest<'a> {
    pub session_id: &'a str,
    pub app_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub redirect_uri_sent: bool,
    pub state: Option<&'a str>,
    pub scopes: Scopes,
    pub code_challenge: Option<&'a str>,
    pub device_code_id: Option<&'a str>,
    /// The resource the token will be bound to (RFC 8707), canonical.
    pub resource: Option<&'a str>,
}

pub fn store_request(conn: &mut DbConn, r: PendingRequest<'_>) -> Result<String, AppError> {
    let id = crypto::random_alphanumeric(32);
    let now = now();
    diesel::insert_into(oauth_requests::table)
        .values((
            oauth_requests::id.eq(&id),
            oauth_requests::session_id.eq(r.session_id),
            oauth_requests::app_id.eq(r.app_id),
            oauth_requests::redirect_uri.eq(r.redirect_uri),
            oauth_requests::redirect_uri_sent.eq(r.redirect_uri_sent),
            oauth_requests::state.eq(r.state),
            oauth_requests::scopes.eq(r.scopes.to_string()),
            oauth_requests::code_challenge.eq(r.code_challenge),
            oauth_requests::device_code_id.eq(r.device_code_id),
            oauth_requests::resource.eq(r.resource),
            oauth_requests::created_at.eq(now),
            oauth_requests::expires_at.eq(now + REQUEST_LIFETIME),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Renders the consent screen for a stored request.
pub async fn consent_page(
    state: &AppState,
    me: &SignedIn,
    app: App,
    scopes: Scopes,
    request_id: String,
    redirect_host: Option<String>,
) -> Result<HttpResponse, AppError> {
    let user_id = me.user_id.clone();
    let organizations = state
        .db
        .run(move |conn| users::organizations_of(conn, &user_id))
        .await?;
    let page = ConsentPage {
        app,
        user_email: me.email.clone(),
        scopes: scopes.iter().collect(),
        csrf_token: me.csrf_token.clone(),
        request_id,
        organizations,
        current_organization_id: me.org.id.clone(),
        redirect_host,
    };
    pages::html(StatusCode::OK, &page)
}

/// `GET /oauth/authorize`
pub async fn authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let Ok(params) = Params::from_query(req.query_string()) else {
        return error_page("The request's parameters are malformed.");
    };
    let client_id = match params.get("client_id") {
        Ok(Some(id)) => id.to_owned(),
        Ok(None) => return error_page("The request names no client_id."),
        Err(_) => return error_page("client_id was sent more than once."),
    };
    let lookup = client_id.clone();
    let app = state
        .db
        .run(move |conn| apps::find_by_client_id(conn, &lookup))
        .await?;
    let Some(app) = app.filter(|a| !a.first_party) else {
        return error_page("No app is registered with this client_id.");
    };
    let registered = app.redirect_uris();
    let (redirect_uri, redirect_uri_sent) = match params.get("redirect_uri") {
        Err(_) => return error_page("redirect_uri was sent more than once."),
        Ok(Some(requested)) => match registered.iter().find(|r| redirect::matches(r, requested)) {
            Some(_) => (requested.to_owned(), true),
            None => return error_page("The redirect_uri is not one the app registered."),
        },
        Ok(None) if registered.len() == 1 => (registered[0].clone(), false),
        Ok(None) => {
            return error_page(
                "The app registered several redirect URLs, so the request must name one in redirect_uri.",
            );
        }
    };

    // From here on the redirect URI is trusted: errors go back to the app.
    let client_state = params.get("state").ok().flatten().map(str::to_owned);
    let issuer = state.config.public_url.clone();
    let fail = |error: &str, description: &str| {
        let mut p: Vec<(&str, &str)> = vec![("error", error), ("error_description", description)];
        if let Some(s) = &client_state {
            p.push(("state", s));
        }
        p.push(("iss", &issuer));
        Ok(pages::see_other(&redirect::with_params(&redirect_uri, &p)))
    };
    if let Some(name) = params.repeated() {
        return fail(
            "invalid_request",
            &format!("the parameter {name} was sent more than once"),
        );
    }
    match params.get("response_type").ok().flatten() {
        None => return fail("invalid_request", "response_type is required"),
        Some("code") => {}
        Some(_) => {
            return fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            );
        }
    }
    let scopes = match Scopes::parse(params.get("scope").ok().flatten().unwrap_or("")) {
        Ok(s) => s,
        Err(unknown) => return fail("invalid_scope", &format!("unknown scope {unknown}")),
    };
    let resource = match params.get("resource").ok().flatten() {
        None => None,
        Some(r) => match resource::canonical(&state.config.public_url, r) {
            Some(r) => Some(r),
            None => {
                return fail(
                    "invalid_target",
                    &resource::refusal(&state.config.public_url),
                );
            }
        },
    };
    let challenge = params.get("code_challenge").ok().flatten();
    match (
        challenge,
        params.get("code_challenge_method").ok().flatten(),
    ) {
        (Some(c), Some("S256")) if !codes::challenge_is_well_formed(c) => {
            return fail(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the verifier",
            );
        }
        (Some(_), Some("S256")) => {}
        (Some(_), None) | (Some(_), Some("plain")) => {
            return fail(
                "invalid_request",
                "code_challenge_method must be S256 (plain is not accepted)",
            );
        }
        (_, Some(m)) if m != "S256" => {
            return fail(
                "invalid_request",
                "only the S256 code_challenge_method is supported",
            );
        }
        (None, Some(_)) => {
            return fail(
                "invalid_request",
                "code_challenge_method without code_challenge",
            );
        }
        (None, None) if app.is_public() => {
            return fail(
                "invalid_request",
                "PKCE (code_challenge with S256) is required for this client",
            );
        }
        _ => {}
    }

    let Some(me) = me else {
        let next = format!("/oauth/authorize?{}", req.query_string());
        return Ok(pages::see_other(&format!(
            "/signin?next={}",
            crate::percent::url_encode(&next)
        )));
    };
    let (sid, app_id) = (me.session_id.clone(), app.id.clone());
    let (uri, st, ch) = (
        redirect_uri.clone(),
        client_state.clone(),
        challenge.map(str::to_owned),
    );
    let request_id = state
        .db
        .run(move |conn| {
            store_request(
                conn,
                PendingRequest {
                    session_id: &sid,
                    app_id: &app_id,
                    redirect_uri: Some(&uri),
                    redirect_uri_sent,
                    state: st.as_deref(),
                    scopes,
                    code_challenge: ch.as_deref(),
                    device_code_id: None,
                    resource: resource.as_deref(),
                },
            )
        })
        .await?;
    consent_page(
        &state,
        &me,
        app,
        scopes,
        request_id,
        Some(redirect::host_of(&redirect_uri)),
    )
    .await
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    organization_id: String,
    #[serde(default)]
    action: String,
}

#[derive(Queryable)]
struct StoredRequest {
    app_id: String,
    redirect_uri: Option<String>,
    redirect_uri_sent: bool,
    state: Option<String>,
    scopes: String,
    code_challenge: Option<String>,
    device_code_id: Option<String>,
    expires_at: NaiveDateTime,
    resource: Option<String>,
}

/// Takes the pending request of this session, once: a second answer finds nothing.
fn take_request(
    conn: &mut DbConn,
    id: &str,
    session_id: &str,
) -> Result<Option<StoredRequest>, AppError> {
    let now = now();
    let taken = diesel::update(
        oauth_requests::table
            .find(id)
            .filter(oauth_requests::session_id.eq(session_id))
            .filter(oauth_requests::used_at.is_null()),
    )
    .set(oauth_requests::used_at.eq(now))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    let row: StoredRequest = oauth_requests::table
        .find(id)
        .select((
            oauth_requests::app_id,
            oauth_requests::redirect_uri,
            oauth_requests::redirect_uri_sent,
            oauth_requests::state,
            oauth_requests::scopes,
            oauth_requests::code_challenge,
            oauth_requests::device_code_id,
            oauth_requests::expires_at,
            oauth_requests::resource,
        ))
        .first(conn)?;
    Ok((row.expires_at > now).then_some(row))
}

/// The answer to the consent screen.
enum Outcome {
    Redirect(String),
    DeviceDone { approved: bool },
    Gone,
    NotMember,
}

/// `POST /oauth/authorize`: Authorize or Deny.
pub async fn consent(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let approve = match form.action.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return message(
                StatusCode::BAD_REQUEST,
                "Choose Authorize or Deny",
                "The form was sent without a choice.",
            );
        }
    };
    let form = form.into_inner();
    let issuer = state.config.public_url.clone();
    let (sid, user_id) = (me.session_id.clone(), me.user_id.clone());
    let outcome = state
        .db
        .run(move |conn| {
            let Some(request) = take_request(conn, &form.request_id, &sid)? else {
                return Ok(Outcome::Gone);
            };
            let scopes =
                Scopes::parse(&request.scopes).map_err(|_| AppError::internal("stored scopes"))?;
            if let Some(device_code_id) = &request.device_code_id {
                let grant_id = if approve {
                    if users::membership(conn, &form.organization_id, &user_id)?.is_none() {
                        return Ok(Outcome::NotMember);
                    }
                    Some(grants::approve(
                        conn,
                        &request.app_id,
                        &user_id,
                        &form.organization_id,
                        scopes,
                    )?)
                } else {
                    None
                };
                let done = device::answer(conn, device_code_id, grant_id.as_deref())?;
                return Ok(if done {
                    Outcome::DeviceDone { approved: approve }
                } else {
                    Outcome::Gone
                });
            }
            let redirect_uri = request.redirect_uri.unwrap_or_default();
            let mut params: Vec<(&str, String)> = Vec::new();
            if approve {
                if users::membership(conn, &form.organization_id, &user_id)?.is_none() {
                    return Ok(Outcome::NotMember);
                }
                let grant_id = grants::approve(
                    conn,
                    &request.app_id,
                    &user_id,
                    &form.organization_id,
                    scopes,
                )?;
                let code = codes::issue(
                    conn,
                    NewCode {
                        grant_id: &grant_id,
                        app_id: &request.app_id,
                        user_id: &user_id,
                        organization_id: &form.organization_id,
                        scopes: &request.scopes,
                        redirect_uri: &redirect_uri,
                        redirect_uri_sent: request.redirect_uri_sent,
                        code_challenge: request.code_challenge.as_deref(),
                        resource: request.resource.as_deref(),
                    },
                )?;
                params.push(("code", code));
            } else {
                params.push(("error", "access_denied".into()));
            }
            if let Some(s) = request.state {
                params.push(("state", s));
            }
            params.push(("iss", issuer));
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Ok::<_, AppError>(Outcome::Redirect(redirect::with_params(
                &redirect_uri,
                &pairs,
            )))
        })
        .await?;
    match outcome {
        Outcome::Redirect(location) => {
            tracing::info!(approved = approve, "consent answered");
            Ok(pages::see_other(&location))
        }
        Outcome::DeviceDone { approved: true } => message(
            StatusCode::OK,
            "Device connected",
            "The device is now signed in. You can close this window and return to it.",
        ),
        Outcome::DeviceDone { approved: false } => message(
            StatusCode::OK,
            "Access denied",
            "The device was not given access. You can close this window.",
        ),
        Outcome::Gone => message(
            StatusCode::BAD_REQUEST,
            "This request has expired or was already answered",
            "Start again from the app that sent you here.",
        ),
        Outcome::NotMember => message(
            StatusCode::FORBIDDEN,
            "Not your organization",
            "You can only grant access to an organization you are a member of.",
        ),
    }
}

/// `GET /oauth/apps/{client_id}/picture`: an uploaded app picture.
pub async fn picture(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let client_id = path.into_inner();
    let found = state
        .db
        .run(move |conn| apps::picture(conn, &client_id))
        .await?;
    let (content_type, bytes) = found.ok_or_else(|| AppError::not_found("No picture"))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", "default-src 'none'"))
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(bytes))
}
