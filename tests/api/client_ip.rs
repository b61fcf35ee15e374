//! Behind a reverse proxy the per-IP limits count clients, not the proxy: forwarded addresses
//! are believed from `SOCIALGATE_TRUSTED_PROXIES` only.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, client, client_at, spawn_app, spawn_app_with};

/// One self-registration (30 an hour per client address) as `forwarded_for` says.
async fn register(app: &TestApp, forwarded_for: &str) -> StatusCode {
    client()
        .post(app.url("/oauth/register"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none" }))
        .send()
        .await
        .unwrap()
        .status()
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let app = spawn_app_with(&[("SOCIALGATE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")]).await;
    for _ in 0..30 {
        assert_eq!(register(&app, "203.0.113.7").await, StatusCode::CREATED);
    }
    assert_eq!(
        register(&app, "203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client cannot escape by writing an address of its own in front of the chain; a
    // trusted hop after it (10.1.2.3) is skipped.
    assert_eq!(
        register(&app, "198.51.100.1, 203.0.113.7, 10.1.2.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        register(&app, "203.0.113.8").await,
        StatusCode::CREATED,
        "another client"
    );
    let r = client()
        .post(app.url("/oauth/register"))
        .header("forwarded", "for=\"[2001:db8::1]:4711\";proto=https")
        .json(&json!({ "redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "Forwarded is read too");
}

#[actix_web::test]
async fn without_trusted_proxies_forwarded_addresses_are_ignored() {
    let app = spawn_app().await;
    for i in 0..30 {
        assert_eq!(
            register(&app, &format!("203.0.113.{i}")).await,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        register(&app, "198.51.100.99").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the header changes nothing: it is the peer's limit"
    );
}

#[actix_web::test]
async fn a_malformed_trusted_proxies_setting_stops_the_server_with_its_name() {
    let error = socialgate::config::Config::from_lookup(|name| {
        (name == "SOCIALGATE_TRUSTED_PROXIES").then(|| "10.0.0.0/99".to_owned())
    })
    .unwrap_err();
    assert_eq!(error.var, "SOCIALGATE_TRUSTED_PROXIES");
    assert!(error.message.contains("prefix length"), "{}", error.message);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_failed_sign_ins_lock_only_the_client_that_made_them() {
    let app = spawn_app_with(&[("SOCIALGATE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    app.signed_up_client("dana@example.com").await;
    let guesser = client_at("203.0.113.7");
    for _ in 0..10 {
        let r = app
            .sign_in(&guesser, "dana@example.com", "guess guess")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app
        .sign_in(&guesser, "dana@example.com", "a long password")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing client waits, even with the right password"
    );
    let owner = client_at("198.51.100.20");
    let r = app
        .sign_in(&owner, "dana@example.com", "a long password")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the account's owner, from another address, still signs in"
    );
}
