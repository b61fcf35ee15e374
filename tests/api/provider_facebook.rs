//! Facebook Pages, as a new user meets them: the admin enters the Meta app's credentials, a
//! person logs in and picks a page, and a scheduled post with an image and a comment goes out
//! on the page with the page's own token; and what people read when it cannot work.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use socialgate::db::schema::integrations;
use socialgate::providers::MediaItem;
use wiremock::MockServer;

use crate::fakes::{PNG, facebook};
use crate::helpers::{Tenant, client, eventually, input_by_id, spawn_app, spawn_app_with};

#[actix_web::test]
async fn a_page_is_picked_and_a_scheduled_post_with_an_image_and_a_comment_goes_out_on_it() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let Tenant {
        browser, key, org, ..
    } = app.tenant("ada@example.com").await;
    // The admin enters the app's credentials and copies the redirect URI shown there.
    let csrf = app.csrf(&browser, "/settings/social-keys").await;
    let r = app
        .post_form(
            &browser,
            "/settings/social-keys/facebook",
            &[
                ("csrf_token", &csrf),
                ("client_id", "fb-id"),
                ("client_secret", "fb-secret"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let shown = input_by_id(&r.text().await.unwrap(), "redirect-facebook").unwrap();
    assert_eq!(shown, app.url("/postiz/integrations/social/facebook"));

    facebook::mount_login(
        &graph,
        "/postiz/integrations/social/facebook",
        vec![
            facebook::page("p-1", "Ada's Bakery", "page-token-1"),
            facebook::page("p-2", "Ada's Books", "page-token-2"),
        ],
    )
    .await;
    facebook::mount_page(&graph).await;
    let channel = facebook::connect(&app, &key, &org, &graph, "facebook", "p-1").await;
    let (_, list) = app.api_get(&key, "/integrations").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "Ada's Bakery");
    // The page's token is what the channel keeps, sealed.
    let id = channel.clone();
    let (token, root): (String, Option<String>) = app
        .with_db(move |c| {
            integrations::table
                .find(&id)
                .select((integrations::access_token, integrations::root_internal_id))
                .first(c)
        })
        .await;
    assert!(
        token.starts_with("v1.") && !token.contains("page-token"),
        "{token}"
    );
    assert_eq!(root.as_deref(), Some("u-1"));
    let stored = app.channel(&org, &channel).await;
    assert_eq!(app.channel_auth(&stored).await.access_token, "page-token-1");

    // A post with an image and a comment, two seconds ahead.
    let (status, upload) = app.upload(&key, "bread.png", PNG.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{upload}");
    let media_url = upload["path"].as_str().unwrap().to_owned();
    let date = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let body = json!({ "type": "schedule", "shortLink": false, "date": date, "tags": [],
    "posts": [{ "integration": { "id": channel }, "settings": {}, "value": [
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
    assert_eq!(published["releaseURL"], "https://www.facebook.com/p-1_100");
    let requests = graph.received_requests().await.unwrap();
    let photo = requests
        .iter()
        .find(|r| r.url.path() == facebook::v("/p-1/photos"))
        .expect("the photo was posted");
    assert!(
        facebook::form_has(photo, "url", &media_url),
        "Meta fetches our public URL"
    );
    assert!(facebook::form_has(photo, "caption", "Fresh bread today"));
    let comment = eventually("the comment to be posted", || {
        let graph = &graph;
        async move {
            graph
                .received_requests()
                .await
                .unwrap()
                .into_iter()
                .find(|r| r.url.path() == facebook::v("/p-1_100/comments"))
        }
    })
    .await;
    assert!(facebook::form_has(&comment, "message", "Open until six"));
    for call in requests
        .iter()
        .chain([&comment])
        .filter(|r| r.url.path().starts_with(&facebook::v("/p-1")))
    {
        let token = call.url.query_pairs().find(|(k, _)| k == "access_token");
        assert_eq!(
            token.map(|(_, v)| v.into_owned()).as_deref(),
            Some("page-token-1"),
            "page calls carry the page's token: {}",
            call.url
        );
    }
    worker.stop().await;

    // Page analytics come from insights.
    let (status, series) = app
        .api_get(&key, &format!("/analytics/{channel}?date=7"))
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    assert_eq!(series[0]["label"], "Views");
    assert_eq!(series[0]["data"][1]["total"], "25");
    // No token reaches the log, though Graph calls carry them in the query string.
    let logs = crate::helpers::logs();
    for token in [
        "page-token-1",
        "long-user-token",
        "short-user-token",
        "fb-secret",
    ] {
        assert!(!logs.contains(token), "{token} was logged");
    }
}

#[actix_web::test]
async fn an_account_without_pages_is_told_why_and_media_that_meta_cannot_reach_is_flagged() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    facebook::mount_login(&graph, "/postiz/integrations/social/facebook", vec![]).await;
    app.set_credentials(&org, "facebook", "fb-id", "fb-secret", None)
        .await;
    let url = app.connect_url(&key, "facebook").await;
    let state = crate::helpers::query_param(&url, "state").unwrap();
    let person = client();
    let r = person
        .get(app.url(&format!(
            "/postiz/integrations/social/facebook?code=fb-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    let pick = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.page(&person, &pick).await;
    assert!(
        html.contains("must have admin access to at least one Facebook Page"),
        "{html}"
    );

    // Without a public address, the Channels page says Facebook cannot fetch media.
    let laptop = spawn_app().await;
    let Tenant { browser, .. } = laptop.tenant("bob@example.com").await;
    let (_, html) = laptop.page(&browser, "/settings/channels").await;
    let warning = html
        .split("<p class=\"warning\" role=\"note\">")
        .nth(1)
        .and_then(|w| w.split("</p>").next())
        .unwrap_or_else(|| panic!("a media warning: {html}"));
    assert!(
        warning.contains("Facebook Page")
            && warning.contains("fetch media from socialgate")
            && warning.contains("SOCIALGATE_PUBLIC_URL"),
        "{warning}"
    );
    // Where the platform is itself local (a fake), it can fetch local media: no warning.
    let (_, html) = app
        .page(
            &app.tenant("cy@example.com").await.browser,
            "/settings/channels",
        )
        .await;
    let warning = html
        .split("<p class=\"warning\" role=\"note\">")
        .nth(1)
        .and_then(|w| w.split("</p>").next())
        .unwrap_or_default();
    assert!(!warning.contains("Facebook Page"), "{warning}");
}

#[actix_web::test]
async fn several_photos_a_video_and_stories_each_take_their_own_path() {
    let graph = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", &facebook::hosts(&graph))]).await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    facebook::mount_login(
        &graph,
        "/postiz/integrations/social/facebook",
        vec![facebook::page("p-1", "Ada's Bakery", "page-token-1")],
    )
    .await;
    facebook::mount_page(&graph).await;
    let id = facebook::connect(&app, &key, &org, &graph, "facebook", "p-1").await;
    let channel = app.channel(&org, &id).await;
    let file = |name: &str, kind: &str| MediaItem {
        kind: kind.into(),
        path: format!("{}/files/{name}", graph.uri()),
        alt: None,
        thumbnail: None,
        dimensions: None,
    };

    let album = app
        .publish_with(
            &channel,
            "Two loaves",
            vec![file("a.png", "image"), file("b.png", "image")],
            json!({ "url": "https://bakery.example/menu" }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(album.url, "https://www.facebook.com/p-1_101");
    let requests = graph.received_requests().await.unwrap();
    let unpublished = requests
        .iter()
        .filter(|r| {
            r.url.path() == facebook::v("/p-1/photos")
                && facebook::form_has(r, "published", "false")
        })
        .count();
    assert_eq!(unpublished, 2, "each photo goes up unpublished first");
    let feed = requests
        .iter()
        .find(|r| r.url.path() == facebook::v("/p-1/feed"))
        .unwrap();
    assert!(facebook::form_has(
        feed,
        "attached_media[0]",
        r#"{"media_fbid":"ph-9"}"#
    ));
    assert!(facebook::form_has(
        feed,
        "attached_media[1]",
        r#"{"media_fbid":"ph-9"}"#
    ));
    assert!(facebook::form_has(
        feed,
        "link",
        "https://bakery.example/menu"
    ));

    let video = app
        .publish_with(
            &channel,
            "Kneading",
            vec![file("v.mp4", "video")],
            json!({}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(video.url, "https://www.facebook.com/ada/videos/vid-1/");
    let requests = graph.received_requests().await.unwrap();
    let upload = requests
        .iter()
        .find(|r| r.url.path() == facebook::v("/p-1/videos"))
        .unwrap();
    assert!(facebook::form_has(
        upload,
        "file_url",
        &format!("{}/files/v.mp4", graph.uri())
    ));
    assert!(facebook::form_has(upload, "description", "Kneading"));

    let story = json!({ "post_type": "story" });
    let photo_story = app
        .publish_with(
            &channel,
            "",
            vec![file("a.png", "image")],
            story.clone(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(photo_story.id, "1234", "a numeric id is read as text");
    assert_eq!(photo_story.url, "https://www.facebook.com/stories/1234");
    let video_story = app
        .publish_with(&channel, "", vec![file("v.mp4", "video")], story, None)
        .await
        .unwrap();
    assert_eq!(video_story.id, "5678");
    let requests = graph.received_requests().await.unwrap();
    let fetched = requests
        .iter()
        .find(|r| r.url.path() == format!("/video-upload/{}/vs-1", facebook::VERSION))
        .expect("Meta was told where to fetch the video");
    assert_eq!(
        fetched.headers["file_url"].to_str().unwrap(),
        format!("{}/files/v.mp4", graph.uri())
    );
}
