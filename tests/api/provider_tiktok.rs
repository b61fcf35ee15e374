//! TikTok: a video through the Public API and the worker, uploaded in TikTok's chunks and
//! published after its status check; what the creator's account allows (privacy levels,
//! interactions turned off, the longest video); inbox uploads; pictures sent as JPEG by URL;
//! the rules checked when the post is written; analytics.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;
use socialgate::providers::ProviderError;
use wiremock::MockServer;

use crate::fakes::image;
use crate::fakes::tiktok::{self, mp4_lasting};
use crate::fakes::youtube::video_item;
use crate::helpers::{TestApp, client, eventually, spawn_app_with};

async fn ada() -> (TestApp, MockServer, String, String, String) {
    let server = MockServer::start().await;
    let hosts = tiktok::hosts(&server);
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())]).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = tiktok::connect(&app, &tenant.key, &tenant.org, &server).await;
    (app, server, tenant.org, tenant.key, id)
}

fn settings(privacy: &str, method: &str) -> Value {
    json!({ "privacy_level": privacy, "duet": true, "stitch": true, "comment": true,
        "brand_content_toggle": false, "brand_organic_toggle": false, "autoAddMusic": "no",
        "content_posting_method": method })
}

#[actix_web::test]
async fn a_video_goes_up_in_chunks_and_is_published_after_its_status_check() {
    let (app, server, _, key, id) = ada().await;
    let seen = tiktok::mount_publishing(&server).await;
    let bytes = mp4_lasting(21_000_000, 30);
    let (status, video) = app.upload(&key, "dance.mp4", bytes.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{video}");
    let body = json!({ "type": "now", "shortLink": false, "date": chrono::Utc::now().to_rfc3339(),
        "tags": [], "posts": [{ "integration": { "id": id },
            "settings": settings("PUBLIC_TO_EVERYONE", "DIRECT_POST"),
            "value": [{ "content": "<p>New moves</p>", "image": [{ "id": video["id"], "path": video["path"] }] }] }] });
    // The first check finds the upload still processing; the worker checks again later.
    let published = app.published_by_worker(&key, body).await;
    assert_eq!(
        published["releaseURL"],
        "https://www.tiktok.com/@ada.dances/video/7300000000000000001"
    );
    assert_eq!(*seen.checks.lock().unwrap(), 2, "checked until complete");
    // Two chunks: 10 MB, then the last one taking the rest.
    assert_eq!(
        seen.ranges.lock().unwrap().clone(),
        vec![
            "bytes 0-9999999/21000000",
            "bytes 10000000-20999999/21000000"
        ]
    );
    assert_eq!(
        sha2::Sha256::digest(seen.video.lock().unwrap().as_slice()),
        sha2::Sha256::digest(&bytes),
        "TikTok has the whole video"
    );
    let init = seen.inits.lock().unwrap()[0].clone();
    assert_eq!(
        init["source_info"],
        json!({ "source": "FILE_UPLOAD", "video_size": 21_000_000, "chunk_size": 10_000_000, "total_chunk_count": 2 })
    );
    let info = &init["post_info"];
    assert_eq!(info["title"], "New moves");
    assert_eq!(info["privacy_level"], "PUBLIC_TO_EVERYONE");
    assert_eq!(info["disable_duet"], true, "the creator turned duets off");
    assert_eq!(info["disable_stitch"], false);
    assert_eq!(info["disable_comment"], false);
}

#[actix_web::test]
async fn what_the_creator_does_not_allow_is_refused_before_anything_is_sent() {
    let (app, server, org, key, id) = ada().await;
    let seen = tiktok::mount_publishing(&server).await;
    let channel = app.channel(&org, &id).await;
    let (_, short) = app
        .upload(&key, "short.mp4", mp4_lasting(300_000, 20))
        .await;
    let refused = app
        .publish_with(
            &channel,
            "Friends only",
            vec![video_item(&short["path"])],
            settings("FOLLOWER_OF_CREATOR", "DIRECT_POST"),
            None,
        )
        .await;
    match refused {
        Err(ProviderError::BadBody(m)) => assert!(
            m.contains("FOLLOWER_OF_CREATOR")
                && m.contains("PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let (_, long) = app.upload(&key, "long.mp4", mp4_lasting(300_000, 90)).await;
    let refused = app
        .publish_with(
            &channel,
            "Too long",
            vec![video_item(&long["path"])],
            settings("SELF_ONLY", "DIRECT_POST"),
            None,
        )
        .await;
    match refused {
        Err(ProviderError::BadBody(m)) => {
            assert!(
                m.contains("90 seconds") && m.contains("at most 60 seconds"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(
        seen.inits.lock().unwrap().is_empty(),
        "no publish was started"
    );
}

#[actix_web::test]
async fn an_inbox_upload_ends_for_the_creator_to_finish_in_tiktok() {
    let (app, server, org, key, id) = ada().await;
    let seen = tiktok::mount_publishing(&server).await;
    let channel = app.channel(&org, &id).await;
    let (_, video) = app
        .upload(&key, "draft.mp4", mp4_lasting(300_000, 20))
        .await;
    let published = app
        .publish_with(
            &channel,
            "For later",
            vec![video_item(&video["path"])],
            settings("SELF_ONLY", "UPLOAD"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        published.id, "missing",
        "the creator finishes the post in the app"
    );
    assert_eq!(published.url, "https://www.tiktok.com/messages?lang=en");
    let init = seen.inits.lock().unwrap()[0].clone();
    assert!(
        init.get("post_info").is_none(),
        "an inbox upload carries no post_info"
    );
    assert_eq!(
        init["source_info"]["total_chunk_count"], 1,
        "a small video goes whole"
    );
}

#[actix_web::test]
async fn pictures_are_pulled_by_tiktok_as_jpeg() {
    let server = MockServer::start().await;
    let hosts = tiktok::hosts(&server);
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())]).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = tiktok::connect(&app, &tenant.key, &tenant.org, &server).await;
    let seen = tiktok::mount_publishing(&server).await;
    let (_, picture) = app
        .upload(&tenant.key, "cat.png", crate::fakes::dribbble::png(3, 2))
        .await;
    let channel = app.channel(&tenant.org, &id).await;
    let mut photo = settings("MUTUAL_FOLLOW_FRIENDS", "DIRECT_POST");
    photo["title"] = json!("Our cat");
    photo["autoAddMusic"] = json!("yes");
    app.publish_with(
        &channel,
        "A cat, as a photo post",
        vec![image(picture["path"].as_str().unwrap(), None)],
        photo,
        None,
    )
    .await
    .unwrap();
    let init = seen.inits.lock().unwrap()[0].clone();
    assert_eq!(init["media_type"], "PHOTO");
    assert_eq!(init["post_mode"], "DIRECT_POST");
    assert_eq!(init["post_info"]["title"], "Our cat");
    assert_eq!(init["post_info"]["description"], "A cat, as a photo post");
    assert_eq!(init["post_info"]["auto_add_music"], true);
    assert_eq!(init["source_info"]["photo_cover_index"], 0);
    let url = init["source_info"]["photo_images"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&app.url("/uploads/")) && url.ends_with(".jpg"),
        "{url}"
    );
    let jpeg = client()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF], "TikTok fetches a JPEG");
    assert_eq!(socialgate::media::dimensions(&jpeg), Some((3, 2)));
}

#[actix_web::test]
async fn tiktok_rules_are_checked_when_the_post_is_written() {
    let (app, _server, _, key, id) = ada().await;
    let (_, video) = app.upload(&key, "a.mp4", mp4_lasting(300_000, 10)).await;
    let (_, gif) = app
        .upload(
            &key,
            "a.gif",
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
        )
        .await;
    let media = |m: &Value| json!([{ "id": m["id"], "path": m["path"] }]);
    let post = |settings: Value, image: Value| {
        json!({ "type": "schedule", "shortLink": false,
            "date": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "tags": [],
            "posts": [{ "integration": { "id": id }, "settings": settings,
                "value": [{ "content": "<p>Moves</p>", "image": image }] }] })
    };
    let mut branded_private = settings("SELF_ONLY", "DIRECT_POST");
    branded_private["brand_content_toggle"] = json!(true);
    let mut long_title = settings("SELF_ONLY", "DIRECT_POST");
    long_title["title"] = json!("t".repeat(91));
    app.refuses_posts(
        &key,
        vec![
            (
                post(settings("SELF_ONLY", "DIRECT_POST"), json!([])),
                "it cannot be without an attachment",
            ),
            (
                post(settings("EVERYONE", "DIRECT_POST"), media(&video)),
                "privacy_level",
            ),
            (
                post(json!({ "privacy_level": "SELF_ONLY" }), media(&video)),
                "content_posting_method",
            ),
            (
                post(branded_private, media(&video)),
                "branded content cannot be private",
            ),
            (post(long_title, media(&video)), "at most 90 characters"),
            (
                post(settings("SELF_ONLY", "DIRECT_POST"), media(&gif)),
                "not GIF",
            ),
        ],
    )
    .await;
}

#[actix_web::test]
async fn analytics_come_from_the_creators_profile() {
    let (app, _server, _, key, id) = ada().await;
    let (status, series) = app.api_get(&key, &format!("/analytics/{id}?date=7")).await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let followers = series
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == "Followers")
        .expect("followers");
    assert_eq!(followers["data"][0]["total"], "1200");
}

#[actix_web::test]
async fn videos_are_pulled_by_tiktok_once_the_media_host_is_verified() {
    let server = MockServer::start().await;
    let hosts = tiktok::hosts(&server);
    let app = spawn_app_with(&[
        ("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str()),
        ("SOCIALGATE_TIKTOK_VERIFIED_MEDIA", "true"),
    ])
    .await;
    let tenant = app.tenant("ada@example.com").await;
    let id = tiktok::connect(&app, &tenant.key, &tenant.org, &server).await;
    let seen = tiktok::mount_publishing(&server).await;
    let (_, video) = app
        .upload(&tenant.key, "clip.mp4", mp4_lasting(300_000, 20))
        .await;
    let channel = app.channel(&tenant.org, &id).await;
    app.publish_with(
        &channel,
        "Pulled",
        vec![video_item(&video["path"])],
        settings("SELF_ONLY", "DIRECT_POST"),
        None,
    )
    .await
    .unwrap();
    let init = seen.inits.lock().unwrap()[0].clone();
    assert_eq!(
        init["source_info"],
        json!({ "source": "PULL_FROM_URL", "video_url": video["path"] })
    );
    assert!(
        seen.ranges.lock().unwrap().is_empty(),
        "nothing was uploaded"
    );
}

#[actix_web::test]
async fn a_videos_analytics_and_the_recent_videos_come_from_tiktok() {
    let (app, server, org, _, id) = ada().await;
    tiktok::mount_publishing(&server).await;
    let channel = app.channel(&org, &id).await;
    let auth = app.channel_auth(&channel).await;
    let ctx = app.state.ctx();
    let on = socialgate::providers::On {
        ctx: &ctx,
        auth: &auth,
    };
    let series = app.post_analytics(&channel, "7300000000000000001", 7).await;
    assert_eq!(series[0]["label"], "Views");
    assert_eq!(series[0]["data"][0]["total"], "5400");
    let recent = channel.provider().unwrap().missing(&on).await.unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[1].id, "7300000000000000001");
    assert_eq!(recent[1].url, "https://p16.tiktokcdn.com/cover-1.jpeg");
}

#[actix_web::test]
async fn a_days_token_is_renewed_by_the_sweep_only_in_its_last_hour() {
    use diesel::prelude::*;
    use socialgate::db::schema::integrations;
    let (app, server, org, _, id) = ada().await;
    let refreshes = || async {
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| crate::fakes::facebook::form_has(r, "grant_type", "refresh_token"))
            .count()
    };
    // A token with a day left: the sweep that runs when a worker starts leaves it.
    let worker = app.start_worker();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    worker.stop().await;
    assert_eq!(
        refreshes().await,
        0,
        "a day is more than TikTok's last hour"
    );
    let channel = id.clone();
    app.with_db(move |conn| {
        diesel::update(integrations::table.find(&channel))
            .set(
                integrations::token_expires_at
                    .eq(socialgate::db::now() + chrono::Duration::minutes(30)),
            )
            .execute(conn)
    })
    .await;
    let worker = app.start_worker();
    eventually("the sweep to renew the token", || {
        let (app, org, id) = (&app, &org, &id);
        async move {
            let auth = app.channel_auth(&app.channel(org, id).await).await;
            (auth.access_token == "act.two").then_some(())
        }
    })
    .await;
    worker.stop().await;
    let auth = app.channel_auth(&app.channel(&org, &id).await).await;
    assert_eq!(
        auth.refresh_token.as_deref(),
        Some("rft.two"),
        "the rotated refresh token is kept"
    );
    assert_eq!(refreshes().await, 1);
}

#[actix_web::test]
async fn the_organization_is_told_a_week_before_the_refresh_token_ends() {
    use diesel::prelude::*;
    use socialgate::db::schema::integrations;
    let (app, _server, org, key, id) = ada().await;
    let channel = app.channel(&org, &id).await;
    let ends = channel
        .refresh_expires_at
        .expect("TikTok says when its refresh token ends");
    let year = socialgate::db::now() + chrono::Duration::seconds(31_536_000);
    assert!((ends - year).num_seconds().abs() < 60, "{ends}");
    // Three days left: inside the week, far from the access token's last hour.
    let soon = socialgate::db::now() + chrono::Duration::days(3);
    let row = id.clone();
    app.with_db(move |conn| {
        diesel::update(integrations::table.find(row))
            .set(integrations::refresh_expires_at.eq(soon))
            .execute(conn)
    })
    .await;
    let worker = app.start_worker();
    let notes = eventually("the organization to be told", || {
        let (app, key) = (&app, key.clone());
        async move {
            let (_, notes) = app.api_get(&key, "/notifications").await;
            let text = notes.to_string();
            text.contains("must be reconnected before").then_some(text)
        }
    })
    .await;
    worker.stop().await;
    assert!(
        notes.contains(&soon.format("%Y-%m-%d %H:%M").to_string())
            && notes.contains("TikTok's permission to renew its access ends then"),
        "{notes}"
    );
    // A renewal gives a new refresh token and its new end.
    socialgate::channels::refresh_now(
        &app.state.ctx(),
        &app.state.keys,
        &app.channel(&org, &id).await,
    )
    .await
    .unwrap();
    let renewed = app.channel(&org, &id).await.refresh_expires_at.unwrap();
    assert!((renewed - year).num_seconds().abs() < 60, "{renewed}");
}
