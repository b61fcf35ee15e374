//! Reddit: subreddits and their restrictions through `integration-trigger`, one post to two
//! subreddits (one with a flair) through the Public API and the worker, at least a second
//! apart, with a comment under each; a picture through the media lease, found once Reddit has
//! made the post; Reddit's own refusals; the rules checked when the post is written.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialgate::providers::ProviderError;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fakes::{PNG, image, reddit};
use crate::helpers::{TestApp, eventually, spawn_app_with};

async fn ada() -> (TestApp, MockServer, String, String, String, reddit::Seen) {
    let server = MockServer::start().await;
    let hosts = reddit::hosts(&server);
    let app = spawn_app_with(&[("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())]).await;
    let tenant = app.tenant("ada@example.com").await;
    let (id, seen) = reddit::connect(&app, &tenant.key, &tenant.org, &server).await;
    (app, server, tenant.org, tenant.key, id, seen)
}

fn entry(subreddit: &str, title: &str, kind: &str, flair: Option<(&str, &str)>) -> Value {
    let mut value = json!({ "subreddit": subreddit, "title": title, "type": kind,
        "is_flair_required": flair.is_some() });
    if let Some((id, name)) = flair {
        value["flair"] = json!({ "id": id, "name": name });
    }
    json!({ "value": value })
}

async fn trigger(app: &TestApp, key: &str, id: &str, method_name: &str, data: Value) -> Value {
    let (status, answer) = app
        .api_send(
            Method::POST,
            key,
            &format!("/integration-trigger/{id}"),
            Some(json!({ "methodName": method_name, "data": data })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["output"].clone()
}

#[actix_web::test]
async fn one_post_goes_to_two_subreddits_a_second_apart_with_a_comment_under_each() {
    let (app, server, _, key, id, seen) = ada().await;
    let found = trigger(&app, &key, &id, "subreddits", json!({ "word": "s" })).await;
    assert_eq!(
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].clone())
            .collect::<Vec<_>>(),
        vec![
            json!("/r/rust/"),
            json!("/r/selfhosted/"),
            json!("/r/pics/")
        ],
        "the public subreddits found: {found}"
    );
    let rust = trigger(
        &app,
        &key,
        &id,
        "restrictions",
        json!({ "subreddit": "/r/rust" }),
    )
    .await;
    assert_eq!(
        rust,
        json!({ "subreddit": "/r/rust/", "allow": ["self", "link", "media"], "is_flair_required": true,
            "flairs": [{ "id": "f-news", "name": "News" }, { "id": "f-project", "name": "🛠️ project" }] })
    );
    let selfhosted = trigger(
        &app,
        &key,
        &id,
        "restrictions",
        json!({ "subreddit": "/r/selfhosted/" }),
    )
    .await;
    assert_eq!(selfhosted["allow"], json!(["self"]));
    assert_eq!(selfhosted["is_flair_required"], false);

    let body = json!({ "type": "now", "shortLink": false, "date": chrono::Utc::now().to_rfc3339(),
        "tags": [], "posts": [{ "integration": { "id": id },
            "settings": { "subreddit": [
                entry("/r/rust/", "socialgate speaks Reddit now", "self", Some(("f-project", "🛠️ project"))),
                entry("/r/selfhosted/", "A self-hosted social publisher", "self", None),
            ]},
            "value": [{ "content": "<p>It posts to **every** network</p>", "image": [] },
                      { "content": "<p>Questions welcome</p>", "image": [] }] }] });
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
    eventually("the comments", || {
        let seen = &seen;
        async move { (seen.comments.lock().unwrap().len() == 2).then_some(()) }
    })
    .await;
    worker.stop().await;
    assert_eq!(
        published["releaseURL"],
        "https://www.reddit.com/r/rust/comments/p1/slug/,https://www.reddit.com/r/selfhosted/comments/p2/slug/"
    );
    let submissions = seen.submissions.lock().unwrap().clone();
    assert_eq!(submissions.len(), 2);
    assert_eq!(
        (
            submissions[0].subreddit.as_str(),
            submissions[0].flair.as_deref()
        ),
        ("rust", Some("f-project"))
    );
    assert_eq!(
        (
            submissions[1].subreddit.as_str(),
            submissions[1].flair.as_deref()
        ),
        ("selfhosted", None)
    );
    assert!(
        submissions[1].at.duration_since(submissions[0].at) >= Duration::from_secs(1),
        "the two submissions arrived at least a second apart"
    );
    let comments = seen.comments.lock().unwrap().clone();
    assert_eq!(
        comments,
        vec![
            ("t3_p1".to_owned(), "Questions welcome".to_owned()),
            ("t3_p2".to_owned(), "Questions welcome".to_owned())
        ]
    );
    assert_eq!(
        *seen.too_soon.lock().unwrap(),
        0,
        "never more than one request a second"
    );
    assert_eq!(*seen.bad_agents.lock().unwrap(), 0);
    for request in server.received_requests().await.unwrap() {
        if matches!(request.url.path(), "/api/submit" | "/api/comment") {
            let agent = request.headers.get("user-agent").unwrap().to_str().unwrap();
            assert_eq!(
                agent,
                concat!(
                    "web:socialgate:",
                    env!("CARGO_PKG_VERSION"),
                    " (by /u/ada_writes)"
                )
            );
        }
    }
}

#[actix_web::test]
async fn a_picture_goes_up_through_the_media_lease_and_its_post_is_found_later() {
    let (app, _server, org, key, id, seen) = ada().await;
    let (_, picture) = app.upload(&key, "cat.png", PNG.to_vec()).await;
    let channel = app.channel(&org, &id).await;
    *seen.processing.lock().unwrap() = true;
    let published = app
        .publish_with(
            &channel,
            "",
            vec![image(picture["path"].as_str().unwrap(), None)],
            json!({ "subreddit": [entry("/r/pics/", "Our cat", "media", None)] }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(published.id, "p1");
    assert_eq!(
        published.url,
        "https://www.reddit.com/r/pics/comments/p1/slug/"
    );
    let submitted = seen.submissions.lock().unwrap()[0].clone();
    assert_eq!(submitted.kind, "image");
    let url = submitted.url.unwrap();
    assert!(
        url.starts_with("https://reddit-uploaded-media.s3-accelerate.amazonaws.com/rte_images/"),
        "{url}"
    );
}

#[actix_web::test]
async fn reddits_refusals_are_named() {
    let (app, server, org, _, id, _) = ada().await;
    let channel = app.channel(&org, &id).await;
    let text =
        |subreddit: &str| json!({ "subreddit": [entry(subreddit, "A title", "self", None)] });
    let refused = app
        .publish_with(&channel, "Hello", vec![], text("/r/pics/"), None)
        .await;
    assert!(
        matches!(&refused, Err(ProviderError::BadBody(m)) if m.contains("r/pics") && m.contains("doesn't allow text posts")),
        "{refused:?}"
    );
    let refused = app
        .publish_with(&channel, "Hello", vec![], text("/r/rust/"), None)
        .await;
    assert!(
        matches!(&refused, Err(ProviderError::BadBody(m)) if m.contains("requires a flair")),
        "{refused:?}"
    );
    Mock::given(method("POST"))
        .and(path("/api/submit"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "json": {
            "ratelimit": 487.42,
            "errors": [["RATELIMIT", "you are doing that too much. try again in 8 minutes.", "ratelimit"]]
        }})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let limited = app
        .publish_with(&channel, "Hello", vec![], text("/r/selfhosted/"), None)
        .await;
    assert!(
        matches!(&limited, Err(ProviderError::RetryLater { after: Some(after), .. }) if *after == Duration::from_secs(488)),
        "{limited:?}"
    );
}

#[actix_web::test]
async fn reddit_rules_are_checked_when_the_post_is_written() {
    let (app, _server, _, key, id, _) = ada().await;
    let post = |settings: Value, image: Value| {
        json!({ "type": "schedule", "shortLink": false,
            "date": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "tags": [],
            "posts": [{ "integration": { "id": id }, "settings": settings,
                "value": [{ "content": "<p>Hello</p>", "image": image }] }] })
    };
    let one = |e: Value| json!({ "subreddit": [e] });
    let mut flairless = entry("/r/rust/", "A title", "self", None);
    flairless["value"]["is_flair_required"] = json!(true);
    let mut link = entry("/r/rust/", "A title", "link", Some(("f-news", "News")));
    link["value"]["url"] = json!("not a url");
    app.refuses_posts(
        &key,
        vec![
            (
                post(json!({ "subreddit": [] }), json!([])),
                "at least one Subreddit",
            ),
            (post(one(flairless), json!([])), "r/rust requires a flair"),
            (
                post(one(link), json!([])),
                "a link submission needs a valid url",
            ),
            (
                post(
                    one(entry(
                        "/r/rust/",
                        "A title",
                        "media",
                        Some(("f-news", "News")),
                    )),
                    json!([]),
                ),
                "exactly one media file",
            ),
            (
                post(
                    one(entry("not a subreddit!", "A title", "self", None)),
                    json!([]),
                ),
                "is not a subreddit",
            ),
        ],
    )
    .await;
}
