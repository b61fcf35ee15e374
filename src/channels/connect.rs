//! Connecting a channel: the authorization URL with a stored single-use state, the callback
//! at the redirect URI, and the credentials form of networks that take an app password.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::credentials;
use super::flow::{self, EXPIRED, StartError, done, finish, live_flow, problem, unavailable};
use crate::AppState;
use crate::accounts::SignedIn;
use crate::config::Config;
use crate::crypto::random_alphanumeric;
use crate::error::AppError;
use crate::pages;
use crate::providers::{self, AuthInput, Connecting};

/// A connect flow to start.
pub struct StartRequest {
    pub organization_id: String,
    pub provider: String,
    /// The channel being reconnected.
    pub refresh: Option<String>,
    /// Where to send the user when done; kept only when its host is allowed.
    pub return_url: Option<String>,
    /// The signed-in user whose browser starts the flow (the callback then needs that session).
    pub started_by: Option<String>,
}

/// `returnURL` when its host is one of `SOCIALGATE_RETURN_URL_HOSTS`; anything else is dropped.
pub fn allowed_return_url(config: &Config, value: &str) -> Option<String> {
    let url = url::Url::parse(value.trim()).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "[::1]" | "localhost");
    if !(url.scheme() == "https" || (url.scheme() == "http" && loopback))
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let allowed =
        config
            .providers
            .return_url_hosts
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(domain) => {
                    host.len() > domain.len() + 1 && host.ends_with(&format!(".{domain}"))
                }
                None => host == *pattern,
            });
    allowed.then(|| url.to_string())
}

/// Starts a connect flow: resolves the app, asks the network for its URL and stores the state.
pub async fn start(state: &AppState, request: StartRequest) -> Result<String, StartError> {
    let provider = providers::get(&request.provider).ok_or(StartError::NotAllowed)?;
    let (keys, config, org) = (
        state.keys.clone(),
        state.config.clone(),
        request.organization_id.clone(),
    );
    let app = state
        .db
        .run(move |conn| credentials::resolve(conn, &keys, &config, &org, provider))
        .await?;
    if let Some(reason) = unavailable(&state.config, provider, app.as_ref()) {
        return Err(reason);
    }
    if let Some(refresh) = request.refresh.clone() {
        let org = request.organization_id.clone();
        state
            .db
            .run(move |conn| super::get(conn, &org, &refresh))
            .await?;
    }
    let random_state = random_alphanumeric(40);
    let callback = flow::callback_url(&state.config, provider, app.as_ref());
    let ctx = state.ctx();
    let connecting = Connecting {
        ctx: &ctx,
        app: app.as_ref(),
        callback: &callback,
    };
    let started =
        providers::oauth2::authorization_url(provider, &connecting, &random_state).await?;
    let return_url = request
        .return_url
        .as_deref()
        .and_then(|u| allowed_return_url(&state.config, u));
    let sealed_secret = started.secret.as_deref().map(|s| state.keys.seal(s));
    let request = flow::NewFlow {
        state_key: started.state_key,
        organization_id: request.organization_id,
        provider: request.provider,
        sealed_secret,
        refresh_integration_id: request.refresh,
        return_url,
        started_by: request.started_by,
    };
    state
        .db
        .run(move |conn| flow::create(conn, &request))
        .await?;
    Ok(started.url)
}

/// What to tell the user when the network sent an error back instead of a code: a denial (the
/// user said no, or a known cause such as Google's Testing mode), or the network's own reason.
fn refusal(
    info: &providers::ProviderInfo,
    error: Option<&str>,
    description: Option<&str>,
) -> String {
    let name = info.name;
    let said = description
        .or(error)
        .map(|d| crate::providers::error::truncate(d, 300));
    match (error, said) {
        (Some("unauthorized_scope_error" | "invalid_scope"), Some(said)) => format!(
            "{name} was not connected: the app is not allowed a permission socialgate asks for ({said}). Add the product that grants it to the app in {name}'s developer console, then connect again."
        ),
        (Some(e), Some(said))
            if !e.starts_with("access_denied") && !e.starts_with("user_cancelled") =>
        {
            format!("{name} was not connected: {said}.")
        }
        _ if !info.denied.is_empty() => {
            format!(
                "{name} was not connected: access was denied. {}",
                info.denied
            )
        }
        _ => format!("{name} was not connected: access was denied."),
    }
}

/// `GET {prefix}/integrations/social/{provider}`: the network sends the user back here.
async fn callback(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let Some(provider) = providers::get(&path) else {
        return problem(
            StatusCode::NOT_FOUND,
            "socialgate does not know this network.",
        );
    };
    let param = |k: &str| query.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // OAuth 2 sends `state` and `code`; OAuth 1.0a sends `oauth_token` and `oauth_verifier`.
    let Some(state_key) = param("state").or(param("oauth_token")).or(param("denied")) else {
        return problem(StatusCode::BAD_REQUEST, EXPIRED);
    };
    let flow = match live_flow(&state, state_key, provider, me.as_ref()).await? {
        Ok(f) => f,
        Err(m) => return problem(StatusCode::BAD_REQUEST, m),
    };
    if param("error").is_some() || param("denied").is_some() {
        let hash = flow.state_hash.clone();
        state.db.run(move |conn| flow::consume(conn, &hash)).await?;
        return pages::message(
            StatusCode::OK,
            "Connection cancelled",
            &refusal(provider.info(), param("error"), param("error_description")),
        );
    }
    let Some(code) = param("code").or(param("oauth_verifier")) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "The network sent no authorization code.",
        );
    };
    let input = AuthInput {
        code: code.to_owned(),
        state_key: state_key.to_owned(),
        ..AuthInput::default()
    };
    let return_url = flow.return_url.clone();
    match finish(&state, provider, flow, input).await? {
        Ok(channel) => done(&state, return_url, me.as_ref(), &channel).await,
        Err(message) => problem(StatusCode::BAD_REQUEST, &message),
    }
}

/// Mounts the callbacks (with and without the prefix: X and Threads register the bare path)
/// and the credentials form.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/integrations/social/{provider}/connect",
        web::get().to(super::password_form::page),
    )
    .route(
        "/integrations/social/{provider}/connect",
        web::post().to(super::password_form::submit),
    )
    .route(
        "/integrations/social/{provider}/pick",
        web::get().to(super::pick::page),
    )
    .route(
        "/integrations/social/{provider}/pick",
        web::post().to(super::pick::pick),
    )
    .route("/integrations/social/{provider}", web::get().to(callback))
    .route(
        "/{prefix:.+}/integrations/social/{provider}",
        web::get().to(prefixed_callback),
    );
}

/// The callback under the configured prefix (`/postiz` by default); other prefixes are 404.
async fn prefixed_callback(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<HashMap<String, String>>,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let (prefix, provider) = path.into_inner();
    if format!("/{prefix}") != state.config.providers.callback_prefix {
        return Ok(HttpResponse::NotFound().json(serde_json::json!({ "msg": "Not found" })));
    }
    callback(state, web::Path::from(provider), query, me).await
}
