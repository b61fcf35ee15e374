//! `socialgate admin …`: scripted provisioning. Each command returns the JSON object it prints.

use serde_json::{Value, json};

use crate::accounts::api_keys;
use crate::accounts::users::{self, NewUserOrg};
use crate::crypto::password;
use crate::db::DbConn;
use crate::error::AppError;
use crate::oauth::apps::{self, AppInput, Picture};

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
