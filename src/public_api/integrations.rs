//! `/public/v1` channels: list, delete, groups, connect URLs, settings and tools.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Caller;
use crate::AppState;
use crate::channels::connect::{self, StartRequest};
use crate::channels::flow::StartError;
use crate::channels::{self, Channel};
use crate::error::AppError;
use crate::oauth::scopes::Scope;
use crate::providers::{On, sandbox};

/// A channel as Postiz lists it; tokens never leave the server.
fn channel_json(c: &Channel, customers: &[channels::Customer]) -> Value {
    let mut out = json!({
        "id": c.id,
        "name": c.name,
        "identifier": c.provider,
        "picture": c.picture,
        "disabled": c.disabled,
        "profile": c.profile,
    });
    if let Some(customer) = c
        .customer_id
        .as_ref()
        .and_then(|id| customers.iter().find(|x| &x.id == id))
    {
        out["customer"] = json!({ "id": customer.id, "name": customer.name });
    }
    out
}

#[derive(Deserialize)]
pub struct GroupQuery {
    #[serde(default)]
    group: Option<String>,
}

/// Rendered channel lists by (organization, group), with the generation they were made at
/// (`Db::channels_generation`, which changes on every instance when the list changes).
/// (organization, group) → (generation, JSON)
type Rendered = std::collections::HashMap<(String, Option<String>), ((u64, u64), web::Bytes)>;

static RENDERED: std::sync::LazyLock<std::sync::Mutex<Rendered>> =
    std::sync::LazyLock::new(Default::default);

/// `GET /integrations[?group=]`
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::IntegrationsRead)?;
    let org = caller.organization_id;
    let group = query.into_inner().group.filter(|g| !g.is_empty());
    // Read before the database: a change after this makes the stored copy stale at once.
    let generation = state.db.channels_generation(&org);
    let cache_key = (org.clone(), group.clone());
    if let Some(generation) = generation
        && let Some((made_at, body)) = RENDERED
            .lock()
            .ok()
            .and_then(|r| r.get(&cache_key).cloned())
        && made_at == generation
    {
        return Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(body));
    }
    let body = state
        .db
        .read(move |conn| {
            let customers = channels::customers_of(conn, &org)?;
            let list = channels::list(conn, &org, group.as_deref())?;
            Ok::<_, AppError>(
                list.iter()
                    .map(|c| channel_json(c, &customers))
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    let bytes = web::Bytes::from(serde_json::to_vec(&body).map_err(AppError::internal)?);
    if let Some(generation) = generation
        && let Ok(mut rendered) = RENDERED.lock()
    {
        if rendered.len() > 10_000 {
            rendered.clear();
        }
        rendered.insert(cache_key, (generation, bytes.clone()));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(bytes))
}

/// `DELETE /integrations/{id}`: a soft delete.
pub async fn delete(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::IntegrationsWrite)?;
    let org = caller.organization_id;
    state
        .db
        .run(move |conn| {
            channels::delete(conn, &org, &id).map_err(not_found_as("Integration not found"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

fn not_found_as(msg: &'static str) -> impl Fn(AppError) -> AppError {
    move |e| match e {
        AppError::NotFound(_) => AppError::not_found(msg),
        other => other,
    }
}

/// `GET /groups`: the organization's customers.
pub async fn groups(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require(Scope::IntegrationsRead)?;
    let org = caller.organization_id;
    let list = state
        .db
        .run(move |conn| channels::customers_of(conn, &org))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize)]
pub struct SocialQuery {
    #[serde(default)]
    refresh: Option<String>,
    #[serde(default, rename = "returnURL")]
    return_url: Option<String>,
}

/// `GET /social/{provider}[?refresh=<channel id>][&returnURL=…]` → `{"url"}`.
pub async fn social(
    state: web::Data<AppState>,
    caller: Caller,
    provider: super::Segment,
    query: web::Query<SocialQuery>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::IntegrationsWrite)?;
    let query = query.into_inner();
    let request = StartRequest {
        organization_id: caller.organization_id,
        provider: provider.into_inner(),
        refresh: query.refresh.filter(|r| !r.is_empty()),
        return_url: query.return_url,
        started_by: None,
    };
    match connect::start(&state, request).await {
        Ok(url) => Ok(HttpResponse::Ok().json(json!({ "url": url }))),
        Err(StartError::NotAllowed) => Err(AppError::bad_request("Integration not allowed")),
        Err(StartError::NotConfigured(m)) => Err(AppError::bad_request(m)),
        Err(StartError::App(AppError::NotFound(_))) => {
            Err(AppError::not_found("Integration not found"))
        }
        Err(StartError::App(e)) => Err(e),
        Err(StartError::Provider(e)) => {
            tracing::warn!(error = %e, "the network refused to start a connection");
            Err(AppError::BadGateway("Failed to generate auth URL".into()))
        }
    }
}

async fn channel_of(state: &AppState, caller: &Caller, id: String) -> Result<Channel, AppError> {
    let org = caller.organization_id.clone();
    state
        .db
        .run(move |conn| {
            channels::get(conn, &org, &id).map_err(not_found_as("Integration not found"))
        })
        .await
}

/// `GET /integration-settings/{id}` → `{"output":{rules,maxLength,settings,tools}}`.
pub async fn settings(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::IntegrationsRead)?;
    let channel = channel_of(&state, &caller, id.into_inner()).await?;
    let output = match channel.provider() {
        Some(p) => crate::providers::describe(&state.config, p, &channel.additional()),
        None => json!({ "rules": "", "maxLength": 0, "settings": {}, "tools": [] }),
    };
    Ok(HttpResponse::Ok().json(json!({ "output": output })))
}

#[derive(Deserialize)]
pub struct TriggerBody {
    #[serde(rename = "methodName")]
    method_name: String,
    #[serde(default)]
    data: Value,
}

/// `POST /integration-trigger/{id}` `{methodName, data}` → `{"output":…}`.
pub async fn trigger(
    state: web::Data<AppState>,
    caller: Caller,
    id: super::Segment,
    body: web::Json<TriggerBody>,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::IntegrationsWrite)?;
    if !(body.data.is_object() || body.data.is_null()) {
        return Err(AppError::bad_request("data must be an object"));
    }
    let channel = channel_of(&state, &caller, id.into_inner()).await?;
    let provider = channel
        .provider()
        .ok_or_else(|| AppError::not_found("Integration provider not found"))?;
    if !provider
        .info()
        .tools
        .iter()
        .any(|t| t.method_name == body.method_name)
    {
        return Err(AppError::not_found("Tool not found"));
    }
    let auth = channels::fresh_auth(&state.ctx(), &state.keys, &channel).await?;
    let output = provider
        .call_tool(
            &On {
                ctx: &state.ctx(),
                auth: &auth,
            },
            &body.method_name,
            &body.data,
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "output": output })))
}

/// `GET /sandbox/posts`: what the caller's sandbox channels published.
pub async fn sandbox_posts(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, AppError> {
    caller.require(Scope::PostsRead)?;
    let org = caller.organization_id;
    let posts = state
        .db
        .run(move |conn| sandbox::list_posts(conn, &org))
        .await?;
    let body: Vec<Value> = posts
        .iter()
        .map(|p| p.to_json(&state.config.public_url))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}
