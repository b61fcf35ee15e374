//! Access tokens: `pos_` + 40 alphanumerics, stored as SHA-256, never expiring, revocable.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::scopes::Scopes;
use crate::crypto;
use crate::db::schema::{members, oauth_grants, oauth_tokens};
use crate::db::{Db, DbConn, now};
use crate::error::AppError;
use crate::per_backend;

pub const PREFIX: &str = "pos_";

/// What an access token stands for.
#[derive(Clone, Debug)]
pub struct TokenInfo {
    pub id: String,
    pub app_id: String,
    pub user_id: String,
    pub organization_id: String,
    pub scopes: Scopes,
    pub created_at: NaiveDateTime,
    /// The only resource the token may be used at (RFC 8707); none: every one.
    pub resource: Option<String>,
}

/// What a token is issued for.
pub struct NewToken<'a> {
    pub grant_id: &'a str,
    pub app_id: &'a str,
    pub user_id: &'a str,
    pub organization_id: &'a str,
    pub scopes: &'a str,
    /// The code it was exchanged for (revoked with it on a replay).
    pub code_id: Option<&'a str>,
    /// The one resource it may be used at (RFC 8707).
    pub resource: Option<&'a str>,
}

/// Issues a token for a grant and returns it (the only plaintext copy).
pub fn mint(conn: &mut DbConn, new: NewToken<'_>) -> Result<String, AppError> {
    let token = crypto::new_secret(PREFIX, 40);
    let insert = diesel::insert_into(oauth_tokens::table).values((
        oauth_tokens::id.eq(crypto::new_id()),
        oauth_tokens::token_hash.eq(crypto::sha256_hex(&token)),
        oauth_tokens::grant_id.eq(new.grant_id),
        oauth_tokens::app_id.eq(new.app_id),
        oauth_tokens::user_id.eq(new.user_id),
        oauth_tokens::organization_id.eq(new.organization_id),
        oauth_tokens::scopes.eq(new.scopes),
        oauth_tokens::code_id.eq(new.code_id),
        oauth_tokens::resource.eq(new.resource),
        oauth_tokens::created_at.eq(now()),
    ));
    // Every code exchange runs this: the concrete connection caches the statement.
    crate::per_backend!(conn, |c| insert.execute(c))?;
    Ok(token)
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
);

/// A live token: not revoked, and its user still a member of its organization.
fn live(
    conn: &mut DbConn,
    token: &str,
) -> Result<Option<(TokenInfo, Option<NaiveDateTime>, String)>, AppError> {
    if !token.starts_with(PREFIX) {
        return Ok(None);
    }
    let hash = crypto::sha256_hex(token);
    let query = oauth_tokens::table
        .inner_join(
            members::table.on(members::organization_id
                .eq(oauth_tokens::organization_id)
                .and(members::user_id.eq(oauth_tokens::user_id))),
        )
        .filter(oauth_tokens::token_hash.eq(&hash))
        .filter(oauth_tokens::revoked_at.is_null())
        .select((
            oauth_tokens::id,
            oauth_tokens::token_hash,
            oauth_tokens::app_id,
            oauth_tokens::user_id,
            oauth_tokens::organization_id,
            oauth_tokens::scopes,
            oauth_tokens::created_at,
            oauth_tokens::last_used_at,
            oauth_tokens::resource,
        ));
    // Run on the concrete connection so the prepared statement is cached: this lookup is on
    // every OAuth-authenticated request.
    let row: Option<Row> = per_backend!(conn, |c| query.first(c).optional())?;
    let Some((
        id,
        stored,
        app_id,
        user_id,
        organization_id,
        scopes,
        created_at,
        last_used,
        resource,
    )) = row
    else {
        return Ok(None);
    };
    if !crypto::ct_eq(&stored, &hash) {
        return Ok(None);
    }
    // Stored scopes are ours; should one ever fail to parse, the token grants nothing.
    let Ok(scopes) = Scopes::parse(&scopes) else {
        return Ok(None);
    };
    let info = TokenInfo {
        id,
        app_id,
        user_id,
        organization_id,
        scopes,
        created_at,
        resource,
    };
    Ok(Some((info, last_used, hash)))
}

/// Resolves a presented token for the Public API and records its use (at most once a minute).
pub fn resolve(conn: &mut DbConn, token: &str) -> Result<Option<TokenInfo>, AppError> {
    let Some((info, last_used, _)) = live(conn, token)? else {
        return Ok(None);
    };
    let now = now();
    if last_used.is_none_or(|t| now - t > Duration::minutes(1)) {
        diesel::update(oauth_tokens::table.find(&info.id))
            .set(oauth_tokens::last_used_at.eq(now))
            .execute(conn)?;
        let grant_id: Option<String> = oauth_tokens::table
            .find(&info.id)
            .select(oauth_tokens::grant_id)
            .first(conn)
            .optional()?;
        if let Some(grant_id) = grant_id {
            diesel::update(oauth_grants::table.find(grant_id))
                .set(oauth_grants::last_used_at.eq(now))
                .execute(conn)?;
        }
    }
    Ok(Some(info))
}

/// Tokens this server resolved lately, by SHA-256, each with the database's revocation signal
/// as it read before the token's lookup (`Db::revocation_signal`: SQLite's signal file,
/// PostgreSQL's change notices). An entry is trusted only while the signal still reads the
/// same, so a revocation by any connection or process of ours refuses the token on the very
/// next request; after a minute the token is looked up again, which also records its use.
#[derive(Default)]
pub struct Cache {
    entries: Mutex<HashMap<String, (TokenInfo, u64, Instant)>>,
}

/// How long an entry is trusted before the token is looked up again.
const TRUST: std::time::Duration = std::time::Duration::from_secs(60);
/// Entries kept at most; when full, stale ones go, and if none is stale the cache starts over.
const MAX_ENTRIES: usize = 10_000;

impl Cache {
    /// The live token behind `token`, when an entry is fresh and the signal has not moved.
    /// `None` means "look it up", never "refused".
    pub fn get(&self, db: &Db, token: &str) -> Option<TokenInfo> {
        let hash = crypto::sha256_hex(token);
        // Read before taking the lock, so the file read never holds other requests up.
        let current = db.revocation_signal()?;
        let entries = self.entries.lock().ok()?;
        let (info, signal, at) = entries.get(&hash)?;
        (at.elapsed() <= TRUST && current == *signal).then(|| info.clone())
    }

    /// Resolves `token` in the database and keeps it when live; `signal` must be read before.
    pub fn resolve(
        &self,
        conn: &mut DbConn,
        token: &str,
        signal: Option<u64>,
    ) -> Result<Option<TokenInfo>, AppError> {
        let info = resolve(conn, token)?;
        if let (Some(info), Some(signal)) = (&info, signal)
            && let Ok(mut entries) = self.entries.lock()
        {
            if entries.len() >= MAX_ENTRIES {
                // Entries past their trust are never used again: drop those first.
                entries.retain(|_, (_, _, at)| at.elapsed() <= TRUST);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(
                crypto::sha256_hex(token),
                (info.clone(), signal, Instant::now()),
            );
        }
        Ok(info)
    }
}

/// The token, if it is live and was issued to `app_id` (introspection never reveals others').
pub fn introspect(
    conn: &mut DbConn,
    app_id: &str,
    token: &str,
) -> Result<Option<TokenInfo>, AppError> {
    Ok(live(conn, token)?
        .map(|(info, _, _)| info)
        .filter(|info| info.app_id == app_id))
}

/// RFC 7009: revokes the token when it belongs to `app_id`; anything else changes nothing.
pub fn revoke(conn: &mut DbConn, app_id: &str, token: &str) -> Result<(), AppError> {
    crate::db::notices::ended_here();
    diesel::update(
        oauth_tokens::table
            .filter(oauth_tokens::token_hash.eq(crypto::sha256_hex(token)))
            .filter(oauth_tokens::app_id.eq(app_id))
            .filter(oauth_tokens::revoked_at.is_null()),
    )
    .set(oauth_tokens::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(())
}
