//! `POST /upload` (multipart, streamed to storage) and `POST /upload-from-url` (through the
//! SSRF guard). Types come from the bytes; sizes are limited per type.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, Responder, web};
use futures_util::StreamExt;
use serde::Deserialize;

use super::Caller;
use crate::AppState;
use crate::error::AppError;
use crate::media::guard::{self, FetchError, Limits};
use crate::media::library::{self, NewMedia};
use crate::media::storage::{self, Incoming};
use crate::media::{extension, max_size, sniff};
use crate::oauth::scopes::Scope;

/// Bytes needed before the type can be told.
const SNIFF_BYTES: usize = 32;

fn too_large(limit: u64) -> AppError {
    AppError::bad_request(format!(
        "File size exceeds the maximum allowed size of {limit} bytes."
    ))
}

fn unsupported() -> AppError {
    AppError::bad_request("Unsupported file type.")
}

/// Stores bytes already in memory (from a URL) as a new medium of the organization.
async fn store(
    state: &AppState,
    org: String,
    bytes: &[u8],
    content_type: &'static str,
    original_name: Option<String>,
) -> Result<HttpResponse, AppError> {
    let mut incoming = Incoming::create(&state.config).await.map_err(io)?;
    if let Err(e) = incoming.write(bytes).await {
        incoming.discard().await;
        return Err(io(e));
    }
    finish(state, org, incoming, content_type, original_name).await
}

fn io(e: std::io::Error) -> AppError {
    AppError::internal(format!("storage: {e}"))
}

async fn finish(
    state: &AppState,
    org: String,
    incoming: Incoming,
    content_type: &'static str,
    original_name: Option<String>,
) -> Result<HttpResponse, AppError> {
    let size = incoming.written as i64;
    let (key, name) = incoming
        .keep(&state.store, extension(content_type))
        .await
        .map_err(io)?;
    let path = state.store.url(&state.config, &key);
    let row = state
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
        .await?;
    Ok(HttpResponse::Created().json(row.to_json()))
}

/// `POST /upload` with the multipart field `file`.
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    mut form: Multipart,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::MediaWrite)?;
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|e| AppError::bad_request(format!("Malformed upload: {e}")))?;
        if field.name() != Some("file") {
            continue;
        }
        let original = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(|n| n.chars().take(255).collect::<String>());
        let mut head: Vec<u8> = Vec::new();
        let mut incoming: Option<(Incoming, &'static str)> = None;
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    if let Some((i, _)) = incoming.take() {
                        i.discard().await;
                    }
                    return Err(AppError::bad_request(format!("Malformed upload: {e}")));
                }
            };
            match incoming.as_mut() {
                None => {
                    head.extend_from_slice(&chunk);
                    if head.len() < SNIFF_BYTES {
                        continue;
                    }
                    let kind = sniff(&head).ok_or_else(unsupported)?;
                    let mut file = Incoming::create(&state.config).await.map_err(io)?;
                    file.write(&head).await.map_err(io)?;
                    incoming = Some((file, kind));
                }
                Some((file, kind)) => {
                    if file.written + chunk.len() as u64 > max_size(kind) {
                        let limit = max_size(kind);
                        if let Some((i, _)) = incoming.take() {
                            i.discard().await;
                        }
                        return Err(too_large(limit));
                    }
                    file.write(&chunk).await.map_err(io)?;
                }
            }
        }
        let (file, kind) = match incoming {
            Some(started) => started,
            // A file shorter than the sniffing window.
            None => {
                let kind = sniff(&head).ok_or_else(unsupported)?;
                let mut file = Incoming::create(&state.config).await.map_err(io)?;
                file.write(&head).await.map_err(io)?;
                (file, kind)
            }
        };
        if file.written > max_size(kind) {
            file.discard().await;
            return Err(too_large(max_size(kind)));
        }
        return finish(&state, caller.organization_id, file, kind, original).await;
    }
    Err(AppError::bad_request("No file provided"))
}

#[derive(Deserialize)]
pub struct FromUrl {
    url: String,
}

/// The extensions `upload-from-url` accepts (before any query string).
const URL_EXTENSIONS: [&str; 6] = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4"];

/// `POST /upload-from-url` `{url}`.
pub async fn upload_from_url(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<FromUrl>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::MediaWrite)?;
    let bare = body
        .url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let Some(ext) = URL_EXTENSIONS.iter().find(|e| bare.ends_with(*e)) else {
        return Err(unsupported());
    };
    let video = *ext == ".mp4";
    let limits = Limits {
        max_bytes: if video {
            200 * 1024 * 1024
        } else {
            max_size("image/png")
        },
        timeout: std::time::Duration::from_secs(30),
        trusted: state.config.fetch_trusted.clone(),
    };
    let fetched = match guard::fetch(&body.url, &limits).await {
        Ok(f) => f,
        Err(FetchError::TooLarge) => return Err(AppError::bad_request("File is too large.")),
        Err(e) => {
            tracing::info!(error = %e, "upload-from-url refused");
            return Err(AppError::bad_request(format!("Failed to fetch URL: {e}")));
        }
    };
    let kind = sniff(&fetched.bytes).ok_or_else(unsupported)?;
    let original = format!("upload{ext}");
    store(
        &state,
        caller.organization_id,
        &fetched.bytes,
        kind,
        Some(original),
    )
    .await
}

/// `GET /uploads/YYYY/MM/DD/<name>`: stored media, public like a CDN's.
pub async fn serve(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    rest: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(path) = storage::file_of(&state.config, &rest) else {
        return Err(AppError::not_found("Not found"));
    };
    let file = actix_files::NamedFile::open(&path)
        .map_err(|_| AppError::not_found("Not found"))?
        .set_content_type(
            storage::served_type(&path)
                .parse()
                .map_err(|_| AppError::internal("mime"))?,
        )
        .disable_content_disposition();
    Ok(file
        .customize()
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .respond_to(&req)
        .map_into_boxed_body())
}
