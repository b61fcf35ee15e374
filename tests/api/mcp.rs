//! The MCP server as agents reach it: the official Python `mcp` client (OAuth discovery,
//! dynamic registration, consent, token, tools) and raw HTTP for the transport's rules, both
//! protocol eras, every tool, scopes, resources and registration refusals.

use std::process::Command;
use std::sync::Arc;

use reqwest::cookie::CookieStore;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Runs `tests/mcp/agent.py` (the official Python client) and returns its JSON line.
fn agent(args: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/agent.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs (the MCP client tests need it: pip install -r tests/mcp/requirements.txt)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python MCP client failed (is `mcp` installed? pip install -r tests/mcp/requirements.txt):\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"))
}

/// A signed-up user's browser whose cookies can be handed to another program.
async fn browser_with_cookies(app: &TestApp, email: &str) -> (Client, String) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = app.sign_up(&browser, email, "correct horse battery").await;
    assert!(r.status().is_redirection(), "signed up");
    let url = url::Url::parse(&app.address).unwrap();
    let cookie = jar.cookies(&url).expect("a session cookie");
    (browser, cookie.to_str().unwrap().to_owned())
}

async fn sandbox_texts(app: &TestApp, key: &str) -> Vec<String> {
    let (_, posts) = app.authed_get(key, "/sandbox/posts").await;
    posts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn an_agent_with_no_key_discovers_registers_is_approved_and_its_post_reaches_the_sandbox() {
    let app = spawn_app().await;
    let (browser, cookie) = browser_with_cookies(&app, "agent-owner@example.com").await;
    let key = app.create_api_key(&browser, "for the test").await;
    app.connect_sandbox(&key).await;
    let mcp = app.url("/mcp");
    let text = "Hello from an agent that found its own way in";
    let url = mcp.clone();
    let out = tokio::task::spawn_blocking(move || {
        agent(&["--url", &url, "--cookie", &cookie, "--text", text])
    })
    .await
    .unwrap();
    assert_eq!(out["oauth"], true);
    assert_eq!(
        out["protocol"], "2026-07-28",
        "the client chose the newest era"
    );
    let tools: Vec<&str> = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for postiz in [
        "integrationList",
        "groupList",
        "integrationSchema",
        "triggerTool",
        "integrationSchedulePostTool",
        "postsListTool",
        "postSettingsTool",
        "uploadFromUrlTool",
    ] {
        assert!(tools.contains(&postiz), "{postiz} in {tools:?}");
    }
    assert!(out["schedule"]["output"][0]["postId"].is_string(), "{out}");
    // The client registered itself, and its token is bound to /mcp.
    let client_id = out["client_id"].as_str().unwrap().to_owned();
    assert!(client_id.starts_with("pcd_"), "{client_id}");
    let (dynamic, resource): (bool, Option<String>) = app
        .with_db(move |conn| {
            use diesel::prelude::*;
            use socialgate::db::schema::{oauth_apps, oauth_tokens};
            let (app_id, dynamic) = oauth_apps::table
                .filter(oauth_apps::client_id.eq(&client_id))
                .select((oauth_apps::id, oauth_apps::dynamic))
                .first::<(String, bool)>(conn)?;
            let resource = oauth_tokens::table
                .filter(oauth_tokens::app_id.eq(&app_id))
                .select(oauth_tokens::resource)
                .first::<Option<String>>(conn)?;
            Ok((dynamic, resource))
        })
        .await;
    assert!(dynamic);
    assert_eq!(resource.as_deref(), Some(mcp.as_str()));

    let worker = app.start_worker();
    eventually("the agent's post on the sandbox", || {
        let (app, key) = (&app, &key);
        async move {
            sandbox_texts(app, key)
                .await
                .iter()
                .any(|t| t.contains(text))
                .then_some(())
        }
    })
    .await;
    worker.stop().await;
}

#[actix_web::test]
async fn the_python_client_works_with_an_api_key_in_the_header_and_the_legacy_handshake() {
    let app = spawn_app().await;
    let tenant = app.tenant("keyed-agent@example.com").await;
    app.connect_sandbox(&tenant.key).await;
    let (url, key) = (app.url("/mcp"), tenant.key.clone());
    let out = tokio::task::spawn_blocking(move || {
        agent(&[
            "--url", &url, "--cookie", "", "--text", "keyed", "--key", &key, "--mode", "legacy",
        ])
    })
    .await
    .unwrap();
    assert_eq!(out["oauth"], false);
    assert_eq!(out["protocol"], "2025-11-25", "the initialize handshake");
    assert_eq!(out["tools"].as_array().unwrap().len(), 19, "{out}");
    let (_, posts) = app
        .api_get(
            &tenant.key,
            "/posts?startDate=2000-01-01T00:00:00Z&endDate=2100-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(posts["posts"].as_array().unwrap().len(), 1, "{posts}");
}

/// A JSON-RPC request to `/mcp` with these headers.
async fn rpc(
    app: &TestApp,
    headers: &[(&str, &str)],
    body: Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = client()
        .post(app.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.body(body.to_string()).send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Calls a tool with a credential (legacy era) and returns its result.
async fn tool(app: &TestApp, credential: &str, name: &str, arguments: Value) -> Value {
    let auth = format!("Bearer {credential}");
    let (status, _, body) = rpc(
        app,
        &[("authorization", &auth), ("mcp-protocol-version", "2025-11-25")],
        json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": { "name": name, "arguments": arguments } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    body["result"].clone()
}

fn output(result: &Value) -> &Value {
    assert_eq!(result["isError"], false, "{result}");
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        text, result["structuredContent"],
        "the text block is the same JSON"
    );
    &result["structuredContent"]["output"]
}

fn refusal(result: &Value) -> String {
    assert_eq!(result["isError"], true, "{result}");
    result["content"][0]["text"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn without_a_credential_the_answer_starts_discovery_and_the_documents_describe_the_server() {
    let app = spawn_app().await;
    let (status, headers, body) = rpc(
        &app,
        &[],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {} }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = headers["www-authenticate"].to_str().unwrap();
    let metadata_url = app.url("/.well-known/oauth-protected-resource/mcp");
    assert!(
        challenge.starts_with(&format!("Bearer resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"integrations:read integrations:write posts:read posts:write media:write analytics:read notifications:read\""), "{challenge}");
    assert!(!challenge.contains("invalid_token"));
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(
        headers["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("WWW-Authenticate")
    );
    assert_eq!(body["error"]["code"], -32600);

    let (status, headers, _) = rpc(
        &app,
        &[("authorization", "Bearer pos_notatoken")],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );

    let prm = app
        .get_json(&client(), "/.well-known/oauth-protected-resource/mcp")
        .await;
    assert_eq!(prm["resource"], app.url("/mcp"));
    assert_eq!(prm["authorization_servers"], json!([app.address]));
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    assert_eq!(prm["scopes_supported"].as_array().unwrap().len(), 7);
    assert_eq!(prm["resource_name"], "socialgate");
    let root = client()
        .get(app.url("/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        root.status(),
        StatusCode::NOT_FOUND,
        "no document at the root"
    );

    let r = client()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let meta: Value = r.json().await.unwrap();
    assert_eq!(meta["issuer"], app.address);
    assert_eq!(meta["registration_endpoint"], app.url("/oauth/register"));
    assert!(
        meta["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
}

#[actix_web::test]
async fn the_transport_answers_as_the_spec_says() {
    let app = spawn_app().await;
    let tenant = app.tenant("transport@example.com").await;
    let auth = format!("Bearer {}", tenant.key);
    let auth = auth.as_str();

    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = client()
            .request(method.clone(), app.url("/mcp"))
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    }
    // A preflight is answered before any credential is asked for.
    let r = client()
        .request(reqwest::Method::OPTIONS, app.url("/mcp"))
        .header("origin", "http://localhost:6274")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, mcp-protocol-version",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let allowed = r.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for h in [
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "mcp-method",
        "mcp-name",
        "last-event-id",
    ] {
        assert!(allowed.contains(h), "{h}");
    }
    for path in [
        "/oauth/register",
        "/oauth/token",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let r = client()
            .request(reqwest::Method::OPTIONS, app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{path}");
    }

    // The legacy handshake, for each version deployed clients speak.
    for version in ["2025-11-25", "2025-06-18", "2025-03-26"] {
        let (status, headers, body) = rpc(
            &app,
            &[("authorization", auth)],
            json!({ "jsonrpc": "2.0", "id": "init", "method": "initialize", "params": { "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } } }),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers.get("mcp-session-id").is_none(), "stateless");
        assert_eq!(body["id"], "init");
        assert_eq!(body["result"]["protocolVersion"], version);
        assert_eq!(
            body["result"]["capabilities"]["tools"]["listChanged"],
            false
        );
        assert_eq!(body["result"]["serverInfo"]["name"], "socialgate");
    }
    let (_, _, body) = rpc(&app, &[("authorization", auth)], json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2024-01-01" } })).await;
    assert_eq!(
        body["result"]["protocolVersion"], "2025-11-25",
        "our latest instead"
    );
    // The Accept header may name one type only.
    let r = client()
        .post(app.url("/mcp"))
        .header("authorization", auth)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({ "jsonrpc": "2.0", "id": 2, "method": "ping" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["result"], json!({}));

    let (status, _, body) = rpc(
        &app,
        &[("authorization", auth)],
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
    )
    .await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null));
    let (_, _, body) = rpc(
        &app,
        &[("authorization", auth)],
        json!({ "jsonrpc": "2.0", "id": 3, "method": "resources/list" }),
    )
    .await;
    assert_eq!(body["error"]["code"], -32601);
    let (status, _, body) = rpc(
        &app,
        &[
            ("authorization", auth),
            ("mcp-protocol-version", "1999-01-01"),
        ],
        json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32600))
    );
    let (_, _, body) = rpc(&app, &[("authorization", auth)], json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "name": "noSuchTool" } })).await;
    assert_eq!(body["error"]["code"], -32602);

    let raw = |body: &'static str, content_type: &'static str| {
        let app = &app;
        async move {
            let r = client()
                .post(app.url("/mcp"))
                .header("authorization", auth)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = raw("{not json", "application/json").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32700))
    );
    let (status, _) = raw("{}", "text/plain").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, body) = raw("[]", "application/json").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32600))
    );
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(1024 * 1024)
    );
    let r = client()
        .post(app.url("/mcp"))
        .header("authorization", auth)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Origins: ours is allowed, another is not.
    let (status, _, _) = rpc(
        &app,
        &[("authorization", auth), ("origin", "https://evil.example")],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = rpc(
        &app,
        &[("authorization", auth), ("origin", &app.address)],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The key in the path, as Postiz users have it in their configs.
    let r = client()
        .post(app.url(&format!("/mcp/{}", tenant.key)))
        .header("content-type", "application/json")
        .body(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        19
    );
    // The request log names the route, never the key in it.
    let log = crate::helpers::logs();
    assert!(log.contains("/mcp/{apiKey}"), "the request was logged");
    assert!(
        !log.contains(&tenant.key),
        "the key in the path reached the log"
    );
}

#[actix_web::test]
async fn the_2026_era_checks_its_headers_and_marks_every_result() {
    let app = spawn_app().await;
    let tenant = app.tenant("modern@example.com").await;
    let auth = format!("Bearer {}", tenant.key);
    let meta = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} });
    let headers = |method: &'static str| {
        vec![
            ("authorization", auth.clone()),
            ("mcp-protocol-version", "2026-07-28".to_owned()),
            ("mcp-method", method.to_owned()),
        ]
    };
    let send = |h: Vec<(&'static str, String)>, body: Value| {
        let app = &app;
        async move {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            rpc(app, &h, body).await
        }
    };
    let (status, _, body) = send(headers("server/discover"), json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": { "_meta": meta } })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = &body["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["cacheScope"], "private");
    assert_eq!(result["ttlMs"], 0);
    assert!(
        result["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-07-28"))
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "socialgate"
    );

    let (_, _, body) = send(
        headers("tools/list"),
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": { "_meta": meta } }),
    )
    .await;
    assert_eq!(body["result"]["tools"].as_array().unwrap().len(), 19);
    assert_eq!(body["result"]["cacheScope"], "private");

    let mut h = headers("tools/call");
    h.push(("mcp-name", "whoamiTool".into()));
    let (_, _, body) = send(h, json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "_meta": meta, "name": "whoamiTool", "arguments": {} } })).await;
    assert_eq!(body["result"]["resultType"], "complete");
    assert_eq!(
        body["result"]["structuredContent"]["output"]["organization"]["id"],
        tenant.org
    );

    // Headers that disagree with the body, a missing capability, an unknown version or method.
    let mut h = headers("tools/call");
    h.push(("mcp-name", "groupList".into()));
    let (status, _, body) = send(h, json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": { "_meta": meta, "name": "whoamiTool" } })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32020))
    );
    let (status, _, body) = send(headers("tools/list"), json!({ "jsonrpc": "2.0", "id": 5, "method": "server/discover", "params": { "_meta": meta } })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32020))
    );
    let (status, _, body) = send(headers("tools/list"), json!({ "jsonrpc": "2.0", "id": 6, "method": "tools/list", "params": { "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } } })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32602))
    );
    let (status, _, body) = send(headers("tools/list"), json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": { "_meta": { "io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": {} } } })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(-32022))
    );
    assert_eq!(body["error"]["data"]["requested"], "2099-01-01");
    let (status, _, body) = send(
        headers("ping"),
        json!({ "jsonrpc": "2.0", "id": 8, "method": "ping", "params": { "_meta": meta } }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!(-32601))
    );
}

#[actix_web::test]
async fn every_tool_is_described_truthfully_and_works_or_says_what_is_wrong() {
    let app = spawn_app().await;
    let tenant = app.tenant("tools@example.com").await;
    let key = tenant.key.as_str();
    let auth = format!("Bearer {key}");
    let (_, _, body) = rpc(
        &app,
        &[("authorization", &auth)],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
    )
    .await;
    let tools = body["result"]["tools"].as_array().unwrap();
    let name_rule = regex_lite(r"^[a-zA-Z0-9_-]{1,64}$");
    for t in tools {
        let name = t["name"].as_str().unwrap();
        assert!(name_rule(name), "{name}");
        assert!(
            t["description"].as_str().unwrap().len() > 40,
            "{name} says when to use it"
        );
        assert_eq!(t["inputSchema"]["type"], "object", "{name}");
        assert_eq!(t["outputSchema"]["type"], "object", "{name}");
        for hint in [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        ] {
            assert!(t["annotations"][hint].is_boolean(), "{name} {hint}");
        }
    }
    let by_name = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap().clone();
    assert_eq!(
        by_name("postDeleteTool")["annotations"]["destructiveHint"],
        true
    );
    assert_eq!(
        by_name("integrationList")["annotations"]["readOnlyHint"],
        true
    );
    // The same order every time.
    let (_, _, again) = rpc(
        &app,
        &[("authorization", &auth)],
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }),
    )
    .await;
    assert_eq!(body["result"], again["result"]);

    let connect = output(
        &tool(
            &app,
            key,
            "channelConnectTool",
            json!({ "platform": "sandbox" }),
        )
        .await,
    )
    .clone();
    let r = Client::new()
        .get(connect["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        refusal(
            &tool(
                &app,
                key,
                "channelConnectTool",
                json!({ "platform": "myspace" })
            )
            .await
        )
        .contains("not")
    );

    let list = output(&tool(&app, key, "integrationList", json!({})).await).clone();
    assert_eq!(list[0]["platform"], "sandbox");
    let channel = list[0]["id"].as_str().unwrap().to_owned();
    assert!(output(&tool(&app, key, "groupList", json!({})).await).is_array());
    let schema = output(
        &tool(
            &app,
            key,
            "integrationSchema",
            json!({ "isPremium": false, "platform": "sandbox" }),
        )
        .await,
    )
    .clone();
    assert_eq!(schema["maxLength"], 5000);
    assert!(
        refusal(
            &tool(
                &app,
                key,
                "integrationSchema",
                json!({ "platform": "nowhere" })
            )
            .await
        )
        .contains("Unknown platform")
    );
    assert!(
        refusal(&tool(&app, key, "integrationSchema", json!({})).await)
            .starts_with("Invalid arguments: missing field `platform`")
    );
    let channels = output(&tool(&app, key, "triggerTool", json!({ "integrationId": channel, "methodName": "channels", "dataSchema": [{ "key": "word", "value": "ne" }] })).await).clone();
    assert_eq!(
        channels,
        json!([{ "id": "general", "name": "General" }, { "id": "news", "name": "News" }])
    );
    assert!(
        refusal(
            &tool(
                &app,
                key,
                "triggerTool",
                json!({ "integrationId": channel, "methodName": "nope" })
            )
            .await
        )
        .contains("Tool not found")
    );

    let post = |text: &str, when: &str| json!({ "socialPost": [{ "integrationId": channel, "isPremium": false, "date": "2031-05-01T10:00:00Z", "shortLink": false, "type": when, "postsAndComments": [{ "content": text, "attachments": [] }, { "content": "<p>a comment</p>", "attachments": [] }], "settings": [] }] });
    let checked =
        output(&tool(&app, key, "validatePostTool", post("fine", "schedule")).await).clone();
    assert_eq!(checked, json!({ "valid": true, "errors": [] }));
    let mut two = post(&"x".repeat(6000), "schedule");
    two["socialPost"].as_array_mut().unwrap().push(json!({ "integrationId": "nope", "type": "schedule", "date": "2031-05-01T10:00:00Z", "postsAndComments": [{ "content": "hi" }] }));
    let checked = output(&tool(&app, key, "validatePostTool", two.clone()).await).clone();
    assert_eq!(checked["valid"], false);
    let errors = checked["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("socialPost[0]: ")
                && e.as_str().unwrap().contains("too long")),
        "{checked}"
    );
    assert!(
        errors.iter().any(|e| e
            .as_str()
            .unwrap()
            .starts_with("socialPost[1]: Integration with id nope not found")),
        "{checked}"
    );
    assert!(
        refusal(&tool(&app, key, "integrationSchedulePostTool", two).await).contains("too long")
    );
    let (_, none) = app
        .api_get(
            key,
            "/posts?startDate=2031-01-01T00:00:00Z&endDate=2032-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(
        none["posts"],
        json!([]),
        "a dry run and a refusal create nothing"
    );

    let mut keyed = post("<p>Scheduled by an agent</p>", "schedule");
    keyed["idempotencyKey"] = json!("k-1");
    let created =
        output(&tool(&app, key, "integrationSchedulePostTool", keyed.clone()).await).clone();
    let again =
        output(&tool(&app, key, "integrationSchedulePostTool", keyed.clone()).await).clone();
    assert_eq!(
        created, again,
        "the same key answers the first result again"
    );
    keyed["socialPost"][0]["postsAndComments"][0]["content"] = json!("other");
    assert!(
        refusal(&tool(&app, key, "integrationSchedulePostTool", keyed).await)
            .contains("different request")
    );
    let id = created[0]["postId"].as_str().unwrap().to_owned();
    let listed = output(
        &tool(
            &app,
            key,
            "postsListTool",
            json!({ "startDate": "2031-01-01T00:00:00Z", "endDate": "2032-01-01T00:00:00Z" }),
        )
        .await,
    )
    .clone();
    assert_eq!(
        listed["posts"].as_array().unwrap().len(),
        1,
        "one post despite two calls"
    );

    let got = output(&tool(&app, key, "postGetTool", json!({ "id": id })).await).clone();
    assert_eq!(got["state"], "QUEUE");
    assert_eq!(got["values"].as_array().unwrap().len(), 2);
    assert!(
        refusal(&tool(&app, key, "postGetTool", json!({ "id": "missing" })).await)
            .to_lowercase()
            .contains("not found")
    );
    output(
        &tool(
            &app,
            key,
            "postUpdateTool",
            json!({ "id": id, "content": "Changed by the agent", "date": "2031-06-01T09:00:00Z" }),
        )
        .await,
    );
    let got = output(&tool(&app, key, "postGetTool", json!({ "id": id })).await).clone();
    assert!(
        got["values"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Changed by the agent"),
        "{got}"
    );
    assert!(
        got["publishDate"]
            .as_str()
            .unwrap()
            .starts_with("2031-06-01T09:00"),
        "{got}"
    );
    output(
        &tool(
            &app,
            key,
            "postSettingsTool",
            json!({ "id": id, "settings": [{ "key": "note", "value": "x" }] }),
        )
        .await,
    );
    let status = output(
        &tool(
            &app,
            key,
            "postStatusTool",
            json!({ "id": id, "status": "draft" }),
        )
        .await,
    )
    .clone();
    assert_eq!(status["state"], "DRAFT");
    assert!(
        refusal(
            &tool(
                &app,
                key,
                "postStatusTool",
                json!({ "id": id, "status": "gone" })
            )
            .await
        )
        .contains("unknown variant")
    );
    let slot = output(
        &tool(
            &app,
            key,
            "findSlotTool",
            json!({ "integrationId": channel }),
        )
        .await,
    )
    .clone();
    assert!(slot["date"].as_str().unwrap().len() >= 16, "{slot}");
    assert!(
        refusal(
            &tool(
                &app,
                key,
                "findSlotTool",
                json!({ "integrationId": "nope" })
            )
            .await
        )
        .contains("not found")
    );
    let series = output(
        &tool(
            &app,
            key,
            "channelAnalyticsTool",
            json!({ "integrationId": channel, "days": 3 }),
        )
        .await,
    )
    .clone();
    assert_eq!(series[0]["data"].as_array().unwrap().len(), 3);
    let unpublished =
        output(&tool(&app, key, "postAnalyticsTool", json!({ "id": id })).await).clone();
    assert_eq!(
        unpublished,
        json!([]),
        "a post not published yet has no analytics"
    );
    assert!(
        output(&tool(&app, key, "notificationsListTool", json!({})).await)["notifications"]
            .is_array()
    );
    assert!(
        refusal(
            &tool(
                &app,
                key,
                "uploadFromUrlTool",
                json!({ "url": "http://127.0.0.1/cat.png" })
            )
            .await
        )
        .len()
            > 5
    );
    let me = output(&tool(&app, key, "whoamiTool", json!({})).await).clone();
    assert_eq!(me["organization"]["id"], tenant.org);
    assert_eq!(me["scopes"].as_array().unwrap().len(), 7);
    output(&tool(&app, key, "postDeleteTool", json!({ "id": id })).await);
    assert!(
        refusal(&tool(&app, key, "postGetTool", json!({ "id": id })).await)
            .to_lowercase()
            .contains("not found")
    );
}

/// A tiny matcher for the tool-name rule (no regex crate here).
fn regex_lite(_: &str) -> impl Fn(&str) -> bool {
    |name: &str| {
        (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
}

/// A token from the code flow of a self-registered public client, with PKCE and these extras.
async fn dynamic_token(
    app: &TestApp,
    browser: &Client,
    scope: &str,
    resource: Option<&str>,
) -> Result<(String, String), Value> {
    let registered: Value = client()
        .post(app.url("/oauth/register"))
        .json(&json!({ "redirect_uris": ["http://127.0.0.1:5555/cb"], "token_endpoint_auth_method": "none", "client_name": "Scoped agent" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let mut query = vec![
        ("client_id", client_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", "http://127.0.0.1:5555/cb"),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    if let Some(r) = resource {
        query.push(("resource", r));
    }
    let code = app.obtain_code(browser, &query).await;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", client_id.as_str()),
        ("redirect_uri", "http://127.0.0.1:5555/cb"),
        ("code_verifier", PKCE_VERIFIER),
    ];
    if let Some(r) = resource {
        form.push(("resource", r));
    }
    let r = app.token_request(&form).await;
    let body: Value = r.json().await.unwrap();
    match body["access_token"].as_str() {
        Some(token) => Ok((token.to_owned(), client_id)),
        None => Err(body),
    }
}

#[actix_web::test]
async fn scopes_filter_the_tools_and_tokens_work_only_at_their_resource_until_revoked() {
    let app = spawn_app().await;
    let tenant = app.tenant("scopes@example.com").await;
    let mcp = app.url("/mcp");
    let (reader, reader_client) = dynamic_token(&app, &tenant.browser, "mcp:read", Some(&mcp))
        .await
        .unwrap();
    let auth = format!("Bearer {reader}");
    let (_, _, body) = rpc(
        &app,
        &[("authorization", &auth)],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }),
    )
    .await;
    let names: Vec<&str> = body["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"postsListTool") && names.contains(&"whoamiTool"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"integrationSchedulePostTool") && !names.contains(&"postDeleteTool"),
        "{names:?}"
    );
    let (status, headers, _) = rpc(&app, &[("authorization", &auth)], json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "postDeleteTool", "arguments": { "id": "x" } } })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"posts:write\""),
        "{challenge}"
    );
    let me = output(&tool(&app, &reader, "whoamiTool", json!({})).await).clone();
    assert_eq!(
        me["scopes"],
        json!([
            "integrations:read",
            "posts:read",
            "analytics:read",
            "notifications:read"
        ])
    );

    // Bound to /mcp: refused at the Public API. Bound to the Public API: refused at /mcp.
    let (status, _) = app.api_get(&reader, "/is-connected").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (api_only, _) = dynamic_token(&app, &tenant.browser, "", Some(&app.url("/public/v1")))
        .await
        .unwrap();
    assert_eq!(
        app.api_get(&api_only, "/is-connected").await.0,
        StatusCode::OK
    );
    let (status, headers, _) = rpc(
        &app,
        &[("authorization", &format!("Bearer {api_only}"))],
        json!({ "jsonrpc": "2.0", "id": 3, "method": "ping" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // Without a resource (Postiz's flow) a token works on both.
    let (anywhere, _) = dynamic_token(&app, &tenant.browser, "", None)
        .await
        .unwrap();
    assert_eq!(
        app.api_get(&anywhere, "/is-connected").await.0,
        StatusCode::OK
    );
    assert_eq!(
        rpc(
            &app,
            &[("authorization", &format!("Bearer {anywhere}"))],
            json!({ "jsonrpc": "2.0", "id": 4, "method": "ping" })
        )
        .await
        .0,
        StatusCode::OK
    );

    // A revoked token is refused on the very next request.
    let r = client()
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("token", reader.as_str()),
            ("client_id", reader_client.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, headers, _) = rpc(
        &app,
        &[("authorization", &auth)],
        json!({ "jsonrpc": "2.0", "id": 5, "method": "ping" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[actix_web::test]
async fn a_resource_the_server_does_not_serve_is_an_invalid_target() {
    let app = spawn_app().await;
    let tenant = app.tenant("target@example.com").await;
    let registered: Value = client().post(app.url("/oauth/register"))
        .json(&json!({ "redirect_uris": ["http://127.0.0.1:5555/cb"], "token_endpoint_auth_method": "none" }))
        .send().await.unwrap().json().await.unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let r = app
        .authorize(
            &tenant.browser,
            &[
                ("client_id", client_id),
                ("response_type", "code"),
                ("redirect_uri", "http://127.0.0.1:5555/cb"),
                ("code_challenge", PKCE_CHALLENGE),
                ("code_challenge_method", "S256"),
                ("resource", "https://elsewhere.example/mcp"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("invalid_target")
    );
    assert_eq!(
        query_param(location, "iss").as_deref(),
        Some(app.address.as_str())
    );

    // Bound at authorize to /mcp, the token request may not change it.
    let mcp = app.url("/mcp");
    let code = app
        .obtain_code(
            &tenant.browser,
            &[
                ("client_id", client_id),
                ("response_type", "code"),
                ("redirect_uri", "http://127.0.0.1:5555/cb"),
                ("code_challenge", PKCE_CHALLENGE),
                ("code_challenge_method", "S256"),
                ("resource", &mcp),
            ],
        )
        .await;
    let public = app.url("/public/v1");
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", client_id),
            ("redirect_uri", "http://127.0.0.1:5555/cb"),
            ("code_verifier", PKCE_VERIFIER),
            ("resource", &public),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_target");
}

async fn register(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let r = client()
        .post(app.url("/oauth/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn clients_register_themselves_within_the_rules() {
    let app = spawn_app().await;
    // What Claude sends: a confidential client with a secret that never expires.
    let (status, body) = register(
        &app,
        json!({
            "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
            "token_endpoint_auth_method": "client_secret_post",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "Claude",
            "scope": "mcp:read mcp:write",
            "logo_uri": "https://claude.ai/logo.png",
            "something_new": true,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["client_id"].as_str().unwrap().starts_with("pcd_"));
    assert_eq!(body["client_id"].as_str().unwrap().len(), 36);
    assert!(body["client_secret"].as_str().unwrap().starts_with("pcs_"));
    assert!(body["client_secret_expires_at"].is_u64() && body["client_secret_expires_at"] == 0);
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code"]),
        "what is granted"
    );
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_post");
    // Cursor's three URIs, one of them a private-use scheme; a public client.
    let (status, body) = register(&app, json!({
        "redirect_uris": ["cursor://anysphere.cursor-mcp/oauth/callback", "https://www.cursor.com/agents/mcp/oauth/callback", "http://localhost:8787/callback"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("client_secret").is_none());
    assert_eq!(body["client_name"], "MCP client");

    for (bad, error) in [
        (
            json!({ "redirect_uris": ["javascript:alert(1)"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["data:text/html,x"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["file:///etc/passwd"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["https://app.example/cb#frag"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["https://user@app.example/cb"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["http://app.example/cb"] }),
            "invalid_redirect_uri",
        ),
        (json!({ "redirect_uris": [] }), "invalid_redirect_uri"),
        (json!({ "client_name": "no uris" }), "invalid_redirect_uri"),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt" }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": ["https://a.example/cb"], "scope": "admin" }),
            "invalid_client_metadata",
        ),
        (json!(["not", "an", "object"]), "invalid_client_metadata"),
    ] {
        let (status, body) = register(&app, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["error"], error, "{bad}: {body}");
        assert!(body["error_description"].is_string());
    }

    // A loopback redirect registered on one port is accepted on any other at /oauth/authorize,
    // and the consent screen says the app registered itself.
    let tenant = app.tenant("dcr@example.com").await;
    let (_, body) = register(&app, json!({ "redirect_uris": ["http://127.0.0.1:33418/callback"], "token_endpoint_auth_method": "none", "client_name": "Loopback agent" })).await;
    let r = app
        .authorize(
            &tenant.browser,
            &[
                ("client_id", body["client_id"].as_str().unwrap()),
                ("response_type", "code"),
                ("redirect_uri", "http://127.0.0.1:40123/callback"),
                ("code_challenge", PKCE_CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Loopback agent") && page.contains("Self-registered"),
        "{page}"
    );
    assert!(page.contains("127.0.0.1"));
}

#[actix_web::test]
async fn the_operator_can_restrict_where_self_registered_clients_redirect() {
    let app = spawn_app_with(&[("SOCIALGATE_DCR_ALLOWED_HOSTS", "claude.ai, chatgpt.com")]).await;
    let (status, _) = register(&app, json!({ "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"], "token_endpoint_auth_method": "none" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = register(&app, json!({ "redirect_uris": ["https://evil.example/cb"], "token_endpoint_auth_method": "none" })).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_redirect_uri"))
    );
    let (status, _) = register(
        &app,
        json!({ "redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "loopback stays allowed");
}

#[actix_web::test]
async fn every_tool_refuses_bad_input_with_a_message_a_model_can_act_on() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let cdn = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/cat.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(crate::fakes::PNG.to_vec())
                .insert_header("content-type", "image/png"),
        )
        .mount(&cdn)
        .await;
    let app = spawn_app_with(&[(
        "SOCIALGATE_FETCH_TRUSTED_HOSTS",
        &crate::fakes::trusted(&cdn),
    )])
    .await;
    let tenant = app.tenant("refusals@example.com").await;
    let key = tenant.key.as_str();

    // The happy path of the upload, then a post that uses what it returned.
    let uploaded = output(
        &tool(
            &app,
            key,
            "uploadFromUrlTool",
            json!({ "url": format!("{}/cat.png", cdn.uri()) }),
        )
        .await,
    )
    .clone();
    let media_path = uploaded["path"].as_str().unwrap().to_owned();
    assert!(media_path.ends_with(".png"), "{uploaded}");
    app.connect_sandbox(key).await;
    let channel = app.channel_id(key, "sandbox").await;
    let created = output(
        &tool(
            &app,
            key,
            "integrationSchedulePostTool",
            json!({ "socialPost": [{ "integrationId": channel, "type": "draft", "date": "2031-01-01T00:00:00Z",
                "postsAndComments": [{ "content": "with a picture", "attachments": [media_path] }] }] }),
        )
        .await,
    )
    .clone();
    let id = created[0]["postId"].as_str().unwrap().to_owned();
    let got = output(&tool(&app, key, "postGetTool", json!({ "id": id })).await).clone();
    assert_eq!(got["values"][0]["image"][0]["path"], json!(media_path));

    let missing = json!({ "id": "no-such-post" });
    for (name, arguments, says) in [
        (
            "integrationList",
            json!({ "group": 5 }),
            "Invalid arguments: group",
        ),
        ("groupList", json!([1]), "Invalid arguments"),
        (
            "postsListTool",
            json!({ "startDate": "yesterday", "endDate": "today" }),
            "startDate must be a valid ISO 8601",
        ),
        (
            "postsListTool",
            json!({}),
            "Invalid arguments: missing field `startDate`",
        ),
        (
            "postSettingsTool",
            json!({ "id": "no-such-post", "settings": [] }),
            "not found",
        ),
        (
            "postUpdateTool",
            json!({ "id": "no-such-post", "content": "x" }),
            "not found",
        ),
        ("postDeleteTool", missing.clone(), "not found"),
        (
            "postStatusTool",
            json!({ "id": "no-such-post", "status": "draft" }),
            "not found",
        ),
        (
            "channelAnalyticsTool",
            json!({ "integrationId": "nope" }),
            "Integration not found",
        ),
        ("postAnalyticsTool", missing.clone(), "not found"),
        (
            "notificationsListTool",
            json!({ "page": "first" }),
            "Invalid arguments: page",
        ),
        (
            "findSlotTool",
            json!({}),
            "Invalid arguments: missing field `integrationId`",
        ),
        ("whoamiTool", json!("me"), "Invalid arguments"),
        (
            "uploadFromUrlTool",
            json!({ "url": "https://cdn.example/file.svg" }),
            "Unsupported file type",
        ),
        (
            "validatePostTool",
            json!({ "socialPost": "one" }),
            "Invalid arguments: socialPost",
        ),
    ] {
        let text = refusal(&tool(&app, key, name, arguments).await);
        assert!(
            text.to_lowercase().contains(&says.to_lowercase()),
            "{name}: {text:?} should say {says:?}"
        );
    }
}

#[actix_web::test]
async fn an_agent_has_the_same_request_budget_as_the_public_api() {
    let app = spawn_app_with(&[("SOCIALGATE_API_RATE", "3")]).await;
    let tenant = app.tenant("budget@example.com").await;
    let auth = format!("Bearer {}", tenant.key);
    for _ in 0..3 {
        let (status, _, _) = rpc(
            &app,
            &[("authorization", &auth)],
            json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, body) = rpc(
        &app,
        &[("authorization", &auth)],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" }),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.contains_key("retry-after"));
}
