use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{client, spawn_app};

#[actix_web::test]
async fn a_key_is_shown_once_and_works_raw_or_as_bearer() {
    let app = spawn_app().await;
    let admin = app.signed_up_client("keys@example.com").await;
    let key = app.create_api_key(&admin, "my agent").await;
    assert!(key.starts_with("sgk_") && key.len() == 52, "{key}");
    assert!(key[4..].bytes().all(|b| b.is_ascii_alphanumeric()));

    let (status, html) = app.page(&admin, "/settings/developers/public-api").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("my agent"));
    assert!(
        html.contains(&format!("{}…", &key[..8])),
        "the list shows the first characters"
    );
    assert!(!html.contains(&key), "the key is never shown again");
    assert!(html.contains("never"), "not used yet");

    assert_eq!(
        app.is_connected(Some(&key)).await,
        (StatusCode::OK, json!({"connected": true}))
    );
    assert_eq!(
        app.is_connected(Some(&format!("Bearer {key}"))).await,
        (StatusCode::OK, json!({"connected": true}))
    );
    assert_eq!(
        app.is_connected(Some(&format!("bearer {key}"))).await.0,
        StatusCode::OK
    );

    let (_, html) = app.page(&admin, "/settings/developers/public-api").await;
    assert!(!html.contains("never"), "last use is recorded");
}

#[actix_web::test]
async fn missing_wrong_and_revoked_credentials_get_postiz_401s() {
    let app = spawn_app().await;
    let admin = app.signed_up_client("revoke@example.com").await;
    let key = app.create_api_key(&admin, "soon gone").await;

    assert_eq!(
        app.is_connected(None).await,
        (StatusCode::UNAUTHORIZED, json!({"msg": "No API Key found"}))
    );
    assert_eq!(
        app.is_connected(Some("Bearer ")).await,
        (StatusCode::UNAUTHORIZED, json!({"msg": "No API Key found"}))
    );
    assert_eq!(
        app.is_connected(Some("sgk_wrongwrongwrong")).await,
        (StatusCode::UNAUTHORIZED, json!({"msg": "Invalid API key"}))
    );
    assert_eq!(
        app.is_connected(Some("pos_notATokenAtAll")).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Invalid OAuth token"})
        )
    );
    // A key in the query string is never read.
    let r = client()
        .get(app.url(&format!("/public/v1/is-connected?apiKey={key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = client()
        .get(app.url("/public/v1/is-connected"))
        .header("Authorization", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");

    app.revoke_first_api_key(&admin).await;
    assert_eq!(
        app.is_connected(Some(&key)).await,
        (StatusCode::UNAUTHORIZED, json!({"msg": "Invalid API key"}))
    );
    let (_, html) = app.page(&admin, "/settings/developers/public-api").await;
    assert!(!html.contains("soon gone"));
}

#[actix_web::test]
async fn keys_belong_to_their_organization() {
    let app = spawn_app().await;
    let a = app.signed_up_client("a@example.com").await;
    let b = app.signed_up_client("b@example.com").await;
    app.create_api_key(&a, "a's key").await;
    let (_, html) = app.page(&a, "/settings/developers/public-api").await;
    let id = html
        .split("/settings/developers/public-api/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    // b cannot revoke a's key, and does not see it.
    let token = app.csrf(&b, "/settings/developers/public-api").await;
    let r = app
        .post_form(
            &b,
            &format!("/settings/developers/public-api/{id}/revoke"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, html) = app.page(&b, "/settings/developers/public-api").await;
    assert!(!html.contains("a&#39;s key") && !html.contains("a&#x27;s key"));
    // Several named keys per organization.
    app.create_api_key(&a, "second").await;
    let (_, html) = app.page(&a, "/settings/developers/public-api").await;
    assert!(html.contains("second"));
    assert_eq!(html.matches("/revoke\"").count(), 2);
}

#[actix_web::test]
async fn key_names_are_checked() {
    let app = spawn_app().await;
    let admin = app.signed_up_client("names@example.com").await;
    let token = app.csrf(&admin, "/settings/developers/public-api").await;
    let long = "x".repeat(101);
    for name in ["", "   ", long.as_str()] {
        let r = app
            .post_form(
                &admin,
                "/settings/developers/public-api",
                &[("csrf_token", &token), ("name", name)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}
