//! Per-organization provider app credentials (Settings → Social Publishing API Keys), sealed
//! with the vault, and the instance-wide fallback from the environment.

use diesel::prelude::*;

use crate::config::Config;
use crate::crypto::Keys;
use crate::db::schema::provider_credentials;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::providers::{AppCredentials, Provider, check_instance_url};

/// What an admin enters for one network.
#[derive(Debug, Default)]
pub struct CredentialsInput {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: Option<String>,
    pub instance_url: Option<String>,
}

/// What the credentials page may show: never the secret, only that it is set.
#[derive(Debug, Clone)]
pub struct StoredSummary {
    pub provider: String,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub instance_url: Option<String>,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Queryable)]
struct Row {
    provider: String,
    client_id: String,
    client_secret: String,
    redirect_uri: Option<String>,
    instance_url: Option<String>,
    updated_at: chrono::NaiveDateTime,
}

/// The callback URL socialgate serves for a network: `{public}{prefix}/integrations/social/{id}`,
/// or without the prefix for X and Threads (as the tenant guide registers them).
pub fn default_redirect_uri(config: &Config, provider: &dyn Provider) -> String {
    let info = provider.info();
    let prefix = if info.unprefixed_callback {
        ""
    } else {
        config.providers.callback_prefix.as_str()
    };
    format!(
        "{}{prefix}/integrations/social/{}",
        config.public_url, info.identifier
    )
}

fn check_redirect_override(value: &str) -> Result<String, String> {
    let value = value.trim();
    let url = url::Url::parse(value).map_err(|_| format!("{value:?} is not an absolute URL"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(format!("{value:?}: no user information or fragment"));
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(value.to_owned()),
        "http" if loopback => Ok(value.to_owned()),
        _ => Err(format!("{value:?}: the redirect URI must use https")),
    }
}

/// Saves an organization's credentials for a network. An empty secret keeps the stored one.
pub fn save(
    conn: &mut DbConn,
    keys: &Keys,
    org_id: &str,
    provider: &dyn Provider,
    input: &CredentialsInput,
) -> Result<(), AppError> {
    let info = provider.info();
    if !info.needs_app_credentials {
        return Err(AppError::bad_request(format!(
            "{} needs no app credentials",
            info.name
        )));
    }
    let client_id = input.client_id.trim();
    if client_id.is_empty() || client_id.len() > 500 {
        return Err(AppError::bad_request(
            "the Client ID is required (at most 500 characters)",
        ));
    }
    let redirect_uri = match input
        .redirect_uri
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) => Some(check_redirect_override(v).map_err(AppError::bad_request)?),
        None => None,
    };
    let instance_url = match input
        .instance_url
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) if info.has_instance_url => {
            Some(check_instance_url(v).map_err(AppError::bad_request)?)
        }
        Some(_) => {
            return Err(AppError::bad_request(format!(
                "{} takes no instance URL",
                info.name
            )));
        }
        None => None,
    };
    let secret = input.client_secret.trim();
    if secret.len() > 1000 {
        return Err(AppError::bad_request("the Client Secret is too long"));
    }
    let existing: Option<String> = provider_credentials::table
        .filter(provider_credentials::organization_id.eq(org_id))
        .filter(provider_credentials::provider.eq(info.identifier))
        .select(provider_credentials::client_secret)
        .first(conn)
        .optional()?;
    let sealed_secret = match (secret.is_empty(), existing) {
        (false, _) => keys.seal(secret),
        (true, Some(kept)) => kept,
        (true, None) => return Err(AppError::bad_request("the Client Secret is required")),
    };
    let sealed_id = keys.seal(client_id);
    let at = now();
    diesel::delete(
        provider_credentials::table
            .filter(provider_credentials::organization_id.eq(org_id))
            .filter(provider_credentials::provider.eq(info.identifier)),
    )
    .execute(conn)?;
    diesel::insert_into(provider_credentials::table)
        .values((
            provider_credentials::organization_id.eq(org_id),
            provider_credentials::provider.eq(info.identifier),
            provider_credentials::client_id.eq(sealed_id),
            provider_credentials::client_secret.eq(sealed_secret),
            provider_credentials::redirect_uri.eq(redirect_uri),
            provider_credentials::instance_url.eq(instance_url),
            provider_credentials::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes an organization's credentials for a network.
pub fn remove(conn: &mut DbConn, org_id: &str, provider: &str) -> Result<(), AppError> {
    diesel::delete(
        provider_credentials::table
            .filter(provider_credentials::organization_id.eq(org_id))
            .filter(provider_credentials::provider.eq(provider)),
    )
    .execute(conn)?;
    Ok(())
}

/// What is stored for the organization, without secrets.
pub fn summaries(
    conn: &mut DbConn,
    keys: &Keys,
    org_id: &str,
) -> Result<Vec<StoredSummary>, AppError> {
    let rows: Vec<Row> = provider_credentials::table
        .filter(provider_credentials::organization_id.eq(org_id))
        .select((
            provider_credentials::provider,
            provider_credentials::client_id,
            provider_credentials::client_secret,
            provider_credentials::redirect_uri,
            provider_credentials::instance_url,
            provider_credentials::updated_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(StoredSummary {
                client_id: keys.open(&r.client_id).map_err(AppError::from)?,
                provider: r.provider,
                redirect_uri: r.redirect_uri,
                instance_url: r.instance_url,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

/// The app to connect with: the organization's own, else (when the operator allows it) the
/// instance's from the environment, else none. Networks without app credentials get `None`
/// and are always usable.
pub fn resolve(
    conn: &mut DbConn,
    keys: &Keys,
    config: &Config,
    org_id: &str,
    provider: &dyn Provider,
) -> Result<Option<AppCredentials>, AppError> {
    let info = provider.info();
    if !info.needs_app_credentials {
        return Ok(None);
    }
    let row: Option<Row> = provider_credentials::table
        .filter(provider_credentials::organization_id.eq(org_id))
        .filter(provider_credentials::provider.eq(info.identifier))
        .select((
            provider_credentials::provider,
            provider_credentials::client_id,
            provider_credentials::client_secret,
            provider_credentials::redirect_uri,
            provider_credentials::instance_url,
            provider_credentials::updated_at,
        ))
        .first(conn)
        .optional()?;
    if let Some(r) = row {
        let open = |v: &str| keys.open(v).map_err(AppError::from);
        return Ok(Some(AppCredentials {
            client_id: open(&r.client_id)?,
            client_secret: open(&r.client_secret)?,
            redirect_uri: r
                .redirect_uri
                .unwrap_or_else(|| default_redirect_uri(config, provider)),
            instance_url: r
                .instance_url
                .or_else(|| info.default_instance.map(str::to_owned)),
        }));
    }
    Ok(from_env(config, provider))
}

/// The instance-wide credentials under the network's own (Postiz's) variable names, when the
/// operator enabled them.
fn from_env(config: &Config, provider: &dyn Provider) -> Option<AppCredentials> {
    if !config.providers.env_credentials {
        return None;
    }
    let info = provider.info();
    let names = info.env?;
    let env = &config.providers.env;
    let instance_url = info.has_instance_url.then(|| {
        names
            .instance_url
            .and_then(|name| env.get(name))
            .map(|u| u.trim_end_matches('/').to_owned())
            .or_else(|| info.default_instance.map(str::to_owned))
    });
    Some(AppCredentials {
        client_id: env.get(names.client_id)?,
        client_secret: env.get(names.client_secret)?,
        redirect_uri: default_redirect_uri(config, provider),
        instance_url: instance_url.flatten(),
    })
}

/// Every sealed value of this table, for a master-key rotation: (organization, provider, id, secret).
pub fn reseal_all(
    conn: &mut DbConn,
    reseal: &dyn Fn(&str) -> Result<String, AppError>,
) -> Result<usize, AppError> {
    let rows: Vec<(String, String, String, String)> = provider_credentials::table
        .select((
            provider_credentials::organization_id,
            provider_credentials::provider,
            provider_credentials::client_id,
            provider_credentials::client_secret,
        ))
        .load(conn)?;
    let count = rows.len();
    for (org, provider, id, secret) in rows {
        diesel::update(
            provider_credentials::table
                .filter(provider_credentials::organization_id.eq(&org))
                .filter(provider_credentials::provider.eq(&provider)),
        )
        .set((
            provider_credentials::client_id.eq(reseal(&id)?),
            provider_credentials::client_secret.eq(reseal(&secret)?),
        ))
        .execute(conn)?;
    }
    Ok(count)
}
