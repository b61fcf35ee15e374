//! Dribbble: the `teams` tool, a shot through the Public API and the worker (multipart with
//! the picture, title, description, tags and team), pictures of sizes Dribbble does not take
//! refused when the post is written or, for pictures from elsewhere, before anything is sent.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialgate::providers::ProviderError;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fakes::dribbble::{self, png};
use crate::fakes::youtube::mp4;
use crate::fakes::{image, trusted};
use crate::helpers::{TestApp, spawn_app_with};

async fn ada() -> (TestApp, MockServer, String, String, String, dribbble::Seen) {
    let server = MockServer::start().await;
    let (hosts, fetch) = (dribbble::hosts(&server), trusted(&server));
    let app = spawn_app_with(&[
        ("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str()),
        ("SOCIALGATE_FETCH_TRUSTED_HOSTS", fetch.as_str()),
    ])
    .await;
    let tenant = app.tenant("ada@example.com").await;
    let id = dribbble::connect(&app, &tenant.key, &tenant.org, &server).await;
    let seen = dribbble::mount_shots(&server).await;
    (app, server, tenant.org, tenant.key, id, seen)
}

#[actix_web::test]
async fn a_shot_goes_out_with_its_title_tags_and_team() {
    let (app, _server, _, key, id, seen) = ada().await;
    let (status, teams) = app
        .api_send(
            Method::POST,
            &key,
            &format!("/integration-trigger/{id}"),
            Some(json!({ "methodName": "teams", "data": {} })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{teams}");
    assert_eq!(
        teams,
        json!({ "output": [{ "id": "77", "name": "Acme Studio" }] })
    );
    let (_, shot) = app.upload(&key, "logo.png", png(800, 600)).await;
    let body = json!({ "type": "now", "shortLink": false, "date": chrono::Utc::now().to_rfc3339(),
        "tags": [], "posts": [{ "integration": { "id": id },
            "settings": { "title": "New logo", "team": "77",
                "tags": [{ "value": "logo", "label": "logo" }, { "value": "branding", "label": "branding" }] },
            "value": [{ "content": "<p>Our new mark</p>", "image": [{ "id": shot["id"], "path": shot["path"] }] }] }] });
    let published = app.published_by_worker(&key, body).await;
    assert_eq!(published["releaseURL"], "https://dribbble.com/shots/471751");
    let sent = seen.shots.lock().unwrap()[0].clone();
    assert_eq!(sent.size, (800, 600));
    assert_eq!(sent.field("title"), ["New logo"]);
    assert_eq!(sent.field("description"), ["Our new mark"]);
    assert_eq!(sent.field("tags[]"), ["logo", "branding"]);
    assert_eq!(sent.field("team_id"), ["77"]);
}

#[actix_web::test]
async fn dribbble_rules_are_checked_when_the_post_is_written() {
    let (app, _server, _, key, id, _) = ada().await;
    let (_, small) = app.upload(&key, "small.png", png(401, 300)).await;
    let (_, right) = app.upload(&key, "right.png", png(400, 300)).await;
    let (_, video) = app.upload(&key, "clip.mp4", mp4(300_000)).await;
    let item = |m: &Value| json!({ "id": m["id"], "path": m["path"] });
    let post = |settings: Value, image: Value| {
        json!({ "type": "schedule", "shortLink": false,
            "date": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "tags": [],
            "posts": [{ "integration": { "id": id }, "settings": settings,
                "value": [{ "content": "<p>A shot</p>", "image": image }] }] })
    };
    let titled = json!({ "title": "A shot" });
    let tags: Vec<Value> = (0..13)
        .map(|i| json!({ "value": format!("t{i}"), "label": "" }))
        .collect();
    app.refuses_posts(
        &key,
        vec![
            (
                post(titled.clone(), json!([item(&small)])),
                "the image is 401×300 pixels; Dribbble takes exactly 400×300 or 800×600",
            ),
            (
                post(titled.clone(), json!([])),
                "GIF, JPG or PNG of exactly 400×300 or 800×600",
            ),
            (
                post(titled.clone(), json!([item(&video)])),
                "Dribbble takes one image per post",
            ),
            (
                post(titled.clone(), json!([item(&right), item(&right)])),
                "Dribbble takes one image per post",
            ),
            (
                post(json!({ "title": " " }), json!([item(&right)])),
                "Title is required",
            ),
            (
                post(
                    json!({ "title": "A shot", "tags": tags }),
                    json!([item(&right)]),
                ),
                "at most 12 tags",
            ),
            (
                post(
                    json!({ "title": "A shot", "team": "Acme" }),
                    json!([item(&right)]),
                ),
                "not a team id",
            ),
        ],
    )
    .await;
}

#[actix_web::test]
async fn a_picture_from_elsewhere_is_measured_before_it_is_sent() {
    let (app, server, org, _, id, seen) = ada().await;
    Mock::given(method("GET"))
        .and(path("/files/wide.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(png(1600, 1200)),
        )
        .mount(&server)
        .await;
    let channel = app.channel(&org, &id).await;
    let refused = app
        .publish_with(
            &channel,
            "Too big",
            vec![image(&format!("{}/files/wide.png", server.uri()), None)],
            json!({ "title": "Wide" }),
            None,
        )
        .await;
    assert!(
        matches!(&refused, Err(ProviderError::BadBody(m)) if m.contains("1600×1200") && m.contains("400×300 or 800×600")),
        "{refused:?}"
    );
    assert!(seen.shots.lock().unwrap().is_empty());
}
