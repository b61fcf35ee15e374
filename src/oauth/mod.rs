//! The OAuth2 authorization server: developer apps, the authorization endpoint and consent
//! screen, codes, tokens, grants (Approved Apps), device login, metadata, revocation and
//! introspection.

pub mod apps;
mod authorize;
pub mod codes;
mod device;
pub mod error;
pub mod grants;
mod params;
pub mod redirect;
pub mod scopes;
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
    .route("/device", web::post().to(device::verify));
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
