//! X against a fake API that verifies OAuth 1.0a signatures as X does.

use reqwest::StatusCode;
use serde_json::{Value, json};
use socialgate::providers::{AdditionalSetting, Thread};
use wiremock::matchers::{body_partial_json, method, path, query_param as wm_query};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fakes::x::{X_API, mount_oauth, signed, x_hosts};
use crate::fakes::{PNG, image, oauth1_valid, trusted};
use crate::helpers::{Tenant, client, query_param, spawn_app_with};

#[actix_web::test]
async fn x_connects_with_oauth1_and_posts_a_thread_with_media() {
    let api = MockServer::start().await;
    let app = spawn_app_with(&[
        ("SOCIALGATE_PROVIDER_HOSTS", &x_hosts(&api)),
        ("SOCIALGATE_FETCH_TRUSTED_HOSTS", &trusted(&api)),
    ])
    .await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    app.set_credentials(&org, "x", "x-consumer-key", "x-consumer-secret", None)
        .await;
    let callback = app.url("/integrations/social/x");

    mount_oauth(&api, &callback).await;
    let url = app.connect_url(&key, "x").await;
    assert_eq!(
        url,
        format!("{}/oauth/authenticate?oauth_token=request-token", api.uri())
    );

    let r = client()
        .get(format!(
            "{callback}?oauth_token=request-token&oauth_verifier=the-verifier"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let (_, list) = app.api_get(&key, "/integrations").await;
    assert_eq!(list[0]["identifier"], "x");
    assert_eq!(list[0]["profile"], "alice");
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let channel = app.channel(&org, &id).await;
    assert!(!channel.sealed_tokens().0.contains("access-secret"));
    // A verified account may write 4,000 characters.
    let (_, settings) = app
        .api_get(&key, &format!("/integration-settings/{id}"))
        .await;
    assert_eq!(settings["output"]["maxLength"], 4000);
    assert_eq!(
        settings["output"]["settings"]["properties"]["who_can_reply_post"]["enum"][1],
        "following"
    );

    // Media: chunked upload (initialize, append, finalize, status), alt text, then the post.
    Mock::given(method("GET"))
        .and(path("/files/cat.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(PNG))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/media/upload/initialize"))
        .and(signed(Some("42-access"), "access-secret"))
        .and(body_partial_json(json!({ "media_type": "image/png", "total_bytes": PNG.len(), "media_category": "tweet_image" })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": { "id": "777", "media_key": "3_777" } })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/media/upload/777/append"))
        .and(signed(Some("42-access"), "access-secret"))
        .and(|req: &Request| {
            let body = String::from_utf8_lossy(&req.body);
            body.contains("name=\"segment_index\"\r\n\r\n0")
                && req.body.windows(PNG.len()).any(|w| w == PNG)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/media/upload/777/finalize"))
        .and(signed(Some("42-access"), "access-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "id": "777", "processing_info": { "state": "pending", "check_after_secs": 1 } }
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/media/upload"))
        .and(wm_query("command", "STATUS"))
        .and(wm_query("media_id", "777"))
        .and(signed(Some("42-access"), "access-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "id": "777", "processing_info": { "state": "succeeded" } }
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/media/metadata"))
        .and(body_partial_json(
            json!({ "id": "777", "metadata": { "alt_text": { "text": "a cat" } } }),
        ))
        .and(signed(Some("42-access"), "access-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": { "id": "777" } })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(signed(Some("42-access"), "access-secret"))
        .and(body_partial_json(json!({
            "text": "Hello X", "media": { "media_ids": ["777"] }, "reply_settings": "following"
        })))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({ "data": { "id": "1001", "text": "Hello X" } })),
        )
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(signed(Some("42-access"), "access-secret"))
        .and(body_partial_json(
            json!({ "text": "second", "reply": { "in_reply_to_tweet_id": "1001" } }),
        ))
        .and(|req: &Request| {
            serde_json::from_slice::<Value>(&req.body)
                .is_ok_and(|b| b.get("reply_settings").is_none())
        })
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({ "data": { "id": "1002", "text": "second" } })),
        )
        .expect(1)
        .mount(&api)
        .await;

    let provider = channel.provider().unwrap();
    let auth = app.channel_auth(&channel).await;
    let ctx = app.state.ctx();
    let post = socialgate::providers::PostDetails {
        id: "p1".into(),
        message: "Hello X".into(),
        settings: json!({ "who_can_reply_post": "following" }),
        media: vec![image(
            &format!("{}/files/cat.png", api.uri()),
            Some("a cat"),
        )],
        reply_to: None,
    };
    let on = socialgate::providers::On {
        ctx: &ctx,
        auth: &auth,
    };
    let root = match provider.publish(&on, &post).await.unwrap() {
        socialgate::providers::PostOutcome::Published(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(root.id, "1001");
    assert_eq!(root.url, "https://x.com/alice/status/1001");
    let thread = Thread {
        root: root.clone(),
        parent: root,
    };
    let reply = app
        .publish(&channel, "second", vec![], Some(&thread))
        .await
        .unwrap();
    assert_eq!(reply.id, "1002");

    // X's answers map to the error kinds the worker acts on.
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(body_partial_json(json!({ "text": "again" })))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({ "detail": "You are not allowed to create a Tweet with duplicate content." }),
        ))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(body_partial_json(json!({ "text": "limited" })))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_json(json!({ "title": "Too Many Requests" })),
        )
        .mount(&api)
        .await;
    let e = app
        .publish(&channel, "again", vec![], None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, socialgate::providers::ProviderError::BadBody(_)),
        "{e:?}"
    );
    let e = app
        .publish(&channel, "limited", vec![], None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, socialgate::providers::ProviderError::RetryLater { after: Some(d), .. } if d.as_secs() == 30),
        "{e:?}"
    );
}

#[actix_web::test]
async fn x_environment_credentials_apply_only_when_the_operator_enables_them() {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/request_token"))
        .and(move |req: &Request| oauth1_valid(req, X_API, "env-secret", ""))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(
                "oauth_token=rt&oauth_token_secret=rs&oauth_callback_confirmed=true",
            ),
        )
        .mount(&api)
        .await;
    let vars = [
        ("SOCIALGATE_PROVIDER_HOSTS", x_hosts(&api)),
        ("X_API_KEY", "env-key".into()),
        ("X_API_SECRET", "env-secret".into()),
    ];
    let as_refs = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, v.clone())).collect();
        v.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        v
    };
    let off = as_refs(&[]);
    let off: Vec<(&str, &str)> = off.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&off).await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;
    let (status, body) = app.api_get(&key, "/social/x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["msg"], "X API credentials are not configured");

    let on = as_refs(&[("SOCIALGATE_ENV_PROVIDER_CREDENTIALS", "true")]);
    let on: Vec<(&str, &str)> = on.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&on).await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;
    let url = app.connect_url(&key, "x").await;
    assert_eq!(query_param(&url, "oauth_token").unwrap(), "rt");
    // With instance-wide credentials in use, the sandbox is off unless asked for.
    assert_eq!(
        app.api_get(&key, "/social/sandbox").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn x_settings_and_lengths_follow_its_rules() {
    let x = socialgate::providers::get("x").unwrap();
    for (settings, ok) in [
        (json!({ "who_can_reply_post": "everyone" }), true),
        (json!({ "who_can_reply_post": "nobody" }), false),
        (
            json!({ "community": "https://x.com/i/communities/123" }),
            true,
        ),
        (
            json!({ "community": "https://evil.example/i/communities/1" }),
            false,
        ),
        (
            json!({ "community": "https://x.com/i/communities/abc" }),
            false,
        ),
    ] {
        assert_eq!(
            x.info().settings.validate(&settings).is_ok(),
            ok,
            "{settings}"
        );
    }
    assert_eq!(x.max_length(&[]), 280);
    let verified = AdditionalSetting {
        title: "Verified".into(),
        description: String::new(),
        kind: "checkbox".into(),
        value: json!(true),
    };
    assert_eq!(x.max_length(&[verified]), 4000);
    assert_eq!(
        x.text_length("look https://example.com/a/very/long/path/indeed 😀"),
        5 + 23 + 1 + 2
    );
}
