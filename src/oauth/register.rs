//! Dynamic client registration (RFC 7591): `POST /oauth/register`, what MCP clients (Claude,
//! Cursor, VS Code, the Inspector) do on every connection. Unauthenticated and limited per IP;
//! the app belongs to no organization, shows as self-registered on the consent screen, and is
//! removed after 30 days if no user approved it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};

use super::apps::{self, AppInput, Picture};
use super::redirect;
use super::scopes::Scopes;
use crate::AppState;
use crate::accounts::throttle::{self, Limit};
use crate::error::AppError;

/// Registrations from one IP.
const PER_IP: Limit = Limit {
    max_failures: 30,
    window: Duration::hours(1),
};

/// The metadata we read; anything else a client sends is accepted and ignored.
#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// An RFC 7591 §3.2.2 error: 400 with `error` and `error_description`.
fn refuse(error: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "error": error, "error_description": description }))
}

/// Checks a redirect URI a client registers itself.
fn check_redirect(config: &crate::config::Config, uri: &str) -> Result<(), String> {
    redirect::check_dynamic(uri)?;
    let url = url::Url::parse(uri).map_err(|_| format!("{uri}: not an absolute URL"))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    if url.scheme() == "https"
        && !config.dcr_allowed_hosts.is_empty()
        && !config.dcr_allowed_hosts.contains(&host)
    {
        return Err(format!(
            "{uri}: this server accepts self-registered clients only for the hosts its operator allows"
        ));
    }
    Ok(())
}

/// `POST /oauth/register`
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let metadata: Metadata = match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => match serde_json::from_value(v) {
            Ok(m) => m,
            Err(e) => return Ok(refuse("invalid_client_metadata", &e.to_string())),
        },
        _ => {
            return Ok(refuse(
                "invalid_client_metadata",
                "the body must be a JSON object of client metadata",
            ));
        }
    };
    let uris = metadata.redirect_uris.unwrap_or_default();
    if uris.is_empty() {
        return Ok(refuse("invalid_redirect_uri", "redirect_uris is required"));
    }
    if uris.len() > 10 {
        return Ok(refuse("invalid_redirect_uri", "at most 10 redirect_uris"));
    }
    for uri in &uris {
        if let Err(e) = check_redirect(&state.config, uri) {
            return Ok(refuse("invalid_redirect_uri", &e));
        }
    }
    let method = metadata
        .token_endpoint_auth_method
        .unwrap_or_else(|| "client_secret_basic".into());
    let public = match method.as_str() {
        "none" => true,
        "client_secret_post" | "client_secret_basic" => false,
        other => {
            return Ok(refuse(
                "invalid_client_metadata",
                &format!(
                    "token_endpoint_auth_method {other} is not supported: use none, client_secret_post or client_secret_basic"
                ),
            ));
        }
    };
    // Clients ask for refresh tokens by default; we grant the code flow alone, and say so.
    if let Some(grants) = &metadata.grant_types
        && !grants.iter().any(|g| g == "authorization_code")
    {
        return Ok(refuse(
            "invalid_client_metadata",
            "grant_types must include authorization_code, the only grant offered to registered clients",
        ));
    }
    if let Some(types) = &metadata.response_types
        && !types.iter().any(|t| t == "code")
    {
        return Ok(refuse(
            "invalid_client_metadata",
            "response_types must include code",
        ));
    }
    let scope = match metadata.scope.as_deref().map(Scopes::parse) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(unknown)) => {
            return Ok(refuse(
                "invalid_client_metadata",
                &format!("unknown scope {unknown}"),
            ));
        }
    };
    let name: String = metadata
        .client_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("MCP client")
        .chars()
        .take(100)
        .collect();
    let input = AppInput {
        name: name.clone(),
        description: String::new(),
        redirect_uris: uris.clone(),
        picture: Picture::Keep,
    };
    let ip = crate::client_ip::text(&req);
    let key = format!("oauth:register:{ip}");
    let (app, secret) = state
        .db
        .write(move |conn| {
            throttle::check(conn, &key, PER_IP)?;
            throttle::record_failure(conn, &key, PER_IP)?;
            apps::prune_dynamic(conn)?;
            apps::create_dynamic(conn, &input, public)
        })
        .await?;
    tracing::info!(client_id = %app.client_id, "client registered itself");
    let mut answer = json!({
        "client_id": app.client_id,
        "client_id_issued_at": app.created_at.and_utc().timestamp(),
        "client_name": name,
        "redirect_uris": uris,
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
    });
    if let Some(scope) = scope {
        answer["scope"] = json!(scope.to_string());
    }
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret);
        answer["client_secret_expires_at"] = json!(0);
    }
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Cache-Control", "no-store"))
        .json(answer))
}
