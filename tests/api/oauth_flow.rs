//! The authorization-code flow end to end, as a third-party app runs it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{client, input_value, query_count, query_param, spawn_app};

const CB: &str = "https://app.example/cb";

#[actix_web::test]
async fn authorize_consent_exchange_and_call_the_api() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("owner@example.com").await;
    let org = app.org_of("owner@example.com").await;
    let registered = app.register_app(&org, &[CB], false).await;
    assert!(registered.client_id.starts_with("pca_") && registered.client_id.len() == 36);
    let secret = registered.client_secret.clone().unwrap();
    assert!(secret.starts_with("pcs_") && secret.len() == 52);

    let r = app
        .authorize(
            &browser,
            &[
                ("client_id", &registered.client_id),
                ("response_type", "code"),
                ("state", "xyz"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("<h1>Test App</h1>"));
    assert!(html.contains("app.example"), "the redirect host is named");
    assert!(html.contains("Create, schedule, change and delete posts on your behalf"));
    assert!(html.contains(">Authorize</button>") && html.contains(">Deny</button>"));

    let r = app.answer_consent(&browser, &html, "approve").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("https://app.example/cb?code="),
        "{location}"
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    assert_eq!(
        query_param(&location, "iss").as_deref(),
        Some(app.state.config.public_url.as_str())
    );
    for p in ["code", "state", "iss"] {
        assert_eq!(query_count(&location, p), 1);
    }
    let code = query_param(&location, "code").unwrap();
    assert!(code.len() >= 43);

    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &registered.client_id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let text = r.text().await.unwrap();
    assert!(
        text.starts_with(&format!(
            "{{\"id\":\"{org}\",\"cus\":null,\"access_token\":\"pos_"
        )),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(
        body["scope"],
        "integrations:read integrations:write posts:read posts:write media:write analytics:read notifications:read"
    );
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 44);
    assert!(token[4..].bytes().all(|b| b.is_ascii_alphanumeric()));

    assert_eq!(
        app.is_connected(Some(&token)).await,
        (StatusCode::OK, json!({"connected": true}))
    );
    assert_eq!(
        app.is_connected(Some(&format!("Bearer {token}"))).await.0,
        StatusCode::OK
    );

    // Introspection by the owning client sees it; revocation kills it on the next request.
    let r = client()
        .post(app.url("/oauth/introspect"))
        .basic_auth(&registered.client_id, Some(&secret))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    let intro: Value = r.json().await.unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["client_id"], registered.client_id.as_str());
    let r = client()
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("token", token.as_str()),
            ("client_id", &registered.client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.is_connected(Some(&token)).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Invalid OAuth token"})
        )
    );
    let r = client()
        .post(app.url("/oauth/introspect"))
        .basic_auth(&registered.client_id, Some(&secret))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"active": false}));
}

#[actix_web::test]
async fn signing_in_returns_to_the_same_consent_request() {
    let app = spawn_app().await;
    app.signed_up_client("late@example.com").await;
    let org = app.org_of("late@example.com").await;
    let registered = app.register_app(&org, &[CB], false).await;
    let browser = client();
    let r = app
        .authorize(
            &browser,
            &[
                ("client_id", &registered.client_id),
                ("response_type", "code"),
                ("state", "abc"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/signin?next="), "{location}");
    let (_, html) = app.page(&browser, &location).await;
    let next = input_value(&html, "next").unwrap();
    assert!(next.starts_with("/oauth/authorize?"));
    let csrf = input_value(&html, "csrf_token").unwrap();
    let r = app
        .post_form(
            &browser,
            "/signin",
            &[
                ("csrf_token", &csrf),
                ("next", &next),
                ("email", "late@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = app.page(&browser, &back).await;
    assert_eq!(status, StatusCode::OK, "{back} -> {html}");
    let r = app.answer_consent(&browser, &html, "approve").await;
    let location = r.headers()["location"].to_str().unwrap();
    assert_eq!(query_param(location, "state").as_deref(), Some("abc"));
}

#[actix_web::test]
async fn deny_redirects_with_access_denied_and_keeps_the_apps_query() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("denier@example.com").await;
    let org = app.org_of("denier@example.com").await;
    let registered = app
        .register_app(&org, &["https://app.example/cb?tenant=1"], false)
        .await;
    let state = "a&b=c+d %25 ünï 🚀".repeat(20);
    let r = app
        .authorize(
            &browser,
            &[
                ("client_id", &registered.client_id),
                ("response_type", "code"),
                ("state", &state),
            ],
        )
        .await;
    let html = r.text().await.unwrap();
    let r = app.answer_consent(&browser, &html, "deny").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://app.example/cb?tenant=1&error=access_denied"),
        "{location}"
    );
    assert_eq!(
        query_param(location, "state").as_deref(),
        Some(state.as_str()),
        "state comes back byte-exact"
    );
    assert!(query_param(location, "iss").is_some());
    assert!(query_param(location, "code").is_none());

    // Approve without a state: none comes back, and the app's query is still kept.
    let r = app
        .authorize(
            &browser,
            &[
                ("client_id", &registered.client_id),
                ("response_type", "code"),
            ],
        )
        .await;
    let html = r.text().await.unwrap();
    let r = app.answer_consent(&browser, &html, "approve").await;
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("https://app.example/cb?tenant=1&code="));
    assert_eq!(query_count(location, "state"), 0);
}

#[actix_web::test]
async fn a_public_client_uses_pkce_and_json_bodies() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("cli@example.com").await;
    let org = app.org_of("cli@example.com").await;
    let registered = app
        .register_app(&org, &["http://127.0.0.1/callback"], true)
        .await;
    assert!(registered.client_secret.is_none());
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let redirect = "http://127.0.0.1:53682/callback";
    let code = app
        .obtain_code(
            &browser,
            &[
                ("client_id", &registered.client_id),
                ("response_type", "code"),
                ("redirect_uri", redirect),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
                ("scope", "posts:read posts:write"),
            ],
        )
        .await;
    let r = client()
        .post(app.url("/oauth/token"))
        .json(&json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": registered.client_id,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "posts:read posts:write");
    assert_eq!(
        app.is_connected(body["access_token"].as_str()).await.0,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn metadata_describes_the_server() {
    let app = spawn_app().await;
    let r = client()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let m: Value = r.json().await.unwrap();
    let base = app.state.config.public_url.clone();
    assert_eq!(m["issuer"], base.as_str());
    assert_eq!(
        m["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(m["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(m["revocation_endpoint"], format!("{base}/oauth/revoke"));
    assert_eq!(
        m["introspection_endpoint"],
        format!("{base}/oauth/introspect")
    );
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert_eq!(
        m["grant_types_supported"],
        json!([
            "authorization_code",
            "urn:ietf:params:oauth:grant-type:device_code"
        ])
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(m["scopes_supported"].as_array().unwrap().len(), 7);
}

/// A token in use is refused on the very next request after a change made elsewhere — another
/// connection, as another process or `socialgate admin` would make it — ends it: its revocation,
/// or its user leaving the organization.
#[actix_web::test]
async fn a_token_ended_by_another_connection_is_refused_on_the_next_request() {
    use diesel::prelude::*;
    use socialgate::db::schema::{members, oauth_tokens};

    let app = spawn_app().await;
    let browser = app.signed_up_client("owner@example.com").await;
    let org = app.org_of("owner@example.com").await;
    let registered = app.register_app(&org, &[CB], false).await;
    let secret = registered.client_secret.clone().unwrap();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let code = app
            .obtain_code(
                &browser,
                &[
                    ("client_id", &registered.client_id),
                    ("response_type", "code"),
                ],
            )
            .await;
        let r = app
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &registered.client_id),
                ("client_secret", &secret),
            ])
            .await;
        let body: Value = r.json().await.unwrap();
        tokens.push(body["access_token"].as_str().unwrap().to_owned());
    }
    let (first, second) = (tokens[0].clone(), tokens[1].clone());
    // Used a few times, so a server that keeps tokens in memory has them.
    for token in [&first, &second, &first, &second] {
        assert_eq!(app.is_connected(Some(token)).await.0, StatusCode::OK);
    }

    let url = app.state.config.database_url.clone();
    let hash = socialgate::crypto::sha256_hex(&first);
    tokio::task::spawn_blocking(move || {
        let mut conn = socialgate::db::Db::connect_one(&url).unwrap();
        diesel::update(oauth_tokens::table.filter(oauth_tokens::token_hash.eq(hash)))
            .set(oauth_tokens::revoked_at.eq(socialgate::db::now()))
            .execute(&mut conn)
            .unwrap();
    })
    .await
    .unwrap();
    assert_eq!(
        app.is_connected(Some(&first)).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Invalid OAuth token"})
        )
    );
    assert_eq!(app.is_connected(Some(&second)).await.0, StatusCode::OK);

    let url = app.state.config.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = socialgate::db::Db::connect_one(&url).unwrap();
        diesel::delete(members::table.filter(members::organization_id.eq(org)))
            .execute(&mut conn)
            .unwrap();
    })
    .await
    .unwrap();
    assert_eq!(
        app.is_connected(Some(&second)).await.0,
        StatusCode::UNAUTHORIZED
    );
}
