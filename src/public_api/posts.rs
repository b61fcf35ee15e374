//! `/public/v1/posts…`: Postiz's create/list/delete/status/settings/release-id routes, plus
//! `GET /posts/:id` and `PUT /posts/:id`.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{NaiveDateTime, Timelike};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Caller;
use crate::AppState;
use crate::channels::{self, Channel};
use crate::error::AppError;
use crate::oauth::scopes::Scope;
use crate::providers::text::html_to_plain;
use crate::providers::{MediaItem, On, PostDetails, Provider};
use crate::publishing::posts::{self, CreateRequest, NewGroup, NewValue, Post, PostType};

/// A failure answered the way Postiz answers it.
pub enum Invalid {
    /// Nest's validation body: `{"statusCode":400,"message":[…],"error":"Bad Request"}`.
    Fields(Vec<String>),
    /// A provider rule: `{"statusCode":400,"provider","name","message"}`.
    Provider {
        provider: String,
        name: String,
        message: String,
    },
    App(AppError),
}

impl From<AppError> for Invalid {
    fn from(e: AppError) -> Self {
        Invalid::App(e)
    }
}

impl Invalid {
    fn field(message: impl Into<String>) -> Self {
        Invalid::Fields(vec![message.into()])
    }

    pub fn respond(self) -> Result<HttpResponse, AppError> {
        match self {
            Invalid::Fields(message) => Ok(HttpResponse::BadRequest()
                .json(json!({ "statusCode": 400, "message": message, "error": "Bad Request" }))),
            Invalid::Provider { provider, name, message } => Ok(HttpResponse::BadRequest().json(
                json!({ "statusCode": 400, "provider": provider, "name": name, "message": message }),
            )),
            Invalid::App(e) => Err(e),
        }
    }
}

/// Content as stored: the HTML tags and attributes Postiz allows, links http(s), mailto or
/// relative only.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .tags(HashSet::from([
            "p", "br", "strong", "u", "a", "ul", "li", "h1", "h2", "h3", "span",
        ]))
        .generic_attributes(HashSet::from([
            "class",
            "data-mention-id",
            "data-mention-label",
        ]))
        .tag_attributes(std::collections::HashMap::from([(
            "a",
            HashSet::from(["href", "target", "rel"]),
        )]))
        .link_rel(None)
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .clean(html)
        .to_string()
}

const MEDIA_EXTENSIONS: [&str; 6] = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4"];

/// Reads a date as Postiz clients send it: ISO 8601 with an offset, or without one (UTC).
pub fn parse_date(s: &str) -> Option<NaiveDateTime> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.naive_utc());
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d",
    ]
    .iter()
    .find_map(|f| {
        NaiveDateTime::parse_from_str(s, f).ok().or_else(|| {
            chrono::NaiveDate::parse_from_str(s, f)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
    })
}

/// An uploaded image's width and height, read from the start of its file on our disk (a few
/// kilobytes), for networks whose rules depend on them.
fn dimensions_of(config: &crate::config::Config, path: &str) -> Option<(u32, u32)> {
    use std::io::Read;
    let file = crate::media::storage::local_file(config, path)?;
    let mut head = Vec::with_capacity(64 * 1024);
    std::fs::File::open(file)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .ok()?;
    crate::media::dimensions(&head)
}

fn media_of(
    config: &crate::config::Config,
    image: &Value,
    at: &str,
) -> Result<Vec<MediaItem>, Invalid> {
    let Some(list) = image.as_array() else {
        return Err(Invalid::field(format!("{at}.image must be an array")));
    };
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let (Some(id), Some(path)) = (
                m.get("id").and_then(Value::as_str),
                m.get("path").and_then(Value::as_str),
            ) else {
                return Err(Invalid::field(format!(
                    "{at}.image.{i} must have an id and a path"
                )));
            };
            let bare = path.split('?').next().unwrap_or(path).to_ascii_lowercase();
            if !MEDIA_EXTENSIONS.iter().any(|e| bare.ends_with(e)) {
                return Err(Invalid::field(format!(
                    "{at}.image.{i}.path must end in .png, .jpg, .jpeg, .gif, .webp or .mp4"
                )));
            }
            let _ = id;
            Ok(MediaItem {
                kind: if bare.ends_with(".mp4") {
                    "video".into()
                } else {
                    "image".into()
                },
                path: path.to_owned(),
                alt: m.get("alt").and_then(Value::as_str).map(str::to_owned),
                thumbnail: m
                    .get("thumbnail")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                dimensions: dimensions_of(config, path),
            })
        })
        .collect()
}

/// A channel's group as validated: values ready to store and the chain a provider checks.
struct CheckedGroup {
    group: NewGroup,
}

/// Checks one `posts[i]` entry against its channel's provider (Postiz's `validatePosts`).
fn check_group(
    config: &crate::config::Config,
    entry: &Value,
    i: usize,
    channel: &Channel,
    provider: &dyn Provider,
    draft: bool,
) -> Result<CheckedGroup, Invalid> {
    let at = format!("posts.{i}");
    let reject = |message: String| Invalid::Provider {
        provider: channel.provider.clone(),
        name: channel.name.clone(),
        message,
    };
    let mut settings = entry.get("settings").cloned().unwrap_or_else(|| json!({}));
    if !settings.is_object() {
        return Err(Invalid::field(format!("{at}.settings must be an object")));
    }
    settings["__type"] = json!(channel.provider);
    provider
        .info()
        .settings
        .validate(&settings)
        .map_err(|e| Invalid::field(format!("{at}.settings: {e}")))?;
    let Some(values) = entry
        .get("value")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
    else {
        return Err(Invalid::field(format!(
            "{at}.value must contain at least 1 element"
        )));
    };
    let mut stored = Vec::new();
    let mut chain = Vec::new();
    for (j, v) in values.iter().enumerate() {
        let vat = format!("{at}.value.{j}");
        let Some(content) = v.get("content").and_then(Value::as_str) else {
            return Err(Invalid::field(format!("{vat}.content must be a string")));
        };
        let image = v.get("image").cloned().unwrap_or(Value::Null);
        let media = media_of(config, &image, &vat)?;
        let content = sanitize(content);
        let plain = html_to_plain(&content);
        if plain.trim().is_empty() && media.is_empty() {
            return Err(reject(
                "Your post should have at least one character or one image.".into(),
            ));
        }
        if !draft && provider.text_length(plain.trim()) > provider.max_length(&channel.additional())
        {
            return Err(reject("post is too long, please fix it".into()));
        }
        let delay = v
            .get("delay")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .clamp(0, 60 * 24 * 30) as i32;
        chain.push(PostDetails {
            id: String::new(),
            message: plain,
            settings: settings.clone(),
            media,
            reply_to: None,
        });
        stored.push(NewValue {
            id: v
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            content,
            image: if image.is_null() { json!([]) } else { image },
            delay_minutes: delay,
        });
    }
    if !draft {
        provider.check_validity(&chain).map_err(reject)?;
    }
    Ok(CheckedGroup {
        group: NewGroup {
            integration_id: channel.id.clone(),
            replaces: entry
                .get("group")
                .and_then(Value::as_str)
                .filter(|g| !g.is_empty())
                .map(str::to_owned),
            settings,
            values: stored,
        },
    })
}

/// Parses and checks a whole `POST /posts` body.
async fn parse_request(
    state: &AppState,
    org: &str,
    body: &Value,
) -> Result<CreateRequest, Invalid> {
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .and_then(PostType::parse)
        .ok_or_else(|| {
            Invalid::field("type must be one of the following values: draft, schedule, now, update")
        })?;
    if !body.get("shortLink").is_some_and(Value::is_boolean) {
        return Err(Invalid::field("shortLink must be a boolean value"));
    }
    let date = body
        .get("date")
        .and_then(Value::as_str)
        .and_then(parse_date);
    let date = match (kind, date) {
        (PostType::Now, _) => {
            let n = crate::db::now();
            n.with_second(0)
                .and_then(|d| d.with_nanosecond(0))
                .unwrap_or(n)
        }
        (_, Some(d)) => d,
        (_, None) => return Err(Invalid::field("date must be a valid ISO 8601 date string")),
    };
    let tags = body.get("tags").cloned().unwrap_or(Value::Null);
    let tags_ok = tags.as_array().is_some_and(|list| {
        list.iter().all(|t| {
            t.get("value").is_some_and(Value::is_string)
                && t.get("label").is_some_and(Value::is_string)
        })
    });
    if !tags_ok {
        return Err(Invalid::field("tags must be an array of {value, label}"));
    }
    let interval_days = match body.get("inter") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=365).contains(&n) => Some(n as i32),
            _ => {
                return Err(Invalid::field(
                    "inter must be a number of days between 1 and 365",
                ));
            }
        },
    };
    let Some(entries) = body
        .get("posts")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    else {
        return Err(Invalid::field("posts must contain at least 1 element"));
    };
    let mut groups = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(id) = entry
            .pointer("/integration/id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Err(Invalid::field("All posts must have an integration id"));
        };
        let (org_id, channel_id) = (org.to_owned(), id.to_owned());
        let channel = state
            .db
            .run(move |conn| channels::get(conn, &org_id, &channel_id))
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => {
                    Invalid::field(format!("Integration with id {id} not found"))
                }
                other => Invalid::App(other),
            })?;
        let provider = channel.provider().ok_or_else(|| {
            Invalid::field(format!("Integration with id {id} has no known provider"))
        })?;
        groups.push(
            check_group(
                &state.config,
                entry,
                i,
                &channel,
                provider,
                kind == PostType::Draft,
            )?
            .group,
        );
    }
    let creation_method = match body.get("creationMethod").and_then(Value::as_str) {
        Some("CLI") => "CLI",
        _ => "API",
    };
    Ok(CreateRequest {
        kind,
        date,
        tags,
        interval_days,
        republish: body
            .get("republish")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        creation_method: creation_method.to_owned(),
        groups,
    })
}

/// A post of the caller's organization and its channel; with `editable`, only a first post not
/// yet published.
pub async fn with_channel(
    state: &AppState,
    org: &str,
    id: &str,
    editable: bool,
) -> Result<(Post, Channel), AppError> {
    let (org, id) = (org.to_owned(), id.to_owned());
    state
        .db
        .run(move |conn| {
            let post = if editable {
                posts::editable_root(conn, &org, &id)?
            } else {
                posts::get(conn, &org, &id)?
            };
            let channel = channels::get(conn, &org, &post.integration_id)?;
            Ok((post, channel))
        })
        .await
}

/// Checks a `POST /posts` body without creating anything (a dry run): every problem at once,
/// those of the request as a whole and those of each channel's group.
pub async fn validate(state: &AppState, org: &str, body: &Value) -> Result<Vec<String>, AppError> {
    let mut problems = Vec::new();
    let mut note = |invalid: Invalid, at: Option<usize>| -> Result<(), AppError> {
        let prefix = at.map(|i| format!("posts[{i}]: ")).unwrap_or_default();
        match invalid {
            Invalid::Fields(list) => {
                problems.extend(list.into_iter().map(|m| format!("{prefix}{m}")))
            }
            Invalid::Provider { name, message, .. } => {
                problems.push(format!("{prefix}{name}: {message}"))
            }
            Invalid::App(e) => return Err(e),
        }
        Ok(())
    };
    let entries = body
        .get("posts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.len() <= 1 {
        if let Err(invalid) = parse_request(state, org, body).await {
            note(invalid, None)?;
        }
    } else {
        for (i, entry) in entries.into_iter().enumerate() {
            let mut one = body.clone();
            one["posts"] = json!([entry]);
            if let Err(invalid) = parse_request(state, org, &one).await {
                note(invalid, Some(i))?;
            }
        }
    }
    problems.dedup();
    Ok(problems)
}

/// `POST /posts` → 201 `[{"postId","integration"}]`.
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsWrite)?;
    let decision = super::limits::posts_of(&state, &caller.organization_id).await?;
    if let Some(d) = decision.filter(|d| !d.allowed) {
        return Ok(d.refusal());
    }
    let req = match parse_request(&state, &caller.organization_id, &body).await {
        Ok(r) => r,
        Err(invalid) => return invalid.respond(),
    };
    let org = caller.organization_id.clone();
    let created = state
        .db
        .run(move |conn| posts::create(conn, &org, &req))
        .await?;
    let body: Vec<Value> = created
        .into_iter()
        .map(|(post, integration)| json!({ "postId": post, "integration": integration }))
        .collect();
    Ok(HttpResponse::Created().json(body))
}

#[derive(Deserialize)]
pub struct RangeQuery {
    #[serde(default, rename = "startDate")]
    start_date: Option<String>,
    #[serde(default, rename = "endDate")]
    end_date: Option<String>,
    #[serde(default)]
    customer: Option<String>,
}

/// `GET /posts?startDate&endDate[&customer]` → `{"posts":[…]}`.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsRead)?;
    let q = query.into_inner();
    let (Some(start), Some(end)) = (
        q.start_date.as_deref().and_then(parse_date),
        q.end_date.as_deref().and_then(parse_date),
    ) else {
        return Invalid::Fields(vec![
            "startDate must be a valid ISO 8601 date string".into(),
            "endDate must be a valid ISO 8601 date string".into(),
        ])
        .respond();
    };
    let org = caller.organization_id;
    let customer = q.customer.filter(|c| !c.is_empty());
    let rows = state
        .db
        .run(move |conn| posts::list_range(conn, &org, start, end, customer.as_deref()))
        .await?;
    let mut out = Vec::new();
    for (post, channel) in &rows {
        if post.interval_days.is_some() {
            for at in posts::occurrences(post, start, end) {
                out.push(posts::list_json(post, channel, Some(at)));
            }
        } else {
            out.push(posts::list_json(post, channel, None));
        }
    }
    Ok(HttpResponse::Ok().json(json!({ "posts": out })))
}

/// One row in `GET /posts/:id`.
fn row_json(p: &Post) -> Value {
    json!({
        "id": p.id,
        "content": p.content,
        "image": crate::db::json_column::<Value>(&p.image, "posts.image"),
        "delay": p.delay_minutes,
        "state": p.state,
        "releaseId": p.release_id,
        "releaseURL": p.release_url,
        "error": p.error,
    })
}

/// `GET /posts/:id`: the group of the post with each row's state, release URL and error.
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsRead)?;
    let org = caller.organization_id;
    let (rows, channel) = state
        .db
        .run(move |conn| {
            let post = posts::get(conn, &org, &id)?;
            let rows = posts::group(conn, &org, &post.group_id)?;
            let channel = channels::get(conn, &org, &post.integration_id)?;
            Ok::<_, AppError>((rows, channel))
        })
        .await?;
    let root = &rows[0];
    Ok(HttpResponse::Ok().json(json!({
        "id": root.id,
        "group": root.group_id,
        "publishDate": posts::iso_string(&root.publish_date),
        "state": root.state,
        "releaseURL": root.release_url,
        "releaseId": root.release_id,
        "error": root.error,
        "intervalInDays": root.interval_days,
        "settings": crate::db::json_column::<Value>(&root.settings, "posts.settings"),
        "integration": { "id": channel.id, "providerIdentifier": channel.provider, "name": channel.name, "picture": channel.picture },
        "values": rows.iter().map(row_json).collect::<Vec<_>>(),
    })))
}

/// `PUT /posts/:id`: new content, media, date or settings for a post not yet published. The
/// body is one `posts[]` entry's `value` and `settings`, plus `date` (all optional but value).
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    body: web::Json<Value>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsWrite)?;
    let org = caller.organization_id.clone();
    let id = id.into_inner();
    let (root, channel) = with_channel(&state, &org, &id, true).await?;
    let provider = channel
        .provider()
        .ok_or_else(|| AppError::bad_request("The channel's provider is not available"))?;
    let draft = root.state == posts::DRAFT;
    let mut entry = body.into_inner();
    if entry.get("settings").is_none() {
        entry["settings"] = crate::db::json_column(&root.settings, "posts.settings");
    }
    entry["group"] = json!(root.group_id);
    let date = match entry.get("date") {
        None => root.publish_date,
        Some(d) => match d.as_str().and_then(parse_date) {
            Some(d) => d,
            None => return Invalid::field("date must be a valid ISO 8601 date string").respond(),
        },
    };
    let checked = match check_group(&state.config, &entry, 0, &channel, provider, draft) {
        Ok(c) => c,
        Err(invalid) => return invalid.respond(),
    };
    let mut group = checked.group;
    if let Some(first) = group.values.first_mut() {
        first.id.get_or_insert(root.id.clone());
    }
    let req = CreateRequest {
        kind: if draft {
            PostType::Draft
        } else {
            PostType::Schedule
        },
        date,
        tags: crate::db::json_column(&root.tags, "posts.tags"),
        interval_days: root.interval_days,
        republish: false,
        creation_method: root.creation_method.clone(),
        groups: vec![group],
    };
    let created = state
        .db
        .run(move |conn| posts::create(conn, &org, &req))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "postId": created[0].0, "integration": created[0].1 })))
}

/// `DELETE /posts/:id`: deletes the post's whole group.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsWrite)?;
    let org = caller.organization_id;
    state
        .db
        .run(move |conn| {
            let post = posts::get(conn, &org, &id)?;
            posts::delete_group(conn, &org, &post.group_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// `DELETE /posts/group/:group`
pub async fn delete_group(
    state: web::Data<AppState>,
    caller: Caller,
    group: super::Segment,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsWrite)?;
    let org = caller.organization_id;
    state
        .db
        .run(move |conn| posts::delete_group(conn, &org, &group))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

#[derive(Deserialize)]
pub struct StatusBody {
    status: String,
}

/// `PUT /posts/:id/status` `{status: draft|schedule}` → `{id, state}`.
pub async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    body: web::Json<StatusBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsWrite)?;
    let draft = match body.status.as_str() {
        "draft" => true,
        "schedule" => false,
        _ => {
            return Invalid::field("status must be one of the following values: draft, schedule")
                .respond();
        }
    };
    let org = caller.organization_id;
    let post = state
        .db
        .run(move |conn| posts::set_status(conn, &org, &id, draft))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "id": post.id, "state": post.state })))
}

#[derive(Deserialize)]
pub struct SettingsBody {
    settings: Option<Value>,
}

/// `PUT /posts/:id/settings` `{settings}` → `{postId, publishDate}`: keys merged, re-validated.
pub async fn set_settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsWrite)?;
    let Some(Value::Object(changes)) = body.into_inner().settings else {
        return Invalid::field("settings must be an object").respond();
    };
    let org = caller.organization_id;
    let (root, channel) = with_channel(&state, &org, &id, true).await?;
    if root.state == posts::QUEUE && root.publish_date < crate::db::now() {
        return Err(AppError::bad_request(
            "This post's time has passed; it can no longer be changed",
        ));
    }
    let mut settings: Value = crate::db::json_column(&root.settings, "posts.settings");
    for (k, v) in changes {
        settings[k] = v;
    }
    settings["__type"] = json!(channel.provider);
    if let Some(p) = channel.provider()
        && let Err(e) = p.info().settings.validate(&settings)
    {
        return Err(AppError::bad_request(format!("{}: {e}", channel.name)));
    }
    let group = root.group_id.clone();
    state
        .db
        .run(move |conn| posts::set_settings(conn, &group, &settings))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "postId": root.id,
        "publishDate": root.publish_date.format("%Y-%m-%dT%H:%M:%S").to_string(),
    })))
}

/// `GET /posts/:id/missing` → candidate platform posts while the release id is `missing`.
pub async fn missing(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsRead)?;
    let org = caller.organization_id;
    let (post, channel) = with_channel(&state, &org, &id, false).await?;
    if post.release_id.as_deref() != Some("missing") {
        return Ok(HttpResponse::Ok().json(json!([])));
    }
    let Some(provider) = channel.provider() else {
        return Ok(HttpResponse::Ok().json(json!([])));
    };
    let auth = channels::fresh_auth(&state.ctx(), &state.keys, &channel).await?;
    let list = provider
        .missing(&On {
            ctx: &state.ctx(),
            auth: &auth,
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize)]
pub struct ReleaseBody {
    #[serde(rename = "releaseId")]
    release_id: String,
}

/// `PUT /posts/:id/release-id` `{releaseId}`: only while the release id is `missing`.
pub async fn set_release_id(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    body: web::Json<ReleaseBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsWrite)?;
    if body.release_id.trim().is_empty() || body.release_id == "missing" {
        return Invalid::field("releaseId must be a platform post id").respond();
    }
    let org = caller.organization_id;
    let release = body.into_inner().release_id;
    let post = state
        .db
        .run(move |conn| posts::set_release_id(conn, &org, &id, &release))
        .await?;
    Ok(HttpResponse::Ok().json(row_json(&post)))
}

/// `GET /find-slot/:id` → `{"date":"YYYY-MM-DDTHH:mm:00"}`; 400 when the channel has no
/// posting times (Postiz loops forever there).
pub async fn find_slot(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsRead)?;
    let org = caller.organization_id;
    let slot = state
        .db
        .run(move |conn| {
            let channel = channels::get(conn, &org, &id)
                .map_err(|_| AppError::not_found("Integration not found"))?;
            let minutes = channel.posting_minutes();
            if minutes.is_empty() {
                return Err(AppError::bad_request(
                    "This channel has no posting times; set them under Preferences",
                ));
            }
            posts::find_slot(conn, &channel.id, &minutes, crate::db::now())
        })
        .await?;
    match slot {
        Some(at) => {
            Ok(HttpResponse::Ok()
                .json(json!({ "date": at.format("%Y-%m-%dT%H:%M:00").to_string() })))
        }
        None => Ok(HttpResponse::build(StatusCode::CONFLICT)
            .json(json!({ "msg": "No free posting slot in the next 30 days" }))),
    }
}
