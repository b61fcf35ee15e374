//! The `/public/v1` credential: `Authorization: <key>` or `Authorization: Bearer <key>`,
//! resolved to the organization it acts for. Credentials in the query string are never read.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::AppState;
use crate::accounts::api_keys;
use crate::error::AppError;

/// OAuth access tokens start with this; everything else is taken for an API key.
const OAUTH_TOKEN_PREFIX: &str = "pos_";

/// How the caller proved who it is.
#[derive(Clone, Debug)]
pub enum Credential {
    ApiKey { id: String },
}

/// Who is calling `/public/v1`: the organization it acts for.
#[derive(Clone, Debug)]
pub struct Caller {
    pub organization_id: String,
    pub credential: Credential,
}

/// The credential in the header, without a `Bearer ` prefix (matched case-insensitively).
fn presented(req: &HttpRequest) -> Option<String> {
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

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let credential = presented(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| AppError::Internal("application state missing".into()))?;
            let credential =
                credential.ok_or_else(|| AppError::Unauthorized("No API Key found".into()))?;
            if credential.starts_with(OAUTH_TOKEN_PREFIX) {
                // No OAuth token can be issued yet, so none is valid.
                return Err(AppError::Unauthorized("Invalid OAuth token".into()));
            }
            let (id, organization_id) = state
                .db
                .run(move |conn| api_keys::resolve(conn, &credential))
                .await?
                .ok_or_else(|| AppError::Unauthorized("Invalid API key".into()))?;
            Ok(Caller {
                organization_id,
                credential: Credential::ApiKey { id },
            })
        })
    }
}
