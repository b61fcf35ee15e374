//! Grants: a user's approval of an app for one organization (what Approved Apps lists).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::scopes::Scopes;
use crate::crypto;
use crate::db::schema::{
    oauth_apps, oauth_codes, oauth_device_codes, oauth_grants, oauth_tokens, organizations,
};
use crate::db::{DbConn, now};
use crate::error::AppError;

/// Records the approval (again, if it was revoked) with these scopes; returns the grant id.
pub fn approve(
    conn: &mut DbConn,
    app_id: &str,
    user_id: &str,
    org_id: &str,
    scopes: Scopes,
) -> Result<String, AppError> {
    let existing: Option<String> = oauth_grants::table
        .filter(oauth_grants::app_id.eq(app_id))
        .filter(oauth_grants::user_id.eq(user_id))
        .filter(oauth_grants::organization_id.eq(org_id))
        .select(oauth_grants::id)
        .first(conn)
        .optional()?;
    let now = now();
    if let Some(id) = existing {
        diesel::update(oauth_grants::table.find(&id))
            .set((
                oauth_grants::scopes.eq(scopes.to_string()),
                oauth_grants::created_at.eq(now),
                oauth_grants::revoked_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        return Ok(id);
    }
    let id = crypto::new_id();
    diesel::insert_into(oauth_grants::table)
        .values((
            oauth_grants::id.eq(&id),
            oauth_grants::app_id.eq(app_id),
            oauth_grants::user_id.eq(user_id),
            oauth_grants::organization_id.eq(org_id),
            oauth_grants::scopes.eq(scopes.to_string()),
            oauth_grants::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// A line of Approved Apps.
#[derive(Clone, Debug)]
pub struct ApprovedApp {
    pub id: String,
    pub app_name: String,
    pub app_description: String,
    pub client_id: String,
    pub picture_src: Option<String>,
    pub initial: String,
    pub organization_id: String,
    pub organization_name: String,
    pub scopes: String,
    pub approved_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// Every app the user approved and has not revoked, newest first.
pub fn list_for_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<ApprovedApp>, AppError> {
    let rows: Vec<Row> = oauth_grants::table
        .inner_join(oauth_apps::table)
        .inner_join(organizations::table)
        .filter(oauth_grants::user_id.eq(user_id))
        .filter(oauth_grants::revoked_at.is_null())
        .order(oauth_grants::created_at.desc())
        .select((
            oauth_grants::id,
            oauth_apps::name,
            oauth_apps::description,
            oauth_apps::client_id,
            oauth_apps::picture_url,
            oauth_apps::picture_type,
            organizations::id,
            organizations::name,
            oauth_grants::scopes,
            oauth_grants::created_at,
            oauth_grants::last_used_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                app_name,
                app_description,
                client_id,
                picture_url,
                picture_type,
                organization_id,
                organization_name,
                scopes,
                approved_at,
                last_used_at,
            )| {
                let picture_src = match picture_type {
                    Some(_) => Some(format!("/oauth/apps/{client_id}/picture")),
                    None => picture_url,
                };
                ApprovedApp {
                    initial: app_name
                        .chars()
                        .next()
                        .map(|c| c.to_uppercase().collect())
                        .unwrap_or_default(),
                    id,
                    app_name,
                    app_description,
                    client_id,
                    picture_src,
                    organization_id,
                    organization_name,
                    scopes,
                    approved_at,
                    last_used_at,
                }
            },
        )
        .collect())
}

/// Revokes one of the user's grants: its tokens fail on the very next request and its pending
/// codes and device approvals are void.
pub fn revoke(conn: &mut DbConn, user_id: &str, grant_id: &str) -> Result<(), AppError> {
    crate::db::notices::ended_here();
    conn.transaction(|conn| {
        let now = now();
        let n = diesel::update(
            oauth_grants::table
                .find(grant_id)
                .filter(oauth_grants::user_id.eq(user_id))
                .filter(oauth_grants::revoked_at.is_null()),
        )
        .set(oauth_grants::revoked_at.eq(now))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::not_found("No such approved app"));
        }
        diesel::update(
            oauth_tokens::table
                .filter(oauth_tokens::grant_id.eq(grant_id))
                .filter(oauth_tokens::revoked_at.is_null()),
        )
        .set(oauth_tokens::revoked_at.eq(now))
        .execute(conn)?;
        diesel::update(
            oauth_codes::table
                .filter(oauth_codes::grant_id.eq(grant_id))
                .filter(oauth_codes::consumed_at.is_null()),
        )
        .set(oauth_codes::expires_at.eq(now))
        .execute(conn)?;
        diesel::update(
            oauth_device_codes::table
                .filter(oauth_device_codes::grant_id.eq(grant_id))
                .filter(oauth_device_codes::status.eq("approved")),
        )
        .set(oauth_device_codes::status.eq("denied"))
        .execute(conn)?;
        Ok(())
    })
}
