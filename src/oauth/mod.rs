//! The OAuth2 authorization server: developer apps, the authorization endpoint and consent
//! screen, codes, tokens, grants (Approved Apps), device login, metadata, revocation and
//! introspection.

mod api;
pub mod apps;
mod authorize;
pub mod codes;
mod device;
pub mod error;
pub mod grants;
mod params;
pub mod redirect;
pub mod scopes;
mod settings;
mod token;
pub mod tokens;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;
use scopes::ALL;

/// Mounts the OAuth endpoints and pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/oauth-authorization-server",
        web::get().to(metadata),
    )
    .route("/oauth/authorize", web::get().to(authorize::authorize))
    .route("/oauth/authorize", web::post().to(authorize::consent))
    .route("/oauth/token", web::post().to(token::token))
    .route("/oauth/revoke", web::post().to(token::revoke))
    .route("/oauth/introspect", web::post().to(token::introspect))
    .route(
        "/oauth/device_authorization",
        web::post().to(device::device_authorization),
    )
    .route(
        "/oauth/apps/{client_id}/picture",
        web::get().to(authorize::picture),
    )
    .route("/device/code", web::post().to(device::postiz_code))
    .route("/device/token", web::post().to(device::postiz_token))
    .route("/device", web::get().to(device::verify_page))
    .route("/device", web::post().to(device::verify))
    .route("/settings/developers/apps", web::get().to(settings::list))
    .route(
        "/settings/developers/apps",
        web::post().to(settings::create),
    )
    .route(
        "/settings/developers/apps/{id}",
        web::get().to(settings::show),
    )
    .route(
        "/settings/developers/apps/{id}",
        web::post().to(settings::edit),
    )
    .route(
        "/settings/developers/apps/{id}/rotate",
        web::post().to(settings::rotate),
    )
    .route(
        "/settings/developers/apps/{id}/delete",
        web::post().to(settings::delete),
    )
    .route("/settings/approved-apps", web::get().to(settings::approved))
    .route(
        "/settings/approved-apps/{id}/revoke",
        web::post().to(settings::revoke_approved),
    )
    .route("/user/self", web::get().to(api::me))
    .route("/user/oauth-apps", web::get().to(api::list))
    .route("/user/oauth-apps", web::post().to(api::create))
    .route("/user/oauth-apps/{id}", web::get().to(api::get))
    .route("/user/oauth-apps/{id}", web::put().to(api::update))
    .route("/user/oauth-apps/{id}", web::delete().to(api::delete))
    .route(
        "/user/oauth-apps/{id}/rotate-secret",
        web::post().to(api::rotate),
    )
    .route("/user/approved-apps", web::get().to(api::approved))
    .route(
        "/user/approved-apps/{id}",
        web::delete().to(api::revoke_approved),
    );
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    let base = &state.config.public_url;
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    HttpResponse::Ok()
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/oauth/authorize"),
            "token_endpoint": format!("{base}/oauth/token"),
            "revocation_endpoint": format!("{base}/oauth/revoke"),
            "introspection_endpoint": format!("{base}/oauth/introspect"),
            "device_authorization_endpoint": format!("{base}/oauth/device_authorization"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", token::DEVICE_GRANT],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "authorization_response_iss_parameter_supported": true,
        }))
}
