//! The Postiz-compatible Public API under `/public/v1`.

pub mod auth;
pub mod integrations;

use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, http::header, web};
use serde_json::json;

pub use auth::Caller;

/// Mounts `/public/v1`; its answers are never cached.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/public/v1")
            .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
            .route("/is-connected", web::get().to(is_connected))
            .route("/integrations", web::get().to(integrations::list))
            .route("/integrations/{id}", web::delete().to(integrations::delete))
            .route("/groups", web::get().to(integrations::groups))
            .route("/social/{provider}", web::get().to(integrations::social))
            .route(
                "/integration-settings/{id}",
                web::get().to(integrations::settings),
            )
            .route(
                "/integration-trigger/{id}",
                web::post().to(integrations::trigger),
            ),
    )
    .service(
        web::resource("/sandbox/posts")
            .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
            .route(web::get().to(integrations::sandbox_posts)),
    );
}

/// `GET /public/v1/is-connected`
async fn is_connected(_caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "connected": true }))
}
