//! `GET /analytics/:integration` and `GET /analytics/post/:postId` from the provider, kept for
//! an hour; `GET /notifications`.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Caller;
use crate::AppState;
use crate::channels;
use crate::db::schema::analytics_cache;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::oauth::scopes::Scope;
use crate::providers::On;
use crate::publishing::notifications;

#[derive(Deserialize)]
pub struct DaysQuery {
    #[serde(default)]
    date: Option<String>,
}

/// Days back asked for: 1 to 365 (7 when absent or unreadable).
fn days(q: &DaysQuery) -> u32 {
    q.date
        .as_deref()
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(7u32)
        .clamp(1, 365)
}

fn cached(conn: &mut DbConn, key: &str) -> Result<Option<Value>, AppError> {
    let body: Option<String> = analytics_cache::table
        .filter(analytics_cache::key.eq(key))
        .filter(analytics_cache::expires_at.gt(now()))
        .select(analytics_cache::body)
        .first(conn)
        .optional()?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
}

fn remember(conn: &mut DbConn, key: &str, body: &Value) -> Result<(), AppError> {
    diesel::delete(
        analytics_cache::table.filter(
            analytics_cache::key
                .eq(key)
                .or(analytics_cache::expires_at.le(now())),
        ),
    )
    .execute(conn)?;
    diesel::insert_into(analytics_cache::table)
        .values((
            analytics_cache::key.eq(key),
            analytics_cache::body.eq(body.to_string()),
            analytics_cache::expires_at.eq(now() + Duration::hours(1)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Answers from the cache, or computes, stores and answers.
async fn through_cache<F, Fut>(
    state: &AppState,
    key: String,
    compute: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Value, AppError>>,
{
    let k = key.clone();
    if let Some(hit) = state.db.run(move |conn| cached(conn, &k)).await? {
        return Ok(HttpResponse::Ok().json(hit));
    }
    let body = compute().await?;
    let stored = body.clone();
    state
        .db
        .run(move |conn| remember(conn, &key, &stored))
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /analytics/{integration}?date=N`
pub async fn channel(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    query: web::Query<DaysQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::AnalyticsRead)?;
    let n = days(&query);
    let org = caller.organization_id.clone();
    let channel = state
        .db
        .run(move |conn| {
            channels::get(conn, &org, &id).map_err(|_| AppError::not_found("Integration not found"))
        })
        .await?;
    let key = format!("channel:{}:{n}", channel.id);
    through_cache(&state, key, || async {
        let Some(provider) = channel.provider() else {
            return Ok(json!([]));
        };
        let auth = channels::fresh_auth(&state.ctx(), &state.keys, &channel).await?;
        let series = provider
            .analytics(
                &On {
                    ctx: &state.ctx(),
                    auth: &auth,
                },
                n,
            )
            .await?;
        Ok(serde_json::to_value(series).unwrap_or_else(|_| json!([])))
    })
    .await
}

/// `GET /analytics/post/{postId}?date=N`
pub async fn post(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    query: web::Query<DaysQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::AnalyticsRead)?;
    let n = days(&query);
    let org = caller.organization_id.clone();
    let (post, channel) = super::posts::with_channel(&state, &org, &id, false).await?;
    let Some(release) = post.release_id.clone() else {
        return Ok(HttpResponse::Ok().json(json!([])));
    };
    if release == "missing" {
        return Ok(HttpResponse::Ok().json(json!({ "missing": true })));
    }
    let key = format!("post:{}:{n}", post.id);
    through_cache(&state, key, || async {
        let Some(provider) = channel.provider() else {
            return Ok(json!([]));
        };
        let auth = channels::fresh_auth(&state.ctx(), &state.keys, &channel).await?;
        let series = provider
            .post_analytics(
                &On {
                    ctx: &state.ctx(),
                    auth: &auth,
                },
                &release,
                n,
            )
            .await?;
        Ok(serde_json::to_value(series).unwrap_or_else(|_| json!([])))
    })
    .await
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<String>,
}

/// `GET /notifications?page=N` → `{notifications,total,page,limit,hasMore}`.
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::NotificationsRead)?;
    let page: i64 = match query.page.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(p) => match p.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                return Err(AppError::bad_request(
                    "page must be a whole number of 0 or more",
                ));
            }
        },
    };
    let org = caller.organization_id;
    let (list, total) = state
        .db
        .run(move |conn| notifications::page(conn, &org, page))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "notifications": list,
        "total": total,
        "page": page,
        "limit": notifications::PAGE_SIZE,
        "hasMore": (page + 1) * notifications::PAGE_SIZE < total,
    })))
}
