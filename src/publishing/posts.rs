//! Posts: one group per channel and request; `position` 0 is the post, 1.. its comment chain
//! (each row's parent is the previous one). States follow Postiz: QUEUE, PUBLISHED, ERROR, DRAFT.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serializer;
use serde_json::{Value, json};

use crate::crypto::new_id;
use crate::db::schema::{integrations, posts};
use crate::db::{DbConn, now, write_transaction};
use crate::error::AppError;

/// A post row.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: String,
    pub organization_id: String,
    pub integration_id: String,
    pub group_id: String,
    pub parent_post_id: Option<String>,
    pub position: i32,
    pub content: String,
    pub image: String,
    pub settings: String,
    pub tags: String,
    pub publish_date: NaiveDateTime,
    pub state: String,
    pub delay_minutes: i32,
    pub interval_days: Option<i32>,
    pub release_id: Option<String>,
    pub release_url: Option<String>,
    pub release_reference: Option<String>,
    pub error: Option<String>,
    pub creation_method: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

pub const QUEUE: &str = "QUEUE";
pub const PUBLISHED: &str = "PUBLISHED";
pub const ERROR: &str = "ERROR";
pub const DRAFT: &str = "DRAFT";

/// What `type` in `POST /posts` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostType {
    Draft,
    Schedule,
    Now,
    Update,
}

impl PostType {
    pub fn parse(s: &str) -> Option<PostType> {
        match s {
            "draft" => Some(PostType::Draft),
            "schedule" => Some(PostType::Schedule),
            "now" => Some(PostType::Now),
            "update" => Some(PostType::Update),
            _ => None,
        }
    }
}

/// One post or comment to store.
#[derive(Clone, Debug)]
pub struct NewValue {
    /// An existing post of the organization to update in place.
    pub id: Option<String>,
    pub content: String,
    /// JSON array of media (`{id, path, alt?, thumbnail?}`).
    pub image: Value,
    pub delay_minutes: i32,
}

/// One channel's group.
#[derive(Clone, Debug)]
pub struct NewGroup {
    pub integration_id: String,
    /// A group this one replaces (its other rows are deleted).
    pub replaces: Option<String>,
    pub settings: Value,
    pub values: Vec<NewValue>,
}

/// A whole `POST /posts`.
#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub kind: PostType,
    pub date: NaiveDateTime,
    pub tags: Value,
    pub interval_days: Option<i32>,
    pub republish: bool,
    pub creation_method: String,
    pub groups: Vec<NewGroup>,
}

/// `2026-11-23T10:00:00.000Z`, as Postiz's dates read.
pub fn iso_string(t: &NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Serializes a UTC timestamp as [`iso_string`].
pub fn iso<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso_string(t))
}

fn live_post(conn: &mut DbConn, org_id: &str, id: &str) -> Result<Option<Post>, AppError> {
    Ok(posts::table
        .filter(posts::id.eq(id))
        .filter(posts::organization_id.eq(org_id))
        .filter(posts::deleted_at.is_null())
        .select(Post::as_select())
        .first(conn)
        .optional()?)
}

/// Stores every group; returns `(root post id, channel id)` per group, in order.
pub fn create(
    conn: &mut DbConn,
    org_id: &str,
    req: &CreateRequest,
) -> Result<Vec<(String, String)>, AppError> {
    write_transaction(conn, |conn| {
        let mut out = Vec::new();
        for group in &req.groups {
            // The republish guard: publishing a post that went out already must be explicit.
            if matches!(req.kind, PostType::Schedule | PostType::Now)
                && !req.republish
                && let Some(first) = group.values.first().and_then(|v| v.id.as_deref())
                && let Some(existing) = live_post(conn, org_id, first)?
                && existing.state == PUBLISHED
            {
                return Err(AppError::bad_request(format!(
                    "This post was already published on {} UTC. Saving it this way would publish it again to {}. To edit without republishing, use type 'update'. To intentionally publish again, pass republish: true.",
                    existing.publish_date.format("%Y-%m-%d %H:%M"),
                    provider_of(conn, &existing.integration_id)?
                )));
            }
            let group_id = new_id();
            let settings = group.settings.to_string();
            let mut parent: Option<String> = None;
            let mut kept = Vec::new();
            for (position, value) in group.values.iter().enumerate() {
                let existing = match value.id.as_deref() {
                    Some(id) => live_post(conn, org_id, id)?,
                    None => None,
                };
                let state = match req.kind {
                    PostType::Draft => DRAFT,
                    PostType::Schedule | PostType::Now => QUEUE,
                    PostType::Update => match existing.as_ref().map(|p| p.state.as_str()) {
                        Some(PUBLISHED) => PUBLISHED,
                        Some(ERROR) => ERROR,
                        Some(DRAFT) => DRAFT,
                        _ => QUEUE,
                    },
                };
                let at = now();
                let tags = if position == 0 {
                    req.tags.to_string()
                } else {
                    "[]".to_owned()
                };
                let id = match existing {
                    Some(p) => {
                        diesel::update(posts::table.find(&p.id))
                            .set((
                                posts::integration_id.eq(&group.integration_id),
                                posts::group_id.eq(&group_id),
                                posts::parent_post_id.eq(&parent),
                                posts::position.eq(position as i32),
                                posts::content.eq(&value.content),
                                posts::image.eq(value.image.to_string()),
                                posts::settings.eq(&settings),
                                posts::tags.eq(&tags),
                                posts::publish_date.eq(req.date),
                                posts::state.eq(state),
                                posts::delay_minutes.eq(value.delay_minutes),
                                posts::interval_days.eq(req.interval_days),
                                posts::updated_at.eq(at),
                            ))
                            .execute(conn)?;
                        p.id
                    }
                    None => {
                        let id = new_id();
                        diesel::insert_into(posts::table)
                            .values((
                                posts::id.eq(&id),
                                posts::organization_id.eq(org_id),
                                posts::integration_id.eq(&group.integration_id),
                                posts::group_id.eq(&group_id),
                                posts::parent_post_id.eq(&parent),
                                posts::position.eq(position as i32),
                                posts::content.eq(&value.content),
                                posts::image.eq(value.image.to_string()),
                                posts::settings.eq(&settings),
                                posts::tags.eq(&tags),
                                posts::publish_date.eq(req.date),
                                posts::state.eq(state),
                                posts::delay_minutes.eq(value.delay_minutes),
                                posts::interval_days.eq(req.interval_days),
                                posts::creation_method.eq(&req.creation_method),
                                posts::created_at.eq(at),
                                posts::updated_at.eq(at),
                            ))
                            .execute(conn)?;
                        id
                    }
                };
                kept.push(id.clone());
                parent = Some(id);
            }
            // Rows reused from other groups leave them; a replaced group's other rows go.
            if let Some(old) = &group.replaces {
                for row in self::group(conn, org_id, old)? {
                    if !kept.contains(&row.id) {
                        super::jobs::cancel(conn, PUBLISH, &row.id)?;
                    }
                }
                diesel::update(
                    posts::table
                        .filter(posts::organization_id.eq(org_id))
                        .filter(posts::group_id.eq(old))
                        .filter(posts::id.ne_all(&kept))
                        .filter(posts::deleted_at.is_null()),
                )
                .set(posts::deleted_at.eq(now()))
                .execute(conn)?;
            }
            let root = get(conn, org_id, &kept[0])?;
            sync_job(conn, &root)?;
            out.push((kept[0].clone(), group.integration_id.clone()));
        }
        Ok(out)
    })
}

fn provider_of(conn: &mut DbConn, integration_id: &str) -> Result<String, AppError> {
    Ok(integrations::table
        .find(integration_id)
        .select(integrations::provider)
        .first(conn)?)
}

/// A post's channel, as `GET /posts` shows it.
#[derive(Clone, Debug, Queryable)]
pub struct ChannelSummary {
    pub id: String,
    pub provider: String,
    pub name: String,
    pub picture: Option<String>,
    pub customer_id: Option<String>,
}

/// Root posts of the organization due in `[start, end]`, plus every repeating one.
pub fn list_range(
    conn: &mut DbConn,
    org_id: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
    customer: Option<&str>,
) -> Result<Vec<(Post, ChannelSummary)>, AppError> {
    let mut query = posts::table
        .inner_join(integrations::table)
        .filter(posts::organization_id.eq(org_id))
        .filter(posts::parent_post_id.is_null())
        .filter(posts::deleted_at.is_null())
        .filter(integrations::deleted_at.is_null())
        .filter(
            posts::publish_date
                .ge(start)
                .and(posts::publish_date.le(end))
                .or(posts::interval_days.is_not_null()),
        )
        .select((
            Post::as_select(),
            (
                integrations::id,
                integrations::provider,
                integrations::name,
                integrations::picture,
                integrations::customer_id,
            ),
        ))
        .order(posts::publish_date.asc())
        .into_boxed();
    if let Some(c) = customer {
        query = query.filter(integrations::customer_id.eq(c.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Dates at which a post (repeating every `interval_days` from its date) falls in `[start, end]`.
pub fn occurrences(post: &Post, start: NaiveDateTime, end: NaiveDateTime) -> Vec<NaiveDateTime> {
    let Some(days) = post.interval_days.filter(|d| *d > 0) else {
        return if post.publish_date >= start && post.publish_date <= end {
            vec![post.publish_date]
        } else {
            Vec::new()
        };
    };
    let step = Duration::days(i64::from(days));
    let mut at = post.publish_date;
    if at < start {
        let skip = (start - at).num_seconds() / step.num_seconds();
        at += step * skip as i32;
        while at < start {
            at += step;
        }
    }
    let mut out = Vec::new();
    while at <= end && out.len() < 1000 {
        out.push(at);
        at += step;
    }
    out
}

/// The `GET /posts` entry of a root post.
pub fn list_json(post: &Post, channel: &ChannelSummary, actual: Option<NaiveDateTime>) -> Value {
    let tags: Vec<Value> = serde_json::from_str::<Vec<Value>>(&post.tags)
        .unwrap_or_default()
        .into_iter()
        .map(|t| json!({ "tag": { "name": t.get("label").cloned().unwrap_or(Value::Null) } }))
        .collect();
    let mut out = json!({
        "id": post.id,
        "content": post.content,
        "publishDate": iso_string(&post.publish_date),
        "releaseURL": post.release_url,
        "releaseId": post.release_id,
        "state": post.state,
        "intervalInDays": post.interval_days,
        "group": post.group_id,
        "creationMethod": post.creation_method,
        "settings": post.settings,
        "tags": tags,
        "integration": {
            "id": channel.id,
            "providerIdentifier": channel.provider,
            "name": channel.name,
            "picture": channel.picture,
        },
    });
    if let Some(at) = actual.filter(|_| post.interval_days.is_some()) {
        out["actualDate"] = json!(iso_string(&at));
    }
    out
}

/// One live post of the organization, or 404 "Post not found".
pub fn get(conn: &mut DbConn, org_id: &str, id: &str) -> Result<Post, AppError> {
    live_post(conn, org_id, id)?.ok_or_else(|| AppError::not_found("Post not found"))
}

/// The live rows of a group, post first.
pub fn group(conn: &mut DbConn, org_id: &str, group_id: &str) -> Result<Vec<Post>, AppError> {
    // By group alone, the organization checked here: a group has a few rows, an organization
    // thousands, and a planner without statistics yet (a bulk import) intersected both indexes.
    let mut rows: Vec<Post> = posts::table
        .filter(posts::group_id.eq(group_id))
        .filter(posts::deleted_at.is_null())
        .order(posts::position.asc())
        .select(Post::as_select())
        .load(conn)?;
    rows.retain(|r| r.organization_id == org_id);
    Ok(rows)
}

/// Deletes every row of a group (soft); 404 when there is none.
pub fn delete_group(conn: &mut DbConn, org_id: &str, group_id: &str) -> Result<(), AppError> {
    for row in group(conn, org_id, group_id)? {
        super::jobs::cancel(conn, PUBLISH, &row.id)?;
    }
    let n = diesel::update(
        posts::table
            .filter(posts::organization_id.eq(org_id))
            .filter(posts::group_id.eq(group_id))
            .filter(posts::deleted_at.is_null()),
    )
    .set((posts::deleted_at.eq(now()), posts::updated_at.eq(now())))
    .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("Post not found"));
    }
    Ok(())
}

/// Moves a group between DRAFT and QUEUE; a published group stays as it is.
pub fn set_status(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    draft: bool,
) -> Result<Post, AppError> {
    let post = get(conn, org_id, id)?;
    if post.state == PUBLISHED {
        return Err(AppError::bad_request("This post was already published"));
    }
    let state = if draft { DRAFT } else { QUEUE };
    diesel::update(
        posts::table
            .filter(posts::group_id.eq(&post.group_id))
            .filter(posts::deleted_at.is_null())
            .filter(posts::state.ne(PUBLISHED)),
    )
    .set((
        posts::state.eq(state),
        posts::error.eq(None::<String>),
        posts::updated_at.eq(now()),
    ))
    .execute(conn)?;
    let post = get(conn, org_id, id)?;
    if let Some(root) = group(conn, org_id, &post.group_id)?.first() {
        sync_job(conn, root)?;
    }
    Ok(post)
}

/// A group that may still be edited: its post exists and is not published.
pub fn editable_root(conn: &mut DbConn, org_id: &str, id: &str) -> Result<Post, AppError> {
    let post = get(conn, org_id, id)?;
    if post.parent_post_id.is_some() {
        return Err(AppError::bad_request(
            "This is a comment; change the post it belongs to",
        ));
    }
    if post.state == PUBLISHED {
        return Err(AppError::bad_request("This post was already published"));
    }
    Ok(post)
}

/// Replaces the settings of every row of the post's group.
pub fn set_settings(conn: &mut DbConn, group_id: &str, settings: &Value) -> Result<(), AppError> {
    diesel::update(
        posts::table
            .filter(posts::group_id.eq(group_id))
            .filter(posts::deleted_at.is_null()),
    )
    .set((
        posts::settings.eq(settings.to_string()),
        posts::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(())
}

/// Sets the real release id of a post published as `missing` (TikTok inbox uploads).
pub fn set_release_id(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    release_id: &str,
) -> Result<Post, AppError> {
    let n = diesel::update(
        posts::table
            .filter(posts::id.eq(id))
            .filter(posts::organization_id.eq(org_id))
            .filter(posts::deleted_at.is_null())
            .filter(posts::release_id.eq("missing")),
    )
    .set((
        posts::release_id.eq(release_id),
        posts::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        // The post exists but its release id is not `missing`: a conflict, not a 404.
        get(conn, org_id, id)?;
        return Err(AppError::Conflict(
            "This post's release id is not missing: only a post marked missing takes one".into(),
        ));
    }
    get(conn, org_id, id)
}

/// The slot after `from`: the first posting time (minutes after UTC midnight) in the next 30
/// days that no live post of the channel already takes.
pub fn find_slot(
    conn: &mut DbConn,
    channel_id: &str,
    minutes: &[i32],
    from: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, AppError> {
    if minutes.is_empty() {
        return Ok(None);
    }
    let taken: Vec<NaiveDateTime> = posts::table
        .filter(posts::integration_id.eq(channel_id))
        .filter(posts::deleted_at.is_null())
        .filter(posts::parent_post_id.is_null())
        .filter(posts::publish_date.ge(from))
        .select(posts::publish_date)
        .load(conn)?;
    let today = from.date();
    for day in 0..30 {
        let date = today + Duration::days(day);
        for &m in minutes {
            let at =
                date.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(i64::from(m));
            let busy = taken.iter().any(|t| (*t - at).num_minutes().abs() < 1);
            if at > from && !busy {
                return Ok(Some(at));
            }
        }
    }
    Ok(None)
}

/// The job kind that publishes a group (its subject is the group's first post).
pub const PUBLISH: &str = "publish";

/// Puts the group's publish job where its state and date say: scheduled for a queued group,
/// gone for a draft or a deleted one.
pub fn sync_job(conn: &mut DbConn, root: &Post) -> Result<(), AppError> {
    if root.state == QUEUE && root.deleted_at.is_none() {
        let queue = provider_of(conn, &root.integration_id)?;
        super::jobs::schedule(conn, PUBLISH, &root.id, &queue, root.publish_date)
    } else {
        super::jobs::cancel(conn, PUBLISH, &root.id)
    }
}

/// The group of a first post (any organization), post first; `None` when it is gone.
pub fn group_of_root(conn: &mut DbConn, root_id: &str) -> Result<Option<Vec<Post>>, AppError> {
    // One statement: the rows of the group the root belongs to.
    let group_of = diesel::alias!(posts as group_of);
    let rows: Vec<Post> = posts::table
        .filter(
            posts::group_id.eq_any(
                group_of
                    .filter(group_of.field(posts::id).eq(root_id))
                    .select(group_of.field(posts::group_id)),
            ),
        )
        .filter(posts::deleted_at.is_null())
        .order(posts::position.asc())
        .select(Post::as_select())
        .load(conn)?;
    let Some(root) = rows.iter().find(|r| r.id == root_id) else {
        return Ok(None);
    };
    let org = root.organization_id.clone();
    Ok(Some(
        rows.into_iter()
            .filter(|r| r.organization_id == org)
            .collect(),
    ))
}

/// Records a row as published.
pub fn mark_published(
    conn: &mut DbConn,
    id: &str,
    release_id: &str,
    url: &str,
    reference: Option<&str>,
) -> Result<(), AppError> {
    diesel::update(posts::table.find(id))
        .set((
            posts::state.eq(PUBLISHED),
            posts::release_id.eq(release_id),
            posts::release_url.eq(url),
            posts::release_reference.eq(reference),
            posts::error.eq(None::<String>),
            posts::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks the rows of a group that did not go out as failed, with the reason.
pub fn mark_failed(conn: &mut DbConn, ids: &[String], reason: &str) -> Result<(), AppError> {
    diesel::update(posts::table.filter(posts::id.eq_any(ids)))
        .set((
            posts::state.eq(ERROR),
            posts::error.eq(reason),
            posts::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Moves a published repeating group to its next occurrence and queues it again.
pub fn repeat(conn: &mut DbConn, rows: &[Post], next: NaiveDateTime) -> Result<(), AppError> {
    let ids: Vec<&String> = rows.iter().map(|p| &p.id).collect();
    diesel::update(posts::table.filter(posts::id.eq_any(ids)))
        .set((
            posts::state.eq(QUEUE),
            posts::publish_date.eq(next),
            posts::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let root = get(conn, &rows[0].organization_id, &rows[0].id)?;
    sync_job(conn, &root)
}

/// The release URL of a published post of the organization (for `(post:<id>)` placeholders).
pub fn release_url_of(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
) -> Result<Option<String>, AppError> {
    Ok(posts::table
        .filter(posts::id.eq(id))
        .filter(posts::organization_id.eq(org_id))
        .select(posts::release_url)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Queued first posts that have no job (made before the worker existed, or lost): the
/// missed-post sweep gives each one; returns how many were overdue.
pub fn queue_orphans(conn: &mut DbConn) -> Result<usize, AppError> {
    use crate::db::schema::jobs;
    let orphans: Vec<Post> = posts::table
        .filter(posts::state.eq(QUEUE))
        .filter(posts::parent_post_id.is_null())
        .filter(posts::deleted_at.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            jobs::table
                .filter(jobs::subject_id.eq(posts::id))
                .filter(jobs::kind.eq(PUBLISH)),
        )))
        .select(Post::as_select())
        .load(conn)?;
    let at = now();
    let mut overdue = 0;
    for root in &orphans {
        if root.publish_date <= at {
            overdue += 1;
        }
        sync_job(conn, root)?;
    }
    Ok(overdue)
}

/// When a channel may publish again under a pacing rule of `limit` publishes per `window`
/// seconds; `None` when it may now.
pub fn paced_until(
    conn: &mut DbConn,
    channel_id: &str,
    limit: i64,
    window: i64,
) -> Result<Option<NaiveDateTime>, AppError> {
    let since = now() - Duration::seconds(window);
    let mut recent: Vec<NaiveDateTime> = posts::table
        .filter(posts::integration_id.eq(channel_id))
        .filter(posts::state.eq(PUBLISHED))
        .filter(posts::updated_at.gt(since))
        .select(posts::updated_at)
        .load(conn)?;
    if (recent.len() as i64) < limit {
        return Ok(None);
    }
    recent.sort();
    // The slot frees when the oldest publish in the window leaves it.
    let index = recent.len() - limit as usize;
    Ok(Some(recent[index] + Duration::seconds(window)))
}
