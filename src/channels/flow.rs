//! The connect flow's state: one `connect_states` row per flow in progress (random, hashed,
//! single use, an hour), the checks a callback or a between-step makes before it continues,
//! the end of a flow (authenticate, save the channel, go on), and the step of a page pick.
//! `connect`, `password_form` and `pick` all build on this module; it builds on none of them.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::channel::{self, Channel};
use super::credentials;
use crate::AppState;
use crate::accounts::SignedIn;
use crate::config::Config;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::schema::connect_states;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::pages;
use crate::providers::{self, AppCredentials, AuthInput, Connecting, Provider, ProviderError};

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

/// A flow to store when it starts.
pub struct NewFlow {
    /// What the callback will present (the `state`, or X's request token); stored hashed.
    pub state_key: String,
    pub organization_id: String,
    pub provider: String,
    pub sealed_secret: Option<String>,
    pub refresh_integration_id: Option<String>,
    pub return_url: Option<String>,
    pub started_by: Option<String>,
}

/// Stores a new flow; expired ones are swept at the same time.
pub fn create(conn: &mut DbConn, flow: &NewFlow) -> Result<(), AppError> {
    let at = now();
    diesel::delete(connect_states::table.filter(connect_states::expires_at.lt(at)))
        .execute(conn)?;
    diesel::insert_into(connect_states::table)
        .values((
            connect_states::state_hash.eq(sha256_hex(&flow.state_key)),
            connect_states::organization_id.eq(&flow.organization_id),
            connect_states::provider.eq(&flow.provider),
            connect_states::secret.eq(&flow.sealed_secret),
            connect_states::refresh_integration_id.eq(&flow.refresh_integration_id),
            connect_states::return_url.eq(&flow.return_url),
            connect_states::started_by.eq(&flow.started_by),
            connect_states::created_at.eq(at),
            connect_states::expires_at.eq(at + Duration::minutes(STATE_LIFETIME_MINUTES)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Why a network is not offered to this organization, if it is not (`NotAllowed` or
/// `NotConfigured`; its message is what users read).
pub fn unavailable(
    config: &Config,
    provider: &dyn Provider,
    app: Option<&AppCredentials>,
) -> Option<StartError> {
    let info = provider.info();
    if !providers::offered(config, provider) {
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

/// A stored flow.
#[derive(Queryable, Debug)]
pub struct Flow {
    pub state_hash: String,
    pub organization_id: String,
    pub provider: String,
    pub secret: Option<String>,
    pub refresh_integration_id: Option<String>,
    pub return_url: Option<String>,
    pub started_by: Option<String>,
    pub expires_at: NaiveDateTime,
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
pub fn consume(conn: &mut DbConn, hash: &str) -> Result<bool, AppError> {
    Ok(
        diesel::delete(connect_states::table.filter(connect_states::state_hash.eq(hash)))
            .execute(conn)?
            == 1,
    )
}

pub const EXPIRED: &str =
    "This connection link has expired or was already used. Start again from the Channels page.";

pub fn problem(status: StatusCode, message: &str) -> Result<HttpResponse, AppError> {
    pages::message(status, "Could not connect the channel", message)
}

/// The flow of this state, if it is live, for this provider, and (when a browser session
/// started it) continued by the same user.
pub async fn live_flow(
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
pub async fn finish(
    state: &AppState,
    provider: &'static dyn Provider,
    flow: Flow,
    mut input: AuthInput,
) -> Result<Result<Channel, String>, AppError> {
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
        Some(sealed) => Some(state.keys.open(sealed).map_err(AppError::from)?),
        None => None,
    };
    input.organization_id = flow.organization_id.clone();
    let callback = callback_url(&state.config, provider, app.as_ref());
    let ctx = state.ctx();
    let connecting = Connecting {
        ctx: &ctx,
        app: app.as_ref(),
        callback: &callback,
    };
    let account = match providers::oauth2::authenticate(provider, &connecting, input).await {
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
            match channel::upsert(
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
pub async fn done(
    state: &AppState,
    flow_return: Option<String>,
    me: Option<&SignedIn>,
    channel: &Channel,
) -> Result<HttpResponse, AppError> {
    if channel.in_between_steps {
        let next = pick_step(state, channel, flow_return, me.map(|m| m.user_id.clone())).await?;
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
pub fn store_step(
    conn: &mut DbConn,
    key: &str,
    channel: &Channel,
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

/// Starts the pick for a channel just connected; returns the path to send the browser to.
pub async fn pick_step(
    state: &AppState,
    channel: &Channel,
    return_url: Option<String>,
    started_by: Option<String>,
) -> Result<String, AppError> {
    let key = random_alphanumeric(40);
    let (k, c) = (key.clone(), channel.clone());
    state
        .db
        .run(move |conn| store_step(conn, &k, &c, return_url.as_deref(), started_by.as_deref()))
        .await?;
    Ok(format!(
        "/integrations/social/{}/pick?state={key}",
        channel.provider
    ))
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
