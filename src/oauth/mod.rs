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
mod register;
pub mod resource;
pub mod scopes;
mod settings;
mod token;
pub mod tokens;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;
use scopes::ALL;

// The OAuth server, device login and the app-management JSON: what `openapi.yaml` describes.
routes! {
    &mut web::ServiceConfig;
    get "/.well-known/oauth-authorization-server" => metadata,
    get "/oauth/authorize" => authorize::authorize,
    post "/oauth/authorize" => authorize::consent,
    post "/oauth/token" => token::token,
    post "/oauth/register" => register::register,
    post "/oauth/revoke" => token::revoke,
    post "/oauth/introspect" => token::introspect,
    post "/oauth/device_authorization" => device::device_authorization,
    get "/oauth/apps/{client_id}/picture" => authorize::picture,
    post "/device/code" => device::postiz_code,
    post "/device/token" => device::postiz_token,
    get "/device" => device::verify_page,
    post "/device" => device::verify,
    get "/user/self" => api::me,
    get "/user/oauth-apps" => api::list,
    post "/user/oauth-apps" => api::create,
    get "/user/oauth-apps/{id}" => api::get,
    put "/user/oauth-apps/{id}" => api::update,
    delete "/user/oauth-apps/{id}" => api::delete,
    post "/user/oauth-apps/{id}/rotate-secret" => api::rotate,
    get "/user/approved-apps" => api::approved,
    delete "/user/approved-apps/{id}" => api::revoke_approved,
}

/// Mounts the OAuth endpoints, the JSON above and the settings pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    mount(cfg)
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
            "registration_endpoint": format!("{base}/oauth/register"),
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
