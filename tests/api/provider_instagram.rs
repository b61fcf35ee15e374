//! Instagram: a scheduled image post whose container is checked before it is published, its
//! comment, the rules checked when the post is made (not at its time), the account without a
//! linked Instagram, the publishing quota, and Instagram Login with its renewed token.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use socialgate::db::schema::integrations;
use socialgate::providers::{MediaItem, ProviderError};
use wiremock::MockServer;

use crate::fakes::{PNG, facebook, instagram};
use crate::helpers::{Tenant, TestApp, client, eventually, query_param, spawn_app_with};

async fn business(app: &TestApp, graph: &MockServer, tenant: &Tenant, quota_usage: i64) -> String {
    facebook::mount_login(
        graph,
        "/postiz/integrations/social/instagram",
        vec![instagram::linked_page()],
    )
    .await;
    instagram::mount_publishing(graph, "ig-1", "page-token-1", quota_usage).await;
    facebook::connect(app, &tenant.key, &tenant.org, graph, "instagram", "ig-1").await
}

#[actix_web::test]
async fn an_image_post_is_checked_until_ready_then_published_with_its_comment() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let tenant = app.tenant("ada@example.com").await;
    let channel = business(&app, &graph, &tenant, 3).await;
    let (_, list) = app.api_get(&tenant.key, "/integrations").await;
    assert_eq!(list[0]["name"], "Ada Bakes");
    assert_eq!(list[0]["profile"], "ada.bakes");
    let (_, upload) = app.upload(&tenant.key, "bread.png", PNG.to_vec()).await;
    let media_url = upload["path"].as_str().unwrap().to_owned();
    let body = json!({ "type": "now", "shortLink": false, "date": chrono::Utc::now().to_rfc3339(),
    "tags": [], "posts": [{ "integration": { "id": channel },
        "settings": { "post_type": "post", "collaborators": [{ "label": "bob.bakes" }] },
        "value": [
            { "content": "<p>Fresh bread today</p>", "image": [{ "id": upload["id"], "path": media_url }] },
            { "content": "<p>Open until six</p>", "image": [] }
        ]}]});
    let (status, created) = app
        .api_send(Method::POST, &tenant.key, "/posts", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let post = created[0]["postId"].as_str().unwrap().to_owned();
    let worker = app.start_worker();
    let published = eventually("the post to be published", || {
        let (app, key, post) = (&app, &tenant.key, &post);
        async move {
            let (_, p) = app.api_get(key, &format!("/posts/{post}")).await;
            (p["state"] == "PUBLISHED").then_some(p)
        }
    })
    .await;
    assert_eq!(
        published["releaseURL"],
        "https://www.instagram.com/p/m-image/"
    );
    let comment = eventually("the comment", || {
        let graph = &graph;
        async move {
            graph
                .received_requests()
                .await
                .unwrap()
                .into_iter()
                .find(|r| r.url.path() == facebook::v("/m-image/comments"))
        }
    })
    .await;
    worker.stop().await;
    assert!(facebook::form_has(&comment, "message", "Open until six"));
    let requests = graph.received_requests().await.unwrap();
    let container = requests
        .iter()
        .find(|r| r.url.path() == facebook::v("/ig-1/media"))
        .expect("a container");
    assert!(
        facebook::form_has(container, "image_url", &media_url),
        "Instagram fetches our public URL"
    );
    assert!(facebook::form_has(
        container,
        "caption",
        "Fresh bread today"
    ));
    assert!(facebook::form_has(
        container,
        "collaborators",
        r#"["bob.bakes"]"#
    ));
    let checks: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.url.path() == facebook::v("/c-image"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(checks.len(), 2, "in progress at the first check");
    let publish = requests
        .iter()
        .position(|r| r.url.path() == facebook::v("/ig-1/media_publish"))
        .expect("published");
    assert!(
        publish > checks[1],
        "published only once the container finished"
    );
    for call in requests
        .iter()
        .filter(|r| r.url.path().contains("/ig-1") || r.url.path().contains("/m-"))
    {
        assert!(
            call.url
                .query_pairs()
                .any(|(k, v)| k == "access_token" && v == "page-token-1"),
            "Instagram calls carry the linked page's token: {}",
            call.url
        );
    }
}

#[actix_web::test]
async fn instagram_rules_are_checked_when_the_post_is_made() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let tenant = app.tenant("ada@example.com").await;
    let channel = business(&app, &graph, &tenant, 3).await;
    let (_, upload) = app.upload(&tenant.key, "bread.png", PNG.to_vec()).await;
    let image = json!({ "id": upload["id"], "path": upload["path"] });
    let refused = |settings: serde_json::Value, media: Vec<serde_json::Value>| {
        let (app, key, channel) = (&app, &tenant.key, &channel);
        async move {
            let body = json!({ "type": "schedule", "shortLink": false,
                "date": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "tags": [],
                "posts": [{ "integration": { "id": channel }, "settings": settings,
                    "value": [{ "content": "<p>Bread</p>", "image": media }] }] });
            let (status, answer) = app.api_send(Method::POST, key, "/posts", Some(body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
            answer.to_string()
        }
    };
    let no_media = refused(json!({}), vec![]).await;
    assert!(
        no_media.contains("Instagram should have at least one attachment"),
        "{no_media}"
    );
    let story = refused(
        json!({ "post_type": "story" }),
        vec![image.clone(), image.clone()],
    )
    .await;
    assert!(story.contains("it can have only one picture"), "{story}");
    let crowd = refused(
        json!({ "collaborators": [{ "label": "a" }, { "label": "b" }, { "label": "c" }, { "label": "d" }] }),
        vec![image.clone()],
    )
    .await;
    assert!(crowd.contains("at most 3 collaborators"), "{crowd}");
    // A tall picture (300×1000) is refused now, not at its time.
    let mut tall = PNG[..16].to_vec();
    tall.extend_from_slice(&300u32.to_be_bytes());
    tall.extend_from_slice(&1000u32.to_be_bytes());
    tall.extend_from_slice(&PNG[24..]);
    let (_, tall) = app.upload(&tenant.key, "tall.png", tall).await;
    let tall = json!({ "id": tall["id"], "path": tall["path"] });
    let ratio = refused(json!({}), vec![image.clone(), tall]).await;
    assert!(
        ratio.contains("between 4:5 and 1.91:1") && ratio.contains("300×1000"),
        "{ratio}"
    );
    let odd = refused(json!({ "post_type": "reel" }), vec![image.clone()]).await;
    assert!(odd.contains("post_type"), "{odd}");
    let (_, settings) = app
        .api_get(&tenant.key, &format!("/integration-settings/{channel}"))
        .await;
    assert_eq!(
        settings["output"]["settings"]["properties"]["post_type"]["enum"],
        json!(["post", "story"])
    );
    assert_eq!(settings["output"]["maxLength"], 2200);
}

#[actix_web::test]
async fn an_account_without_a_linked_instagram_is_told_how_to_link_one() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    facebook::mount_login(
        &graph,
        "/postiz/integrations/social/instagram",
        vec![facebook::page("p-1", "Ada's Bakery", "page-token-1")],
    )
    .await;
    app.set_credentials(&org, "instagram", "fb-id", "fb-secret", None)
        .await;
    let url = app.connect_url(&key, "instagram").await;
    let state = query_param(&url, "state").unwrap();
    let person = client();
    let r = person
        .get(app.url(&format!(
            "/postiz/integrations/social/instagram?code=fb-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    let pick = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.page(&person, &pick).await;
    assert!(
        html.contains("No Instagram account found: connect your Instagram Business or Creator account to a Facebook Page"),
        "{html}"
    );
}

#[actix_web::test]
async fn an_account_over_its_publishing_quota_waits() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = business(&app, &graph, &tenant, 50).await;
    let channel = app.channel(&tenant.org, &id).await;
    let cat = crate::fakes::image(&format!("{}/files/cat.png", graph.uri()), None);
    let waited = app.publish(&channel, "one too many", vec![cat], None).await;
    assert!(
        matches!(
            &waited,
            Err(ProviderError::RetryLater { message, after: Some(after) })
                if message.contains("50 posts") && after.as_secs() == 3600
        ),
        "{waited:?}"
    );
}

#[actix_web::test]
async fn instagram_login_connects_and_the_sweep_renews_its_token() {
    let server = MockServer::start().await;
    let app = spawn_app_with(&[(
        "SOCIALGATE_PROVIDER_HOSTS",
        &instagram::standalone_hosts(&server),
    )])
    .await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    instagram::mount_standalone_login(&server).await;
    let id = instagram::connect_standalone(&app, &key, &org, &server).await;
    let channel = app.channel(&org, &id).await;
    assert_eq!(app.channel_auth(&channel).await.access_token, "ig-long-1");
    assert!(
        channel
            .token_expires_at
            .is_some_and(|at| at > socialgate::db::now() + chrono::Duration::days(59))
    );
    let row = id.clone();
    app.with_db(move |c| {
        diesel::update(integrations::table.find(&row))
            .set(
                integrations::token_expires_at
                    .eq(socialgate::db::now() + chrono::Duration::hours(3)),
            )
            .execute(c)
    })
    .await;
    let worker = app.start_worker();
    eventually("the token to be renewed", || {
        let (app, org, id) = (&app, &org, &id);
        async move {
            let channel = app.channel(org, id).await;
            (app.channel_auth(&channel).await.access_token == "ig-long-2").then_some(())
        }
    })
    .await;
    worker.stop().await;
}

#[actix_web::test]
async fn carousels_reels_and_stories_are_built_from_their_containers() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = business(&app, &graph, &tenant, 3).await;
    let channel = app.channel(&tenant.org, &id).await;
    let file = |name: &str, kind: &str| MediaItem {
        kind: kind.into(),
        path: format!("{}/files/{name}", graph.uri()),
        alt: None,
        thumbnail: None,
        dimensions: None,
    };
    let carousel = app
        .publish_with(
            &channel,
            "Two loaves",
            vec![file("a.png", "image"), file("v.mp4", "video")],
            json!({}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(carousel.url, "https://www.instagram.com/p/m-carousel/");
    let reel = app
        .publish_with(
            &channel,
            "Kneading",
            vec![file("v.mp4", "video")],
            json!({ "is_trial_reel": true }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(reel.id, "m-reel");
    let story = app
        .publish_with(
            &channel,
            "",
            vec![file("a.png", "image")],
            json!({ "post_type": "story" }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(story.id, "m-story");
    let containers: Vec<_> = graph
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == facebook::v("/ig-1/media"))
        .collect();
    let items: Vec<_> = containers
        .iter()
        .filter(|r| facebook::form_has(r, "is_carousel_item", "true"))
        .collect();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|r| !url::form_urlencoded::parse(&r.body).any(|(k, _)| k == "caption"))
    );
    assert!(facebook::form_has(items[1], "media_type", "VIDEO"));
    let parent = containers
        .iter()
        .find(|r| facebook::form_has(r, "media_type", "CAROUSEL"))
        .unwrap();
    assert!(facebook::form_has(parent, "children", "c-item,c-item"));
    assert!(facebook::form_has(parent, "caption", "Two loaves"));
    let reel = containers
        .iter()
        .find(|r| facebook::form_has(r, "media_type", "REELS"))
        .unwrap();
    assert!(facebook::form_has(
        reel,
        "trial_params",
        r#"{"graduation_strategy":"MANUAL"}"#
    ));
    assert!(
        containers
            .iter()
            .any(|r| facebook::form_has(r, "media_type", "STORIES"))
    );

    let (status, series) = app
        .api_get(&tenant.key, &format!("/analytics/{id}?date=7"))
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    assert_eq!(series[0]["label"], "Reach");
    assert_eq!(series[0]["data"][0]["total"], "12");
}

#[actix_web::test]
async fn media_instagram_cannot_fetch_fails_with_its_reason() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = business(&app, &graph, &tenant, 3).await;
    let channel = app.channel(&tenant.org, &id).await;
    wiremock::Mock::given(wiremock::matchers::path(facebook::v("/ig-1/media")))
        .respond_with(wiremock::ResponseTemplate::new(400).set_body_json(json!({ "error": {
            "message": "Media download has failed.", "type": "OAuthException", "code": 9004,
            "error_subcode": 2207052, "is_transient": false,
            "error_user_title": "Media download failed",
            "error_user_msg": "The media could not be fetched from this URI", "fbtrace_id": "Ig9"
        }})))
        .with_priority(1)
        .mount(&graph)
        .await;
    let cat = crate::fakes::image(&format!("{}/files/cat.png", graph.uri()), None);
    let failed = app.publish(&channel, "Bread", vec![cat], None).await;
    assert!(
        matches!(&failed, Err(ProviderError::BadBody(m))
            if m.contains("could not fetch the media") && m.contains("could not be fetched from this URI")),
        "{failed:?}"
    );
}
