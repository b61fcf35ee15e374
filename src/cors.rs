//! CORS for what agents and browser-based MCP clients (the Inspector) call from another
//! origin: the OAuth metadata documents, `/oauth/register`, `/oauth/token` and `/mcp`. Any
//! origin, no credentials (these take bearer tokens, never cookies); a preflight is answered
//! here, before anything asks for a credential.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

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

fn covered(path: &str) -> bool {
    EXACT.contains(&path) || path.starts_with("/mcp/")
}

/// The middleware.
pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    if !covered(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    if req.method() == Method::OPTIONS {
        let preflight = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish();
        return Ok(req.into_response(preflight).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        header::HeaderValue::from_static("WWW-Authenticate, Mcp-Session-Id"),
    );
    Ok(res.map_into_left_body())
}
