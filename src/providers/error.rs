//! One error type for every network failure, in the kinds the publishing worker acts on.

use std::time::Duration;

/// Why a call to a network failed.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum ProviderError {
    /// The access token is no longer accepted; refreshing it may help.
    #[error("the token needs refreshing: {0}")]
    RefreshNeeded(String),
    /// The network refused what we sent; sending it again will not help.
    #[error("{0}")]
    BadBody(String),
    /// The account is gone or revoked our access; the user must reconnect.
    #[error("the channel is disconnected: {0}")]
    Disconnected(String),
    /// Try again later (429, 5xx, rate-limit bodies, a connection that was never made).
    #[error("the network is unavailable, try again later: {message}")]
    RetryLater {
        message: String,
        after: Option<Duration>,
    },
    /// The request may have reached the network but no answer came: never retry blindly.
    #[error("could not confirm the request was carried out: {0}")]
    Unconfirmed(String),
    /// The network or its app is not set up for this (no credentials, no such tool).
    #[error("{0}")]
    NotSupported(String),
}

impl ProviderError {
    /// Whether retrying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ProviderError::RetryLater { .. })
    }

    pub(crate) fn retry(message: impl Into<String>) -> Self {
        ProviderError::RetryLater {
            message: message.into(),
            after: None,
        }
    }
}

/// At most `max` characters of a platform's answer, for messages and logs.
pub fn truncate(body: &str, max: usize) -> String {
    match body.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_owned(),
    }
}

/// What a request that called a network answers when the network failed (Postiz's messages).
impl From<ProviderError> for crate::error::AppError {
    fn from(e: ProviderError) -> Self {
        use crate::error::AppError;
        match e {
            ProviderError::RefreshNeeded(_) | ProviderError::Disconnected(_) => {
                AppError::Unauthorized("Channel disconnected due to expired token".into())
            }
            ProviderError::BadBody(m) => AppError::BadRequest(m),
            ProviderError::NotSupported(m) => AppError::NotFound(m),
            ProviderError::RetryLater { .. } | ProviderError::Unconfirmed(_) => {
                AppError::BadGateway("The network did not answer; try again later".into())
            }
        }
    }
}
