//! Mastodon against a fake instance that checks what a real one requires.

use reqwest::StatusCode;
use serde_json::json;
use socialgate::providers::Thread;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fakes::mastodon::mount_oauth;
use crate::fakes::{PNG, image, trusted};
use crate::helpers::{Tenant, client, input_by_id, query_param, spawn_app, spawn_app_with};

#[actix_web::test]
async fn mastodon_connects_with_the_organizations_app_and_posts_media_and_replies() {
    let instance = MockServer::start().await;
    mount_oauth(&instance, "write:statuses profile write:media").await;
    let app = spawn_app_with(&[("SOCIALGATE_FETCH_TRUSTED_HOSTS", &trusted(&instance))]).await;
    let Tenant {
        browser, key, org, ..
    } = app.tenant("ada@example.com").await;
    // The admin enters the app's credentials and copies the redirect URI the page shows.
    let csrf = app.csrf(&browser, "/settings/social-keys").await;
    let r = app
        .post_form(
            &browser,
            "/settings/social-keys/mastodon",
            &[
                ("csrf_token", &csrf),
                ("client_id", "mc-id"),
                ("client_secret", "mc-secret"),
                ("instance_url", &instance.uri()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let callback = input_by_id(&r.text().await.unwrap(), "redirect-mastodon").unwrap();
    assert_eq!(callback, app.url("/postiz/integrations/social/mastodon"));

    let url = app.connect_url(&key, "mastodon").await;
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", instance.uri())),
        "{url}"
    );
    assert_eq!(query_param(&url, "client_id").unwrap(), "mc-id");
    assert_eq!(query_param(&url, "response_type").unwrap(), "code");
    assert_eq!(query_param(&url, "redirect_uri").unwrap(), callback);
    assert_eq!(
        query_param(&url, "scope").unwrap(),
        "write:statuses profile write:media"
    );
    let state = query_param(&url, "state").unwrap();

    // The instance sends the browser back with a code.
    let r = client()
        .get(format!("{callback}?code=the-code&state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let (_, list) = app.api_get(&key, "/integrations").await;
    assert_eq!(list[0]["identifier"], "mastodon");
    assert_eq!(list[0]["name"], "Alice A.");
    assert_eq!(list[0]["profile"], "alice");
    assert_eq!(list[0]["picture"], "https://files.example/alice.png");
    let channel = app.channel(&org, list[0]["id"].as_str().unwrap()).await;
    assert!(!channel.sealed_tokens().0.contains("mastodon-token"));

    // Publishing: the medium is uploaded (202, then processed), then the status refers to it.
    Mock::given(method("GET"))
        .and(path("/media/cat.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(PNG)
                .insert_header("content-type", "image/png"),
        )
        .mount(&instance)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/media"))
        .and(header("authorization", "Bearer mastodon-token"))
        .and(|req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            let content_type = req
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            content_type.starts_with("multipart/form-data; boundary=")
                && body.contains("name=\"file\"; filename=\"cat.png\"")
                && body.contains("Content-Type: image/png")
                && body.contains("name=\"description\"\r\n\r\na sleeping cat")
                && req.body.windows(PNG.len()).any(|w| w == PNG)
        })
        .respond_with(
            ResponseTemplate::new(202)
                .set_body_json(json!({ "id": "m1", "type": "image", "url": null })),
        )
        .expect(1)
        .mount(&instance)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/media/m1"))
        .respond_with(ResponseTemplate::new(206).set_body_json(json!({ "id": "m1", "url": null })))
        .up_to_n_times(1)
        .mount(&instance)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/media/m1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "m1", "url": "https://files.example/m1.png" })),
        )
        .mount(&instance)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer mastodon-token"))
        .and(|req: &Request| req.headers.contains_key("idempotency-key"))
        .and(body_partial_json(
            json!({ "status": "Hello fediverse", "media_ids": ["m1"] }),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "s1", "url": "https://social.example/@alice/s1" })),
        )
        .expect(1)
        .mount(&instance)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(body_partial_json(
            json!({ "status": "a reply", "in_reply_to_id": "s1" }),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": "s2", "url": "https://social.example/@alice/s2" })),
        )
        .expect(1)
        .mount(&instance)
        .await;

    let media = image(
        &format!("{}/media/cat.png", instance.uri()),
        Some("a sleeping cat"),
    );
    let root = app
        .publish(&channel, "Hello fediverse", vec![media], None)
        .await
        .unwrap();
    assert_eq!(root.id, "s1");
    assert_eq!(root.url, "https://social.example/@alice/s1");
    let thread = Thread {
        root: root.clone(),
        parent: root,
    };
    let reply = app
        .publish(&channel, "a reply", vec![], Some(&thread))
        .await
        .unwrap();
    assert_eq!(reply.id, "s2");

    // An instance refusing the body is a bad body (no retry); overload is "retry later".
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(body_partial_json(json!({ "status": "too much" })))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            json!({ "error": "Validation failed: Text character limit of 500 exceeded" }),
        ))
        .mount(&instance)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(body_partial_json(json!({ "status": "busy" })))
        .respond_with(ResponseTemplate::new(503))
        .mount(&instance)
        .await;
    let e = app
        .publish(&channel, "too much", vec![], None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, socialgate::providers::ProviderError::BadBody(m) if m.contains("character limit")),
        "{e:?}"
    );
    let e = app
        .publish(&channel, "busy", vec![], None)
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");
}

#[actix_web::test]
async fn mastodon_names_the_missing_scopes_and_a_denial_ends_on_a_page() {
    let app = spawn_app().await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    let instance = MockServer::start().await;
    mount_oauth(&instance, "profile").await;
    app.set_credentials(
        &org,
        "mastodon",
        "mc-id",
        "mc-secret",
        Some(&instance.uri()),
    )
    .await;
    let callback = app.url("/postiz/integrations/social/mastodon");

    let state = query_param(&app.connect_url(&key, "mastodon").await, "state").unwrap();
    let r = client()
        .get(format!("{callback}?code=the-code&state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("write:statuses, write:media"), "{page}");
    assert_eq!(app.api_get(&key, "/integrations").await.1, json!([]));

    let state = query_param(&app.connect_url(&key, "mastodon").await, "state").unwrap();
    let r = client()
        .get(format!("{callback}?error=access_denied&state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("access was denied"));
    // The denied flow is spent.
    let r = client()
        .get(format!("{callback}?code=the-code&state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
