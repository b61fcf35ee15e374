//! CORS for what agents and browser-based MCP clients (the Inspector) call from another
//! origin: the OAuth metadata documents, `/oauth/register`, `/oauth/token` and `/mcp`. Any
//! origin, no credentials (these take bearer tokens, never cookies); a preflight is answered
//! here, before anything asks for a credential.

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderMap};

const EXACT: [&str; 6] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/oauth-protected-resource/mcp",
    "/oauth/register",
    "/oauth/token",
    "/oauth/revoke",
    "/mcp",
];

/// The request headers MCP clients send.
pub const ALLOW_HEADERS: &str = "authorization, content-type, mcp-protocol-version, \
     mcp-session-id, mcp-method, mcp-name, last-event-id";

/// Whether the path is one that other origins may call.
pub fn covered(path: &str) -> bool {
    EXACT.contains(&path) || path.starts_with("/mcp/")
}

/// The answer to a preflight (`OPTIONS`) on a covered path, before anything asks for a
/// credential.
pub fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish()
}

/// What an answer on a covered path carries for other origins.
pub fn annotate(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::HeaderValue::from_static("WWW-Authenticate, Mcp-Session-Id"),
    );
}
