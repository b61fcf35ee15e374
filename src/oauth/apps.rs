//! Developer apps: registration, edits, secret rotation, deletion and client authentication.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::redirect;
use crate::crypto;
use crate::db::schema::{oauth_apps, oauth_codes, oauth_tokens};
use crate::db::{DbConn, now};
use crate::error::AppError;

/// The built-in first-party client used by device login.
pub const CLI_CLIENT_ID: &str = "socialgate-cli";
/// Largest uploaded app picture.
pub const MAX_PICTURE_BYTES: usize = 512 * 1024;

/// An app as stored (without its picture bytes).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = oauth_apps)]
pub struct App {
    pub id: String,
    pub organization_id: Option<String>,
    pub client_id: String,
    pub client_secret_hash: Option<String>,
    pub name: String,
    pub description: String,
    pub picture_url: Option<String>,
    pub picture_type: Option<String>,
    pub redirect_uris: String,
    pub first_party: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Registered by the client itself (`POST /oauth/register`), not by a developer.
    pub dynamic: bool,
}

impl App {
    pub fn redirect_uris(&self) -> Vec<String> {
        crate::db::json_column(&self.redirect_uris, "oauth_apps.redirect_uris")
    }

    /// Public clients have no secret and must use PKCE.
    pub fn is_public(&self) -> bool {
        self.client_secret_hash.is_none()
    }

    /// Where the consent screen and settings load the picture from, if there is one.
    pub fn picture_src(&self) -> Option<String> {
        if self.picture_type.is_some() {
            Some(format!("/oauth/apps/{}/picture", self.client_id))
        } else {
            self.picture_url.clone()
        }
    }

    /// The letter shown when there is no picture.
    pub fn initial(&self) -> String {
        self.name
            .chars()
            .next()
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_default()
    }
}

/// A picture change.
pub enum Picture {
    Keep,
    Remove,
    Url(String),
    Upload(Vec<u8>),
}

/// What a developer submits when creating or editing an app.
pub struct AppInput {
    pub name: String,
    pub description: String,
    pub redirect_uris: Vec<String>,
    pub picture: Picture,
}

impl AppInput {
    /// Checks every field; the error says what is wrong in words a developer understands.
    fn check(&self) -> Result<(), AppError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::bad_request(
                "App Name is required and must have at most 100 characters",
            ));
        }
        if self.description.chars().count() > 500 {
            return Err(AppError::bad_request(
                "Description must have at most 500 characters",
            ));
        }
        let uris: Vec<&str> = self
            .redirect_uris
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .collect();
        if uris.is_empty() {
            return Err(AppError::bad_request(
                "At least one Redirect URL is required",
            ));
        }
        if uris.len() > 20 {
            return Err(AppError::bad_request("At most 20 Redirect URLs"));
        }
        for uri in &uris {
            redirect::check_registrable(uri)
                .map_err(|e| AppError::bad_request(format!("Redirect URL {e}")))?;
        }
        match &self.picture {
            Picture::Url(url)
                if !url.starts_with("https://")
                    || url.len() > 2000
                    || redirect::host_of(url) == *url =>
            {
                Err(AppError::bad_request(
                    "Profile Picture must be an https URL",
                ))
            }
            Picture::Upload(bytes) if bytes.len() > MAX_PICTURE_BYTES => Err(
                AppError::bad_request("Profile Picture must be at most 512 KB"),
            ),
            Picture::Upload(bytes) if crate::media::sniff_image(bytes).is_none() => Err(
                AppError::bad_request("Profile Picture must be a PNG, JPEG, GIF or WebP image"),
            ),
            _ => Ok(()),
        }
    }

    fn uris_json(&self) -> String {
        let mut uris: Vec<&str> = Vec::new();
        for u in self
            .redirect_uris
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
        {
            if !uris.contains(&u) {
                uris.push(u);
            }
        }
        serde_json::to_string(&uris).unwrap_or_else(|_| "[]".into())
    }
}

fn new_client_id() -> String {
    crypto::new_secret("pca_", 32)
}

fn new_client_secret() -> String {
    crypto::new_secret("pcs_", 48)
}

/// Registers an app for the organization; returns it and its secret (none for a public client).
pub fn create(
    conn: &mut DbConn,
    org_id: Option<&str>,
    input: &AppInput,
    public: bool,
) -> Result<(App, Option<String>), AppError> {
    input.check()?;
    insert(conn, org_id, input, public, false)
}

/// Registers an app a client registered itself (RFC 7591): `pcd_` client id, no organization.
/// Its redirect URIs were checked by the caller (private-use schemes are allowed there).
pub fn create_dynamic(
    conn: &mut DbConn,
    input: &AppInput,
    public: bool,
) -> Result<(App, Option<String>), AppError> {
    insert(conn, None, input, public, true)
}

/// Self-registered apps nobody approved within this time are removed.
pub const UNUSED_DYNAMIC_LIFETIME: chrono::Duration = chrono::Duration::days(30);

/// Removes the self-registered apps older than `UNUSED_DYNAMIC_LIFETIME` that no user approved.
pub fn prune_dynamic(conn: &mut DbConn) -> Result<usize, AppError> {
    use crate::db::schema::oauth_grants;
    let approved = oauth_grants::table.select(oauth_grants::app_id);
    Ok(diesel::delete(
        oauth_apps::table
            .filter(oauth_apps::dynamic.eq(true))
            .filter(oauth_apps::created_at.lt(now() - UNUSED_DYNAMIC_LIFETIME))
            .filter(oauth_apps::id.ne_all(approved)),
    )
    .execute(conn)?)
}

fn insert(
    conn: &mut DbConn,
    org_id: Option<&str>,
    input: &AppInput,
    public: bool,
    dynamic: bool,
) -> Result<(App, Option<String>), AppError> {
    let secret = (!public).then(new_client_secret);
    let (picture_url, picture_type, picture_data) = match &input.picture {
        Picture::Url(url) => (Some(url.clone()), None, None),
        Picture::Upload(bytes) => (None, crate::media::sniff_image(bytes), Some(bytes.clone())),
        Picture::Keep | Picture::Remove => (None, None, None),
    };
    let id = crypto::new_id();
    let now = now();
    diesel::insert_into(oauth_apps::table)
        .values((
            oauth_apps::id.eq(&id),
            oauth_apps::organization_id.eq(org_id),
            oauth_apps::client_id.eq(if dynamic {
                crypto::new_secret("pcd_", 32)
            } else {
                new_client_id()
            }),
            oauth_apps::client_secret_hash.eq(secret.as_deref().map(crypto::sha256_hex)),
            oauth_apps::name.eq(input.name.trim()),
            oauth_apps::description.eq(input.description.trim()),
            oauth_apps::picture_url.eq(picture_url),
            oauth_apps::picture_type.eq(picture_type),
            oauth_apps::picture_data.eq(picture_data),
            oauth_apps::redirect_uris.eq(input.uris_json()),
            oauth_apps::first_party.eq(false),
            oauth_apps::dynamic.eq(dynamic),
            oauth_apps::created_at.eq(now),
            oauth_apps::updated_at.eq(now),
        ))
        .execute(conn)?;
    let app = oauth_apps::table
        .find(&id)
        .select(App::as_select())
        .first(conn)?;
    Ok((app, secret))
}

/// The organization's apps, newest first.
pub fn list(conn: &mut DbConn, org_id: &str) -> Result<Vec<App>, AppError> {
    Ok(oauth_apps::table
        .filter(oauth_apps::organization_id.eq(org_id))
        .order(oauth_apps::created_at.desc())
        .select(App::as_select())
        .load(conn)?)
}

/// One of the organization's apps (404 for anyone else's).
pub fn get(conn: &mut DbConn, org_id: &str, id: &str) -> Result<App, AppError> {
    oauth_apps::table
        .find(id)
        .filter(oauth_apps::organization_id.eq(org_id))
        .select(App::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("No such app"))
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<App>, AppError> {
    Ok(oauth_apps::table
        .find(id)
        .select(App::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_client_id(conn: &mut DbConn, client_id: &str) -> Result<Option<App>, AppError> {
    // On every token request: the concrete connection caches the statement.
    Ok(crate::per_backend!(conn, |c| oauth_apps::table
        .filter(oauth_apps::client_id.eq(client_id))
        .select(App::as_select())
        .first(c)
        .optional())?)
}

/// Changes name, description, picture and redirect URLs.
pub fn update(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    input: &AppInput,
) -> Result<App, AppError> {
    input.check()?;
    let app = get(conn, org_id, id)?;
    let target = oauth_apps::table.find(&app.id);
    diesel::update(target)
        .set((
            oauth_apps::name.eq(input.name.trim()),
            oauth_apps::description.eq(input.description.trim()),
            oauth_apps::redirect_uris.eq(input.uris_json()),
            oauth_apps::updated_at.eq(now()),
        ))
        .execute(conn)?;
    match &input.picture {
        Picture::Keep => 0,
        Picture::Remove => diesel::update(target)
            .set((
                oauth_apps::picture_url.eq(None::<String>),
                oauth_apps::picture_type.eq(None::<String>),
                oauth_apps::picture_data.eq(None::<Vec<u8>>),
            ))
            .execute(conn)?,
        Picture::Url(url) => diesel::update(target)
            .set((
                oauth_apps::picture_url.eq(Some(url)),
                oauth_apps::picture_type.eq(None::<String>),
                oauth_apps::picture_data.eq(None::<Vec<u8>>),
            ))
            .execute(conn)?,
        Picture::Upload(bytes) => diesel::update(target)
            .set((
                oauth_apps::picture_url.eq(None::<String>),
                oauth_apps::picture_type.eq(crate::media::sniff_image(bytes)),
                oauth_apps::picture_data.eq(Some(bytes)),
            ))
            .execute(conn)?,
    };
    get(conn, org_id, id)
}

/// A new secret; the old one stops working now. With `revoke_tokens`, every token issued to the
/// app is revoked too (for a leaked secret). Returns the new secret, shown once.
pub fn rotate_secret(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    revoke_tokens: bool,
) -> Result<String, AppError> {
    let app = get(conn, org_id, id)?;
    if app.is_public() {
        return Err(AppError::bad_request(
            "A public client has no secret to rotate",
        ));
    }
    let secret = new_client_secret();
    conn.transaction(|conn| {
        diesel::update(oauth_apps::table.find(&app.id))
            .set((
                oauth_apps::client_secret_hash.eq(crypto::sha256_hex(&secret)),
                oauth_apps::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if revoke_tokens {
            revoke_all_tokens(conn, &app.id)?;
        }
        Ok::<_, AppError>(())
    })?;
    Ok(secret)
}

/// Revokes every token and pending code of the app.
fn revoke_all_tokens(conn: &mut DbConn, app_id: &str) -> Result<(), AppError> {
    crate::db::notices::ended_here();
    let now = now();
    diesel::update(
        oauth_tokens::table
            .filter(oauth_tokens::app_id.eq(app_id))
            .filter(oauth_tokens::revoked_at.is_null()),
    )
    .set(oauth_tokens::revoked_at.eq(now))
    .execute(conn)?;
    diesel::update(
        oauth_codes::table
            .filter(oauth_codes::app_id.eq(app_id))
            .filter(oauth_codes::consumed_at.is_null()),
    )
    .set(oauth_codes::expires_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Deletes the app: its grants, codes and tokens go with it (irreversible).
pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> Result<(), AppError> {
    let app = get(conn, org_id, id)?;
    // Grants, pending requests and device codes reference the app, and codes and tokens their
    // grant, all `ON DELETE CASCADE`: one statement removes every trace.
    crate::db::notices::ended_here();
    diesel::delete(oauth_apps::table.find(&app.id)).execute(conn)?;
    Ok(())
}

/// The uploaded picture of an app: (content type, bytes).
pub fn picture(conn: &mut DbConn, client_id: &str) -> Result<Option<(String, Vec<u8>)>, AppError> {
    let row: Option<(Option<String>, Option<Vec<u8>>)> = oauth_apps::table
        .filter(oauth_apps::client_id.eq(client_id))
        .select((oauth_apps::picture_type, oauth_apps::picture_data))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((Some(t), Some(d))) => Some((t, d)),
        _ => None,
    })
}

/// Why a client could not be authenticated.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientAuthError {
    UnknownClient,
    MissingSecret,
    WrongSecret,
    /// A public client sent a secret it cannot have.
    UnexpectedSecret,
}

/// A client as the token-family endpoints see it: just what authentication needs.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = oauth_apps)]
pub struct Client {
    pub id: String,
    pub client_id: String,
    client_secret_hash: Option<String>,
}

/// Finds the client and checks its secret in constant time. Unknown clients cost the same work.
pub fn authenticate(
    conn: &mut DbConn,
    client_id: &str,
    secret: Option<&str>,
) -> Result<Client, ClientAuthError> {
    // On every token request: the concrete connection caches the statement.
    let found: Option<Client> = crate::per_backend!(conn, |c| oauth_apps::table
        .filter(oauth_apps::client_id.eq(client_id))
        .select(Client::as_select())
        .first(c)
        .optional())
    .ok()
    .flatten();
    let presented = secret.map(crypto::sha256_hex);
    let Some(client) = found else {
        let _ = crypto::ct_eq(
            presented.as_deref().unwrap_or(""),
            &crypto::sha256_hex("no such client"),
        );
        return Err(ClientAuthError::UnknownClient);
    };
    match (&client.client_secret_hash, presented) {
        (None, None) => Ok(client),
        (None, Some(_)) => Err(ClientAuthError::UnexpectedSecret),
        (Some(_), None) => Err(ClientAuthError::MissingSecret),
        (Some(stored), Some(given)) => {
            if crypto::ct_eq(stored, &given) {
                Ok(client)
            } else {
                Err(ClientAuthError::WrongSecret)
            }
        }
    }
}
