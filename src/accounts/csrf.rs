//! CSRF tokens: an HMAC of the session id (or, before sign-in, of a random pre-session cookie),
//! carried in every state-changing form as `csrf_token` and compared in constant time.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::Config;
use crate::crypto::{self, Keys};
use crate::error::AppError;

/// The cookie that binds the sign-in and sign-up forms before a session exists.
pub const PRE_SESSION_COOKIE: &str = "sg_pre";

/// The token for forms bound to `binding`.
pub fn token(keys: &Keys, binding: &str) -> String {
    URL_SAFE_NO_PAD.encode(crypto::hmac_sha256(&keys.csrf, binding.as_bytes()))
}

/// 403 unless `presented` is the token for `binding`.
pub fn verify(keys: &Keys, binding: &str, presented: &str) -> Result<(), AppError> {
    if !presented.is_empty() && crypto::ct_eq(&token(keys, binding), presented) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "The form's security token is missing or does not match your session. Reload the page and try again.",
        ))
    }
}

/// The visitor's pre-session value: read from the cookie, or newly made (then the response sets it).
pub struct PreSession {
    value: String,
    is_new: bool,
}

impl PreSession {
    pub fn of(req: &HttpRequest) -> Self {
        match req.cookie(PRE_SESSION_COOKIE) {
            Some(c)
                if c.value().len() == 32
                    && c.value().bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                PreSession {
                    value: c.value().to_owned(),
                    is_new: false,
                }
            }
            _ => PreSession {
                value: crypto::random_alphanumeric(32),
                is_new: true,
            },
        }
    }

    pub fn token(&self, keys: &Keys) -> String {
        token(keys, &format!("pre:{}", self.value))
    }

    /// 403 unless the form came with the cookie this page set and its matching token.
    pub fn verify(&self, keys: &Keys, presented: &str) -> Result<(), AppError> {
        if self.is_new {
            return verify(keys, "", "");
        }
        verify(keys, &format!("pre:{}", self.value), presented)
    }

    /// The cookie to set when the value is new.
    /// The response with this visitor's pre-session cookie set (when it is new).
    pub fn attach(
        &self,
        config: &Config,
        mut response: actix_web::HttpResponse,
    ) -> actix_web::HttpResponse {
        if let Some(cookie) = self.cookie(config) {
            let _ = response.add_cookie(&cookie);
        }
        response
    }

    pub fn cookie(&self, config: &Config) -> Option<Cookie<'static>> {
        self.is_new
            .then(|| private_cookie(config, PRE_SESSION_COOKIE, self.value.clone()))
    }
}

/// An `HttpOnly`, `SameSite=Lax`, path-`/` cookie, `Secure` when the public URL is https.
pub fn private_cookie(config: &Config, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.https())
        .finish()
}
