//! Pinterest: boards listed through `integration-trigger`, a pin on a board through the Public
//! API and the worker, a video pin (register, the storage's upload form, processing checked,
//! the pin with its cover), refresh tokens that rotate, the rules checked when the post is
//! written, and analytics.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialgate::channels;
use wiremock::MockServer;

use crate::fakes::youtube::{mp4, video_item};
use crate::fakes::{PNG, image, pinterest, trusted};
use crate::helpers::{TestApp, spawn_app_with};

async fn ada() -> (TestApp, MockServer, String, String, String, pinterest::Seen) {
    let server = MockServer::start().await;
    let (hosts, fetch) = (pinterest::hosts(&server), trusted(&server));
    let app = spawn_app_with(&[
        ("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str()),
        ("SOCIALGATE_FETCH_TRUSTED_HOSTS", fetch.as_str()),
    ])
    .await;
    let tenant = app.tenant("ada@example.com").await;
    let id = pinterest::connect(&app, &tenant.key, &tenant.org, &server).await;
    let seen = pinterest::mount_publishing(&server).await;
    (app, server, tenant.org, tenant.key, id, seen)
}

#[actix_web::test]
async fn a_pin_goes_on_a_board_picked_from_the_boards_tool() {
    let (app, _server, _, key, id, seen) = ada().await;
    let (status, boards) = app
        .api_send(
            Method::POST,
            &key,
            &format!("/integration-trigger/{id}"),
            Some(json!({ "methodName": "boards", "data": {} })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{boards}");
    assert_eq!(
        boards,
        json!({ "output": [{ "id": "549755885175", "name": "Breads" }, { "id": "549755885176", "name": "Cakes" }] }),
        "both pages of boards"
    );
    let (_, picture) = app.upload(&key, "bread.png", PNG.to_vec()).await;
    let body = json!({ "type": "now", "shortLink": false, "date": chrono::Utc::now().to_rfc3339(),
        "tags": [], "posts": [{ "integration": { "id": id },
            "settings": { "board": "549755885176", "title": "Sourdough", "link": "https://ada.example/sourdough",
                "dominant_color": "#6E7874" },
            "value": [{ "content": "<p>Baked this morning</p>",
                "image": [{ "id": picture["id"], "path": picture["path"], "alt": "a loaf" }] }] }] });
    let published = app.published_by_worker(&key, body).await;
    assert_eq!(
        published["releaseURL"],
        "https://www.pinterest.com/pin/813466551/"
    );
    let pin = seen.pins.lock().unwrap()[0].clone();
    assert_eq!(
        pin,
        json!({ "board_id": "549755885176", "description": "Baked this morning", "title": "Sourdough",
            "link": "https://ada.example/sourdough", "dominant_color": "#6E7874", "alt_text": "a loaf",
            "media_source": { "source_type": "image_url", "url": picture["path"] } })
    );
}

#[actix_web::test]
async fn a_video_pin_is_uploaded_then_pinned_once_processed() {
    let (app, _server, org, key, id, seen) = ada().await;
    let (_, video) = app.upload(&key, "loaf.mp4", mp4(400_000)).await;
    let (_, cover) = app.upload(&key, "cover.png", PNG.to_vec()).await;
    let channel = app.channel(&org, &id).await;
    let published = app
        .publish_with(
            &channel,
            "How we shape it",
            vec![
                video_item(&video["path"]),
                image(cover["path"].as_str().unwrap(), None),
            ],
            json!({ "board": "549755885175" }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(published.id, "813466551");
    assert_eq!(
        *seen.media_checks.lock().unwrap(),
        2,
        "pinned once processing succeeded"
    );
    let fields = seen.upload_fields.lock().unwrap().clone();
    assert_eq!(
        fields.last().map(String::as_str),
        Some("file"),
        "{fields:?}"
    );
    assert_eq!(
        fields.len(),
        9,
        "every upload parameter, then the file: {fields:?}"
    );
    let pin = seen.pins.lock().unwrap()[0].clone();
    assert_eq!(
        pin["media_source"],
        json!({ "source_type": "video_id", "media_id": "12345", "cover_image_url": cover["path"] })
    );
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_the_new_one_is_kept() {
    let (app, _server, org, _, id, _) = ada().await;
    let channel = app.channel(&org, &id).await;
    channels::refresh_now(&app.state.ctx(), &app.state.keys, &channel)
        .await
        .unwrap();
    let auth = app.channel_auth(&app.channel(&org, &id).await).await;
    assert_eq!(auth.access_token, "pina_two");
    assert_eq!(auth.refresh_token.as_deref(), Some("pinr_two"));
}

#[actix_web::test]
async fn pinterest_rules_are_checked_when_the_post_is_written() {
    let (app, _server, _, key, id, _) = ada().await;
    let (_, picture) = app.upload(&key, "bread.png", PNG.to_vec()).await;
    let (_, video) = app.upload(&key, "loaf.mp4", mp4(300_000)).await;
    let item = |m: &Value| json!({ "id": m["id"], "path": m["path"] });
    let post = |settings: Value, image: Value| {
        json!({ "type": "schedule", "shortLink": false,
            "date": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "tags": [],
            "posts": [{ "integration": { "id": id }, "settings": settings,
                "value": [{ "content": "<p>Bread</p>", "image": image }] }] })
    };
    let board = json!({ "board": "549755885175" });
    app.refuses_posts(
        &key,
        vec![
            (
                post(board.clone(), json!([])),
                "Pinterest requires at least one media",
            ),
            (post(json!({}), json!([item(&picture)])), "board"),
            (
                post(json!({ "board": "Breads" }), json!([item(&picture)])),
                "numeric board id",
            ),
            (
                post(board.clone(), json!([item(&video)])),
                "one for the cover picture",
            ),
            (
                post(
                    json!({ "board": "549755885175", "dominant_color": "grey" }),
                    json!([item(&picture)]),
                ),
                "dominant_color",
            ),
            (
                post(
                    json!({ "board": "549755885175", "link": "not a link" }),
                    json!([item(&picture)]),
                ),
                "link",
            ),
        ],
    )
    .await;
}

#[actix_web::test]
async fn analytics_come_day_by_day_for_the_account_and_each_pin() {
    let (app, _server, org, key, id, _) = ada().await;
    let (status, series) = app.api_get(&key, &format!("/analytics/{id}?date=7")).await;
    assert_eq!(status, StatusCode::OK, "{series}");
    assert_eq!(series[0]["label"], "Impressions");
    assert_eq!(series[0]["data"].as_array().unwrap().len(), 2);
    let channel = app.channel(&org, &id).await;
    let pin = app.post_analytics(&channel, "813466551", 30).await;
    assert_eq!(pin[3]["label"], "Saves");
    assert_eq!(pin[3]["data"][1]["total"], "40");
}
