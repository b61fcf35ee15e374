//! Settings → Webhooks (admins) with its session JSON under `/user/webhooks`, and Settings →
//! Notifications.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::notifications::{self, Notification};
use super::webhooks::{self, Delivery, Webhook};
use crate::AppState;
use crate::accounts::{Shell, SignedIn};
use crate::channels::{self, Channel};
use crate::error::AppError;
use crate::pages;

routes! {
    &mut web::ServiceConfig;
    get "/user/webhooks" => list_json,
    post "/user/webhooks" => create_json,
    delete "/user/webhooks/{id}" => delete_json,
    post "/user/webhooks/{id}/test" => test_json,
    get "/user/webhooks/{id}/deliveries" => deliveries_json,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    mount(cfg)
        .route("/settings/webhooks", web::get().to(page))
        .route("/settings/webhooks", web::post().to(create_form))
        .route("/settings/webhooks/{id}", web::get().to(log_page))
        .route("/settings/webhooks/{id}/{action}", web::post().to(act_form))
        .route("/settings/notifications", web::get().to(notifications_page));
}

/// A webhook just created, with its secret (shown this once).
struct Created {
    name: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "publishing/webhooks.html")]
struct WebhooksPage {
    shell: Shell,
    webhooks: Vec<Webhook>,
    channels: Vec<Channel>,
    created: Option<Created>,
    notice: Option<String>,
    error: Option<String>,
}

impl WebhooksPage {
    fn channel_names(&self, w: &Webhook) -> String {
        let ids = w.channel_ids();
        if ids.is_empty() {
            return "all channels".into();
        }
        ids.iter()
            .map(|id| {
                self.channels
                    .iter()
                    .find(|c| &c.id == id)
                    .map_or("(deleted)", |c| c.name.as_str())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn render(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    created: Option<Created>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let org = me.org.id.clone();
    let (list, chans) = state
        .db
        .run(move |conn| {
            Ok::<_, AppError>((
                webhooks::list(conn, &org)?,
                channels::list(conn, &org, None)?,
            ))
        })
        .await?;
    let page = WebhooksPage {
        shell: Shell::load(state, me, "webhooks").await?,
        webhooks: list,
        channels: chans,
        created,
        notice,
        error,
    };
    pages::html(status, &page)
}

/// `GET /settings/webhooks`
async fn page(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    render(&state, &me, StatusCode::OK, None, None, None).await
}

/// `POST /settings/webhooks`: name, url, and any number of `channel` fields.
async fn create_form(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    me.check_csrf(&state.keys, &field("csrf_token"))?;
    me.require_admin()?;
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "channel")
        .map(|(_, v)| v.clone())
        .collect();
    match webhooks::create(&state, &me.org.id, &field("name"), &field("url"), chosen).await {
        Ok((w, secret)) => {
            let created = Created {
                name: w.name,
                secret,
            };
            render(&state, &me, StatusCode::OK, Some(created), None, None).await
        }
        Err(AppError::BadRequest(m)) | Err(AppError::NotFound(m)) => {
            render(&state, &me, StatusCode::BAD_REQUEST, None, None, Some(m)).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /settings/webhooks/{id}/{test|delete}`
async fn act_form(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<(String, String)>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(
        &state.keys,
        form.get("csrf_token").map(String::as_str).unwrap_or(""),
    )?;
    me.require_admin()?;
    let (id, action) = path.into_inner();
    let org = me.org.id.clone();
    let notice = match action.as_str() {
        "test" => {
            state
                .db
                .run(move |conn| webhooks::send_test(conn, &org, &id))
                .await?;
            "A test event is on its way."
        }
        "delete" => {
            state
                .db
                .run(move |conn| webhooks::delete(conn, &org, &id))
                .await?;
            "Webhook deleted."
        }
        _ => return Err(AppError::not_found("Not found")),
    };
    render(&state, &me, StatusCode::OK, None, Some(notice.into()), None).await
}

#[derive(Template)]
#[template(path = "publishing/deliveries.html")]
struct LogPage {
    shell: Shell,
    webhook: Webhook,
    deliveries: Vec<Delivery>,
}

/// `GET /settings/webhooks/{id}`: the delivery log.
async fn log_page(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    let org = me.org.id.clone();
    let (webhook, deliveries) = state
        .db
        .run(move |conn| {
            Ok::<_, AppError>((
                webhooks::get(conn, &org, &id)?,
                webhooks::deliveries(conn, &org, &id)?,
            ))
        })
        .await?;
    let page = LogPage {
        shell: Shell::load(&state, &me, "webhooks").await?,
        webhook,
        deliveries,
    };
    pages::html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "publishing/notifications.html")]
struct NotificationsPage {
    shell: Shell,
    notifications: Vec<Notification>,
}

/// `GET /settings/notifications`
async fn notifications_page(
    state: web::Data<AppState>,
    me: SignedIn,
) -> Result<HttpResponse, AppError> {
    let org = me.org.id.clone();
    let (list, _) = state
        .db
        .run(move |conn| notifications::page(conn, &org, 0))
        .await?;
    let page = NotificationsPage {
        shell: Shell::load(&state, &me, "notifications").await?,
        notifications: list,
    };
    pages::html(StatusCode::OK, &page)
}

/// `GET /user/webhooks`
async fn list_json(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    let org = me.org.id.clone();
    let list = state.db.run(move |conn| webhooks::list(conn, &org)).await?;
    let body: Vec<_> = list
        .iter()
        .map(|w| json!({ "id": w.id, "name": w.name, "url": w.url, "channels": w.channel_ids(), "createdAt": super::posts::iso_string(&w.created_at) }))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct CreateBody {
    name: String,
    url: String,
    #[serde(default)]
    channels: Vec<String>,
}

/// `POST /user/webhooks` → 201 with the secret (shown once).
async fn create_json(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf_header(&state.keys, &req)?;
    me.require_admin()?;
    let b = body.into_inner();
    let (w, secret) = webhooks::create(&state, &me.org.id, &b.name, &b.url, b.channels).await?;
    Ok(HttpResponse::Created().json(json!({
        "id": w.id, "name": w.name, "url": w.url, "channels": w.channel_ids(),
        "createdAt": super::posts::iso_string(&w.created_at), "secret": secret,
    })))
}

/// `DELETE /user/webhooks/{id}`
async fn delete_json(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf_header(&state.keys, &req)?;
    me.require_admin()?;
    let org = me.org.id.clone();
    state
        .db
        .run(move |conn| webhooks::delete(conn, &org, &id))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

/// `POST /user/webhooks/{id}/test`
async fn test_json(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf_header(&state.keys, &req)?;
    me.require_admin()?;
    let org = me.org.id.clone();
    state
        .db
        .run(move |conn| webhooks::send_test(conn, &org, &id))
        .await?;
    Ok(HttpResponse::Accepted().json(json!({ "success": true })))
}

/// `GET /user/webhooks/{id}/deliveries`
async fn deliveries_json(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    let org = me.org.id.clone();
    let list = state
        .db
        .run(move |conn| webhooks::deliveries(conn, &org, &id))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
