//! `openapi.yaml` is the contract: every mounted API route is in it, every route in it is
//! mounted, and real answers match its schemas.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Tenant, client, spawn_app};

fn spec() -> Value {
    serde_yaml_ng::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml parses")
}

/// `/a/{x}/b` → `/a/{}/b`, so parameter names do not matter.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn the_spec_and_the_mounted_routes_are_the_same() {
    let spec = spec();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((method.clone(), shape(path)));
            }
        }
    }
    let mut mounted = BTreeSet::new();
    for (method, path) in socialgate::public_api::ROUTES {
        mounted.insert((method.to_string(), shape(&format!("/public/v1{path}"))));
    }
    for (method, path) in socialgate::oauth::ROUTES
        .iter()
        .chain(socialgate::publishing::ROUTES)
        .chain(socialgate::mcp::ROUTES)
    {
        mounted.insert((method.to_string(), shape(path)));
    }
    mounted.insert(("get".into(), "/sandbox/posts".into()));
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        undocumented.is_empty(),
        "mounted but not in openapi.yaml: {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "in openapi.yaml but not mounted: {phantom:?}"
    );
}

/// Follows `#/components/…` references.
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            spec,
            spec.pointer(r.trim_start_matches('#'))
                .unwrap_or(&Value::Null),
        ),
        None => v,
    }
}

/// Checks `value` against the JSON-schema subset the spec uses; returns the first mismatch.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(spec, schema);
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        return if options.iter().any(|o| check(spec, o, value, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at}: matches no oneOf option: {value}"))
        };
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        return Err(format!("{at}: expected {c}, got {value}"));
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            return Err(format!("{at}: expected {types:?}, got {value}"));
        }
    }
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if value.get(r).is_none() {
                return Err(format!("{at}: missing {r} in {value}"));
            }
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (k, sub) in props {
            if let Some(v) = obj.get(k) {
                check(spec, sub, v, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            check(spec, items, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The answer matches what the spec says `method path` answers with this status.
fn conforms(spec: &Value, method: &str, path: &str, status: StatusCode, body: &Value) {
    let op = &spec["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not in the spec");
    let response = resolve(spec, &op["responses"][status.as_str()]);
    assert!(
        response.is_object(),
        "{method} {path} does not document {status}"
    );
    let schema = response
        .pointer("/content/application~1json/schema")
        .unwrap_or_else(|| panic!("{method} {path} {status} has no JSON schema"));
    if let Err(e) = check(spec, schema, body, "body") {
        panic!("{method} {path} {status}: {e}");
    }
}

#[actix_web::test]
async fn real_answers_match_the_schemas() {
    let spec = spec();
    let app = spawn_app().await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;
    let channel = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    use reqwest::Method;

    let get = |path: String| {
        let (app, key) = (&app, key.clone());
        async move { app.api_get(&key, &path).await }
    };
    let (s, b) = get("/integrations".into()).await;
    conforms(&spec, "get", "/public/v1/integrations", s, &b);
    let (s, b) = get("/is-connected".into()).await;
    conforms(&spec, "get", "/public/v1/is-connected", s, &b);
    let (s, b) = get("/groups".into()).await;
    conforms(&spec, "get", "/public/v1/groups", s, &b);
    let (s, b) = get("/social/sandbox".into()).await;
    conforms(&spec, "get", "/public/v1/social/{provider}", s, &b);
    let (s, b) = get("/social/nope".into()).await;
    conforms(&spec, "get", "/public/v1/social/{provider}", s, &b);
    let (s, b) = get(format!("/integration-settings/{channel}")).await;
    conforms(&spec, "get", "/public/v1/integration-settings/{id}", s, &b);
    let (s, b) = get(format!("/find-slot/{channel}")).await;
    conforms(&spec, "get", "/public/v1/find-slot/{id}", s, &b);
    let (s, b) = app
        .upload(&key, "cat.png", crate::fakes::PNG.to_vec())
        .await;
    conforms(&spec, "post", "/public/v1/upload", s, &b);
    let media = b;
    let body = json!({ "type": "schedule", "shortLink": false, "date": "2030-01-01T10:00:00Z", "tags": [],
        "posts": [{ "integration": { "id": channel }, "settings": {},
                    "value": [{ "content": "Hi", "image": [{ "id": media["id"], "path": media["path"] }] },
                              { "content": "reply", "image": [], "delay": 1 }] }] });
    let (s, created) = app.api_send(Method::POST, &key, "/posts", Some(body)).await;
    conforms(&spec, "post", "/public/v1/posts", s, &created);
    let (s, b) = app
        .api_send(Method::POST, &key, "/posts", Some(json!({})))
        .await;
    conforms(&spec, "post", "/public/v1/posts", s, &b);
    let id = created[0]["postId"].as_str().unwrap().to_owned();
    let (s, b) =
        get("/posts?startDate=2029-12-31T00:00:00Z&endDate=2030-01-02T00:00:00Z".into()).await;
    conforms(&spec, "get", "/public/v1/posts", s, &b);
    let (s, b) = get(format!("/posts/{id}")).await;
    conforms(&spec, "get", "/public/v1/posts/{id}", s, &b);
    let (s, b) = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{id}/status"),
            Some(json!({ "status": "draft" })),
        )
        .await;
    conforms(&spec, "put", "/public/v1/posts/{id}/status", s, &b);
    let (s, b) = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{id}/settings"),
            Some(json!({ "settings": {} })),
        )
        .await;
    conforms(&spec, "put", "/public/v1/posts/{id}/settings", s, &b);
    let (s, b) = get(format!("/posts/{id}/missing")).await;
    conforms(&spec, "get", "/public/v1/posts/{id}/missing", s, &b);
    let (s, b) = get(format!("/analytics/{channel}?date=3")).await;
    conforms(&spec, "get", "/public/v1/analytics/{integration}", s, &b);
    let (s, b) = get(format!("/analytics/post/{id}")).await;
    conforms(&spec, "get", "/public/v1/analytics/post/{id}", s, &b);
    let (s, b) = get("/notifications".into()).await;
    conforms(&spec, "get", "/public/v1/notifications", s, &b);
    let (s, b) = app.authed_get(&key, "/sandbox/posts").await;
    conforms(&spec, "get", "/sandbox/posts", s, &b);
    let (s, b) = app
        .api_send(Method::DELETE, &key, &format!("/posts/{id}"), None)
        .await;
    conforms(&spec, "delete", "/public/v1/posts/{id}", s, &b);
    let (s, b) = get("/integrations".into()).await;
    conforms(&spec, "get", "/public/v1/integrations", s, &b);
    let (s, b) = app.api_get("sgk_nope", "/integrations").await;
    conforms(&spec, "get", "/public/v1/integrations", s, &b);

    let metadata: Value = client()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], app.address);

    // The document itself and the reference page made from it.
    let r = client()
        .get(app.url("/public/v1/openapi.yaml"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), include_str!("../../openapi.yaml"));
    let (status, html) = app.page(&client(), "/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<code>POST /public/v1/posts</code>"));
    assert!(html.contains("Idempotency-Key"));
    assert!(!html.contains("<script src=\"http"), "no CDN");
}

#[actix_web::test]
async fn json_routes_answer_json_when_signed_out_and_405_to_a_method_they_do_not_take() {
    let app = spawn_app().await;
    // The session's JSON routes: 401 JSON, not a redirect to the sign-in page.
    for path in [
        "/user/self",
        "/user/oauth-apps",
        "/user/approved-apps",
        "/user/webhooks",
    ] {
        let r = client().get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.headers().get("location").is_none(), "{path}");
        assert!(
            r.json::<Value>().await.unwrap()["msg"].is_string(),
            "{path}"
        );
    }
    // Pages still send the browser to sign in.
    let r = client().get(app.url("/settings")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let r = client()
        .patch(app.url("/public/v1/posts"))
        .header("authorization", "anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET, POST");
    assert!(r.json::<Value>().await.unwrap()["msg"].is_string());
    let r = client().put(app.url("/oauth/token")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "POST");
    let r = client()
        .delete(app.url("/public/v1/posts/abc"))
        .header("authorization", "anything")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a route that exists is routed"
    );
    let r = client()
        .get(app.url("/public/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "msg": "Not found" })
    );
}
