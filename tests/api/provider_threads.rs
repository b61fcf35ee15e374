//! Threads: a scheduled post with an image and a reply through containers (checked again
//! later, never holding a worker), the 60-day token renewed by the sweep (or the channel
//! flagged when it cannot be), and the profile's publishing quota.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use socialgate::db::schema::integrations;
use socialgate::providers::ProviderError;
use wiremock::MockServer;

use crate::fakes::{PNG, facebook, threads};
use crate::helpers::{Tenant, eventually, spawn_app_with};

#[actix_web::test]
async fn a_post_with_an_image_and_a_reply_goes_out_through_checked_containers() {
    let server = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &threads::hosts(&server))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    threads::mount_login(&server).await;
    threads::mount_publishing(&server, 4).await;
    let channel = threads::connect(&app, &key, &org, &server).await;
    let (_, upload) = app.upload(&key, "bread.png", PNG.to_vec()).await;
    let media_url = upload["path"].as_str().unwrap().to_owned();
    let body = json!({ "type": "now", "shortLink": false, "date": chrono::Utc::now().to_rfc3339(),
    "tags": [], "posts": [{ "integration": { "id": channel }, "settings": {}, "value": [
        { "content": "<p>Fresh bread today</p>", "image": [{ "id": upload["id"], "path": media_url }] },
        { "content": "<p>Open until six</p>", "image": [] }
    ]}]});
    let (status, created) = app.api_send(Method::POST, &key, "/posts", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let post = created[0]["postId"].as_str().unwrap().to_owned();
    let worker = app.start_worker();
    let published = eventually("the post to be published", || {
        let (app, key, post) = (&app, &key, &post);
        async move {
            let (_, p) = app.api_get(key, &format!("/posts/{post}")).await;
            (p["state"] == "PUBLISHED").then_some(p)
        }
    })
    .await;
    assert_eq!(
        published["releaseURL"],
        "https://www.threads.net/@ada/post/m-image"
    );
    let reply = eventually("the reply's container", || {
        let server = &server;
        async move {
            server
                .received_requests()
                .await
                .unwrap()
                .into_iter()
                .find(|r| {
                    r.url.path() == "/v1.0/th-42/threads"
                        && facebook::form_has(r, "reply_to_id", "m-image")
                })
        }
    })
    .await;
    assert!(facebook::form_has(&reply, "text", "Open until six"));
    assert!(facebook::form_has(&reply, "media_type", "TEXT"));
    eventually("the reply to be published", || {
        let server = &server;
        async move {
            server
                .received_requests()
                .await
                .unwrap()
                .into_iter()
                .find(|r| {
                    r.url.path() == "/v1.0/th-42/threads_publish"
                        && facebook::form_has(r, "creation_id", "c-reply")
                })
        }
    })
    .await;
    worker.stop().await;
    let requests = server.received_requests().await.unwrap();
    let image = requests
        .iter()
        .find(|r| {
            r.url.path() == "/v1.0/th-42/threads" && facebook::form_has(r, "media_type", "IMAGE")
        })
        .expect("an image container");
    assert!(
        facebook::form_has(image, "image_url", &media_url),
        "Threads fetches our public URL"
    );
    let checks = requests
        .iter()
        .filter(|r| r.url.path() == "/v1.0/c-image")
        .count();
    assert_eq!(
        checks, 2,
        "in progress at the first check, published after the second"
    );
    let published_before_ready = requests.iter().position(|r| {
        r.url.path() == "/v1.0/th-42/threads_publish"
            && facebook::form_has(r, "creation_id", "c-image")
    });
    let last_check = requests
        .iter()
        .rposition(|r| r.url.path() == "/v1.0/c-image");
    assert!(
        published_before_ready > last_check,
        "published only once finished"
    );

    let (status, series) = app
        .api_get(&key, &format!("/analytics/{channel}?date=7"))
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    assert_eq!(series[1]["label"], "followers_count");
    assert_eq!(series[1]["data"][0]["total"], "458");
}

#[actix_web::test]
async fn the_sweep_renews_the_60_day_token_and_flags_a_channel_it_cannot_renew() {
    let server = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &threads::hosts(&server))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    threads::mount_login(&server).await;
    let id = threads::connect(&app, &key, &org, &server).await;
    let expires_soon = |id: String| async {
        app.with_db(move |c| {
            diesel::update(integrations::table.find(&id))
                .set(
                    integrations::token_expires_at
                        .eq(socialgate::db::now() + chrono::Duration::hours(2)),
                )
                .execute(c)
        })
        .await
    };
    expires_soon(id.clone()).await;
    let worker = app.start_worker();
    eventually("the token to be renewed", || {
        let (app, org, id) = (&app, &org, &id);
        async move {
            let channel = app.channel(org, id).await;
            let auth = app.channel_auth(&channel).await;
            (auth.access_token == "th-long-2"
                && channel
                    .token_expires_at
                    .is_some_and(|at| at > socialgate::db::now() + chrono::Duration::days(50)))
            .then_some(())
        }
    })
    .await;
    worker.stop().await;

    // Threads refuses to renew: the channel needs reconnecting and the organization is told.
    server.reset().await;
    wiremock::Mock::given(wiremock::matchers::path("/refresh_access_token"))
        .respond_with(facebook::error(
            190,
            Some(463),
            "Error validating access token: Session has expired",
        ))
        .mount(&server)
        .await;
    expires_soon(id.clone()).await;
    let worker = app.start_worker();
    eventually("the channel to need reconnecting", || {
        let (app, key) = (&app, &key);
        async move {
            let (_, notes) = app.api_get(key, "/notifications").await;
            notes["notifications"]
                .as_array()?
                .iter()
                .any(|n| {
                    n["content"]
                        .as_str()
                        .is_some_and(|c| c.contains("needs reconnecting"))
                })
                .then_some(())
        }
    })
    .await;
    worker.stop().await;
    assert!(app.channel(&org, &id).await.refresh_needed);
}

#[actix_web::test]
async fn a_profile_over_its_publishing_quota_waits_instead_of_failing() {
    let server = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &threads::hosts(&server))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    threads::mount_login(&server).await;
    threads::mount_publishing(&server, 250).await;
    let id = threads::connect(&app, &key, &org, &server).await;
    let channel = app.channel(&org, &id).await;
    let waited = app.publish(&channel, "one too many", vec![], None).await;
    assert!(
        matches!(
            &waited,
            Err(ProviderError::RetryLater { message, after: Some(after) })
                if message.contains("250 posts") && after.as_secs() == 3600
        ),
        "{waited:?}"
    );
    let created = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| r.url.path() == "/v1.0/th-42/threads");
    assert!(!created, "nothing is created over the quota");
}

#[actix_web::test]
async fn several_pictures_go_out_as_one_carousel() {
    let server = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &threads::hosts(&server))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    threads::mount_login(&server).await;
    threads::mount_publishing(&server, 4).await;
    let id = threads::connect(&app, &key, &org, &server).await;
    let channel = app.channel(&org, &id).await;
    let picture = |name: &str| crate::fakes::image(&format!("{}/files/{name}", server.uri()), None);
    let carousel = app
        .publish(
            &channel,
            "Two loaves",
            vec![picture("a.png"), picture("b.png")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(carousel.url, "https://www.threads.net/@ada/post/m-carousel");
    let requests = server.received_requests().await.unwrap();
    let containers: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/v1.0/th-42/threads")
        .collect();
    assert_eq!(
        containers
            .iter()
            .filter(|r| facebook::form_has(r, "is_carousel_item", "true"))
            .count(),
        2
    );
    let parent = containers
        .iter()
        .find(|r| facebook::form_has(r, "media_type", "CAROUSEL"))
        .unwrap();
    assert!(facebook::form_has(parent, "children", "c-item,c-item"));
    assert!(facebook::form_has(parent, "text", "Two loaves"));
}

#[actix_web::test]
async fn a_container_threads_could_not_process_fails_with_threads_reason() {
    let server = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &threads::hosts(&server))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    threads::mount_login(&server).await;
    threads::mount_publishing(&server, 4).await;
    wiremock::Mock::given(wiremock::matchers::path("/v1.0/c-image"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "id": "c-image", "status": "ERROR", "error_message": "FAILED_DOWNLOADING_VIDEO"
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    let id = threads::connect(&app, &key, &org, &server).await;
    let channel = app.channel(&org, &id).await;
    let picture = crate::fakes::image(&format!("{}/files/a.png", server.uri()), None);
    let failed = app.publish(&channel, "Bread", vec![picture], None).await;
    assert!(
        matches!(&failed, Err(ProviderError::BadBody(m)) if m.contains("FAILED_DOWNLOADING_VIDEO")),
        "{failed:?}"
    );
    let published = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| r.url.path() == "/v1.0/th-42/threads_publish");
    assert!(!published, "a failed container is never published");
}
