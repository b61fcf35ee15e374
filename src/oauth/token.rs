//! The token endpoint, RFC 7009 revocation and RFC 7662 introspection, with client
//! authentication and brute-force limits per client and IP.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Serialize;
use serde_json::json;

use super::apps::{self, Client, ClientAuthError};
use super::device;
use super::error::OAuthError;
use super::params::{self, ClientCredentials, Params};
use super::tokens;
use super::{codes, resource};
use crate::AppState;
use crate::accounts::throttle::{self, Limit};
use crate::db::DbConn;
use crate::error::AppError;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Failures (bad client credentials, invalid grants) for one client from one IP.
const PER_CLIENT_AND_IP: Limit = Limit {
    max_failures: 20,
    window: Duration::minutes(15),
};
/// Failures from one IP, whatever the client.
const PER_IP: Limit = Limit {
    max_failures: 100,
    window: Duration::minutes(15),
};

/// The throttle keys of a request: (client + IP, IP).
fn throttle_keys(req: &HttpRequest, client_id: &str) -> (String, String) {
    let ip = crate::client_ip::text(req);
    (
        format!("oauth:client:{client_id}:{ip}"),
        format!("oauth:ip:{ip}"),
    )
}

fn check_throttle(conn: &mut DbConn, keys: &(String, String)) -> Result<(), AppError> {
    throttle::check_all(conn, &[(&keys.0, PER_CLIENT_AND_IP), (&keys.1, PER_IP)])
}

fn record_failure(conn: &mut DbConn, keys: &(String, String)) -> Result<(), AppError> {
    throttle::record_failure(conn, &keys.0, PER_CLIENT_AND_IP)?;
    throttle::record_failure(conn, &keys.1, PER_IP)
}

/// Checks the limits and the client's credentials on a connection, counting a failure.
fn authenticate_on(
    conn: &mut DbConn,
    creds: &ClientCredentials,
    keys: &(String, String),
) -> Result<Client, OAuthError> {
    check_throttle(conn, keys)?;
    match apps::authenticate(conn, &creds.client_id, creds.secret.as_deref()) {
        Ok(app) => Ok(app),
        Err(why) => {
            record_failure(conn, keys)?;
            if why != ClientAuthError::UnknownClient {
                tracing::info!(client_id = %creds.client_id, reason = ?why, "client authentication failed");
            }
            Err(OAuthError::invalid_client(creds.basic))
        }
    }
}

/// Authenticates the client of a token-family request, counting failures.
pub async fn authenticate_client(
    state: &AppState,
    req: &HttpRequest,
    params: &Params,
) -> Result<Client, OAuthError> {
    let creds = params::client_credentials(req, params)?;
    let keys = throttle_keys(req, &creds.client_id);
    state
        .db
        .run(move |conn| authenticate_on(conn, &creds, &keys))
        .await
}

#[derive(Serialize)]
struct TokenBody {
    id: String,
    cus: Option<String>,
    access_token: String,
    token_type: &'static str,
    scope: String,
}

/// The success body, fields in Postiz's order.
pub fn token_response(
    organization_id: String,
    access_token: String,
    scope: String,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(TokenBody {
            id: organization_id,
            cus: None,
            access_token,
            token_type: "bearer",
            scope,
        })
}

/// `POST /oauth/token`
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let params = Params::from_body(&req, &body)?;
    if let Some(name) = params.repeated() {
        return Err(OAuthError::invalid_request(&format!(
            "the parameter {name} was sent more than once"
        )));
    }
    let grant_type = params
        .one("grant_type")?
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if grant_type != "authorization_code" && grant_type != DEVICE_GRANT {
        return Err(OAuthError::unsupported_grant_type());
    }
    if grant_type == DEVICE_GRANT {
        let client = authenticate_client(&state, &req, &params).await?;
        return device::grant(&state, &client, &params).await;
    }
    let creds = params::client_credentials(&req, &params)?;
    let code = params
        .one("code")?
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?
        .to_owned();
    let redirect_uri = params.one("redirect_uri")?.map(str::to_owned);
    let verifier = params.one("code_verifier")?.map(str::to_owned);
    let resource = match params.one("resource")? {
        None => None,
        Some(r) => Some(
            resource::canonical(&state.config.public_url, r).ok_or_else(|| {
                OAuthError::invalid_target(&resource::refusal(&state.config.public_url))
            })?,
        ),
    };
    let keys = throttle_keys(&req, &creds.client_id);
    // The whole exchange as one write: on SQLite it joins the write lane, whose batches commit
    // together. Refusals are results, not errors, so what they wrote (a failure counted, the
    // tokens of a replayed code revoked) is committed with them.
    let issued = state
        .db
        .write(move |conn| {
            let client = match authenticate_on(conn, &creds, &keys) {
                Ok(client) => client,
                Err(refused) => return Ok(Err(refused)),
            };
            let result = codes::exchange(
                conn,
                &client,
                &code,
                redirect_uri.as_deref(),
                verifier.as_deref(),
                resource.as_deref(),
            );
            if let Err(e) = &result
                && e.error == "invalid_grant"
            {
                record_failure(conn, &keys)?;
            }
            Ok::<_, AppError>(result)
        })
        .await
        .map_err(OAuthError::from)??;
    Ok(token_response(
        issued.organization_id,
        issued.access_token,
        issued.scopes,
    ))
}

/// Runs `f` with the authenticated client and the `token` parameter, in one trip to the pool
/// (what revocation and introspection share).
async fn with_client_and_token<T, F>(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
    f: F,
) -> Result<(Client, T), OAuthError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, &Client, &str) -> Result<T, AppError> + Send + 'static,
{
    let params = Params::from_body(req, body)?;
    let creds = params::client_credentials(req, &params)?;
    let token = params
        .one("token")?
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?
        .to_owned();
    let keys = throttle_keys(req, &creds.client_id);
    state
        .db
        .run(move |conn| {
            let client = authenticate_on(conn, &creds, &keys)?;
            let out = f(conn, &client, &token)?;
            Ok((client, out))
        })
        .await
}

/// `POST /oauth/revoke` (RFC 7009): a client revokes its own token; anything else is a no-op 200.
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    with_client_and_token(&state, &req, &body, |conn, client, token| {
        tokens::revoke(conn, &client.id, token)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// `POST /oauth/introspect` (RFC 7662): only the client's own live tokens are active.
pub async fn introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let (client, info) = with_client_and_token(&state, &req, &body, |conn, client, token| {
        tokens::introspect(conn, &client.id, token)
    })
    .await?;
    let body = match info {
        None => json!({ "active": false }),
        Some(info) => json!({
            "active": true,
            "scope": info.scopes.to_string(),
            "client_id": client.client_id,
            "token_type": "bearer",
            "sub": info.user_id,
            "organization_id": info.organization_id,
            "iat": info.created_at.and_utc().timestamp(),
            "iss": state.config.public_url,
        }),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}
