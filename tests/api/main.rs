//! The one integration-test binary. Every test gets a fresh database: a temporary SQLite file,
//! or a new PostgreSQL database when `TEST_DATABASE_URL` is set.

mod accounts;
mod api_keys;
mod api_limits;
mod backup;
mod channels;
mod cli;
mod client_ip;
mod fakes;
mod full_disk;
mod health;
mod helpers;
mod mcp;
mod media;
mod oauth_apps;
mod oauth_device;
mod oauth_flow;
mod oauth_security;
mod openapi;
mod posts;
mod provider_bluesky;
mod provider_contract;
mod provider_facebook;
mod provider_instagram;
mod provider_keys;
mod provider_linkedin;
mod provider_mastodon;
mod provider_threads;
mod provider_x;
mod provider_youtube;
mod registry;
mod schema;
mod secrets;
mod shutdown;
mod webhooks;
mod worker;
