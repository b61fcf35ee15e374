//! The worker: claims due jobs with a lease, renews leases while it works, publishes a group
//! (the post, then each comment after its delay), and reacts to each kind of failure the way
//! users need: refresh and retry, fail with the platform's reason, back off, or report a publish
//! whose outcome is unknown instead of repeating it. Runs inside `serve` and alone as `worker`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use super::jobs::{self, Job};
use super::posts::{self, Post};
use super::{notifications, webhooks};
use crate::AppState;
use crate::channels::{self, Channel, FreshAuthError};
use crate::error::AppError;
use crate::providers::text::html_to_plain;
use crate::providers::{
    ChannelAuth, Ctx, Editor, MediaItem, On, Pacing, PostDetails, PostOutcome, Provider,
    ProviderError, Published, RefreshPolicy, Thread,
};

/// Jobs one worker runs at once.
const SLOTS: usize = 32;
/// A publish that keeps meeting "retry later" gives up after this many attempts.
const MAX_ATTEMPTS: i32 = 8;
/// Token refreshes a publish may trigger before it fails.
const MAX_REFRESHES: i64 = 5;

/// How many publishes of a provider may run at once across every instance: the network's own
/// figure, or `SOCIALGATE_SANDBOX_CONCURRENCY` for the sandbox (load tests).
fn queue_limits(config: &crate::config::Config) -> impl Fn(&str) -> i64 + Send + 'static {
    let sandbox = config.sandbox_concurrency;
    move |queue| match (queue, sandbox) {
        ("sandbox", Some(n)) => i64::from(n.max(1)),
        _ => crate::providers::get(queue)
            .map_or(10, |p| i64::from(p.info().max_concurrent_jobs.max(1))),
    }
}

/// Runs until `shutdown` turns true; then stops claiming and lets running jobs finish (30 s at
/// most).
pub async fn run(state: web::Data<AppState>, mut shutdown: watch::Receiver<bool>) {
    let worker = format!("worker-{}", crate::crypto::random_alphanumeric(12));
    let held: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(HashSet::new()));
    let slots = Arc::new(Semaphore::new(SLOTS));
    match state.db.run(posts::queue_orphans).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            overdue = n,
            "posts whose time passed while no worker ran are being published now"
        ),
        Err(e) => tracing::error!(error = %e, "missed-post sweep failed"),
    }
    let renewer = {
        let (state, held, worker) = (state.clone(), held.clone(), worker.clone());
        actix_web::rt::spawn(async move {
            loop {
                tokio::time::sleep(StdDuration::from_secs((jobs::LEASE_SECONDS / 3) as u64)).await;
                let ids: Vec<String> = held
                    .lock()
                    .map(|h| h.iter().cloned().collect())
                    .unwrap_or_default();
                let w = worker.clone();
                if let Err(e) = state.db.run(move |conn| jobs::renew(conn, &w, &ids)).await {
                    tracing::warn!(error = %e, "could not renew job leases");
                }
            }
        })
    };
    let sweeper = actix_web::rt::spawn(refresh_sweep(state.clone()));
    tracing::info!(%worker, "worker started");
    // Told when a running job ends, so a queue at its limit is claimed from again at once.
    let ended = Arc::new(tokio::sync::Notify::new());
    while !*shutdown.borrow() {
        let free = slots.available_permits() as i64;
        if free == 0 {
            tokio::select! {
                _ = slots.clone().acquire_owned() => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let w = worker.clone();
        let limit = queue_limits(&state.config);
        let claimed = state
            .db
            .write_autocommit(move |conn| jobs::claim(conn, &w, free, &limit))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "claiming jobs failed");
                Vec::new()
            });
        let any = !claimed.is_empty();
        for job in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            if let Ok(mut h) = held.lock() {
                h.insert(job.id.clone());
            }
            let (state, held, worker, ended) =
                (state.clone(), held.clone(), worker.clone(), ended.clone());
            actix_web::rt::spawn(async move {
                let id = job.id.clone();
                if let Err(e) = run_job(&state, &worker, job).await {
                    tracing::error!(job = %id, error = %e, "job failed unexpectedly; it runs again after its lease");
                }
                if let Ok(mut h) = held.lock() {
                    h.remove(&id);
                }
                drop(permit);
                ended.notify_one();
            });
        }
        if any {
            continue;
        }
        let next = state.db.run(jobs::next_due).await.ok().flatten();
        let wait = next
            .map(|at| {
                (at - crate::db::now())
                    .to_std()
                    .unwrap_or(StdDuration::ZERO)
            })
            .unwrap_or(StdDuration::from_secs(1))
            .clamp(StdDuration::from_millis(20), StdDuration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = jobs::WAKE.notified() => {}
            _ = ended.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!(%worker, "worker stopping: no new jobs, waiting for running ones");
    let _ =
        tokio::time::timeout(StdDuration::from_secs(30), slots.acquire_many(SLOTS as u32)).await;
    renewer.abort();
    sweeper.abort();
}

/// Marks a channel "refresh needed", tells the organization and its webhooks.
fn needs_reconnecting(
    conn: &mut crate::db::DbConn,
    channel: &Channel,
    reason: &str,
) -> Result<(), AppError> {
    channels::mark_refresh_needed(conn, &channel.id)?;
    let org = &channel.organization_id;
    notifications::add(
        conn,
        org,
        &format!("{} needs reconnecting: {reason}", channel.name),
        None,
    )?;
    let event = json!({ "channel": webhooks::channel_json(channel), "reason": reason });
    webhooks::emit(
        conn,
        org,
        Some(&channel.id),
        "integration.refresh_needed",
        event,
    )
}

/// Tells an organization, a week ahead, that a channel without a refresh token must be
/// reconnected (LinkedIn gives most apps none), once per token.
fn warn_of_expiry(conn: &mut crate::db::DbConn) -> Result<(), AppError> {
    for channel in channels::to_warn_of_expiry(conn, crate::db::now() + Duration::days(7))? {
        let (Some(at), Some(provider)) = (channel.access_ends_at(), channel.provider()) else {
            continue;
        };
        let network = provider.info().name;
        let why = if channel.has_refresh_token() {
            format!("{network}'s permission to renew its access ends then")
        } else {
            format!("{network} gave socialgate no way to renew its access")
        };
        let message = format!(
            "{} must be reconnected before {} UTC: {why}",
            channel.name,
            at.format("%Y-%m-%d %H:%M"),
        );
        notifications::add(conn, &channel.organization_id, &message, None)?;
    }
    Ok(())
}

/// Refreshes, ahead of expiry, the tokens of channels that expire within a day; a channel
/// without a refresh token is warned a week ahead and marked "refresh needed" once expired.
async fn refresh_sweep(state: web::Data<AppState>) {
    loop {
        if let Err(e) = state.db.run(warn_of_expiry).await {
            tracing::warn!(error = %e, "warning of expiring channels failed");
        }
        let now = crate::db::now();
        let expiring = state
            .db
            .run(move |conn| channels::expiring(conn, now + Duration::days(1)))
            .await
            .unwrap_or_default();
        // Without a refresh token a `WithRefreshToken` channel is kept until it has expired.
        // Short-lived tokens are refreshed only in their network's last stretch (a day ahead of
        // a token that lives a day would refresh it on every pass).
        let renewable = |c: &Channel| {
            let info = c.provider().map(|p| p.info());
            let needs_one = info.is_some_and(|i| i.refresh == RefreshPolicy::WithRefreshToken);
            let ahead = Duration::seconds(info.map_or(86_400, |i| i.refresh_ahead));
            let due = c.token_expires_at.is_some_and(|at| at <= now + ahead);
            due && (!needs_one
                || c.has_refresh_token()
                || c.token_expires_at.is_some_and(|at| at <= now))
        };
        for channel in expiring.into_iter().filter(renewable) {
            match channels::refresh_now(&state.ctx(), &state.keys, &channel).await {
                Ok(()) => {
                    tracing::info!(channel = %channel.id, "refreshed a channel's token ahead of expiry")
                }
                Err(e) => {
                    tracing::warn!(channel = %channel.id, error = %e, "refreshing a channel's token failed");
                    let (c, reason) = (channel.clone(), "its access expired".to_owned());
                    let _ = state
                        .db
                        .run(move |conn| needs_reconnecting(conn, &c, &reason))
                        .await;
                }
            }
        }
        tokio::time::sleep(StdDuration::from_secs(600)).await;
    }
}

async fn run_job(state: &AppState, worker: &str, job: Job) -> Result<(), AppError> {
    match job.kind.as_str() {
        posts::PUBLISH => Publish::new(state, worker, job).run().await,
        webhooks::DELIVER => {
            let retry = webhooks::deliver(state, &job.subject_id).await?;
            let id = job.id.clone();
            match retry {
                Some(at) => {
                    state
                        .db
                        .run(move |conn| jobs::release(conn, &id, at, None, &json!({})))
                        .await
                }
                None => state.db.run(move |conn| jobs::finish(conn, &id)).await,
            }
        }
        other => {
            tracing::error!(kind = other, "unknown job kind; dropping it");
            let id = job.id.clone();
            state.db.run(move |conn| jobs::finish(conn, &id)).await
        }
    }
}

/// What a publish job has done so far, kept in the job's payload between runs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Progress {
    /// The position being sent: set and committed before the call, cleared after it. Found set
    /// by the next run, it means the outcome is unknown, and nothing is sent again.
    sending: Option<i64>,
    /// Positions published.
    done: Vec<i64>,
    /// What each published position is on the network, by position.
    refs: BTreeMap<String, Published>,
    /// When the last position went out (Unix seconds), for comment delays.
    last_at: Option<i64>,
    /// Token refreshes this publish caused.
    refreshes: i64,
    /// A publish the network is still processing.
    pending: Option<Pending>,
}

/// A two-phase publish between checks: the job is released, not holding a worker slot.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Pending {
    position: i64,
    /// What the network's `check_status` needs.
    data: Value,
    checks: u32,
}

impl Progress {
    fn of(job: &Job) -> Progress {
        serde_json::from_str(&job.payload).unwrap_or_else(|e| {
            tracing::error!(job = %job.id, error = %e, "a job's progress is unreadable; starting afresh");
            Progress::default()
        })
    }

    fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}

/// One run of a publish job.
struct Publish<'a> {
    state: &'a AppState,
    worker: &'a str,
    job: Job,
    progress: Progress,
}

impl<'a> Publish<'a> {
    fn new(state: &'a AppState, worker: &'a str, job: Job) -> Self {
        let progress = Progress::of(&job);
        Publish {
            state,
            worker,
            job,
            progress,
        }
    }

    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::db::DbConn) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        self.state.db.run(f).await
    }

    /// A write, committed when this returns (on SQLite with the writes of other publishes in
    /// one transaction: the write lane).
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut crate::db::DbConn) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        self.state.db.write(f).await
    }

    async fn finish(&self) -> Result<(), AppError> {
        let id = self.job.id.clone();
        self.state
            .db
            .write_autocommit(move |conn| jobs::finish(conn, &id))
            .await
    }

    async fn save(&self) -> Result<bool, AppError> {
        let (id, worker, payload) = (
            self.job.id.clone(),
            self.worker.to_owned(),
            self.progress.to_value(),
        );
        self.state
            .db
            .write_autocommit(move |conn| jobs::save_payload(conn, &id, &worker, &payload))
            .await
    }

    async fn release(
        &self,
        at: chrono::NaiveDateTime,
        error: Option<String>,
    ) -> Result<(), AppError> {
        let (id, payload) = (self.job.id.clone(), self.progress.to_value());
        self.state
            .db
            .write_autocommit(move |conn| jobs::release(conn, &id, at, error.as_deref(), &payload))
            .await
    }

    fn done(&self) -> &[i64] {
        &self.progress.done
    }

    /// Marks what did not go out as failed, tells the organization, ends the job.
    async fn fail(
        &self,
        rows: &[Post],
        channel: Option<&Channel>,
        reason: &str,
    ) -> Result<(), AppError> {
        let done = self.done();
        let ids: Vec<String> = rows
            .iter()
            .filter(|r| !done.contains(&i64::from(r.position)))
            .map(|r| r.id.clone())
            .collect();
        let org = rows
            .first()
            .map(|r| r.organization_id.clone())
            .unwrap_or_default();
        let where_ = channel.map_or_else(String::new, |c| {
            let network = c.provider().map_or(c.provider.as_str(), |p| p.info().name);
            format!(" on {network} ({})", c.name)
        });
        let message = format!("Error posting{where_}: {reason}");
        let stored = reason.to_owned();
        let event = rows.first().map(|root| {
            json!({
                "post": webhooks::post_json(root, posts::ERROR, None, Some(reason)),
                "channel": channel.map(webhooks::channel_json),
            })
        });
        let channel_id = channel.map(|c| c.id.clone());
        self.write(move |conn| {
            posts::mark_failed(conn, &ids, &stored)?;
            notifications::add(conn, &org, &message, None)?;
            match event {
                Some(data) => {
                    webhooks::emit(conn, &org, channel_id.as_deref(), "post.failed", data)
                }
                None => Ok(()),
            }
        })
        .await?;
        tracing::info!(job = %self.job.id, %reason, "publish failed");
        self.finish().await
    }

    async fn run(mut self) -> Result<(), AppError> {
        let root_id = self.job.subject_id.clone();
        // The group and its channel in one trip (`None`: the channel is gone).
        let Some((rows, channel)) = self
            .db(move |conn| {
                let Some(rows) = posts::group_of_root(conn, &root_id)? else {
                    return Ok(None);
                };
                let root = &rows[0];
                let channel = match channels::get(conn, &root.organization_id, &root.integration_id)
                {
                    Ok(c) => Some(c),
                    Err(AppError::NotFound(_)) => None,
                    Err(e) => return Err(e),
                };
                Ok(Some((rows, channel)))
            })
            .await?
        else {
            return self.finish().await;
        };
        let root = rows[0].clone();
        if self.progress.sending.is_some() {
            // The last worker died between sending and recording: the post may be out.
            return self
                .fail(&rows, None, "could not confirm the post was published")
                .await;
        }
        // A group whose post went out is finishing its comment chain; anything else must still be
        // queued (not drafted, published or failed meanwhile).
        if root.state != posts::QUEUE && self.done().is_empty() {
            return self.finish().await;
        }
        if root.publish_date > crate::db::now() + Duration::seconds(1) {
            // Rescheduled while queued: run at the new time.
            return self.release(root.publish_date, None).await;
        }
        let Some(channel) = channel else {
            return self.fail(&rows, None, "Channel deleted").await;
        };
        if channel.disabled {
            return self.fail(&rows, Some(&channel), "Channel disabled").await;
        }
        if channel.refresh_needed || channel.in_between_steps {
            return self
                .fail(
                    &rows,
                    Some(&channel),
                    "Refresh channel needed: reconnect it under Channels",
                )
                .await;
        }
        let Some(provider) = channel.provider() else {
            return self
                .fail(&rows, Some(&channel), "This network is no longer available")
                .await;
        };
        let auth = match channels::fresh_auth(&self.state.ctx(), &self.state.keys, &channel).await {
            Ok(a) => a,
            Err(FreshAuthError::App(e)) => return Err(e),
            Err(FreshAuthError::Provider(e)) => {
                return self.react(&rows, &channel, provider, e).await;
            }
        };
        let ctx = self.state.ctx();
        if !self
            .check_pending(&rows, &channel, provider, &ctx, &auth)
            .await?
        {
            return Ok(());
        }
        for row in &rows {
            let position = i64::from(row.position);
            if self.done().contains(&position) {
                continue;
            }
            if position > 0 && row.delay_minutes > 0 {
                let last = self.progress.last_at.unwrap_or(0);
                let due = chrono::DateTime::from_timestamp(last, 0)
                    .map(|d| d.naive_utc() + Duration::minutes(i64::from(row.delay_minutes)));
                if let Some(due) = due.filter(|d| *d > crate::db::now()) {
                    return self.release(due, None).await;
                }
            }
            if let Some(Pacing {
                posts: limit,
                per_seconds: window,
            }) = provider.info().pacing
            {
                let id = channel.id.clone();
                let wait = self
                    .db(move |conn| posts::paced_until(conn, &id, limit, window))
                    .await?;
                if let Some(at) = wait {
                    // Over the platform's rate: wait for a free slot instead of failing.
                    return self
                        .release(
                            at,
                            Some(format!(
                                "{} allows {limit} posts in {} hours",
                                provider.info().name,
                                window / 3600
                            )),
                        )
                        .await;
                }
            }
            let mut details = self.details(row, provider).await?;
            self.progress.sending = Some(position);
            if !self.save().await? {
                tracing::warn!(job = %self.job.id, "lost the job's lease; another worker has it");
                return Ok(());
            }
            if position > 0 {
                details.reply_to = Some(self.thread()?);
            }
            let on = On {
                ctx: &ctx,
                auth: &auth,
            };
            let outcome = provider.publish(&on, &details).await;
            match outcome {
                Ok(PostOutcome::Published(p)) => {
                    let last = rows.iter().all(|r| {
                        r.position == row.position || self.done().contains(&i64::from(r.position))
                    });
                    if last {
                        // The row's record, the job's end and what tells the organization,
                        // in one transaction.
                        let concluded = self
                            .conclude(&rows, &channel, provider, Some((row, &p)))
                            .await;
                        if concluded.is_err() {
                            // Keep the record at least: the next run then ends the job instead
                            // of reporting a post it cannot confirm.
                            let _ = self.keep_record(row, &p).await;
                        }
                        return concluded;
                    }
                    self.record(row, &p).await?
                }
                Ok(PostOutcome::Pending(data)) => {
                    self.progress.pending = Some(Pending {
                        position,
                        data,
                        checks: 0,
                    });
                    return self.check_later(provider).await;
                }
                Err(ProviderError::RefreshNeeded(m)) => {
                    // Refused before publishing: refresh the token and try this step again.
                    self.progress.sending = None;
                    let refreshes = self.progress.refreshes;
                    if refreshes >= MAX_REFRESHES {
                        return self
                            .fail(
                                &rows,
                                Some(&channel),
                                &format!("the token keeps being refused: {m}"),
                            )
                            .await;
                    }
                    self.progress.refreshes = refreshes + 1;
                    match channels::refresh_now(&self.state.ctx(), &self.state.keys, &channel).await
                    {
                        Ok(()) => {
                            return self
                                .release(
                                    crate::db::now(),
                                    Some(format!("token refreshed after: {m}")),
                                )
                                .await;
                        }
                        Err(e) => {
                            return self
                                .react(
                                    &rows,
                                    &channel,
                                    provider,
                                    ProviderError::Disconnected(e.to_string()),
                                )
                                .await;
                        }
                    }
                }
                Err(e) => {
                    return self.react(&rows, &channel, provider, e).await;
                }
            }
        }
        self.conclude(&rows, &channel, provider, None).await
    }

    /// What a failure means for this publish.
    async fn react(
        &mut self,
        rows: &[Post],
        channel: &Channel,
        provider: &dyn Provider,
        error: ProviderError,
    ) -> Result<(), AppError> {
        match error {
            ProviderError::RetryLater { message, after } => {
                self.progress.sending = None;
                if self.job.attempts >= MAX_ATTEMPTS {
                    return self
                        .fail(
                            rows,
                            Some(channel),
                            &format!("{} kept failing: {message}", provider.info().name),
                        )
                        .await;
                }
                let backoff = after.map(|d| d.as_secs() as i64).unwrap_or_else(|| {
                    let base = 30i64 << (self.job.attempts - 1).clamp(0, 7);
                    let jitter = i64::from(rand::random::<u16>()) % (base / 4 + 1);
                    (base + jitter).min(3600)
                });
                self.release(crate::db::now() + Duration::seconds(backoff), Some(message))
                    .await
            }
            ProviderError::Disconnected(m) | ProviderError::RefreshNeeded(m) => {
                let c = channel.clone();
                self.db(move |conn| needs_reconnecting(conn, &c, &m))
                    .await?;
                self.fail(
                    rows,
                    Some(channel),
                    "Refresh channel needed: reconnect it under Channels",
                )
                .await
            }
            ProviderError::Unconfirmed(_) => {
                self.fail(
                    rows,
                    Some(channel),
                    "could not confirm the post was published",
                )
                .await
            }
            ProviderError::BadBody(m) | ProviderError::NotSupported(m) => {
                self.fail(rows, Some(channel), &m).await
            }
        }
    }

    /// Releases the job until the pending publish is due for its next check.
    async fn check_later(&mut self, provider: &dyn Provider) -> Result<(), AppError> {
        self.progress.sending = None;
        let every = provider.info().pending.every_seconds.max(1);
        self.release(
            crate::db::now() + Duration::seconds(every),
            Some(format!(
                "{} is still processing the post",
                provider.info().name
            )),
        )
        .await
    }

    /// Checks a pending publish once: published, still pending (released again), or failed.
    /// Returns true when the publish completed and the chain may go on.
    async fn check_pending(
        &mut self,
        rows: &[Post],
        channel: &Channel,
        provider: &dyn Provider,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
    ) -> Result<bool, AppError> {
        let Some(mut pending) = self.progress.pending.clone() else {
            return Ok(true);
        };
        let Some(row) = rows
            .iter()
            .find(|r| i64::from(r.position) == pending.position)
        else {
            self.progress.pending = None;
            return Ok(true);
        };
        // A check may be the step that publishes (a container's publish call): like a publish,
        // it is marked before it is made.
        self.progress.sending = Some(pending.position);
        if !self.save().await? {
            tracing::warn!(job = %self.job.id, "lost the job's lease; another worker has it");
            return Ok(false);
        }
        match provider
            .check_status(&On { ctx, auth }, &pending.data)
            .await
        {
            Ok(PostOutcome::Published(p)) => {
                self.progress.pending = None;
                self.record(row, &p).await?;
                Ok(true)
            }
            Ok(PostOutcome::Pending(data)) => {
                pending.checks += 1;
                if pending.checks >= provider.info().pending.at_most {
                    self.progress.sending = None;
                    self.fail(
                        rows,
                        Some(channel),
                        "the network did not finish publishing in time",
                    )
                    .await?;
                    return Ok(false);
                }
                pending.data = data;
                self.progress.pending = Some(pending);
                self.check_later(provider).await?;
                Ok(false)
            }
            Err(e) => {
                self.progress.sending = None;
                self.react(rows, channel, provider, e).await?;
                Ok(false)
            }
        }
    }

    /// The published post and the last one, for a comment.
    fn thread(&self) -> Result<Thread, AppError> {
        let refs = &self.progress.refs;
        let last = self.done().iter().max().copied().unwrap_or(0);
        match (refs.get("0"), refs.get(&last.to_string())) {
            (Some(root), Some(parent)) => Ok(Thread {
                root: root.clone(),
                parent: parent.clone(),
            }),
            _ => Err(AppError::internal("a comment's thread is unknown")),
        }
    }

    async fn record(&mut self, row: &Post, p: &Published) -> Result<(), AppError> {
        self.note_published(row, p);
        self.keep_record(row, p).await
    }

    /// Writes a published row and the progress that says so (`note_published` came first).
    async fn keep_record(&self, row: &Post, p: &Published) -> Result<(), AppError> {
        let (id, release, url, reference) = (
            row.id.clone(),
            p.id.clone(),
            p.url.clone(),
            p.reference.clone(),
        );
        let (job, worker, payload) = (
            self.job.id.clone(),
            self.worker.to_owned(),
            self.progress.to_value(),
        );
        self.write(move |conn| {
            posts::mark_published(conn, &id, &release, &url, reference.as_deref())?;
            jobs::save_payload(conn, &job, &worker, &payload)
        })
        .await?;
        Ok(())
    }

    fn note_published(&mut self, row: &Post, p: &Published) {
        let position = i64::from(row.position);
        self.progress.done.push(position);
        self.progress.sending = None;
        self.progress.last_at = Some(chrono::Utc::now().timestamp());
        self.progress.refs.insert(position.to_string(), p.clone());
    }

    /// The text as the network's editor takes it, `(post:<id>)` placeholders resolved, media.
    async fn details(&self, row: &Post, provider: &dyn Provider) -> Result<PostDetails, AppError> {
        let mut text = match provider.info().editor {
            Editor::Html => row.content.clone(),
            Editor::Markdown => crate::providers::markdown::html_to_markdown(&row.content),
            Editor::Normal => html_to_plain(&row.content),
        };
        while let Some(start) = text.find("(post:") {
            let Some(len) = text[start..].find(')') else {
                break;
            };
            let id = text[start + 6..start + len].to_owned();
            let org = row.organization_id.clone();
            let url = self
                .db(move |conn| posts::release_url_of(conn, &org, &id))
                .await?
                .unwrap_or_default();
            text.replace_range(start..start + len + 1, &url);
        }
        let media: Vec<MediaItem> = serde_json::from_str::<Vec<Value>>(&row.image)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let path = m["path"].as_str()?.to_owned();
                Some(MediaItem {
                    kind: crate::media::kind_of_path(&path).unwrap_or("image").into(),
                    path,
                    alt: m["alt"].as_str().map(str::to_owned),
                    thumbnail: m["thumbnail"].as_str().map(str::to_owned),
                    dimensions: None,
                })
            })
            .collect();
        Ok(PostDetails {
            id: row.id.clone(),
            message: text,
            settings: crate::db::json_column(&row.settings, "posts.settings"),
            media,
            reply_to: None,
        })
    }

    /// After the whole group went out, in one transaction: the last row's record (`last`, when
    /// it went out in this run), the job's end, the notification, the webhook event and the
    /// next occurrence of a repeat.
    async fn conclude(
        &mut self,
        rows: &[Post],
        channel: &Channel,
        provider: &dyn Provider,
        last: Option<(&Post, &Published)>,
    ) -> Result<(), AppError> {
        let record = last.map(|(row, p)| {
            self.note_published(row, p);
            (
                row.id.clone(),
                p.id.clone(),
                p.url.clone(),
                p.reference.clone(),
            )
        });
        let url = self
            .progress
            .refs
            .get("0")
            .map(|p| p.url.clone())
            .unwrap_or_default();
        let (org, name) = (channel.organization_id.clone(), provider.info().name);
        let message = format!("Your post has been published on {name} at {url}");
        let link = (!url.is_empty()).then_some(url);
        let root = rows[0].clone();
        let rows = rows.to_vec();
        let event = json!({
            "post": webhooks::post_json(&root, posts::PUBLISHED, link.as_deref(), None),
            "channel": webhooks::channel_json(channel),
        });
        let (channel_id, job) = (channel.id.clone(), self.job.id.clone());
        self.write(move |conn| {
            if let Some((id, release, url, reference)) = &record {
                posts::mark_published(conn, id, release, url, reference.as_deref())?;
            }
            jobs::finish(conn, &job)?;
            notifications::add(conn, &org, &message, link.as_deref())?;
            webhooks::emit(conn, &org, Some(&channel_id), "post.published", event)?;
            if let Some(days) = root.interval_days.filter(|d| *d > 0) {
                let mut next = root.publish_date;
                while next <= crate::db::now() {
                    next += Duration::days(i64::from(days));
                }
                posts::repeat(conn, &rows, next)?;
            }
            Ok(())
        })
        .await?;
        tracing::info!(job = %self.job.id, "published");
        Ok(())
    }
}
