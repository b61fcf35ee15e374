//! The master key is bound to its data: the database records the id and a check value of the
//! key that seals its values (never the key). A server or admin command that finds another
//! key refuses to run, naming where it looked, instead of sealing new values with a key the
//! rest of the data does not know; and a new key file is only ever created beside a database
//! that no key is bound to yet.

use std::path::{Path, PathBuf};

use diesel::prelude::*;

use super::keys::{KeyError, Keys, MasterKey, load_or_create_master_key, load_previous_master_key};
use crate::config::Config;
use crate::db::schema::{integrations, master_key, provider_credentials};
use crate::db::{DbConn, DbError, now};

/// The key bound to the database: (id, check value).
pub fn bound(conn: &mut DbConn) -> Result<Option<(String, String)>, DbError> {
    Ok(master_key::table
        .select((master_key::id, master_key::check_value))
        .first(conn)
        .optional()?)
}

/// Where a key was looked for, in words an operator can act on.
fn source(config: &Config) -> String {
    if config.secret_key.is_some() {
        "SOCIALGATE_SECRET_KEY".into()
    } else {
        format!(
            "{} (SOCIALGATE_SECRET_KEY unset; SOCIALGATE_DATA_DIR is {})",
            key_file(&config.data_dir).display(),
            config.data_dir.display()
        )
    }
}

fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("secret.key")
}

fn mismatch(config: &Config, bound_id: &str, loaded: Option<&str>) -> KeyError {
    let found = match loaded {
        Some(id) => format!("found key {id} in {}", source(config)),
        None => format!("found no key in {}", source(config)),
    };
    KeyError::Mismatch(format!(
        "this database's values are sealed under master key {bound_id}, but this process {found}. \
         Run it with the installation's key: set SOCIALGATE_SECRET_KEY, or SOCIALGATE_DATA_DIR to \
         the directory holding its secret.key (and DATABASE_URL to its database). Nothing was written."
    ))
}

/// The id of the key a sealed value was made with (`v1.<key id>.…`).
fn key_id_of(sealed: &str) -> Option<&str> {
    sealed.split('.').nth(1)
}

/// One sealed value, from a database bound to no key yet (made before binding existed).
fn any_sealed(conn: &mut DbConn) -> Result<Option<String>, DbError> {
    let token: Option<String> = integrations::table
        .select(integrations::access_token)
        .first(conn)
        .optional()?;
    if token.is_some() {
        return Ok(token);
    }
    Ok(provider_credentials::table
        .select(provider_credentials::client_secret)
        .first(conn)
        .optional()?)
}

/// Loads the installation's keys and checks them against the database, binding a database that
/// has no key yet. A key file is created only for a database no key is bound to.
pub fn load_keys(
    config: &Config,
    conn: &mut DbConn,
    production: bool,
) -> Result<(Keys, Option<PathBuf>), KeyError> {
    let db = |e: DbError| KeyError::Database(e.to_string());
    let binding = bound(conn).map_err(db)?;
    if let Some((bound_id, _)) = &binding
        && config.secret_key.is_none()
        && !key_file(&config.data_dir).exists()
    {
        return Err(mismatch(config, bound_id, None));
    }
    let (master, created) =
        load_or_create_master_key(config.secret_key, &config.data_dir, production)?;
    let previous = load_previous_master_key(config.previous_secret_key, &config.data_dir)?;
    let matches = |key: &MasterKey, id: &str, check: &str| {
        key.id() == id && super::ct_eq(&key.check_value(), check)
    };
    match binding {
        Some((id, check)) => {
            let current = matches(&master, &id, &check);
            // During a rotation the database is still bound to the key being replaced.
            let rotating = previous.as_ref().is_some_and(|p| matches(p, &id, &check));
            if !current && !rotating {
                return Err(mismatch(config, &id, Some(&master.id())));
            }
        }
        None => {
            if let Some(sealed) = any_sealed(conn).map_err(db)?
                && let Some(id) = key_id_of(&sealed)
                && id != master.id()
                && previous.as_ref().is_none_or(|p| p.id() != id)
            {
                return Err(mismatch(config, id, Some(&master.id())));
            }
            bind(conn, &master).map_err(db)?;
        }
    }
    let mut keys = Keys::new(&master);
    if let Some(previous) = previous {
        keys = keys.with_previous(&previous);
    }
    Ok((keys, created))
}

/// Binds the database to `key` (first use, or the end of a rotation).
pub fn bind(conn: &mut DbConn, key: &MasterKey) -> Result<(), DbError> {
    crate::db::write_transaction(conn, |conn| {
        diesel::delete(master_key::table).execute(conn)?;
        diesel::insert_into(master_key::table)
            .values((
                master_key::id.eq(key.id()),
                master_key::check_value.eq(key.check_value()),
                master_key::bound_at.eq(now()),
            ))
            .execute(conn)?;
        Ok::<_, DbError>(())
    })
}

/// Whether the database is bound to the key `keys` seals with (what `/ready` checks).
pub fn agrees(conn: &mut DbConn, keys: &Keys) -> Result<bool, DbError> {
    Ok(bound(conn)?.is_none_or(|(id, _)| id == keys.key_id() || keys.opens(&id)))
}
