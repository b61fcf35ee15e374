//! `socialgate admin …`: scripted provisioning. Each command returns the JSON object it prints.

use serde_json::{Value, json};

use diesel::prelude::*;

use crate::accounts::api_keys;
use crate::accounts::users::{self, NewUserOrg};
use crate::channels::{self, credentials};
use crate::config::Config;
use crate::crypto::password;
use crate::crypto::{self, Keys, MasterKey};
use crate::db::DbConn;
use crate::error::AppError;
use crate::oauth::apps::{self, AppInput, Picture};
use crate::providers;

/// Creates a user who becomes admin of `org` (found by name, or created) or of a new organization.
pub fn create_user(
    conn: &mut DbConn,
    email: &str,
    password: &str,
    name: Option<&str>,
    org: Option<&str>,
) -> Result<Value, AppError> {
    let email = users::normalize_email(email);
    if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return Err(AppError::bad_request(format!(
            "{email:?} is not an email address"
        )));
    }
    if password.chars().count() < 8 {
        return Err(AppError::bad_request(
            "the password must have at least 8 characters",
        ));
    }
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or_default());
    let default_org = format!("{name}'s organization");
    let org_choice = match org.map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => NewUserOrg::FindOrCreate(o),
        None => NewUserOrg::Create(&default_org),
    };
    let (user_id, organization_id) =
        users::create_user(conn, &email, name, password::hash(password), org_choice)?;
    Ok(json!({ "user_id": user_id, "organization_id": organization_id }))
}

/// Creates an API key for the organization with this id or name; the key appears only here.
pub fn create_api_key(conn: &mut DbConn, org: &str, name: Option<&str>) -> Result<Value, AppError> {
    let org = users::find_organization(conn, org)?.ok_or_else(|| {
        AppError::not_found(format!("no organization has the id or name {org:?}"))
    })?;
    let (row, key) = api_keys::create(conn, &org.id, name.unwrap_or("default"))?;
    Ok(json!({ "id": row.id, "key": key }))
}

/// Registers an OAuth app for the organization; public apps get no secret.
pub fn create_oauth_app(
    conn: &mut DbConn,
    org: &str,
    name: &str,
    redirect_uris: &[String],
    public: bool,
) -> Result<Value, AppError> {
    let org = users::find_organization(conn, org)?.ok_or_else(|| {
        AppError::not_found(format!("no organization has the id or name {org:?}"))
    })?;
    let input = AppInput {
        name: name.to_owned(),
        description: String::new(),
        redirect_uris: redirect_uris.to_vec(),
        picture: Picture::Keep,
    };
    let (app, secret) = apps::create(conn, Some(&org.id), &input, public)?;
    let mut out = json!({ "client_id": app.client_id });
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
    }
    Ok(out)
}

/// The vault keys of this installation (the master key, and the one a rotation replaced),
/// checked against the key the database is bound to.
pub fn keys(config: &Config, conn: &mut DbConn) -> Result<Keys, AppError> {
    crypto::binding::load_keys(config, conn, false)
        .map(|(keys, _)| keys)
        .map_err(|e| AppError::Conflict(e.to_string()))
}

/// Stores an organization's app credentials for a network (as the admin page does).
#[allow(clippy::too_many_arguments)] // one argument per command-line option
pub fn set_provider_credentials(
    conn: &mut DbConn,
    keys: &Keys,
    org: &str,
    provider: &str,
    client_id: &str,
    client_secret: &str,
    redirect_uri: Option<&str>,
    instance_url: Option<&str>,
) -> Result<Value, AppError> {
    let org = users::find_organization(conn, org)?.ok_or_else(|| {
        AppError::not_found(format!("no organization has the id or name {org:?}"))
    })?;
    let network = providers::get(provider)
        .ok_or_else(|| AppError::not_found(format!("no provider is called {provider:?}")))?;
    if client_secret.trim().is_empty() {
        return Err(AppError::bad_request("--client-secret is required"));
    }
    let input = credentials::CredentialsInput {
        client_id: client_id.to_owned(),
        client_secret: client_secret.to_owned(),
        redirect_uri: redirect_uri.map(str::to_owned),
        instance_url: instance_url.map(str::to_owned),
    };
    credentials::save(conn, keys, &org.id, network, &input)?;
    Ok(json!({ "provider": network.info().identifier, "configured": true }))
}

/// Re-encrypts every sealed value under `new`. With a key file, the file is replaced first and
/// the old key kept beside it until every value moved; with `SOCIALGATE_SECRET_KEY`, the
/// operator passes the new key and then sets it in the environment.
pub fn rotate_secret_key(
    conn: &mut DbConn,
    config: &Config,
    new_key: Option<[u8; 32]>,
) -> Result<Value, AppError> {
    let internal = AppError::internal;
    // Only the installation's own key may rotate (or resume a rotation of) its data.
    keys(config, conn)?;
    let (old, _) = crypto::load_or_create_master_key(config.secret_key, &config.data_dir, false)
        .map_err(internal)?;
    let previous = crypto::load_previous_master_key(config.previous_secret_key, &config.data_dir)
        .map_err(internal)?;
    let from_file = config.secret_key.is_none();
    let new = match (new_key, from_file) {
        (Some(bytes), _) => MasterKey::from_bytes(bytes),
        // A file rotation interrupted earlier resumes with the key already in place.
        (None, true) if previous.is_some() => old.clone(),
        (None, true) => MasterKey::generate(),
        (None, false) => {
            return Err(AppError::bad_request(
                "SOCIALGATE_SECRET_KEY is set: pass --new-key with the new key (e.g. `openssl rand -base64 32`), then set SOCIALGATE_SECRET_KEY to it",
            ));
        }
    };
    let mut keys = Keys::new(&new);
    if new.id() != old.id() {
        keys = keys.with_previous(&old);
    }
    if let Some(p) = &previous {
        keys = keys.with_previous(p);
    }
    if from_file && new.id() != old.id() {
        crypto::start_key_file_rotation(&config.data_dir, &old, &new).map_err(internal)?;
    }
    let reseal = |sealed: &str| -> Result<String, AppError> {
        if keys.is_current(sealed) {
            return Ok(sealed.to_owned());
        }
        let plain = keys.open(sealed).map_err(AppError::from)?;
        Ok(keys.seal(&plain))
    };
    let resealed = crate::db::write_transaction(conn, |conn| {
        let mut n = credentials::reseal_all(conn, &reseal)?;
        n += channels::reseal_all(conn, &reseal)?;
        n += crate::channels::flow::reseal_all(conn, &reseal)?;
        // Every value moved: the database now belongs to the new key.
        crypto::binding::bind(conn, &new)?;
        Ok::<_, AppError>(n)
    })?;
    if from_file {
        crypto::finish_key_file_rotation(&config.data_dir).map_err(internal)?;
    }
    Ok(json!({
        "key_id": keys.key_id(),
        "previous_key_id": old.id(),
        "rows": resealed,
    }))
}

/// Counts sealed values not under the current key (what a finished rotation leaves: none).
pub fn values_under_other_keys(conn: &mut DbConn, keys: &Keys) -> Result<usize, AppError> {
    use crate::db::schema::{integrations, provider_credentials};
    let mut sealed: Vec<String> = provider_credentials::table
        .select(provider_credentials::client_secret)
        .load(conn)?;
    sealed.extend(
        integrations::table
            .select(integrations::access_token)
            .load::<String>(conn)?,
    );
    Ok(sealed.iter().filter(|s| !keys.is_current(s)).count())
}
