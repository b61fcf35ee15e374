//! `GET /analytics/:integration` and `GET /analytics/post/:postId` from the provider, kept for
//! an hour; `GET /notifications`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::Caller;
use crate::AppState;
use crate::channels::{self, analytics};
use crate::error::AppError;
use crate::oauth::scopes::Scope;
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
    let series = analytics::of_channel(&state.ctx(), &state.keys, &channel, n).await?;
    Ok(HttpResponse::Ok().json(series))
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
    let series = analytics::of_post(&state.ctx(), &state.keys, &channel, &post, n).await?;
    Ok(HttpResponse::Ok().json(series))
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
