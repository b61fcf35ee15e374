//! socialgate: a self-hostable social publishing backend with a public OAuth2 authorization server
//! and a Postiz-compatible Public API. `configure` mounts every feature; `run` serves them.

/// Declares routes once: `ROUTES` lists them as (method, path) and `mount` adds them to a
/// scope or service config, so a test can hold `openapi.yaml` to exactly what is served.
macro_rules! routes {
    ($target:ty; $($method:ident $path:literal => $handler:expr),* $(,)?) => {
        /// These routes as (method, path).
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        fn mount(target: $target) -> $target {
            target$(.route($path, actix_web::web::$method().to($handler)))*
        }
    };
}

pub mod accounts;
pub mod admin;
pub mod channels;
pub mod client_ip;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod db;
pub mod drain;
pub mod edge;
pub mod error;
pub mod mcp;
pub mod media;
pub mod oauth;
pub mod pages;
pub mod percent;
pub mod providers;
pub mod public_api;
pub mod publishing;
pub mod state;
pub mod telemetry;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::config::Config;
use crate::db::Db;
pub use crate::state::AppState;

/// The Content-Security-Policy of every response: our own files only, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: https:; style-src 'self'; \
     script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Mounts every feature's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(64 * 1024)
            .error_handler(|e, _| error::bad_input(e)),
    )
    .app_data(web::JsonConfig::default().error_handler(|e, _| error::bad_input(e)))
    .app_data(web::PathConfig::default().error_handler(|e, _| error::bad_input(e)))
    .app_data(web::QueryConfig::default().error_handler(|e, _| error::bad_input(e)))
    .route("/health", web::get().to(health))
    .route("/ready", web::get().to(ready))
    // The API first: routes are tried in order, and each pattern with a segment costs a
    // regular-expression match (no two features share a path).
    .configure(public_api::configure)
    .configure(mcp::configure)
    .route("/static/{file}", web::get().to(pages::static_file))
    .configure(accounts::configure)
    .configure(oauth::configure)
    .configure(channels::configure)
    .configure(publishing::configure)
    .default_service(web::to(not_found));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// 200 when the database answers and is bound to this server's master key, 503 otherwise.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.keys.clone();
    let answered = state
        .db
        .run(move |conn| {
            conn.batch_execute("SELECT 1").map_err(db::DbError::from)?;
            crypto::binding::agrees(conn, &keys)
        })
        .await;
    match answered {
        Ok(true) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(false) => {
            tracing::error!("the database is bound to another master key than this server's");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "key mismatch",
                "msg": "the database's values are sealed under another master key than this server's; restart it with the installation's key",
            }))
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }))
        }
    }
}

/// The documented routes, as (method, path pattern): what `openapi.yaml` describes.
static KNOWN_ROUTES: std::sync::LazyLock<Vec<(String, actix_web::dev::ResourceDef)>> =
    std::sync::LazyLock::new(|| {
        let api = public_api::ROUTES
            .iter()
            .map(|(m, p)| (*m, format!("/public/v1{p}")));
        let rest = oauth::ROUTES
            .iter()
            .chain(publishing::ROUTES)
            .chain(mcp::ROUTES)
            .map(|(m, p)| (*m, (*p).to_owned()));
        api.chain(rest)
            .map(|(m, p)| (m.to_ascii_uppercase(), actix_web::dev::ResourceDef::new(p)))
            .collect()
    });

/// An unknown path is 404; a known one asked with a method it does not take is 405 with
/// `Allow`. Both answer JSON.
async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    let mut allowed: Vec<&str> = KNOWN_ROUTES
        .iter()
        .filter(|(_, def)| def.is_match(req.path()))
        .map(|(m, _)| m.as_str())
        .collect();
    if allowed.is_empty() {
        return HttpResponse::NotFound().json(json!({ "msg": "Not found" }));
    }
    allowed.sort_unstable();
    allowed.dedup();
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allowed.join(", ")))
        .json(json!({ "msg": format!("{} is not allowed here", req.method()) }))
}

/// The HTTP server on an already bound listener (port 0 in tests).
pub fn server(
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(actix_web::middleware::from_fn(edge::layer))
            .configure(configure)
    })
    // `run` handles the signals: it drains before stopping.
    .disable_signals()
    .shutdown_timeout(drain::LIMIT.as_secs())
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}

/// Errors that stop `run` before the server starts.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Key(#[from] crypto::KeyError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("the upload storage cannot be set up: {0}")]
    Storage(String),
    #[error("cannot listen on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
}

/// Installs the process-wide TLS provider for outbound HTTP (ring, no C build).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Opens the database, applies migrations, loads the master key and builds the state.
pub fn prepare(config: Config, production: bool) -> Result<web::Data<AppState>, StartError> {
    install_tls_provider();
    if production && config.secret_key.is_none() {
        return Err(crypto::KeyError::MissingInProduction.into());
    }
    let db = Db::connect(&config.database_url)?;
    let applied = db.migrate()?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    let (keys, created) = crypto::binding::load_keys(&config, &mut *db.get()?, production)?;
    if let Some(path) = created {
        tracing::warn!(path = %path.display(), "no SOCIALGATE_SECRET_KEY set: created a new master key file; back it up");
    }
    let store = media::storage::Store::from_config(&config)
        .map_err(|e| StartError::Storage(e.to_string()))?;
    Ok(web::Data::new(AppState {
        keys,
        store,
        http: providers::http::client(),
        config,
        db,
        tokens: Default::default(),
        drain: Default::default(),
    }))
}

/// Serves until SIGINT or SIGTERM.
pub async fn run(config: Config, production: bool) -> Result<(), StartError> {
    let listen = config.listen;
    let public_url = config.public_url.clone();
    let state = prepare(config, production)?;
    let listener = TcpListener::bind(listen).map_err(|e| StartError::Listen(listen, e))?;
    let server =
        server(state.clone(), listener, None).map_err(|e| StartError::Listen(listen, e))?;
    let handle = server.handle();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = actix_web::rt::spawn(publishing::worker::run(state.clone(), stopped));
    tracing::info!(%listen, %public_url, "socialgate is listening");
    println!("socialgate is listening on http://{listen} (public URL {public_url})");
    let mut serving = actix_web::rt::spawn(server);
    let served = tokio::select! {
        done = &mut serving => done,
        signalled = drain::signalled() => {
            signalled.map_err(|e| StartError::Listen(listen, e))?;
            tracing::info!("stopping: requests in flight may finish, new ones get 503");
            let left = state.drain.drain(drain::LIMIT).await;
            if left > 0 {
                tracing::warn!(left, "stopping with requests still in flight");
            }
            handle.stop(true).await;
            serving.await
        }
    };
    let served = served
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|r| r)
        .map_err(|e| StartError::Listen(listen, e));
    // The server stopped: let running publishes finish.
    let _ = stop.send(true);
    let _ = worker.await;
    served
}

/// Runs only the publishing worker until SIGINT or SIGTERM.
pub async fn run_worker(config: Config, production: bool) -> Result<(), StartError> {
    let state = prepare(config, production)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = actix_web::rt::spawn(publishing::worker::run(state, stopped));
    println!("socialgate worker is running");
    drain::signalled()
        .await
        .map_err(|e| StartError::Listen(std::net::SocketAddr::from(([0, 0, 0, 0], 0)), e))?;
    tracing::info!("stopping: running publishes may finish");
    let _ = stop.send(true);
    let _ = worker.await;
    Ok(())
}
