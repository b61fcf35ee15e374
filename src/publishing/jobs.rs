//! The job queue in the database: enqueue (one job per subject), claim with a lease, renew,
//! reschedule, finish. On PostgreSQL claims are made under a transaction lock per queue, and a
//! job is taken only if still free, so instances never take the same job and per-queue
//! concurrency holds across them; on SQLite under the process's write transaction.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use crate::crypto::new_id;
use crate::db::schema::jobs;
use crate::db::{DbConn, now, write_transaction};
use crate::error::AppError;

/// A lease lasts this long; workers renew it every third of it while they work.
pub const LEASE_SECONDS: i64 = 60;

/// Wakes this process's worker early when a job is due now (on PostgreSQL, any instance's).
pub use crate::db::notices::JOBS_DUE as WAKE;

/// A claimed job.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub subject_id: String,
    pub queue: String,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub payload: String,
    pub created_at: NaiveDateTime,
}

impl Job {
    pub fn payload(&self) -> Value {
        crate::db::json_column(&self.payload, "jobs.payload")
    }
}

/// Creates the job for `subject`, or moves the existing one to `run_at` (and frees it).
pub fn schedule(
    conn: &mut DbConn,
    kind: &str,
    subject: &str,
    queue: &str,
    run_at: NaiveDateTime,
) -> Result<(), AppError> {
    let moved = diesel::update(
        jobs::table
            .filter(jobs::kind.eq(kind))
            .filter(jobs::subject_id.eq(subject))
            .filter(jobs::locked_by.is_null()),
    )
    .set((
        jobs::run_at.eq(run_at),
        jobs::queue.eq(queue),
        jobs::payload.eq("{}"),
        jobs::attempts.eq(0),
    ))
    .execute(conn)?;
    if moved == 0 {
        let exists: i64 = jobs::table
            .filter(jobs::kind.eq(kind))
            .filter(jobs::subject_id.eq(subject))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            diesel::insert_into(jobs::table)
                .values((
                    jobs::id.eq(new_id()),
                    jobs::kind.eq(kind),
                    jobs::subject_id.eq(subject),
                    jobs::queue.eq(queue),
                    jobs::run_at.eq(run_at),
                    jobs::attempts.eq(0),
                    jobs::payload.eq("{}"),
                    jobs::created_at.eq(now()),
                ))
                .execute(conn)?;
        }
    }
    if run_at <= now() {
        WAKE.notify_one();
        // Other instances' workers hear it when this commits.
        if let DbConn::Pg(pg) = conn {
            diesel::sql_query("SELECT pg_notify('socialgate_changes', 'jobs')").execute(pg)?;
        }
    }
    Ok(())
}

/// Removes the job of `subject` unless a worker holds it (that worker re-checks the post).
pub fn cancel(conn: &mut DbConn, kind: &str, subject: &str) -> Result<(), AppError> {
    diesel::delete(
        jobs::table
            .filter(jobs::kind.eq(kind))
            .filter(jobs::subject_id.eq(subject))
            .filter(jobs::locked_by.is_null()),
    )
    .execute(conn)?;
    Ok(())
}

/// Claims up to `max` due jobs for `worker`, at most `limits[queue]` running at once per queue,
/// in one transaction: the due jobs are read, then taken with one statement that takes only
/// those still free (another instance may have claimed one from a queue it had just locked).
///
/// On PostgreSQL a queue's count of running jobs and the claims made from it are decided by one
/// instance at a time, under a transaction lock per queue that is tried, never waited for: an
/// instance that finds a queue being claimed leaves its jobs for the next round, and claims from
/// the other queues meanwhile. No lock is shared by all queues.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    max: i64,
    limits: &dyn Fn(&str) -> i64,
) -> Result<Vec<Job>, AppError> {
    write_transaction(conn, |conn| {
        let at = now();
        if let DbConn::Pg(pg) = conn {
            // A claim lost in a database crash costs nothing: the worker's first write for the
            // job, committed before any network call, is refused without the lease
            // (`save_payload`), and the job is claimed again. So its commit need not wait
            // for the disk; at one claim per freed slot, that wait was the queue's pace.
            diesel::sql_query("SET LOCAL synchronous_commit = off").execute(pg)?;
        }
        // Read, not locked: locking every candidate wrote each row, to claim a few of them.
        // The statement that takes them checks again that each is still free.
        let candidates: Vec<Job> = jobs::table
            .filter(jobs::run_at.le(at))
            .filter(jobs::locked_until.is_null().or(jobs::locked_until.le(at)))
            .order(jobs::run_at.asc())
            .limit(max * 8)
            .select(Job::as_select())
            .load(conn)?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut queues: Vec<String> = candidates.iter().map(|j| j.queue.clone()).collect();
        queues.sort_unstable();
        queues.dedup();
        if let DbConn::Pg(pg) = conn {
            let mut open = Vec::with_capacity(queues.len());
            for queue in queues {
                if try_queue_lock(pg, &queue)? {
                    open.push(queue);
                }
            }
            queues = open;
        }
        let running: Vec<(String, i64)> = jobs::table
            .filter(jobs::locked_until.gt(at))
            .filter(jobs::queue.eq_any(&queues))
            .group_by(jobs::queue)
            .select((jobs::queue, diesel::dsl::count_star()))
            .load(conn)?;
        let mut busy: HashMap<String, i64> = queues.iter().map(|q| (q.clone(), 0)).collect();
        busy.extend(running);
        let until = at + Duration::seconds(LEASE_SECONDS);
        let mut claimed = Vec::new();
        for mut job in candidates {
            if claimed.len() as i64 >= max {
                break;
            }
            // A queue missing here is being claimed by another instance.
            let Some(running) = busy.get_mut(&job.queue) else {
                continue;
            };
            if *running >= limits(&job.queue) {
                continue;
            }
            *running += 1;
            job.locked_by = Some(worker.to_owned());
            job.locked_until = Some(until);
            job.attempts += 1;
            claimed.push(job);
        }
        if claimed.is_empty() {
            return Ok(claimed);
        }
        let ids: Vec<&str> = claimed.iter().map(|j| j.id.as_str()).collect();
        let take = diesel::update(
            jobs::table
                .filter(jobs::id.eq_any(ids))
                .filter(jobs::locked_until.is_null().or(jobs::locked_until.le(at))),
        )
        .set((
            jobs::locked_by.eq(worker),
            jobs::locked_until.eq(until),
            jobs::attempts.eq(jobs::attempts + 1),
        ))
        .returning(jobs::id);
        let taken: Vec<String> = crate::per_backend!(conn, |c| take.get_results(c))?;
        claimed.retain(|job| taken.contains(&job.id));
        Ok(claimed)
    })
}

/// Takes the transaction lock of a queue's claims, if no other transaction holds it.
fn try_queue_lock(pg: &mut diesel::PgConnection, queue: &str) -> Result<bool, AppError> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        taken: bool,
    }
    let taken: Taken =
        diesel::sql_query("SELECT pg_try_advisory_xact_lock(7263541, hashtext($1)) AS taken")
            .bind::<diesel::sql_types::Text, _>(queue)
            .get_result(pg)?;
    Ok(taken.taken)
}

/// Extends the leases this worker holds.
pub fn renew(conn: &mut DbConn, worker: &str, ids: &[String]) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        jobs::table
            .filter(jobs::id.eq_any(ids))
            .filter(jobs::locked_by.eq(worker)),
    )
    .set(jobs::locked_until.eq(now() + Duration::seconds(LEASE_SECONDS)))
    .execute(conn)?;
    Ok(())
}

/// Records progress (committed before any network call that depends on it).
pub fn save_payload(
    conn: &mut DbConn,
    id: &str,
    worker: &str,
    payload: &Value,
) -> Result<bool, AppError> {
    Ok(
        diesel::update(jobs::table.find(id).filter(jobs::locked_by.eq(worker)))
            .set(jobs::payload.eq(payload.to_string()))
            .execute(conn)?
            == 1,
    )
}

/// Frees the job to run again at `run_at`.
pub fn release(
    conn: &mut DbConn,
    id: &str,
    run_at: NaiveDateTime,
    error: Option<&str>,
    payload: &Value,
) -> Result<(), AppError> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::locked_by.eq(None::<String>),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::run_at.eq(run_at),
            jobs::last_error.eq(error),
            jobs::payload.eq(payload.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes a finished job.
pub fn finish(conn: &mut DbConn, id: &str) -> Result<(), AppError> {
    diesel::delete(jobs::table.find(id)).execute(conn)?;
    Ok(())
}

/// When the next job is due (to sleep until then).
pub fn next_due(conn: &mut DbConn) -> Result<Option<NaiveDateTime>, AppError> {
    Ok(jobs::table
        .filter(jobs::locked_by.is_null())
        .select(diesel::dsl::min(jobs::run_at))
        .first(conn)?)
}
