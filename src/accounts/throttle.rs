//! Failed sign-in counting per account, per account and client, and per IP, kept in the database so it holds across instances.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::auth_throttle;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::per_backend;

/// How many failures a key may have within a window before it is refused.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max_failures: i32,
    pub window: Duration,
}

/// Failures for one account (email) from one client address within 15 minutes: a client
/// guessing one account's password is stopped without locking its owner out elsewhere.
pub const PER_ACCOUNT_AND_CLIENT: Limit = Limit {
    max_failures: 10,
    window: Duration::minutes(15),
};

/// Failures for one account from all client addresses within 15 minutes (guessing spread
/// over many addresses).
pub const PER_ACCOUNT: Limit = Limit {
    max_failures: 100,
    window: Duration::minutes(15),
};

/// Failures from one IP address within 15 minutes.
pub const PER_IP: Limit = Limit {
    max_failures: 50,
    window: Duration::minutes(15),
};

/// 429 (with the seconds until the window ends) when `key` has used up its failures.
pub fn check(conn: &mut DbConn, key: &str, limit: Limit) -> Result<(), AppError> {
    check_all(conn, &[(key, limit)])
}

/// `check` for several keys (say an account, a client and an IP) in one query.
pub fn check_all(conn: &mut DbConn, keys: &[(&str, Limit)]) -> Result<(), AppError> {
    let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    let query = auth_throttle::table
        .filter(auth_throttle::key.eq_any(names))
        .select((
            auth_throttle::key,
            auth_throttle::failures,
            auth_throttle::window_started_at,
        ));
    // On every sign-in and token request: the concrete connection caches the statement.
    let rows: Vec<(String, i32, NaiveDateTime)> = per_backend!(conn, |c| query.load(c))?;
    let now = now();
    for (key, failures, started) in rows {
        let Some((_, limit)) = keys.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        let ends = started + limit.window;
        if failures >= limit.max_failures && ends > now {
            let retry_after = (ends - now).num_seconds().max(1) as u64;
            return Err(AppError::TooManyRequests { retry_after });
        }
    }
    Ok(())
}

/// Counts one failure for `key`, starting a new window when the old one has ended.
pub fn record_failure(conn: &mut DbConn, key: &str, limit: Limit) -> Result<(), AppError> {
    let now = now();
    diesel::delete(
        auth_throttle::table
            .find(key)
            .filter(auth_throttle::window_started_at.le(now - limit.window)),
    )
    .execute(conn)?;
    let fresh = (
        auth_throttle::key.eq(key),
        auth_throttle::failures.eq(1),
        auth_throttle::window_started_at.eq(now),
    );
    per_backend!(conn, |c| {
        diesel::insert_into(auth_throttle::table)
            .values(fresh)
            .on_conflict(auth_throttle::key)
            .do_update()
            .set(auth_throttle::failures.eq(auth_throttle::failures + 1))
            .execute(c)
    })?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful sign-in).
pub fn clear(conn: &mut DbConn, key: &str) -> Result<(), AppError> {
    diesel::delete(auth_throttle::table.find(key)).execute(conn)?;
    Ok(())
}
