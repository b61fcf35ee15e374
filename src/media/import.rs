//! Media arriving in the library: a file already streamed to a temporary file, or one fetched
//! from a URL through the SSRF guard. Types come from the bytes; sizes are limited per type.
//! The Public API's uploads and the MCP tools both come through here.

use super::guard::{self, FetchError, Limits};
use super::library::{self, Media, NewMedia};
use super::storage::{Incoming, Store};
use super::{extension, max_size, sniff};
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;

/// Where media is kept: the configuration, the database and the storage.
#[derive(Clone, Copy)]
pub struct Library<'a> {
    pub config: &'a Config,
    pub db: &'a Db,
    pub store: &'a Store,
}

pub fn too_large(limit: u64) -> AppError {
    AppError::bad_request(format!(
        "File size exceeds the maximum allowed size of {limit} bytes."
    ))
}

pub fn unsupported() -> AppError {
    AppError::bad_request("Unsupported file type.")
}

/// A storage failure: 507 when the disk is full, else internal.
pub fn io(e: std::io::Error) -> AppError {
    if matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    ) {
        return AppError::InsufficientStorage;
    }
    AppError::internal(format!("storage: {e}"))
}

/// Stores bytes already in memory (from a URL) as a new medium of the organization.
async fn store(
    at: Library<'_>,
    org: String,
    bytes: &[u8],
    content_type: &'static str,
    original_name: Option<String>,
) -> Result<Media, AppError> {
    let mut incoming = Incoming::create(at.config).await.map_err(io)?;
    if let Err(e) = incoming.write(bytes).await {
        incoming.discard().await;
        return Err(io(e));
    }
    keep(at, org, incoming, content_type, original_name).await
}

/// Keeps a file written to a temporary file as a new medium of the organization.
pub async fn keep(
    at: Library<'_>,
    org: String,
    incoming: Incoming,
    content_type: &'static str,
    original_name: Option<String>,
) -> Result<Media, AppError> {
    let size = incoming.written as i64;
    let (key, name) = incoming
        .keep(at.store, extension(content_type))
        .await
        .map_err(io)?;
    let path = at.store.url(at.config, &key);
    let stored = key.clone();
    let created = at
        .db
        .run(move |conn| {
            library::create(
                conn,
                &NewMedia {
                    organization_id: &org,
                    name: &name,
                    original_name: original_name.as_deref(),
                    path: &path,
                    storage_key: &key,
                    content_type,
                    size,
                },
            )
        })
        .await;
    if created.is_err() {
        // No row, no file: the upload did not happen.
        at.store.remove(at.config, &stored).await;
    }
    created
}

/// Fetches a public image, MP4 video or PDF document (through the SSRF guard) into the
/// organization's library.
pub async fn from_url(at: Library<'_>, org: String, url: &str) -> Result<Media, AppError> {
    let (Some(ext), Some(kind)) = (super::extension_of(url), super::kind_of_path(url)) else {
        return Err(unsupported());
    };
    let limits = Limits {
        max_bytes: match kind {
            "video" => 200 * 1024 * 1024,
            "document" => max_size("application/pdf"),
            _ => max_size("image/png"),
        },
        timeout: std::time::Duration::from_secs(30),
        trusted: at.config.fetch_trusted.clone(),
    };
    let fetched = match guard::fetch(url, &limits).await {
        Ok(f) => f,
        Err(FetchError::TooLarge) => return Err(AppError::bad_request("File is too large.")),
        Err(e) => {
            tracing::info!(error = %e, "upload-from-url refused");
            return Err(AppError::bad_request(format!("Failed to fetch URL: {e}")));
        }
    };
    let kind = sniff(&fetched.bytes).ok_or_else(unsupported)?;
    store(at, org, &fetched.bytes, kind, Some(format!("upload{ext}"))).await
}
