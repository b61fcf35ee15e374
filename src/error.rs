//! `AppError`: every failure of a request, mapped to a status and a JSON body (`{"msg": …}`,
//! as Postiz's Public API answers). Internal causes are logged, never sent.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The OAuth token lacks the scope a route needs.
    #[error("insufficient_scope")]
    InsufficientScope(&'static str),
    #[error("too many attempts; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// The visitor must sign in first; pages answer with a redirect to the sign-in page.
    #[error("sign in first")]
    SignInRequired { next: String },
    /// A network we depend on failed.
    #[error("{0}")]
    BadGateway(String),
    #[error("the database is unavailable")]
    Unavailable,
    /// The disk (or the database's) is full: nothing of the request was kept.
    #[error(
        "the server's storage is full: nothing was saved; try again later (operators: free disk space)"
    )]
    InsufficientStorage,
    /// A stored value is sealed under a master key this process does not have.
    #[error(
        "a stored value is sealed under master key {0}, which this server does not have: start it with the installation's key (SOCIALGATE_SECRET_KEY, or the secret.key in SOCIALGATE_DATA_DIR)"
    )]
    UnknownKey(String),
    /// Something failed on our side: the cause is logged with its chain, never sent.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// Any error, kept as the cause of an internal one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl AppError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        AppError::BadRequest(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        AppError::Forbidden(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        AppError::NotFound(msg.into())
    }
    /// An internal failure with its cause (an error, or a message naming the broken invariant).
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        AppError::Internal(cause.into())
    }
}

impl From<crate::crypto::KeyError> for AppError {
    fn from(e: crate::crypto::KeyError) -> Self {
        match e {
            crate::crypto::KeyError::UnknownKey(id) => AppError::UnknownKey(id),
            other => AppError::internal(other),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Pool(_) | DbError::Connect(_) => AppError::Unavailable,
            DbError::Query(diesel::result::Error::NotFound) => AppError::not_found("Not found"),
            DbError::Query(diesel::result::Error::DatabaseError(_, info))
                if disk_full(info.message()) =>
            {
                AppError::InsufficientStorage
            }
            // A batch of the write lane whose commit found the disk full.
            DbError::Commit(why) if disk_full(&why) => AppError::InsufficientStorage,
            other => AppError::internal(other),
        }
    }
}

/// Whether a database error says its disk is full: SQLite's `SQLITE_FULL`, PostgreSQL's
/// `could not extend file` / `could not write` with ENOSPC.
fn disk_full(message: &str) -> bool {
    message.contains("database or disk is full") || message.contains("No space left on device")
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::from(DbError::Query(e))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::internal(e)
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(e: validator::ValidationErrors) -> Self {
        let mut fields: Vec<String> = e
            .field_errors()
            .iter()
            .map(|(field, errs)| {
                let why = errs
                    .iter()
                    .filter_map(|e| e.message.as_ref().map(|m| m.to_string()))
                    .next()
                    .unwrap_or_else(|| "is invalid".to_owned());
                format!("{field} {why}")
            })
            .collect();
        fields.sort();
        AppError::BadRequest(fields.join("; "))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) | AppError::UnknownKey(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            AppError::SignInRequired { next } => {
                let location = format!("/signin?next={}", crate::percent::url_encode(next));
                return builder.insert_header((header::LOCATION, location)).finish();
            }
            AppError::TooManyRequests { retry_after } => {
                builder.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            AppError::InsufficientScope(scope) => {
                return builder.json(json!({ "msg": "insufficient_scope", "scope": scope }));
            }
            AppError::Internal(cause) => {
                let mut chain = cause.to_string();
                let mut source = cause.source();
                while let Some(inner) = source {
                    chain.push_str(": ");
                    chain.push_str(&inner.to_string());
                    source = inner.source();
                }
                tracing::error!(cause = %chain, "request failed")
            }
            AppError::Unavailable => tracing::warn!("database unavailable"),
            AppError::InsufficientStorage => tracing::error!("storage full: a write was refused"),
            AppError::UnknownKey(id) => {
                tracing::error!(key_id = %id, "a stored value is sealed under a key this server does not have")
            }
            _ => {}
        }
        builder.json(json!({ "msg": self.to_string() }))
    }
}

/// Turns actix's extractor failures (bad JSON, form, path or query) into clear 400s.
pub fn bad_input(err: impl std::fmt::Display) -> actix_web::Error {
    AppError::BadRequest(format!("Invalid request: {err}")).into()
}
