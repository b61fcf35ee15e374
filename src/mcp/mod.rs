//! The MCP server for AI agents: `POST /mcp` (and `/mcp/{apiKey}`, the less safe form Postiz
//! users have in their configs), Streamable HTTP without sessions, answering JSON. Both eras of
//! the protocol: the `initialize` handshake of 2025-03-26 to 2025-11-25 that deployed clients
//! speak, and 2026-07-28's per-request `_meta` with `server/discover`. The credential is the
//! Public API's (an API key or a `pos_` token, raw or after `Bearer `); without one the answer
//! is a 401 naming the protected-resource metadata (RFC 9728), where OAuth clients discover
//! the authorization server, register (RFC 7591) and ask for a token bound to `/mcp`.
//! The tools (`tools.rs`) call the Public API's own handlers.

mod tools;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::oauth::resource;
use crate::oauth::scopes::{ALL, Scopes};
use crate::public_api::Caller;
use crate::public_api::{auth, limits};

/// The protocol revisions served: the modern one, then the handshake ones, newest first.
pub const MODERN: &str = "2026-07-28";
pub const LEGACY: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// Largest request body.
const MAX_BODY: usize = 1024 * 1024;

const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";

/// JSON-RPC and MCP error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const HEADER_MISMATCH: i64 = -32020;
const UNSUPPORTED_VERSION: i64 = -32022;

const INSTRUCTIONS: &str = "socialgate schedules posts to the user's social channels. Call \
integrationList to find channel ids, and integrationSchema with a channel's platform before \
writing a post (it gives the rules, the maximum length and the settings). Dates are ISO 8601; \
without an offset they are UTC. Confirm with the user before publishing or deleting anything. \
Use validatePostTool to check a post without creating it.";

/// The documented routes (`openapi.yaml` is held to them).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/.well-known/oauth-protected-resource/mcp"),
    ("post", "/mcp"),
];

/// Mounts `/mcp`, `/mcp/{apiKey}` and the protected-resource metadata.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/oauth-protected-resource/mcp",
        web::get().to(protected_resource),
    )
    .service(
        web::resource(["/mcp", "/mcp/{key}"])
            .route(web::post().to(endpoint))
            .default_service(web::to(not_allowed)),
    );
}

/// `GET /.well-known/oauth-protected-resource/mcp` (RFC 9728). There is deliberately no
/// document at the root: clients would then demand OAuth of API-key users too.
async fn protected_resource(state: web::Data<AppState>) -> HttpResponse {
    let base = &state.config.public_url;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(json!({
            "resource": resource::url(base, "/mcp"),
            "authorization_servers": [base],
            "scopes_supported": ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "bearer_methods_supported": ["header"],
            "resource_name": "socialgate",
            "resource_documentation": format!("{base}/docs"),
        }))
}

/// `GET`/`DELETE`/… on `/mcp`: no server stream, no sessions.
async fn not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "POST, OPTIONS"))
        .json(error_body(
            Value::Null,
            INVALID_REQUEST,
            "this MCP server answers POST only (no sessions, no server stream)",
            None,
        ))
}

fn error_body(id: Value, code: i64, message: &str, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

fn answer(status: StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

fn rpc_error(status: StatusCode, id: Value, code: i64, message: &str) -> HttpResponse {
    answer(status, error_body(id, code, message, None))
}

/// The 401 that starts an OAuth client's discovery; `invalid` adds `error="invalid_token"`.
fn challenge(state: &AppState, invalid: bool) -> HttpResponse {
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        state.config.public_url
    );
    let mut value = format!(
        "Bearer resource_metadata=\"{metadata}\", scope=\"{}\"",
        Scopes::all()
    );
    let message = if invalid {
        value.push_str(", error=\"invalid_token\", error_description=\"The credential is unknown, revoked or bound to another resource\"");
        "Invalid API key or OAuth token"
    } else {
        "Missing Authorization header: send an API key or an OAuth token"
    };
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, value))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(error_body(Value::Null, INVALID_REQUEST, message, None))
}

/// Whether a browser origin may call: ours, or one the operator allows.
fn origin_allowed(state: &AppState, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let ours = url::Url::parse(&state.config.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    origin == ours || state.config.mcp_allowed_origins.contains(&origin)
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `POST /mcp`, `POST /mcp/{apiKey}`
async fn endpoint(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    if let Some(origin) = header_str(&req, "origin")
        && !origin_allowed(&state, origin)
    {
        return rpc_error(
            StatusCode::FORBIDDEN,
            Value::Null,
            INVALID_REQUEST,
            "this Origin may not call the MCP server",
        );
    }
    let credential = match req.match_info().get("key") {
        Some(key) => Some(key.to_owned()),
        None => auth::presented(&req),
    };
    let Some(credential) = credential else {
        return challenge(&state, false);
    };
    // The same per-credential budget as `/public/v1`.
    let budget = limits::per_minute(&state, &credential).await;
    let caller = match auth::resolve(&state, credential, "/mcp").await {
        Ok(caller) => caller,
        Err(AppError::Unauthorized(_)) => return challenge(&state, true),
        Err(e) => return e.error_response(),
    };
    match budget {
        Ok(Some(d)) if !d.allowed => return d.refusal(),
        Ok(_) => {}
        Err(e) => return e.error_response(),
    }
    let content_type = header_str(&req, "content-type").unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Value::Null,
            INVALID_REQUEST,
            "Content-Type must be application/json",
        );
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                PARSE_ERROR,
                "the request body could not be read",
            );
        };
        if body.len() + chunk.len() > MAX_BODY {
            return rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Value::Null,
                INVALID_REQUEST,
                "the request body is larger than 1 MiB",
            );
        }
        body.extend_from_slice(&chunk);
    }
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            PARSE_ERROR,
            "Parse error: the body is not JSON",
        );
    };
    handle(&state, &req, &caller, message).await
}

/// One JSON-RPC message, in the era it speaks.
async fn handle(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    caller: &Caller,
    message: Value,
) -> HttpResponse {
    let Value::Object(object) = &message else {
        let text = if message.is_array() {
            "batches are not supported: send one JSON-RPC message"
        } else {
            "Invalid Request: a JSON-RPC message is an object"
        };
        return rpc_error(StatusCode::BAD_REQUEST, Value::Null, INVALID_REQUEST, text);
    };
    let id = object.get("id").cloned();
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            id.unwrap_or(Value::Null),
            INVALID_REQUEST,
            "Invalid Request: jsonrpc must be \"2.0\"",
        );
    }
    let method = object.get("method").and_then(Value::as_str);
    // Notifications, and responses to requests we never send: accepted, nothing to answer.
    let (Some(id), Some(method)) = (id.filter(|i| !i.is_null()), method) else {
        return if method.is_some() || object.contains_key("result") || object.contains_key("error")
        {
            HttpResponse::Accepted().finish()
        } else {
            rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                INVALID_REQUEST,
                "Invalid Request: no method",
            )
        };
    };
    if !(id.is_string() || id.is_i64() || id.is_u64()) {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            INVALID_REQUEST,
            "Invalid Request: id must be a string or an integer",
        );
    }
    let params = object.get("params").cloned().unwrap_or(json!({}));
    let modern = params
        .pointer("/_meta")
        .and_then(|m| m.get(PROTOCOL_VERSION_KEY))
        .cloned();
    match modern {
        Some(version) => modern_request(state, req, caller, id, method, &params, version).await,
        None => legacy_request(state, req, caller, id, method, &params).await,
    }
}

fn server_info() -> Value {
    json!({ "name": "socialgate", "title": "socialgate", "version": env!("CARGO_PKG_VERSION") })
}

fn capabilities() -> Value {
    json!({ "tools": { "listChanged": false } })
}

fn ok(id: Value, result: Value) -> HttpResponse {
    answer(
        StatusCode::OK,
        json!({ "jsonrpc": "2.0", "id": id, "result": result }),
    )
}

/// A request of the `initialize` era.
async fn legacy_request(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    caller: &Caller,
    id: Value,
    method: &str,
    params: &Value,
) -> HttpResponse {
    if method != "initialize"
        && let Some(version) = header_str(req, "mcp-protocol-version")
        && !LEGACY.contains(&version)
    {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            id,
            INVALID_REQUEST,
            &format!(
                "MCP-Protocol-Version {version} is not supported here: use one of {} (or {MODERN} with _meta)",
                LEGACY.join(", ")
            ),
        );
    }
    match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or_default();
            let version = if LEGACY.contains(&asked) {
                asked
            } else {
                LEGACY[0]
            };
            ok(
                id,
                json!({
                    "protocolVersion": version,
                    "capabilities": capabilities(),
                    "serverInfo": server_info(),
                    "instructions": INSTRUCTIONS,
                }),
            )
        }
        "ping" => ok(id, json!({})),
        "tools/list" => match tools::list(caller, params) {
            Ok(result) => ok(id, result),
            Err(message) => rpc_error(StatusCode::OK, id, INVALID_PARAMS, &message),
        },
        "tools/call" => call(state, caller, id, params, false).await,
        _ => rpc_error(
            StatusCode::OK,
            id,
            METHOD_NOT_FOUND,
            &format!("Method not found: {method}"),
        ),
    }
}

/// A request of the 2026-07-28 era: its version, headers and capabilities checked, and every
/// result marked complete and private to this credential.
async fn modern_request(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    caller: &Caller,
    id: Value,
    method: &str,
    params: &Value,
    version: Value,
) -> HttpResponse {
    let bad = |code: i64, message: &str, data: Option<Value>| {
        answer(
            StatusCode::BAD_REQUEST,
            error_body(id.clone(), code, message, data),
        )
    };
    let version = version.as_str().unwrap_or_default();
    if version != MODERN {
        let mut supported = vec![MODERN];
        supported.extend(LEGACY);
        return bad(
            UNSUPPORTED_VERSION,
            &format!("Unsupported protocol version {version}"),
            Some(json!({ "supported": supported, "requested": version })),
        );
    }
    if header_str(req, "mcp-protocol-version") != Some(version) {
        return bad(
            HEADER_MISMATCH,
            "MCP-Protocol-Version must equal the _meta protocol version",
            None,
        );
    }
    if header_str(req, "mcp-method") != Some(method) {
        return bad(
            HEADER_MISMATCH,
            "Mcp-Method must equal the request's method",
            None,
        );
    }
    if method == "tools/call" && header_str(req, "mcp-name") != params["name"].as_str() {
        return bad(HEADER_MISMATCH, "Mcp-Name must equal the tool's name", None);
    }
    if params["_meta"]
        .get("io.modelcontextprotocol/clientCapabilities")
        .is_none()
    {
        return bad(
            INVALID_PARAMS,
            "_meta must carry io.modelcontextprotocol/clientCapabilities",
            None,
        );
    }
    let result = match method {
        "server/discover" => {
            let mut supported = vec![MODERN];
            supported.extend(LEGACY);
            Ok(json!({
                "supportedVersions": supported,
                "capabilities": capabilities(),
                "instructions": INSTRUCTIONS,
            }))
        }
        "tools/list" => {
            tools::list(caller, params).map_err(|m| (StatusCode::OK, INVALID_PARAMS, m))
        }
        "tools/call" => return call(state, caller, id, params, true).await,
        _ => Err((
            StatusCode::NOT_FOUND,
            METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )),
    };
    match result {
        Ok(result) => ok(id, modern_result(result)),
        Err((status, code, message)) => rpc_error(status, id, code, &message),
    }
}

/// What 2026-07-28 requires on every result.
fn modern_result(mut result: Value) -> Value {
    result["resultType"] = json!("complete");
    result["ttlMs"] = json!(0);
    result["cacheScope"] = json!("private");
    result["_meta"] = json!({ "io.modelcontextprotocol/serverInfo": server_info() });
    result
}

/// `tools/call`: the tool's result, or for a tool the credential may not use a 403 that names
/// the scope it needs.
async fn call(
    state: &web::Data<AppState>,
    caller: &Caller,
    id: Value,
    params: &Value,
    modern: bool,
) -> HttpResponse {
    let name = params["name"].as_str().unwrap_or_default();
    let Some(tool) = tools::find(name) else {
        return rpc_error(
            StatusCode::OK,
            id,
            INVALID_PARAMS,
            &format!("Unknown tool: {name}"),
        );
    };
    if !caller.scopes.contains(tool.scope) {
        let needed = tool.scope.as_str();
        return HttpResponse::Forbidden()
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!(
                    "Bearer error=\"insufficient_scope\", scope=\"{needed}\", resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
                    state.config.public_url
                ),
            ))
            .json(error_body(
                id,
                INVALID_REQUEST,
                &format!("{name} needs the {needed} scope"),
                None,
            ));
    }
    let arguments = params.get("arguments").cloned().unwrap_or(json!({}));
    let result = tools::call(state, caller, tool, arguments).await;
    ok(
        id,
        if modern {
            modern_result(result)
        } else {
            result
        },
    )
}
