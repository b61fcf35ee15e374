//! Failed sign-in counting per account and per IP, kept in the database so it holds across instances.

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

/// Failures for one account (email) within 15 minutes.
pub const PER_ACCOUNT: Limit = Limit {
    max_failures: 10,
    window: Duration::minutes(15),
};

/// Failures from one IP address within 15 minutes.
pub const PER_IP: Limit = Limit {
    max_failures: 50,
    window: Duration::minutes(15),
};

/// 429 (with the seconds until the window ends) when `key` has used up its failures.
pub fn check(conn: &mut DbConn, key: &str, limit: Limit) -> Result<(), AppError> {
    check_both(conn, (key, limit), (key, limit))
}

/// `check` for two keys (an account or client, and an IP) in one query.
pub fn check_both(conn: &mut DbConn, a: (&str, Limit), b: (&str, Limit)) -> Result<(), AppError> {
    let query = auth_throttle::table
        .filter(auth_throttle::key.eq(a.0).or(auth_throttle::key.eq(b.0)))
        .select((
            auth_throttle::key,
            auth_throttle::failures,
            auth_throttle::window_started_at,
        ));
    // On every sign-in and token request: the concrete connection caches the statement.
    let rows: Vec<(String, i32, NaiveDateTime)> = per_backend!(conn, |c| query.load(c))?;
    let now = now();
    for (key, failures, started) in rows {
        let limit = if key == a.0 { a.1 } else { b.1 };
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
