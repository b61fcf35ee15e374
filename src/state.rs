//! `AppState`: what every request handler shares. Only HTTP edges (handlers, extractors) and
//! the worker's loop name it; room logic takes the narrow parts it needs (a connection, the
//! keys, a provider `Ctx`).

use crate::config::Config;
use crate::crypto::Keys;
use crate::db::Db;
use crate::providers::Ctx;

/// What every request handler shares.
pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub keys: Keys,
    /// The one outbound HTTP client (provider APIs, media fetches).
    pub http: reqwest::Client,
    /// Where uploads are kept.
    pub store: crate::media::storage::Store,
    /// Access tokens resolved lately (used on SQLite only).
    pub tokens: crate::oauth::tokens::Cache,
    /// Requests in flight, and whether the server is shutting down.
    pub drain: std::sync::Arc<crate::drain::Drain>,
}

impl AppState {
    /// What a provider call gets: the outbound client, the configuration, the database (the
    /// sandbox's posts) and the media storage.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            http: &self.http,
            config: &self.config,
            db: &self.db,
            store: &self.store,
        }
    }
}
