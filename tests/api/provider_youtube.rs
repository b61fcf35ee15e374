//! YouTube: the resumable upload (chunks of 256 KiB multiples, resumed where YouTube stopped),
//! the metadata and thumbnail, refresh tokens, a used-up quota waited out until midnight
//! Pacific, the rules checked when the post is written, and Google's "Access blocked".

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;
use socialgate::channels;
use socialgate::providers::ProviderError;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::fakes::youtube::{self, error, mp4, video_item};
use crate::helpers::{TestApp, client, spawn_app_with};

async fn ada() -> (TestApp, MockServer, String, String, String) {
    let server = MockServer::start().await;
    let hosts = youtube::hosts(&server);
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())]).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = youtube::connect(&app, &tenant.key, &tenant.org, &server).await;
    (app, server, tenant.org, tenant.key, id)
}

/// YouTube has the whole video once: the second chunk was cut off after 256 KiB, socialgate
/// asked where the upload stood and sent the rest from there.
fn resumed_after_the_first_256_kib_of_the_second_chunk(seen: &youtube::Upload, bytes: &[u8]) {
    assert_eq!(
        sha2::Sha256::digest(seen.first()),
        sha2::Sha256::digest(bytes),
        "YouTube has the whole video, once"
    );
    let (chunk, total) = (socialgate::providers::youtube::CHUNK, bytes.len());
    assert_eq!(
        seen.ranges.lock().unwrap().clone(),
        vec![
            format!("bytes 0-{}/{total}", chunk - 1),
            format!("bytes {chunk}-{}/{total}", total - 1),
            format!("bytes */{total}"),
            format!("bytes {}-{}/{total}", chunk + 256 * 1024, total - 1),
        ]
    );
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

    resumed_after_the_first_256_kib_of_the_second_chunk(&seen, &bytes);
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
async fn a_connection_dropped_mid_chunk_resumes_from_the_bytes_youtube_kept() {
    let (app, server, org, key, id) = ada().await;
    let seen = youtube::Upload::default();
    let host = youtube::Dropping::start(&seen, 300 * 1024).await;
    youtube::mount_upload_at(&server, "ya29.one", Some(host.uri.clone()), seen.clone()).await;
    let bytes = mp4(socialgate::providers::youtube::CHUNK + 700_000);
    let (_, video) = app.upload(&key, "launch.mp4", bytes.clone()).await;
    let channel = app.channel(&org, &id).await;
    let published = app
        .publish_with(
            &channel,
            "What we built",
            vec![video_item(&video["path"])],
            json!({ "title": "Our launch" }),
            None,
        )
        .await
        .expect("the upload survives the dropped connection");
    assert_eq!(published.id, "vid-1");
    assert_eq!(
        *host.dropped.lock().unwrap(),
        1,
        "the connection was dropped once"
    );
    resumed_after_the_first_256_kib_of_the_second_chunk(&seen, &bytes);
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
        .and(query_param("ids", "channel==UC-ada"))
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

#[actix_web::test]
async fn a_google_account_with_several_channels_picks_the_one_to_publish_to() {
    let server = MockServer::start().await;
    let hosts = youtube::hosts(&server);
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())]).await;
    let tenant = app.tenant("ada@example.com").await;
    app.set_credentials(&tenant.org, "youtube", "yt-id", "yt-secret", None)
        .await;
    let channel = |id: &str, title: &str| {
        json!({ "kind": "youtube#channel", "id": id,
            "snippet": { "title": title, "thumbnails": { "default": { "url": format!("https://yt3.ggpht.com/{id}") } } } })
    };
    Mock::given(method("GET"))
        .and(path("/youtube/v3/channels"))
        .and(query_param("mine", "true"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "kind": "youtube#channelListResponse",
            "items": [channel("UC-ada", "Ada's Channel"), channel("UC-lab", "Ada's Lab")]
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/userinfo"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "sub": "1180", "name": "Ada Lovelace", "email": "ada@example.com"
        })))
        .mount(&server)
        .await;
    let url = app.connect_url(&tenant.key, "youtube").await;
    youtube::mount_login(
        &server,
        &crate::helpers::query_param(&url, "scope").unwrap(),
    )
    .await;
    let state = crate::helpers::query_param(&url, "state").unwrap();
    let person = client();
    let r = person
        .get(app.url(&format!(
            "/postiz/integrations/social/youtube?code=yt-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    let html = crate::fakes::facebook::pick_page(&app, &person, r, "youtube", "UC-lab").await;
    assert!(
        html.contains("s Channel") && html.contains("s Lab"),
        "{html}"
    );
    let (_, list) = app.api_get(&tenant.key, "/integrations").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["name"], "Ada's Lab");
    let id = list[0]["id"].as_str().unwrap();
    let picked = app.channel(&tenant.org, id).await;
    assert!(!picked.in_between_steps);
    assert_eq!(app.channel_auth(&picked).await.internal_id, "UC-lab");
}
