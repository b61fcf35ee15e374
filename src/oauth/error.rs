//! `OAuthError`: RFC 6749 §5.2 error bodies for the token, revocation, introspection and device
//! endpoints, kept apart from `AppError`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::error::AppError;

#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: Option<String>,
    /// Answer `WWW-Authenticate: Basic` (the client authenticated with HTTP Basic).
    pub basic_challenge: bool,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: Option<&str>) -> Self {
        OAuthError {
            status,
            error,
            description: description.map(str::to_owned),
            basic_challenge: false,
            retry_after: None,
        }
    }

    pub fn invalid_request(description: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            Some(description),
        )
    }
    pub fn invalid_client(basic: bool) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            Some("client authentication failed"),
        );
        e.basic_challenge = basic;
        e
    }
    pub fn invalid_target(description: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", Some(description))
    }
    pub fn invalid_grant(description: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", Some(description))
    }
    pub fn unauthorized_client(description: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            Some(description),
        )
    }
    pub fn unsupported_grant_type() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", None)
    }
    pub fn invalid_scope(description: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", Some(description))
    }
    /// Device-flow states (RFC 8628 §3.5) and other bare error codes, all 400.
    pub fn bare(error: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, None)
    }
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            Some("too many failed attempts; retry later"),
        );
        e.retry_after = Some(retry_after);
        e
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.error)
    }
}

impl From<AppError> for OAuthError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::TooManyRequests { retry_after } => OAuthError::too_many_requests(retry_after),
            AppError::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                None,
            ),
            other => {
                tracing::error!(cause = %other, "oauth endpoint failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", None)
            }
        }
    }
}

impl From<crate::db::DbError> for OAuthError {
    fn from(e: crate::db::DbError) -> Self {
        OAuthError::from(AppError::from(e))
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        builder
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if self.basic_challenge {
            builder.insert_header((
                header::WWW_AUTHENTICATE,
                "Basic realm=\"socialgate\", charset=\"UTF-8\"",
            ));
        }
        if let Some(seconds) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        builder.json(Body {
            error: self.error,
            error_description: self.description.as_deref(),
        })
    }
}
