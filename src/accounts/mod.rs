//! Accounts: users, organizations, members, sessions, CSRF, sign-in throttling, API keys and
//! their pages.

pub mod api_keys;
pub mod csrf;
pub mod sessions;
mod settings;
mod sign_in;
pub mod throttle;
pub mod users;

use actix_web::web;

pub use sessions::SignedIn;
pub use settings::Shell;
pub use sign_in::CsrfForm;

/// Mounts the sign-in pages and the settings shell.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(settings::home))
        .route("/signin", web::get().to(sign_in::sign_in_page))
        .route("/signin", web::post().to(sign_in::sign_in))
        .route("/signup", web::get().to(sign_in::sign_up_page))
        .route("/signup", web::post().to(sign_in::sign_up))
        .route("/signout", web::post().to(sign_in::sign_out))
        .route("/settings", web::get().to(settings::home))
        .route(
            "/settings/organization",
            web::post().to(settings::switch_organization),
        )
        .route("/settings/members", web::get().to(settings::members))
        .route("/settings/members", web::post().to(settings::add_member))
        .route(
            "/settings/members/{user_id}/remove",
            web::post().to(settings::remove_member),
        )
        .route(
            "/settings/developers/public-api",
            web::get().to(settings::api_keys_list),
        )
        .route(
            "/settings/developers/public-api",
            web::post().to(settings::api_keys_create),
        )
        .route(
            "/settings/developers/public-api/{id}/revoke",
            web::post().to(settings::api_keys_revoke),
        );
}
