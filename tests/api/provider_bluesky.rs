//! Bluesky against a fake PDS that checks what a real one requires.

use reqwest::StatusCode;
use serde_json::{Value, json};
use socialgate::providers::Thread;
use wiremock::matchers::{header, method, path, query_param as wm_query};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fakes::bluesky::{self, jwt, mount_session, subject};
use crate::fakes::{PNG, image, trusted};
use crate::helpers::{Tenant, client, input_by_id, input_value, spawn_app, spawn_app_with};

#[actix_web::test]
async fn bluesky_checks_the_app_password_then_posts_facets_images_and_replies() {
    let pds = MockServer::start().await;
    mount_session(&pds).await;
    let app = spawn_app_with(&[("SOCIALGATE_FETCH_TRUSTED_HOSTS", &trusted(&pds))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;

    // The URL leads to socialgate's own credentials form.
    let url = app.connect_url(&key, "bluesky").await;
    assert!(
        url.starts_with(&app.url("/integrations/social/bluesky/connect?state=")),
        "{url}"
    );
    let form_client = client();
    let (status, html) = app
        .page(&form_client, url.trim_start_matches(&app.address))
        .await;
    assert_eq!(status, StatusCode::OK);
    let csrf = input_value(&html, "csrf_token").unwrap();
    let state = input_value(&html, "state").unwrap();
    assert_eq!(
        input_by_id(&html, "field-service").unwrap(),
        "https://bsky.social"
    );

    let submit = |password: &'static str| {
        let (form_client, csrf, state, service) =
            (&form_client, csrf.clone(), state.clone(), pds.uri());
        let target = app.url("/integrations/social/bluesky/connect");
        async move {
            form_client
                .post(target)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("state", state.as_str()),
                    ("service", service.as_str()),
                    ("identifier", "alice.test"),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // A wrong password is refused by Bluesky; the form comes back without echoing it.
    let r = submit("wrong-password").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(page.contains("did not accept this handle and app password"));
    assert!(!page.contains("wrong-password"));
    // Without the form's CSRF token nothing happens.
    let r = client()
        .post(app.url("/integrations/social/bluesky/connect"))
        .form(&[
            ("state", state.as_str()),
            ("identifier", "alice.test"),
            ("password", "app-pass-word"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = submit("app-pass-word").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Alice is connected"));
    // The flow is spent.
    assert_eq!(
        submit("app-pass-word").await.status(),
        StatusCode::BAD_REQUEST
    );

    let (_, list) = app.api_get(&key, "/integrations").await;
    assert_eq!(list[0]["identifier"], "bluesky");
    assert_eq!(list[0]["profile"], "alice.test");
    let channel = app.channel(&org, list[0]["id"].as_str().unwrap()).await;
    assert!(
        channel
            .sealed_tokens()
            .1
            .is_some_and(|r| !r.contains("refresh-1"))
    );

    // Posting: the image goes up as a blob, the text gets link and mention facets.
    let access = format!("Bearer {}", jwt("access-1"));
    Mock::given(method("GET"))
        .and(path("/img/cat.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(PNG))
        .mount(&pds)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.uploadBlob"))
        .and(header("authorization", access.as_str()))
        .and(header("content-type", "image/png"))
        .and(|req: &Request| req.body == PNG)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "blob": { "$type": "blob", "ref": { "$link": "bafkcat" }, "mimeType": "image/png", "size": PNG.len() }
        })))
        .expect(1)
        .mount(&pds)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(wm_query("handle", "bob.test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "did": "did:plc:bob" })))
        .mount(&pds)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({ "error": "InvalidRequest" })),
        )
        .mount(&pds)
        .await;
    let text = "Café ☕ with @bob.test and @nobody.test, see https://example.com/menu.";
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header("authorization", access.as_str()))
        .and(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let record = &body["record"];
            let facets = record["facets"].as_array().cloned().unwrap_or_default();
            let slice = |f: &Value| {
                let (s, e) = (
                    f["index"]["byteStart"].as_u64().unwrap() as usize,
                    f["index"]["byteEnd"].as_u64().unwrap() as usize,
                );
                text.as_bytes()[s..e].to_vec()
            };
            body["repo"] == "did:plc:alice"
                && body["collection"] == "app.bsky.feed.post"
                && record["$type"] == "app.bsky.feed.post"
                && record["text"] == text
                && record["createdAt"]
                    .as_str()
                    .is_some_and(|t| t.ends_with('Z'))
                && record.get("reply").is_none()
                && facets.len() == 2
                && facets.iter().any(|f| {
                    f["features"][0]["$type"] == "app.bsky.richtext.facet#link"
                        && f["features"][0]["uri"] == "https://example.com/menu"
                        && slice(f) == b"https://example.com/menu"
                })
                && facets.iter().any(|f| {
                    f["features"][0]["$type"] == "app.bsky.richtext.facet#mention"
                        && f["features"][0]["did"] == "did:plc:bob"
                        && slice(f) == b"@bob.test"
                })
                && record["embed"]["$type"] == "app.bsky.embed.images"
                && record["embed"]["images"][0]["alt"] == "a cat"
                && record["embed"]["images"][0]["image"]["ref"]["$link"] == "bafkcat"
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": "at://did:plc:alice/app.bsky.feed.post/3kroot", "cid": "bafyroot"
        })))
        .expect(1)
        .mount(&pds)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(body_partial_json_reply())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": "at://did:plc:alice/app.bsky.feed.post/3kreply", "cid": "bafyreply"
        })))
        .expect(1)
        .mount(&pds)
        .await;

    let root = app
        .publish(
            &channel,
            text,
            vec![image(&format!("{}/img/cat.png", pds.uri()), Some("a cat"))],
            None,
        )
        .await
        .unwrap();
    assert_eq!(root.id, "at://did:plc:alice/app.bsky.feed.post/3kroot");
    assert_eq!(root.url, "https://bsky.app/profile/alice.test/post/3kroot");
    assert_eq!(root.reference.as_deref(), Some("bafyroot"));
    let thread = Thread {
        root: root.clone(),
        parent: root,
    };
    let reply = app
        .publish(&channel, "a reply", vec![], Some(&thread))
        .await
        .unwrap();
    assert_eq!(
        reply.url,
        "https://bsky.app/profile/alice.test/post/3kreply"
    );
}

fn body_partial_json_reply() -> wiremock::matchers::BodyPartialJsonMatcher {
    wiremock::matchers::body_partial_json(json!({
        "record": {
            "text": "a reply",
            "reply": {
                "root": { "uri": "at://did:plc:alice/app.bsky.feed.post/3kroot", "cid": "bafyroot" },
                "parent": { "uri": "at://did:plc:alice/app.bsky.feed.post/3kroot", "cid": "bafyroot" }
            }
        }
    }))
}

#[actix_web::test]
async fn an_expiring_bluesky_session_is_refreshed_and_a_dead_one_needs_reconnecting() {
    let app = spawn_app().await;
    let Tenant {
        browser, key, org, ..
    } = app.tenant("ada@example.com").await;
    let pds = MockServer::start().await;
    mount_session(&pds).await;
    let id = bluesky::connect(&app, &key, &pds).await;

    // The session is about to expire: refreshSession with the refresh JWT renews it first.
    let expire_soon = |conn: &mut socialgate::db::DbConn| {
        use diesel::prelude::*;
        use socialgate::db::schema::integrations;
        diesel::update(integrations::table)
            .set(
                integrations::token_expires_at
                    .eq(socialgate::db::now() + chrono::Duration::minutes(1)),
            )
            .execute(conn)
    };
    app.with_db(expire_soon).await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:alice", "handle": "alice.test",
            "accessJwt": jwt("access-2"), "refreshJwt": "refresh-2"
        })))
        .expect(1)
        .mount(&pds)
        .await;
    let channel = app.channel(&org, &id).await;
    let auth = app.channel_auth(&channel).await;
    assert_eq!(subject(&auth.access_token), "access-2");
    assert_eq!(auth.refresh_token.as_deref(), Some("refresh-2"));
    let channel = app.channel(&org, &id).await;
    assert!(
        channel.token_expires_at.unwrap() > socialgate::db::now() + chrono::Duration::minutes(100)
    );

    // The refresh token is dead too: the channel needs the user to reconnect.
    app.with_db(expire_soon).await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-2"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({ "error": "ExpiredToken", "message": "Token has expired" })),
        )
        .mount(&pds)
        .await;
    let e = app
        .publish(&app.channel(&org, &id).await, "hello", vec![], None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, socialgate::providers::ProviderError::RefreshNeeded(_)),
        "{e:?}"
    );
    assert!(app.channel(&org, &id).await.refresh_needed);
    let (_, html) = app.page(&browser, "/settings/channels").await;
    assert!(html.contains(">refresh needed<"));
}
