//! In-app notifications of an organization (published, failed, channel needs reconnecting).

use diesel::prelude::*;
use serde::Serialize;

use crate::crypto::new_id;
use crate::db::schema::notifications;
use crate::db::{DbConn, now};
use crate::error::AppError;

/// Notifications per page of `GET /public/v1/notifications` (Postiz's limit).
pub const PAGE_SIZE: i64 = 100;

#[derive(Clone, Debug, Queryable, Serialize)]
pub struct Notification {
    pub id: String,
    #[serde(skip)]
    pub organization_id: String,
    pub content: String,
    pub link: Option<String>,
    #[serde(rename = "createdAt", serialize_with = "crate::publishing::posts::iso")]
    pub created_at: chrono::NaiveDateTime,
}

/// Records a notification for everyone in the organization.
pub fn add(
    conn: &mut DbConn,
    org_id: &str,
    content: &str,
    link: Option<&str>,
) -> Result<(), AppError> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(new_id()),
            notifications::organization_id.eq(org_id),
            notifications::content.eq(content),
            notifications::link.eq(link),
            notifications::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// One page, newest first, and the total.
pub fn page(
    conn: &mut DbConn,
    org_id: &str,
    page: i64,
) -> Result<(Vec<Notification>, i64), AppError> {
    let total: i64 = notifications::table
        .filter(notifications::organization_id.eq(org_id))
        .count()
        .get_result(conn)?;
    let list = notifications::table
        .filter(notifications::organization_id.eq(org_id))
        .order((notifications::created_at.desc(), notifications::id.desc()))
        .offset(page * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .load(conn)?;
    Ok((list, total))
}
