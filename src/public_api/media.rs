//! `POST /upload` (multipart, streamed to storage) and `POST /upload-from-url` (through the
//! SSRF guard). Types come from the bytes; sizes are limited per type.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, Responder, web};
use futures_util::StreamExt;
use serde::Deserialize;

use super::Caller;
use crate::AppState;
use crate::error::AppError;
use crate::media::import::{self, Library, io, too_large, unsupported};
use crate::media::storage::{self, Incoming};
use crate::media::{max_size, sniff};
use crate::oauth::scopes::Scope;

/// Bytes needed before the type can be told.
const SNIFF_BYTES: usize = 32;

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
        let media = import::keep(
            library_of(&state),
            caller.organization_id,
            file,
            kind,
            original,
        )
        .await?;
        return Ok(HttpResponse::Created().json(media.to_json()));
    }
    Err(AppError::bad_request("No file provided"))
}

#[derive(Deserialize)]
pub struct FromUrl {
    url: String,
}

/// `POST /upload-from-url` `{url}`.
pub async fn upload_from_url(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<FromUrl>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::MediaWrite)?;
    let media = import::from_url(library_of(&state), caller.organization_id, &body.url).await?;
    Ok(HttpResponse::Created().json(media.to_json()))
}

fn library_of(state: &AppState) -> Library<'_> {
    Library {
        config: &state.config,
        db: &state.db,
        store: &state.store,
    }
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
