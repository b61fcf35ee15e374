//! The organization's uploaded media (rows in `media`).

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::crypto::new_id;
use crate::db::schema::media;
use crate::db::{DbConn, now};
use crate::error::AppError;

/// One stored file.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct Media {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub original_name: Option<String>,
    pub path: String,
    pub storage_key: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: chrono::NaiveDateTime,
}

impl Media {
    /// The answer of `POST /upload`, in Postiz's fields.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "originalName": self.original_name,
            "path": self.path,
            "thumbnail": null,
            "alt": null,
        })
    }
}

/// What a stored upload is.
pub struct NewMedia<'a> {
    pub organization_id: &'a str,
    pub name: &'a str,
    pub original_name: Option<&'a str>,
    pub path: &'a str,
    pub storage_key: &'a str,
    pub content_type: &'a str,
    pub size: i64,
}

pub fn create(conn: &mut DbConn, new: &NewMedia<'_>) -> Result<Media, AppError> {
    let id = new_id();
    diesel::insert_into(media::table)
        .values((
            media::id.eq(&id),
            media::organization_id.eq(new.organization_id),
            media::name.eq(new.name),
            media::original_name.eq(new.original_name),
            media::path.eq(new.path),
            media::storage_key.eq(new.storage_key),
            media::content_type.eq(new.content_type),
            media::size.eq(new.size),
            media::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(media::table
        .find(&id)
        .select(Media::as_select())
        .first(conn)?)
}
