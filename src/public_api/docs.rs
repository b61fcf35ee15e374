//! `GET /public/v1/openapi.yaml` (the contract, compiled in) and `GET /docs`, a readable
//! reference made from it on the server (no CDN, no script).

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, http::header};
use askama::Template;
use serde_json::Value;

use crate::error::AppError;
use crate::pages;

/// The OpenAPI document of `/public/v1`, the OAuth server and device login.
pub const OPENAPI: &str = include_str!("../../openapi.yaml");

/// `GET /public/v1/openapi.yaml`
pub async fn spec() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(OPENAPI)
}

struct Operation {
    method: String,
    path: String,
    summary: String,
    description: String,
    parameters: Vec<(String, String, bool, String)>,
    request: Option<String>,
    responses: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage<'a> {
    title: String,
    description: String,
    operations: &'a [Operation],
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned()
}

static OPERATIONS: LazyLock<(String, String, Vec<Operation>)> = LazyLock::new(|| {
    let doc: Value = serde_yaml_ng::from_str(OPENAPI).unwrap_or(Value::Null);
    let mut ops = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let parameters = op
                    .get("parameters")
                    .or_else(|| item.get("parameters"))
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter(|p| p.get("name").is_some())
                            .map(|p| {
                                (
                                    text(p, "name"),
                                    text(p, "in"),
                                    p.get("required").and_then(Value::as_bool).unwrap_or(false),
                                    text(p, "description"),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let request = op
                    .pointer("/requestBody/content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.values().next())
                    .and_then(|m| m.get("schema"))
                    .map(|s| serde_json::to_string_pretty(s).unwrap_or_default());
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .map(|r| {
                        r.iter()
                            .map(|(code, v)| {
                                let d = text(v, "description");
                                let d = if d.is_empty() {
                                    text(v, "$ref").rsplit('/').next().unwrap_or("").to_owned()
                                } else {
                                    d
                                };
                                (code.clone(), d)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                ops.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: text(op, "summary"),
                    description: text(op, "description"),
                    parameters,
                    request,
                    responses,
                });
            }
        }
    }
    let info = doc.get("info").cloned().unwrap_or(Value::Null);
    (text(&info, "title"), text(&info, "description"), ops)
});

/// `GET /docs`
pub async fn page() -> Result<HttpResponse, AppError> {
    let (title, description, operations) = &*OPERATIONS;
    pages::html(
        StatusCode::OK,
        &DocsPage {
            title: title.clone(),
            description: description.clone(),
            operations,
        },
    )
}
