//! What every HTML page shares: rendering with a status, local-redirect checks, and the
//! stylesheet and script compiled into the binary (no CDN, no third-party resources).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::AppError;

/// Renders a page with the given status; pages are never cached.
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.render()?))
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page that explains something (often a problem) and sends the browser nowhere.
pub fn message(status: StatusCode, title: &str, message: &str) -> Result<HttpResponse, AppError> {
    html(status, &MessagePage { title, message })
}

/// A `303 See Other` to a path of ours.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `next` when it is a path on this server, else `fallback`: never an open redirect.
pub fn local_path<'a>(next: &'a str, fallback: &'a str) -> &'a str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok { next } else { fallback }
}

const APP_CSS: &str = include_str!("../static/app.css");
const APP_JS: &str = include_str!("../static/app.js");

/// `GET /static/{file}`: the few assets the pages use.
pub async fn static_file(file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        _ => return HttpResponse::NotFound().json(serde_json::json!({"msg": "Not found"})),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// The fields of a `multipart/form-data` body: name → bytes (the last one wins), at most
/// `limit` bytes in all, so an oversized upload is refused without being held in memory.
pub async fn read_multipart(
    mut body: actix_multipart::Multipart,
    limit: usize,
) -> Result<std::collections::HashMap<String, Vec<u8>>, AppError> {
    use futures_util::StreamExt;
    let mut fields = std::collections::HashMap::new();
    let mut total = 0usize;
    while let Some(field) = body.next().await {
        let mut field = field.map_err(|e| AppError::bad_request(format!("Invalid form: {e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::bad_request(format!("Invalid form: {e}")))?;
            total += chunk.len();
            if total > limit {
                return Err(AppError::bad_request(format!(
                    "The form is larger than {} KB",
                    limit / 1024
                )));
            }
            value.extend_from_slice(&chunk);
        }
        fields.insert(name, value);
    }
    Ok(fields)
}

/// A text field of a multipart form ("" when absent or not UTF-8).
pub fn text_field(fields: &std::collections::HashMap<String, Vec<u8>>, name: &str) -> String {
    fields
        .get(name)
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/settings/members", "/"), "/settings/members");
        assert_eq!(local_path("//evil.example", "/"), "/");
        assert_eq!(local_path("https://evil.example", "/"), "/");
        assert_eq!(local_path("/\\evil.example", "/"), "/");
        assert_eq!(local_path("/a b", "/"), "/");
    }

    #[test]
    fn encoding_keeps_unreserved_characters() {}
}
