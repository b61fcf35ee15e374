//! The `/public/v1` credential: `Authorization: <key or pos_ token>` or the same after
//! `Bearer `, resolved to the organization it acts for and the scopes it carries. Credentials in
//! the query string are never read.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::AppState;
use crate::accounts::api_keys;
use crate::error::AppError;
use crate::oauth::scopes::{Scope, Scopes};
use crate::oauth::{resource, tokens};

/// How the caller proved who it is.
#[derive(Clone, Debug)]
pub enum Credential {
    ApiKey {
        id: String,
    },
    OAuthToken {
        id: String,
        app_id: String,
        user_id: String,
    },
}

/// Who is calling `/public/v1`: the organization it acts for and what it may do there.
#[derive(Clone, Debug)]
pub struct Caller {
    pub organization_id: String,
    pub scopes: Scopes,
    pub credential: Credential,
}

impl Caller {
    /// 403 `{"msg":"insufficient_scope","scope":…}` unless the credential carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AppError::InsufficientScope(scope.as_str()))
        }
    }
}

/// The credential in the header, without a `Bearer ` prefix (matched case-insensitively).
pub fn presented(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    if value.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let value = match value.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => value[7..].trim(),
        _ => value,
    };
    (!value.is_empty()).then(|| value.to_owned())
}

/// Resolves a presented API key or `pos_` token to the caller it stands for, at the resource
/// `path` (`/public/v1` or `/mcp`): a token bound to the other one (RFC 8707) is refused like
/// an unknown one.
pub async fn resolve(
    state: &web::Data<AppState>,
    credential: String,
    path: &str,
) -> Result<Caller, AppError> {
    if credential.starts_with(tokens::PREFIX) {
        // What was resolved a moment ago is reused while no credential has ended since
        // (`tokens::Cache`).
        let info = match state.tokens.get(&state.db, &credential) {
            Some(info) => Some(info),
            None => {
                let signal = state.db.revocation_signal();
                let cache = state.clone();
                state
                    .db
                    .read(move |conn| cache.tokens.resolve(conn, &credential, signal))
                    .await?
            }
        };
        let here = resource::url(&state.config.public_url, path);
        let info = info
            .filter(|i| i.resource.as_ref().is_none_or(|r| *r == here))
            .ok_or_else(|| AppError::Unauthorized("Invalid OAuth token".into()))?;
        return Ok(Caller {
            organization_id: info.organization_id,
            scopes: info.scopes,
            credential: Credential::OAuthToken {
                id: info.id,
                app_id: info.app_id,
                user_id: info.user_id,
            },
        });
    }
    // Keys resolved a moment ago need no database trip while no key has ended since.
    let signal = state.db.key_signal();
    let (id, organization_id) = match api_keys::recently_resolved(&credential, signal) {
        Some(found) => found,
        None => {
            let presented = credential.clone();
            let found = state
                .db
                .read(move |conn| api_keys::resolve(conn, &presented))
                .await?
                .ok_or_else(|| AppError::Unauthorized("Invalid API key".into()))?;
            api_keys::remember(&credential, &found.0, &found.1, signal);
            found
        }
    };
    Ok(Caller {
        organization_id,
        scopes: Scopes::all(),
        credential: Credential::ApiKey { id },
    })
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let credential = presented(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let credential =
                credential.ok_or_else(|| AppError::Unauthorized("No API Key found".into()))?;
            resolve(&state, credential, "/public/v1").await
        })
    }
}
