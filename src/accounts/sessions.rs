//! Signed-in sessions: a JWT (HS256) in an `HttpOnly` cookie naming a row in `sessions`, and the
//! `SignedIn` extractor, which re-checks the session, the user and the membership on every request.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, time};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Duration;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::csrf;
use super::users::{self, Organization, Role};
use crate::AppState;
use crate::config::Config;
use crate::crypto::{self, Keys};
use crate::db::schema::sessions;
use crate::db::{DbConn, now};
use crate::error::AppError;

pub const SESSION_COOKIE: &str = "sg_session";
const SESSION_DAYS: i64 = 30;

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
}

/// Opens a session for the user in the organization and returns the cookie value.
pub fn start(
    conn: &mut DbConn,
    keys: &Keys,
    user_id: &str,
    org_id: &str,
) -> Result<String, AppError> {
    let created = now();
    let expires = created + Duration::days(SESSION_DAYS);
    let sid = crypto::new_id();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&sid),
            sessions::user_id.eq(user_id),
            sessions::organization_id.eq(org_id),
            sessions::created_at.eq(created),
            sessions::expires_at.eq(expires),
        ))
        .execute(conn)?;
    let claims = Claims {
        sub: user_id.to_owned(),
        sid,
        iat: created.and_utc().timestamp(),
        exp: expires.and_utc().timestamp(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&keys.session),
    )
    .map_err(|e| AppError::internal(format!("session token: {e}")))
}

/// Ends the session: its cookie stops working at once, on every instance.
pub fn end(conn: &mut DbConn, session_id: &str) -> Result<(), AppError> {
    diesel::delete(sessions::table.find(session_id)).execute(conn)?;
    Ok(())
}

/// Moves the session to another organization the user belongs to.
pub fn switch_organization(
    conn: &mut DbConn,
    session_id: &str,
    org_id: &str,
) -> Result<(), AppError> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::organization_id.eq(org_id))
        .execute(conn)?;
    Ok(())
}

pub fn session_cookie(config: &Config, value: String) -> Cookie<'static> {
    let mut cookie = csrf::private_cookie(config, SESSION_COOKIE, value);
    cookie.set_max_age(time::Duration::days(SESSION_DAYS));
    cookie
}

pub fn cleared_cookie(config: &Config) -> Cookie<'static> {
    let mut cookie = csrf::private_cookie(config, SESSION_COOKIE, String::new());
    cookie.make_removal();
    cookie
}

fn session_id_of(keys: &Keys, token: &str) -> Option<(String, String)> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&keys.session), &validation)
        .ok()
        .map(|data| (data.claims.sid, data.claims.sub))
}

/// The signed-in user, the organization the session acts in, and the form token bound to it.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub session_id: String,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub org: Organization,
    pub role: Role,
    pub csrf_token: String,
}

impl SignedIn {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 unless the presented form token belongs to this session.
    pub fn check_csrf(&self, keys: &Keys, presented: &str) -> Result<(), AppError> {
        csrf::verify(keys, &self.session_id, presented)
    }

    /// The CSRF check of session JSON: the token in `X-CSRF-Token` (from `GET /user/self`).
    pub fn check_csrf_header(&self, keys: &Keys, req: &HttpRequest) -> Result<(), AppError> {
        let presented = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.check_csrf(keys, presented)
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "Only an admin of this organization can do this",
            ))
        }
    }
}

/// Loads the session's user and membership; falls back to another organization of the user
/// when they were removed from the session's one.
fn load(
    conn: &mut DbConn,
    sid: &str,
    user_id: &str,
) -> Result<Option<(users::User, Organization, Role)>, AppError> {
    let org_id: Option<String> = sessions::table
        .find(sid)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now()))
        .select(sessions::organization_id)
        .first(conn)
        .optional()?;
    let Some(org_id) = org_id else {
        return Ok(None);
    };
    let Some(user) = users::find_user(conn, user_id)? else {
        return Ok(None);
    };
    if let Some((org, role)) = users::membership(conn, &org_id, user_id)? {
        return Ok(Some((user, org, role)));
    }
    let Some(other) = users::organizations_of(conn, user_id)?.into_iter().next() else {
        return Ok(None);
    };
    switch_organization(conn, sid, &other.id)?;
    Ok(users::membership(conn, &other.id, user_id)?.map(|(org, role)| (user, org, role)))
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let next = if req.method() == Method::GET {
            req.uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default()
        } else {
            "/settings".to_owned()
        };
        let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        // The session's JSON routes live under `/user/`: they answer 401 JSON, never a redirect
        // to a page.
        let json = req.path().starts_with("/user/");
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let sign_in = || {
                if json {
                    AppError::Unauthorized("Sign in first: this route needs a session".into())
                } else {
                    AppError::SignInRequired { next: next.clone() }
                }
            };
            let (sid, user_id) = token
                .and_then(|t| session_id_of(&state.keys, &t))
                .ok_or_else(sign_in)?;
            let sid_for_load = sid.clone();
            let (user, org, role) = state
                .db
                .run(move |conn| load(conn, &sid_for_load, &user_id))
                .await?
                .ok_or_else(sign_in)?;
            Ok(SignedIn {
                csrf_token: csrf::token(&state.keys, &sid),
                session_id: sid,
                user_id: user.id,
                email: user.email,
                name: user.name,
                org,
                role,
            })
        })
    }
}
