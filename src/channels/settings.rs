//! Pages: Channels (connect, reconnect, disable, delete, preferences) and Settings → Social
//! Publishing API Keys (per-organization provider app credentials).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::channel::{self as channels, Channel, Customer};
use super::connect::{self, StartRequest};
use super::credentials::{self, CredentialsInput, StoredSummary};
use super::flow::{StartError, unavailable};
use crate::AppState;
use crate::accounts::{Shell, SignedIn};
use crate::error::AppError;
use crate::pages;

/// A network on the Channels page: whether it can be connected here, and if not why.
struct Offer {
    identifier: &'static str,
    name: &'static str,
    logo: &'static str,
    unavailable: Option<String>,
}

#[derive(Template)]
#[template(path = "channels/channels.html")]
struct ChannelsPage {
    shell: Shell,
    channels: Vec<Channel>,
    offers: Vec<Offer>,
    /// Which offered networks cannot fetch media from this installation, and why.
    media_warning: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

impl ChannelsPage {
    fn provider_name(&self, identifier: &str) -> &'static str {
        crate::providers::get(identifier).map_or("Unknown", |p| p.info().name)
    }

    /// The network's logo (compiled-in SVG), or "" for a letter badge.
    fn provider_logo(&self, identifier: &str) -> &'static str {
        crate::providers::get(identifier).map_or("", |p| p.info().logo)
    }
}

async fn offers(state: &AppState, org_id: &str) -> Result<Vec<Offer>, AppError> {
    let (keys, config, org) = (state.keys.clone(), state.config.clone(), org_id.to_owned());
    state
        .db
        .run(move |conn| {
            crate::providers::ALL
                .iter()
                .copied()
                .filter(|p| crate::providers::offered(&config, *p))
                .map(|p| {
                    let app = credentials::resolve(conn, &keys, &config, &org, p)?;
                    Ok(Offer {
                        identifier: p.info().identifier,
                        name: p.info().name,
                        logo: p.info().logo,
                        unavailable: unavailable(&config, p, app.as_ref()).map(|r| r.to_string()),
                    })
                })
                .collect()
        })
        .await
}

async fn channels_page(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let org = me.org.id.clone();
    let list = state
        .db
        .run(move |conn| channels::list(conn, &org, None))
        .await?;
    let offers = offers(state, &me.org.id).await?;
    let fetching: Vec<&str> = offers
        .iter()
        .filter_map(|o| crate::providers::get(o.identifier))
        .filter(|p| crate::providers::medium::fetches_from_outside(&state.config, p.info()))
        .map(|p| p.info().name)
        .collect();
    let media_warning = crate::providers::medium::unreachable_by(
        &fetching,
        crate::providers::medium::media_base(&state.config),
    );
    let page = ChannelsPage {
        shell: Shell::load(state, me, "channels").await?,
        offers,
        media_warning,
        channels: list,
        notice,
        error,
    };
    pages::html(status, &page)
}

/// `GET /settings/channels`
async fn list(
    state: web::Data<AppState>,
    me: SignedIn,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let notice = match query.get("connected") {
        Some(id) => {
            let (org, id) = (me.org.id.clone(), id.clone());
            state
                .db
                .run(move |conn| channels::get(conn, &org, &id))
                .await
                .ok()
                .map(|c| format!("{} is connected.", c.name))
        }
        None => None,
    };
    channels_page(&state, &me, StatusCode::OK, notice, None).await
}

#[derive(Deserialize)]
struct ConnectForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    refresh: Option<String>,
}

/// `POST /settings/channels/connect/{provider}`: starts the flow in this browser.
async fn connect(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    form: web::Form<ConnectForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let request = StartRequest {
        organization_id: me.org.id.clone(),
        provider: path.into_inner(),
        refresh: form.refresh.clone().filter(|r| !r.is_empty()),
        return_url: None,
        started_by: Some(me.user_id.clone()),
    };
    match connect::start(&state, request).await {
        Ok(url) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", url))
            .insert_header(("Cache-Control", "no-store"))
            .finish()),
        Err(StartError::App(e)) => Err(e),
        Err(e) => {
            channels_page(
                &state,
                &me,
                StatusCode::BAD_REQUEST,
                None,
                Some(e.to_string()),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /settings/channels/{id}/{action}`: disable, enable or delete.
async fn act(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let (id, action) = path.into_inner();
    let org = me.org.id.clone();
    state
        .db
        .run(move |conn| match action.as_str() {
            "disable" => channels::set_disabled(conn, &org, &id, true),
            "enable" => channels::set_disabled(conn, &org, &id, false),
            "delete" => channels::delete(conn, &org, &id),
            _ => Err(AppError::not_found("Not found")),
        })
        .await?;
    Ok(pages::see_other("/settings/channels"))
}

#[derive(Template)]
#[template(path = "channels/preferences.html")]
struct PreferencesPage {
    shell: Shell,
    channel: Channel,
    times: String,
    customer: String,
    customers: Vec<Customer>,
    error: Option<String>,
}

fn format_minutes(minutes: &[i32]) -> String {
    minutes
        .iter()
        .map(|m| format!("{:02}:{:02}", m / 60, m % 60))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn preferences_page(
    state: &AppState,
    me: &SignedIn,
    id: String,
    status: StatusCode,
    entered: Option<(String, String)>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let org = me.org.id.clone();
    let (channel, customers) = state
        .db
        .run(move |conn| {
            Ok::<_, AppError>((
                channels::get(conn, &org, &id)?,
                channels::customers_of(conn, &org)?,
            ))
        })
        .await?;
    let (times, customer) = entered.unwrap_or_else(|| {
        let current = channel
            .customer_id
            .as_ref()
            .and_then(|c| customers.iter().find(|x| &x.id == c))
            .map(|c| c.name.clone())
            .unwrap_or_default();
        (format_minutes(&channel.posting_minutes()), current)
    });
    let page = PreferencesPage {
        shell: Shell::load(state, me, "channels").await?,
        channel,
        times,
        customer,
        customers,
        error,
    };
    pages::html(status, &page)
}

/// `GET /settings/channels/{id}/preferences`
async fn preferences(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    preferences_page(&state, &me, id.into_inner(), StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct PreferencesForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    times: String,
    #[serde(default)]
    customer: String,
}

/// `POST /settings/channels/{id}/preferences`
async fn save_preferences(
    state: web::Data<AppState>,
    me: SignedIn,
    id: web::Path<String>,
    form: web::Form<PreferencesForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let id = id.into_inner();
    let form = form.into_inner();
    let minutes = match channels::parse_posting_times(&form.times) {
        Ok(m) => m,
        Err(e) => {
            return preferences_page(
                &state,
                &me,
                id,
                StatusCode::BAD_REQUEST,
                Some((form.times, form.customer)),
                Some(e),
            )
            .await;
        }
    };
    let (org, channel_id, customer) = (me.org.id.clone(), id.clone(), form.customer.clone());
    let saved = state
        .db
        .run(move |conn| {
            channels::set_preferences(conn, &org, &channel_id, &minutes, Some(&customer))
        })
        .await;
    match saved {
        Ok(()) => Ok(pages::see_other("/settings/channels")),
        Err(AppError::BadRequest(m)) => {
            preferences_page(
                &state,
                &me,
                id,
                StatusCode::BAD_REQUEST,
                Some((form.times, form.customer)),
                Some(m),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// One network on the credentials page.
struct ProviderKeys {
    identifier: &'static str,
    name: &'static str,
    has_instance_url: bool,
    /// The instance used when none is entered, shown as the field's placeholder.
    default_instance: &'static str,
    default_redirect_uri: String,
    stored: Option<StoredSummary>,
}

#[derive(Template)]
#[template(path = "channels/provider_keys.html")]
struct ProviderKeysPage {
    shell: Shell,
    providers: Vec<ProviderKeys>,
    notice: Option<String>,
    error: Option<String>,
}

async fn provider_keys_page(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (keys, org) = (state.keys.clone(), me.org.id.clone());
    let stored = state
        .db
        .run(move |conn| credentials::summaries(conn, &keys, &org))
        .await?;
    let providers = crate::providers::ALL
        .iter()
        .copied()
        .filter(|p| p.info().needs_app_credentials)
        .map(|p| ProviderKeys {
            identifier: p.info().identifier,
            name: p.info().name,
            has_instance_url: p.info().has_instance_url,
            default_instance: p.info().default_instance.unwrap_or("https://"),
            default_redirect_uri: credentials::default_redirect_uri(&state.config, p),
            stored: stored
                .iter()
                .find(|s| s.provider == p.info().identifier)
                .cloned(),
        })
        .collect();
    let page = ProviderKeysPage {
        shell: Shell::load(state, me, "provider-keys").await?,
        providers,
        notice,
        error,
    };
    pages::html(status, &page)
}

/// `GET /settings/social-keys` (admins)
async fn provider_keys(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    provider_keys_page(&state, &me, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct ProviderKeysForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    instance_url: String,
    #[serde(default)]
    remove: Option<String>,
}

/// `POST /settings/social-keys/{provider}`: save (an empty secret keeps the stored one) or remove.
async fn save_provider_keys(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    form: web::Form<ProviderKeysForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    me.require_admin()?;
    let provider = crate::providers::get(&path)
        .filter(|p| p.info().needs_app_credentials)
        .ok_or_else(|| AppError::not_found("Not found"))?;
    let form = form.into_inner();
    let (keys, org) = (state.keys.clone(), me.org.id.clone());
    let name = provider.info().name;
    let result = if form.remove.is_some() {
        state
            .db
            .run(move |conn| credentials::remove(conn, &org, provider.info().identifier))
            .await
            .map(|()| format!("{name} credentials removed."))
    } else {
        let input = CredentialsInput {
            client_id: form.client_id,
            client_secret: form.client_secret,
            redirect_uri: Some(form.redirect_uri),
            instance_url: Some(form.instance_url),
        };
        state
            .db
            .run(move |conn| credentials::save(conn, &keys, &org, provider, &input))
            .await
            .map(|()| format!("{name} credentials saved."))
    };
    match result {
        Ok(notice) => provider_keys_page(&state, &me, StatusCode::OK, Some(notice), None).await,
        Err(AppError::BadRequest(m)) => {
            provider_keys_page(&state, &me, StatusCode::BAD_REQUEST, None, Some(m)).await
        }
        Err(e) => Err(e),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/channels", web::get().to(list))
        .route(
            "/settings/channels/connect/{provider}",
            web::post().to(connect),
        )
        .route(
            "/settings/channels/{id}/preferences",
            web::get().to(preferences),
        )
        .route(
            "/settings/channels/{id}/preferences",
            web::post().to(save_preferences),
        )
        .route("/settings/channels/{id}/{action}", web::post().to(act))
        .route("/settings/social-keys", web::get().to(provider_keys))
        .route(
            "/settings/social-keys/{provider}",
            web::post().to(save_provider_keys),
        );
}
