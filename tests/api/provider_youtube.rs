//! YouTube: the resumable upload (chunks of 256 KiB multiples, resumed where YouTube stopped),
//! the metadata and thumbnail, refresh tokens, a used-up quota waited out until midnight
//! Pacific, the rules checked when the post is written, and Google's "Access blocked".

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use socialgate::channels;
use socialgate::providers::{MediaItem, ProviderError};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::fakes::youtube::{self, error};
use crate::helpers::{TestApp, client, spawn_app_with};

async fn ada() -> (TestApp, MockServer, String, String, String) {
    let server = MockServer::start().await;
    let hosts = youtube::hosts(&server);
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())]).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = youtube::connect(&app, &tenant.key, &tenant.org, &server).await;
    (app, server, tenant.org, tenant.key, id)
}

/// An MP4 of `len` bytes (the header is what the type check reads).
fn mp4(len: usize) -> Vec<u8> {
    let mut video = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    video.extend((0..len - video.len()).map(|i| (i % 251) as u8));
    video
}

fn video_item(path: &Value) -> MediaItem {
    MediaItem {
        kind: "video".into(),
        path: path.as_str().unwrap().to_owned(),
        alt: None,
        thumbnail: None,
        dimensions: None,
    }
}

#[actix_web::test]
async fn a_video_goes_up_resumably_and_resumes_where_youtube_stopped() {
    let (app, server, org, key, id) = ada().await;
    let seen = youtube::mount_upload(&server, "ya29.one").await;
    let bytes = mp4(socialgate::providers::youtube::CHUNK + 600_000);
    let (status, video) = app.upload(&key, "launch.mp4", bytes.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{video}");
    let (_, picture) = app
        .upload(&key, "thumb.png", crate::fakes::PNG.to_vec())
        .await;
    let channel = app.channel(&org, &id).await;
    assert_eq!(channel.name, "Ada's Channel");
    let settings = json!({ "title": "Our launch", "type": "unlisted", "selfDeclaredMadeForKids": "no",
        "tags": [{ "value": "launch", "label": "launch" }, { "value": "new things", "label": "new things" }],
        "thumbnail": { "id": picture["id"], "path": picture["path"] } });
    let published = app
        .publish_with(
            &channel,
            "What we built",
            vec![video_item(&video["path"])],
            settings,
            None,
        )
        .await
        .unwrap();
    assert_eq!(published.id, "vid-1");
    assert_eq!(published.url, "https://www.youtube.com/watch?v=vid-1");

    let kept = seen.bytes.lock().unwrap().clone();
    assert_eq!(
        sha2::Sha256::digest(&kept),
        sha2::Sha256::digest(&bytes),
        "YouTube has the whole video, once"
    );
    let chunk = socialgate::providers::youtube::CHUNK;
    let total = bytes.len();
    let ranges = seen.ranges.lock().unwrap().clone();
    assert_eq!(
        ranges,
        vec![
            format!("bytes 0-{}/{total}", chunk - 1),
            format!("bytes {chunk}-{}/{total}", total - 1),
            format!("bytes */{total}"),
            // Resumed after the 256 KiB YouTube acknowledged.
            format!("bytes {}-{}/{total}", chunk + 256 * 1024, total - 1),
        ]
    );
    let metadata = seen.metadata.lock().unwrap().clone();
    assert_eq!(
        metadata,
        json!({ "snippet": { "title": "Our launch", "description": "What we built",
                "tags": ["launch", "new things"], "categoryId": "22" },
            "status": { "privacyStatus": "unlisted", "selfDeclaredMadeForKids": false } })
    );
    assert_eq!(*seen.thumbnails.lock().unwrap(), 1);
}

#[actix_web::test]
async fn a_used_up_quota_is_waited_out_until_midnight_pacific() {
    let (app, server, org, key, id) = ada().await;
    Mock::given(method("POST"))
        .and(path("/upload/youtube/v3/videos"))
        .respond_with(error(
            403,
            "youtube.quota",
            "quotaExceeded",
            "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
        ))
        .mount(&server)
        .await;
    let (_, video) = app.upload(&key, "a.mp4", mp4(300_000)).await;
    let channel = app.channel(&org, &id).await;
    let refused = app
        .publish_with(
            &channel,
            "x",
            vec![video_item(&video["path"])],
            json!({ "title": "A title" }),
            None,
        )
        .await;
    match refused {
        Err(ProviderError::RetryLater {
            message,
            after: Some(after),
        }) => {
            assert!(message.contains("midnight Pacific"), "{message}");
            assert!(after.as_secs() > 0 && after.as_secs() <= 24 * 3600 + 60);
        }
        other => panic!("not waited out: {other:?}"),
    }
}

#[actix_web::test]
async fn a_refresh_keeps_the_refresh_token_google_does_not_send_again() {
    let (app, _server, org, _key, id) = ada().await;
    let channel = app.channel(&org, &id).await;
    assert!(channel.has_refresh_token());
    channels::refresh_now(&app.state.ctx(), &app.state.keys, &channel)
        .await
        .expect("renewed");
    let auth = app.channel_auth(&app.channel(&org, &id).await).await;
    assert_eq!(auth.access_token, "ya29.two");
    assert_eq!(
        auth.refresh_token.as_deref(),
        Some("1//yt-refresh"),
        "Google does not send the refresh token again: the old one is kept"
    );
}

#[actix_web::test]
async fn analytics_come_from_youtube_analytics_day_by_day() {
    let (app, server, _org, key, id) = ada().await;
    Mock::given(method("GET"))
        .and(path("/v2/reports"))
        .and(query_param("ids", "channel==MINE"))
        .and(query_param("dimensions", "day"))
        .and(query_param("metrics", "views,estimatedMinutesWatched,likes,subscribersGained"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "kind": "youtubeAnalytics#resultTable",
            "columnHeaders": [{ "name": "day" }, { "name": "views" }, { "name": "estimatedMinutesWatched" },
                { "name": "likes" }, { "name": "subscribersGained" }],
            "rows": [["2026-11-20", 1420, 3310, 12, 3], ["2026-11-21", "1105", 2870, 9, 1]]
        })))
        .mount(&server)
        .await;
    let (status, series) = app.api_get(&key, &format!("/analytics/{id}?date=14")).await;
    assert_eq!(status, StatusCode::OK, "{series}");
    assert_eq!(series[0]["label"], "Views");
    assert_eq!(
        series[0]["data"],
        json!([{ "total": "1420", "date": "2026-11-20" }, { "total": "1105", "date": "2026-11-21" }])
    );
    assert_eq!(series[3]["label"], "New subscribers");
}

#[actix_web::test]
async fn a_post_without_one_video_or_a_valid_title_is_refused_when_written() {
    let (app, _server, _org, key, id) = ada().await;
    let (_, video) = app.upload(&key, "a.mp4", mp4(300_000)).await;
    let post = |value: Value, settings: Value| {
        json!({ "type": "schedule", "date": "2031-01-01T00:00:00Z", "shortLink": false, "tags": [],
            "posts": [{ "integration": { "id": id }, "settings": settings, "value": [value] }] })
    };
    let with_video =
        json!({ "content": "x", "image": [{ "id": video["id"], "path": video["path"] }] });
    let cases = vec![
        (
            post(
                json!({ "content": "no video", "image": [] }),
                json!({ "title": "A title" }),
            ),
            "YouTube must have on video attachment",
        ),
        (post(with_video.clone(), json!({ "title": "x" })), "title"),
        (
            post(
                with_video.clone(),
                json!({ "title": "A title", "type": "secret" }),
            ),
            "type",
        ),
    ];
    app.refuses_posts(&key, cases).await;
    let (status, answer) = app
        .api_send(
            Method::POST,
            &key,
            "/posts",
            Some(post(with_video, json!({ "title": "A title" }))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

#[actix_web::test]
async fn access_blocked_by_google_explains_the_test_users_fix() {
    let server = MockServer::start().await;
    let hosts = youtube::hosts(&server);
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())]).await;
    let tenant = app.tenant("bo@example.com").await;
    app.set_credentials(&tenant.org, "youtube", "yt-id", "yt-secret", None)
        .await;
    let url = app.connect_url(&tenant.key, "youtube").await;
    let state = crate::helpers::query_param(&url, "state").unwrap();
    let r = client()
        .get(app.url(&format!(
            "/postiz/integrations/social/youtube?error=access_denied&state={state}"
        )))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("Test users"), "{page}");
    assert!(page.contains("Access blocked"), "{page}");
}
