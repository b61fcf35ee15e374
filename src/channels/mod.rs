//! Channels, the product feature around the networks: connected accounts (`channel`), their
//! tokens kept fresh (`freshness`), the organizations' app credentials (`credentials`), the
//! connect flow (`flow` owns its state; `connect` starts it and takes the callbacks,
//! `password_form` and `pick` are its between-steps), the Channels and API-keys pages
//! (`settings`) and the sandbox's website (`sandbox_site`).

pub mod analytics;
mod channel;
pub mod connect;
pub mod credentials;
pub mod flow;
mod freshness;
mod password_form;
mod pick;
mod sandbox_site;
mod settings;

use actix_web::web;

pub use channel::*;
pub use freshness::{FreshAuthError, fresh_auth, refresh_now};

/// Mounts the connect callbacks and steps, the Channels and credentials pages and the sandbox.
pub fn configure(cfg: &mut web::ServiceConfig) {
    connect::configure(cfg);
    settings::configure(cfg);
    sandbox_site::configure(cfg);
}
