//! Connecting a channel: the authorization URL with a stored single-use state, the callback
//! at the redirect URI, and the credentials form of networks that take an app password.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::{AppCredentials, AuthInput, Ctx, Provider, ProviderError, channels, credentials};
use crate::AppState;
use crate::accounts::SignedIn;
use crate::config::Config;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::schema::connect_states;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::pages;

/// How long a connect flow may take.
const STATE_LIFETIME_MINUTES: i64 = 60;

/// Why a connect flow cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Unknown network, or one this instance does not offer (Postiz's answer).
    #[error("Integration not allowed")]
    NotAllowed,
    /// The network is known but its app credentials are missing.
    #[error("{0}")]
    NotConfigured(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

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

/// Why a network is not offered to this organization, if it is not (`NotAllowed` or
/// `NotConfigured`; its message is what users read).
pub fn unavailable(
    config: &Config,
    provider: &dyn Provider,
    app: Option<&AppCredentials>,
) -> Option<StartError> {
    let info = provider.info();
    if !super::offered(config, provider) {
        return Some(StartError::NotAllowed);
    }
    if info.needs_app_credentials && app.is_none() {
        return Some(StartError::NotConfigured(format!(
            "{} API credentials are not configured",
            info.name
        )));
    }
    None
}

/// The callback URL for this network and app.
pub fn callback_url(
    config: &Config,
    provider: &dyn Provider,
    app: Option<&AppCredentials>,
) -> String {
    app.map(|a| a.redirect_uri.clone())
        .unwrap_or_else(|| credentials::default_redirect_uri(config, provider))
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
    let provider = super::get(&request.provider).ok_or(StartError::NotAllowed)?;
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
            .run(move |conn| channels::get(conn, &org, &refresh))
            .await?;
    }
    let random_state = random_alphanumeric(40);
    let callback = callback_url(&state.config, provider, app.as_ref());
    let ctx = Ctx::of(state);
    let started =
        super::oauth2::authorization_url(provider, &ctx, app.as_ref(), &callback, &random_state)
            .await?;
    let return_url = request
        .return_url
        .as_deref()
        .and_then(|u| allowed_return_url(&state.config, u));
    let sealed_secret = started.secret.as_deref().map(|s| state.keys.seal(s));
    let hash = sha256_hex(&started.state_key);
    state
        .db
        .run(move |conn| {
            let at = now();
            // Expired flows are swept whenever a new one starts.
            diesel::delete(connect_states::table.filter(connect_states::expires_at.lt(at)))
                .execute(conn)?;
            diesel::insert_into(connect_states::table)
                .values((
                    connect_states::state_hash.eq(hash),
                    connect_states::organization_id.eq(&request.organization_id),
                    connect_states::provider.eq(&request.provider),
                    connect_states::secret.eq(sealed_secret),
                    connect_states::refresh_integration_id.eq(&request.refresh),
                    connect_states::return_url.eq(return_url),
                    connect_states::started_by.eq(&request.started_by),
                    connect_states::created_at.eq(at),
                    connect_states::expires_at.eq(at + Duration::minutes(STATE_LIFETIME_MINUTES)),
                ))
                .execute(conn)
                .map_err(AppError::from)
        })
        .await?;
    Ok(started.url)
}

/// A stored flow.
#[derive(Queryable, Debug)]
pub(super) struct Flow {
    pub(super) state_hash: String,
    pub(super) organization_id: String,
    pub(super) provider: String,
    pub(super) secret: Option<String>,
    pub(super) refresh_integration_id: Option<String>,
    pub(super) return_url: Option<String>,
    pub(super) started_by: Option<String>,
    pub(super) expires_at: NaiveDateTime,
}

fn find_flow(conn: &mut DbConn, state_key: &str) -> Result<Option<Flow>, AppError> {
    Ok(connect_states::table
        .filter(connect_states::state_hash.eq(sha256_hex(state_key)))
        .select((
            connect_states::state_hash,
            connect_states::organization_id,
            connect_states::provider,
            connect_states::secret,
            connect_states::refresh_integration_id,
            connect_states::return_url,
            connect_states::started_by,
            connect_states::expires_at,
        ))
        .first(conn)
        .optional()?)
}

/// Deletes the flow; true only for the one caller that removed it.
pub(super) fn consume(conn: &mut DbConn, hash: &str) -> Result<bool, AppError> {
    Ok(
        diesel::delete(connect_states::table.filter(connect_states::state_hash.eq(hash)))
            .execute(conn)?
            == 1,
    )
}

pub(super) const EXPIRED: &str =
    "This connection link has expired or was already used. Start again from the Channels page.";

pub(super) fn problem(status: StatusCode, message: &str) -> Result<HttpResponse, AppError> {
    pages::message(status, "Could not connect the channel", message)
}

/// The flow of this state, if it is live, for this provider, and (when a browser session
/// started it) continued by the same user.
pub(super) async fn live_flow(
    state: &AppState,
    state_key: &str,
    provider: &dyn Provider,
    me: Option<&SignedIn>,
) -> Result<Result<Flow, &'static str>, AppError> {
    let key = state_key.to_owned();
    let flow = state.db.run(move |conn| find_flow(conn, &key)).await?;
    let Some(flow) = flow else {
        return Ok(Err(EXPIRED));
    };
    if flow.expires_at < now() || flow.provider != provider.info().identifier {
        return Ok(Err(EXPIRED));
    }
    if let Some(user) = &flow.started_by
        && me.map(|m| &m.user_id) != Some(user)
    {
        return Ok(Err(
            "This connection was started by another signed-in user. Sign in as that user, or start again.",
        ));
    }
    Ok(Ok(flow))
}

/// Runs `authenticate` and saves the channel; the flow is consumed exactly once.
pub(super) async fn finish(
    state: &AppState,
    provider: &'static dyn Provider,
    flow: Flow,
    mut input: AuthInput,
) -> Result<Result<channels::Channel, String>, AppError> {
    let (keys, config, org) = (
        state.keys.clone(),
        state.config.clone(),
        flow.organization_id.clone(),
    );
    let app = state
        .db
        .run(move |conn| credentials::resolve(conn, &keys, &config, &org, provider))
        .await?;
    if let Some(reason) = unavailable(&state.config, provider, app.as_ref()) {
        return Ok(Err(reason.to_string()));
    }
    input.secret = match flow.secret.as_deref() {
        Some(sealed) => Some(state.keys.open(sealed).map_err(AppError::internal)?),
        None => None,
    };
    input.organization_id = flow.organization_id.clone();
    let callback = callback_url(&state.config, provider, app.as_ref());
    let ctx = Ctx::of(state);
    let account =
        match super::oauth2::authenticate(provider, &ctx, app.as_ref(), &callback, input).await {
            Ok(a) => a,
            Err(e) => return Ok(Err(readable(provider, &e))),
        };
    let keys = state.keys.clone();
    let saved = state
        .db
        .run(move |conn| {
            if !consume(conn, &flow.state_hash)? {
                return Ok(Err(EXPIRED.to_owned()));
            }
            match channels::upsert(
                conn,
                &keys,
                &flow.organization_id,
                provider,
                &account,
                flow.refresh_integration_id.as_deref(),
            ) {
                Ok(c) => Ok(Ok(c)),
                Err(AppError::BadRequest(m)) | Err(AppError::NotFound(m)) => Ok(Err(m)),
                Err(e) => Err(e),
            }
        })
        .await?;
    Ok(saved)
}

/// What to tell the user when the network refused.
fn readable(provider: &dyn Provider, e: &ProviderError) -> String {
    match e {
        ProviderError::RetryLater { .. } | ProviderError::Unconfirmed(_) => format!(
            "{} did not answer in time. Try again in a few minutes.",
            provider.info().name
        ),
        other => format!("{} refused the connection: {other}", provider.info().name),
    }
}

/// Where the browser goes after a successful connect: the page pick when the network needs
/// one, else the return URL, the Channels page, or a closing message.
pub(super) async fn done(
    state: &AppState,
    flow_return: Option<String>,
    me: Option<&SignedIn>,
    channel: &channels::Channel,
) -> Result<HttpResponse, AppError> {
    if channel.in_between_steps {
        let next =
            super::pick::start(state, channel, flow_return, me.map(|m| m.user_id.clone())).await?;
        return Ok(pages::see_other(&next));
    }
    if let Some(url) = flow_return {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", url))
            .insert_header(("Cache-Control", "no-store"))
            .finish());
    }
    if me.is_some() {
        return Ok(pages::see_other(&format!(
            "/settings/channels?connected={}",
            channel.id
        )));
    }
    pages::message(
        StatusCode::OK,
        "Channel connected",
        &format!("{} is connected. You can close this window.", channel.name),
    )
}

/// Stores a flow step for the page pick: the channel waiting for it, single use, one hour.
pub(super) fn store_step(
    conn: &mut DbConn,
    key: &str,
    channel: &channels::Channel,
    return_url: Option<&str>,
    started_by: Option<&str>,
) -> Result<(), AppError> {
    let at = now();
    diesel::insert_into(connect_states::table)
        .values((
            connect_states::state_hash.eq(sha256_hex(key)),
            connect_states::organization_id.eq(&channel.organization_id),
            connect_states::provider.eq(&channel.provider),
            connect_states::refresh_integration_id.eq(&channel.id),
            connect_states::return_url.eq(return_url),
            connect_states::started_by.eq(started_by),
            connect_states::created_at.eq(at),
            connect_states::expires_at.eq(at + Duration::minutes(STATE_LIFETIME_MINUTES)),
        ))
        .execute(conn)?;
    Ok(())
}

/// `GET {prefix}/integrations/social/{provider}`: the network sends the user back here.
async fn callback(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let Some(provider) = super::get(&path) else {
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
        state.db.run(move |conn| consume(conn, &hash)).await?;
        let name = provider.info().name;
        return pages::message(
            StatusCode::OK,
            "Connection cancelled",
            &format!("{name} was not connected: access was denied."),
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
        web::get().to(super::credentials_form::page),
    )
    .route(
        "/integrations/social/{provider}/connect",
        web::post().to(super::credentials_form::submit),
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

/// Re-encrypts the secrets of flows in progress (a master-key rotation).
pub fn reseal_all(
    conn: &mut DbConn,
    reseal: &dyn Fn(&str) -> Result<String, AppError>,
) -> Result<usize, AppError> {
    let rows: Vec<(String, Option<String>)> = connect_states::table
        .select((connect_states::state_hash, connect_states::secret))
        .load(conn)?;
    let mut count = 0;
    for (hash, secret) in rows {
        if let Some(secret) = secret {
            diesel::update(connect_states::table.find(&hash))
                .set(connect_states::secret.eq(reseal(&secret)?))
                .execute(conn)?;
            count += 1;
        }
    }
    Ok(count)
}
