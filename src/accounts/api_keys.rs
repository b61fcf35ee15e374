//! Organization API keys for `/public/v1`: long random strings stored only as SHA-256.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::crypto;
use crate::db::schema::{api_keys, organizations};
use crate::db::{DbConn, now};
use crate::error::AppError;

/// Keys look like `sgk_` + 48 characters of `[A-Za-z0-9]` (about 285 bits).
pub const PREFIX: &str = "sgk_";
const RANDOM_CHARS: usize = 48;
/// How much of a key the list shows.
const SHOWN_CHARS: usize = 8;

/// A key as listed (never the key itself).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub key_prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

/// Creates a key and returns its row and the only copy of the key.
pub fn create(conn: &mut DbConn, org_id: &str, name: &str) -> Result<(ApiKey, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request(
            "The key name must be 1 to 100 characters",
        ));
    }
    let key = crypto::new_secret(PREFIX, RANDOM_CHARS);
    let row = ApiKey {
        id: crypto::new_id(),
        organization_id: org_id.to_owned(),
        name: name.to_owned(),
        key_prefix: key[..SHOWN_CHARS].to_owned(),
        created_at: now(),
        last_used_at: None,
    };
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(&row.id),
            api_keys::organization_id.eq(&row.organization_id),
            api_keys::name.eq(&row.name),
            api_keys::key_hash.eq(crypto::sha256_hex(&key)),
            api_keys::key_prefix.eq(&row.key_prefix),
            api_keys::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok((row, key))
}

/// The organization's keys that still work, newest first.
pub fn list(conn: &mut DbConn, org_id: &str) -> Result<Vec<ApiKey>, AppError> {
    Ok(api_keys::table
        .filter(api_keys::organization_id.eq(org_id))
        .filter(api_keys::revoked_at.is_null())
        .order(api_keys::created_at.desc())
        .select(ApiKey::as_select())
        .load(conn)?)
}

/// Keys recently resolved by this process, each with where credentials stood before its lookup
/// (`Db::key_signal`). An entry is trusted while that still reads the same: on
/// PostgreSQL a key revoked by any instance moves it (`db::notices`); on SQLite, whose signal
/// follows tokens only, a revocation forgets the key here at once, and this process is the
/// database's one server. After a minute the key is checked against the database again.
/// key hash → (key id, organization id, signal, when checked)
type Recent = std::collections::HashMap<String, (String, String, u64, std::time::Instant)>;

static RECENT: std::sync::LazyLock<std::sync::Mutex<Recent>> =
    std::sync::LazyLock::new(Default::default);

/// How long a remembered key is trusted before the database is asked again.
const REMEMBER: std::time::Duration = std::time::Duration::from_secs(60);

/// The key's (id, organization) if this process resolved it within the last minute and the
/// signal (read just now) has not moved since.
pub fn recently_resolved(presented: &str, signal: Option<u64>) -> Option<(String, String)> {
    let signal = signal?;
    let hash = crypto::sha256_hex(presented);
    let recent = RECENT.lock().ok()?;
    let (id, org, then, at) = recent.get(&hash)?;
    (*then == signal && at.elapsed() < REMEMBER).then(|| (id.clone(), org.clone()))
}

/// Remembers a key this process just resolved from the database, with the signal read before.
pub fn remember(presented: &str, id: &str, org: &str, signal: Option<u64>) {
    let Some(signal) = signal else { return };
    if let Ok(mut recent) = RECENT.lock() {
        if recent.len() > 10_000 {
            recent.retain(|_, (_, _, _, at)| at.elapsed() < REMEMBER);
        }
        recent.insert(
            crypto::sha256_hex(presented),
            (
                id.to_owned(),
                org.to_owned(),
                signal,
                std::time::Instant::now(),
            ),
        );
    }
}

fn forget(key_id: &str) {
    if let Ok(mut recent) = RECENT.lock() {
        recent.retain(|_, (id, _, _, _)| id != key_id);
    }
}

/// Revokes one of the organization's keys; it fails on the very next request.
pub fn revoke(conn: &mut DbConn, org_id: &str, key_id: &str) -> Result<(), AppError> {
    forget(key_id);
    crate::db::notices::ended_here();
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(key_id))
            .filter(api_keys::organization_id.eq(org_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now()))
    .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("No such API key"));
    }
    Ok(())
}

/// The organization id a presented key belongs to, if the key is live. Marks it used
/// (at most once a minute, so reads stay reads).
pub fn resolve(conn: &mut DbConn, presented: &str) -> Result<Option<(String, String)>, AppError> {
    let hash = crypto::sha256_hex(presented);
    let query = api_keys::table
        .inner_join(organizations::table)
        .filter(api_keys::key_hash.eq(&hash))
        .filter(api_keys::revoked_at.is_null())
        .select((
            api_keys::id,
            api_keys::organization_id,
            api_keys::key_hash,
            api_keys::last_used_at,
        ));
    // On every API-key request: the concrete connection caches the statement.
    let row: Option<(String, String, String, Option<NaiveDateTime>)> =
        crate::per_backend!(conn, |c| query.first(c).optional())?;
    let Some((id, org_id, stored, last_used)) = row else {
        return Ok(None);
    };
    if !crypto::ct_eq(&stored, &hash) {
        return Ok(None);
    }
    let now = now();
    if last_used.is_none_or(|t| now - t > Duration::minutes(1)) {
        diesel::update(api_keys::table.find(&id))
            .set(api_keys::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some((id, org_id)))
}
