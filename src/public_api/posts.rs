//! `/public/v1/posts…`: Postiz's create/list/delete/status/settings/release-id routes, plus
//! `GET /posts/:id` and `PUT /posts/:id`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Caller;
use crate::AppState;
use crate::channels::{self, Channel};
use crate::error::AppError;
use crate::oauth::scopes::Scope;
use crate::providers::On;
use crate::publishing::draft::{Invalid, check_group, parse_date, parse_request};
use crate::publishing::posts::{self, CreateRequest, Post, PostType};

// How a refused draft is answered at `/public/v1` (Postiz's bodies).
impl Invalid {
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
    let req = match parse_request(&state.db, &state.config, &caller.organization_id, &body).await {
        Ok(r) => r,
        Err(invalid) => return invalid.respond(),
    };
    let org = caller.organization_id.clone();
    let created = state
        .db
        .write_autocommit(move |conn| posts::create(conn, &org, &req))
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
        .write_autocommit(move |conn| posts::create(conn, &org, &req))
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
    let settings = crate::publishing::draft::merge_settings(&root, &channel, changes)
        .map_err(AppError::bad_request)?;
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
