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

/// Days back asked for: 7 when absent, a whole number kept within 1 to 365, else 400.
fn days(q: &DaysQuery) -> Result<u32, AppError> {
    match q.date.as_deref().map(str::trim) {
        None | Some("") => Ok(7),
        Some(d) => d
            .parse::<i64>()
            .map(|n| n.clamp(1, 365) as u32)
            .map_err(|_| AppError::bad_request("date must be a whole number of days")),
    }
}

/// `GET /analytics/{integration}?date=N`
pub async fn channel(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    query: web::Query<DaysQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::AnalyticsRead)?;
    let n = days(&query)?;
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
    let n = days(&query)?;
    let org = caller.organization_id.clone();
    let (post, channel) = super::posts::with_channel(&state, &org, &id, false).await?;
    let series = analytics::of_post(&state.ctx(), &state.keys, &channel, &post, n).await?;
    Ok(HttpResponse::Ok().json(series))
}

/// The last page whose first notification can be counted in an `i64`.
const MAX_PAGE: i64 = i64::MAX / notifications::PAGE_SIZE - 1;

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
            Ok(n) if (0..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(AppError::bad_request(format!(
                    "page must be a whole number from 0 to {MAX_PAGE}"
                )));
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
