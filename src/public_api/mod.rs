//! The Postiz-compatible Public API under `/public/v1`.

pub mod analytics;
pub mod auth;
mod docs;
pub mod idempotency;
pub mod integrations;
pub mod limits;
pub mod media;
pub mod posts;

use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{HttpResponse, http::header, web};
use serde_json::json;

pub use auth::Caller;

/// The one `{…}` segment of a route's path (`/posts/{id}`), read as `web::Path<String>` reads
/// it, but constructible: the MCP tools call the same handlers with it.
pub struct Segment(pub String);

impl Segment {
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Segment {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl actix_web::FromRequest for Segment {
    type Error = crate::error::AppError;
    type Future = std::future::Ready<Result<Segment, Self::Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.match_info()
                .iter()
                .next()
                .map(|(_, v)| Segment(v.to_owned()))
                .ok_or_else(|| crate::error::AppError::bad_request("the path names nothing")),
        )
    }
}

routes! {
    actix_web::Scope;
    get "/is-connected" => is_connected,
    get "/openapi.yaml" => docs::spec,
    get "/integrations" => integrations::list,
    delete "/integrations/{id}" => integrations::delete,
    get "/groups" => integrations::groups,
    get "/social/{provider}" => integrations::social,
    get "/integration-settings/{id}" => integrations::settings,
    post "/integration-trigger/{id}" => integrations::trigger,
    get "/find-slot/{id}" => posts::find_slot,
    post "/posts" => posts::create,
    get "/posts" => posts::list,
    get "/posts/{id}" => posts::get_one,
    put "/posts/{id}" => posts::update,
    delete "/posts/{id}" => posts::delete,
    delete "/posts/group/{group}" => posts::delete_group,
    put "/posts/{id}/status" => posts::set_status,
    put "/posts/{id}/settings" => posts::set_settings,
    get "/posts/{id}/missing" => posts::missing,
    put "/posts/{id}/release-id" => posts::set_release_id,
    get "/analytics/{integration}" => analytics::channel,
    get "/analytics/post/{id}" => analytics::post,
    get "/notifications" => analytics::list_notifications,
    post "/upload" => media::upload,
    post "/upload-from-url" => media::upload_from_url,
}

/// Mounts `/public/v1` (answers never cached, rate-limited per credential, `Idempotency-Key`
/// honoured on POST), the sandbox's JSON list, stored media and the API reference.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        mount(web::scope("/public/v1"))
            .wrap(from_fn(idempotency::guard))
            .wrap(from_fn(limits::per_credential)),
    )
    .service(
        web::resource("/sandbox/posts")
            .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
            .route(web::get().to(integrations::sandbox_posts)),
    )
    .route("/uploads/{rest:.*}", web::get().to(media::serve))
    .route("/docs", web::get().to(docs::page));
}

/// `GET /public/v1/is-connected`
async fn is_connected(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "connected": true }))
}
