//! Authorization codes: 48 random alphanumerics (≈285 bits), stored hashed, valid 10 minutes,
//! consumed atomically once, bound to client, redirect URI, PKCE challenge, user, organization
//! and scopes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::apps::Client;
use super::error::OAuthError;
use super::tokens;
use crate::crypto;
use crate::db::schema::{oauth_codes, oauth_grants, oauth_tokens};
use crate::db::{DbConn, now};
use crate::error::AppError;

pub const LIFETIME: Duration = Duration::minutes(10);

/// What the consent approved, to be bound into a code.
pub struct NewCode<'a> {
    pub grant_id: &'a str,
    pub app_id: &'a str,
    pub user_id: &'a str,
    pub organization_id: &'a str,
    pub scopes: &'a str,
    pub redirect_uri: &'a str,
    pub redirect_uri_sent: bool,
    pub code_challenge: Option<&'a str>,
    pub resource: Option<&'a str>,
}

/// Stores a new code and returns it (the only plaintext copy).
pub fn issue(conn: &mut DbConn, new: NewCode<'_>) -> Result<String, AppError> {
    let code = crypto::random_alphanumeric(48);
    let now = now();
    diesel::insert_into(oauth_codes::table)
        .values((
            oauth_codes::id.eq(crypto::new_id()),
            oauth_codes::code_hash.eq(crypto::sha256_hex(&code)),
            oauth_codes::grant_id.eq(new.grant_id),
            oauth_codes::app_id.eq(new.app_id),
            oauth_codes::user_id.eq(new.user_id),
            oauth_codes::organization_id.eq(new.organization_id),
            oauth_codes::scopes.eq(new.scopes),
            oauth_codes::redirect_uri.eq(new.redirect_uri),
            oauth_codes::redirect_uri_sent.eq(new.redirect_uri_sent),
            oauth_codes::code_challenge.eq(new.code_challenge),
            oauth_codes::resource.eq(new.resource),
            oauth_codes::created_at.eq(now),
            oauth_codes::expires_at.eq(now + LIFETIME),
        ))
        .execute(conn)?;
    Ok(code)
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub fn verifier_is_well_formed(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// An S256 challenge is the unpadded base64url of a SHA-256: 43 characters.
pub fn challenge_is_well_formed(challenge: &str) -> bool {
    challenge.len() == 43
        && URL_SAFE_NO_PAD
            .decode(challenge)
            .is_ok_and(|b| b.len() == 32)
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[derive(Queryable)]
struct CodeRow {
    id: String,
    grant_id: String,
    app_id: String,
    user_id: String,
    organization_id: String,
    scopes: String,
    redirect_uri: String,
    redirect_uri_sent: bool,
    code_challenge: Option<String>,
    expires_at: NaiveDateTime,
    consumed_at: Option<NaiveDateTime>,
    resource: Option<String>,
}

/// A successful exchange.
pub struct Issued {
    pub access_token: String,
    pub organization_id: String,
    pub scopes: String,
}

/// Exchanges a code for a token (the client is already authenticated). A replay of a used code
/// in an otherwise valid request revokes every token issued from it.
pub fn exchange(
    conn: &mut DbConn,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    resource: Option<&str>,
) -> Result<Issued, OAuthError> {
    let query = oauth_codes::table
        .filter(oauth_codes::code_hash.eq(crypto::sha256_hex(code)))
        .select((
            oauth_codes::id,
            oauth_codes::grant_id,
            oauth_codes::app_id,
            oauth_codes::user_id,
            oauth_codes::organization_id,
            oauth_codes::scopes,
            oauth_codes::redirect_uri,
            oauth_codes::redirect_uri_sent,
            oauth_codes::code_challenge,
            oauth_codes::expires_at,
            oauth_codes::consumed_at,
            oauth_codes::resource,
        ));
    // The hot path of every exchange: concrete connections cache their prepared statements.
    let row: Option<CodeRow> =
        crate::per_backend!(conn, |c| query.first(c).optional()).map_err(AppError::from)?;
    // A code of another client is not touched, so its owner can still redeem it.
    let row = row.filter(|r| r.app_id == client.id).ok_or_else(|| {
        OAuthError::invalid_grant("the code is unknown or was issued to another client")
    })?;

    match (row.redirect_uri_sent, redirect_uri) {
        (true, None) => {
            return Err(OAuthError::invalid_request(
                "redirect_uri is required: it was sent to the authorization endpoint",
            ));
        }
        (_, Some(given)) if given != row.redirect_uri => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ));
        }
        _ => {}
    }
    match (&row.code_challenge, verifier) {
        (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
        (Some(challenge), Some(v)) => {
            if !verifier_is_well_formed(v) {
                return Err(OAuthError::invalid_request(
                    "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
                ));
            }
            if !crypto::ct_eq(&s256(v), challenge) {
                return Err(OAuthError::invalid_grant("Invalid code_verifier"));
            }
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent for a code issued without a code_challenge",
            ));
        }
        (None, None) => {}
    }
    // The token's resource: the one the authorization bound, which the token request may repeat
    // but not change (RFC 8707 §2.2), or the one named now.
    let resource = match (row.resource.as_deref(), resource) {
        (Some(bound), Some(asked)) if bound != asked => {
            return Err(OAuthError::invalid_target(
                "resource differs from the one named at the authorization endpoint",
            ));
        }
        (bound, asked) => bound.or(asked),
    };
    let now = now();
    if row.consumed_at.is_none() && row.expires_at <= now {
        return Err(OAuthError::invalid_grant("Code has expired"));
    }

    let outcome = crate::db::write_transaction(conn, |conn| {
        // Consume the code only while its grant is live: one statement on the success path.
        let consume = diesel::update(
            oauth_codes::table
                .find(&row.id)
                .filter(oauth_codes::consumed_at.is_null())
                .filter(diesel::dsl::exists(
                    oauth_grants::table
                        .filter(oauth_grants::id.eq(oauth_codes::grant_id))
                        .filter(oauth_grants::revoked_at.is_null()),
                )),
        )
        .set(oauth_codes::consumed_at.eq(now));
        let won = crate::per_backend!(conn, |c| consume.execute(c))? == 1;
        if !won {
            let consumed: Option<NaiveDateTime> = oauth_codes::table
                .find(&row.id)
                .select(oauth_codes::consumed_at)
                .first(conn)?;
            if consumed.is_none() {
                return Ok(Some(Err(())));
            }
            crate::db::notices::ended_here();
            diesel::update(
                oauth_tokens::table
                    .filter(oauth_tokens::code_id.eq(&row.id))
                    .filter(oauth_tokens::revoked_at.is_null()),
            )
            .set(oauth_tokens::revoked_at.eq(now))
            .execute(conn)?;
            return Ok(None);
        }
        let token = tokens::mint(
            conn,
            tokens::NewToken {
                grant_id: &row.grant_id,
                app_id: &row.app_id,
                user_id: &row.user_id,
                organization_id: &row.organization_id,
                scopes: &row.scopes,
                code_id: Some(&row.id),
                resource,
            },
        )?;
        Ok::<_, AppError>(Some(Ok(token)))
    })
    .map_err(OAuthError::from)?;
    match outcome {
        None => {
            tracing::warn!(client_id = %client.client_id, "authorization code replayed; its tokens are revoked");
            Err(OAuthError::invalid_grant("the code was already used"))
        }
        Some(Err(())) => Err(OAuthError::invalid_grant("the app's access was revoked")),
        Some(Ok(access_token)) => Ok(Issued {
            access_token,
            organization_id: row.organization_id,
            scopes: row.scopes,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_shapes() {
        // RFC 7636 appendix B.
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(challenge_is_well_formed(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!challenge_is_well_formed("plain-challenge"));
        assert!(verifier_is_well_formed(&"a".repeat(43)));
        assert!(!verifier_is_well_formed(&"a".repeat(42)));
        assert!(!verifier_is_well_formed(&"a".repeat(129)));
        assert!(!verifier_is_well_formed(&format!("{}+/", "a".repeat(43))));
    }
}
