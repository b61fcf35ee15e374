//! `/public/v1` posts as a Postiz client sends them: create, list, read, edit, status,
//! settings, delete, the republish guard, repeats, slots, analytics and notifications.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialgate::channels;
use socialgate::providers::{ConnectedAccount, Tokens};

use crate::fakes::PNG;
use crate::helpers::{Tenant, TestApp, client, spawn_app};

/// A user's API key and organization, and two of its channels.
struct TwoChannels {
    key: String,
    org: String,
    /// The sandbox.
    first: String,
    /// A second sandbox account.
    second: String,
}

/// A user with a key and two channels (the sandbox and a second sandbox account).
async fn two_channels(app: &TestApp) -> TwoChannels {
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    let first = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (keys, org_id) = (app.state.keys.clone(), org.clone());
    let second = app
        .state
        .db
        .run(move |conn| {
            let account = ConnectedAccount {
                internal_id: format!("sandbox-{org_id}-news"),
                name: "Sandbox News".into(),
                picture: None,
                username: Some("news".into()),
                tokens: Tokens {
                    access_token: "t".into(),
                    refresh_token: None,
                    expires_in: None,
                    refresh_expires_in: None,
                },
                ..ConnectedAccount::default()
            };
            channels::upsert(
                conn,
                &keys,
                &org_id,
                socialgate::providers::get("sandbox").unwrap(),
                &account,
                None,
            )
        })
        .await
        .unwrap()
        .id;
    TwoChannels {
        key,
        org,
        first,
        second,
    }
}

fn in_an_hour() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
}

fn range() -> String {
    let from = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let to = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%SZ");
    format!("/posts?startDate={from}&endDate={to}")
}

#[actix_web::test]
async fn scheduled_and_draft_posts_with_comments_and_media_across_two_channels() {
    let app = spawn_app().await;
    let TwoChannels {
        key, first, second, ..
    } = two_channels(&app).await;
    use reqwest::Method;

    let (status, media) = app.upload(&key, "cat.png", PNG.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{media}");
    let keys: Vec<&str> = media
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["alt", "id", "name", "originalName", "path", "thumbnail"]
    );
    let path = media["path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with(&app.url("/uploads/")) && path.ends_with(".png"),
        "{path}"
    );
    let served = client().get(&path).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    let body = json!({
        "type": "schedule",
        "shortLink": false,
        "date": in_an_hour(),
        "tags": [{ "value": "launch", "label": "Launch" }],
        "posts": [
            {
                "integration": { "id": first },
                "value": [
                    { "content": "<p>Hello <script>alert(1)</script><strong onclick=\"x()\">world</strong> <a href=\"javascript:alert(1)\">x</a></p>",
                      "image": [{ "id": media["id"], "path": path, "alt": "a cat" }] },
                    { "content": "<p>first comment</p>", "image": [], "delay": 5 }
                ],
                "settings": { "__type": "ignored" }
            },
            {
                "integration": { "id": second },
                "value": [{ "content": "Other channel", "image": [] }],
                "settings": {}
            }
        ]
    });
    let (status, created) = app.api_send(Method::POST, &key, "/posts", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created.as_array().unwrap().len(), 2);
    assert_eq!(created[0]["integration"], first);
    assert_eq!(created[1]["integration"], second);
    let post_id = created[0]["postId"].as_str().unwrap().to_owned();

    let (status, listed) = app.api_get(&key, &range()).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let posts = listed["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2, "only the posts, not their comments");
    let mine = posts.iter().find(|p| p["id"] == post_id.as_str()).unwrap();
    assert_eq!(mine["state"], "QUEUE");
    assert_eq!(
        mine["content"],
        "<p>Hello <strong>world</strong> <a>x</a></p>"
    );
    assert_eq!(mine["integration"]["providerIdentifier"], "sandbox");
    assert_eq!(mine["creationMethod"], "API");
    assert_eq!(mine["tags"][0]["tag"]["name"], "Launch");
    let settings: Value = serde_json::from_str(mine["settings"].as_str().unwrap()).unwrap();
    assert_eq!(settings["__type"], "sandbox", "the channel sets __type");
    assert_ne!(posts[0]["group"], posts[1]["group"]);

    let (_, one) = app.api_get(&key, &format!("/posts/{post_id}")).await;
    assert_eq!(one["values"].as_array().unwrap().len(), 2);
    assert_eq!(one["values"][1]["delay"], 5);
    assert_eq!(one["values"][0]["image"][0]["alt"], "a cat");

    // A draft may be long; a scheduled post may not. Empty posts never.
    let long = "x".repeat(5001);
    let post = |kind: &str, content: &str| {
        json!({ "type": kind, "shortLink": false, "date": in_an_hour(), "tags": [],
                "posts": [{ "integration": { "id": first }, "value": [{ "content": content, "image": [] }], "settings": {} }] })
    };
    assert_eq!(
        app.api_send(Method::POST, &key, "/posts", Some(post("draft", &long)))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, body) = app
        .api_send(Method::POST, &key, "/posts", Some(post("schedule", &long)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "statusCode": 400, "provider": "sandbox", "name": "Sandbox", "message": "post is too long, please fix it" })
    );
    let (status, body) = app
        .api_send(
            Method::POST,
            &key,
            "/posts",
            Some(post("draft", "<p> </p>")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Your post should have at least one character or one image."
    );

    // Postiz's validation answers.
    for (bad, expected) in [
        (
            json!({ "type": "schedule", "date": in_an_hour(), "tags": [], "posts": [] }),
            "shortLink must be a boolean value",
        ),
        (
            json!({ "type": "later", "shortLink": false, "date": in_an_hour(), "tags": [], "posts": [] }),
            "type must be one of the following values: draft, schedule, now, update",
        ),
        (
            json!({ "type": "schedule", "shortLink": false, "date": "soon", "tags": [], "posts": [] }),
            "date must be a valid ISO 8601 date string",
        ),
        (
            json!({ "type": "schedule", "shortLink": false, "date": in_an_hour(), "tags": [],
                 "posts": [{ "integration": { "id": "nope" }, "value": [{ "content": "a", "image": [] }] }] }),
            "Integration with id nope not found",
        ),
        (
            json!({ "type": "schedule", "shortLink": false, "date": in_an_hour(), "tags": [],
                 "posts": [{ "integration": { "id": first }, "value": [{ "content": "a", "image": [{ "id": "m", "path": "https://cdn.example/evil.svg" }] }] }] }),
            "posts.0.value.0.image.0.path must end in .png, .jpg, .jpeg, .gif, .webp, .mp4 or .pdf",
        ),
    ] {
        let (status, body) = app.api_send(Method::POST, &key, "/posts", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["statusCode"], 400);
        assert_eq!(body["message"][0], expected, "{body}");
    }

    // Status, settings and content changes before publishing.
    let (status, body) = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{post_id}/status"),
            Some(json!({ "status": "draft" })),
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "id": post_id, "state": "DRAFT" }))
    );
    let (_, body) = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{post_id}/status"),
            Some(json!({ "status": "schedule" })),
        )
        .await;
    assert_eq!(body["state"], "QUEUE");
    let (status, body) = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{post_id}/settings"),
            Some(json!({ "settings": { "note": 1 } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["postId"], post_id);
    let (status, body) = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{post_id}"),
            Some(json!({ "value": [{ "content": "<p>Edited</p>", "image": [] }], "date": in_an_hour() })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, one) = app.api_get(&key, &format!("/posts/{post_id}")).await;
    assert_eq!(one["values"][0]["content"], "<p>Edited</p>");
    assert_eq!(
        one["values"].as_array().unwrap().len(),
        1,
        "the edit replaced the chain"
    );
    assert_eq!(one["settings"]["note"], 1);

    // Deleting: by post (the whole group) and by group.
    let group = one["group"].as_str().unwrap().to_owned();
    let (status, body) = app
        .api_send(Method::DELETE, &key, &format!("/posts/group/{group}"), None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "success": true })));
    assert_eq!(
        app.api_get(&key, &format!("/posts/{post_id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let other = created[1]["postId"].as_str().unwrap();
    assert_eq!(
        app.api_send(Method::DELETE, &key, &format!("/posts/{other}"), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.api_send(Method::DELETE, &key, "/posts/unknown", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn the_republish_guard_repeats_slots_analytics_and_notifications() {
    let app = spawn_app().await;
    let TwoChannels {
        key, org, first, ..
    } = two_channels(&app).await;
    use reqwest::Method;
    let post = |kind: &str, id: Option<&str>, republish: bool| {
        let mut value = json!({ "content": "Hello", "image": [] });
        if let Some(id) = id {
            value["id"] = json!(id);
        }
        json!({ "type": kind, "shortLink": false, "date": in_an_hour(), "tags": [], "republish": republish,
                "posts": [{ "integration": { "id": first }, "value": [value], "settings": {} }] })
    };
    let (_, created) = app
        .api_send(
            Method::POST,
            &key,
            "/posts",
            Some(post("schedule", None, false)),
        )
        .await;
    let id = created[0]["postId"].as_str().unwrap().to_owned();
    let published = id.clone();
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::posts;
        diesel::update(posts::table.find(&published))
            .set((
                posts::state.eq("PUBLISHED"),
                posts::release_id.eq("missing"),
            ))
            .execute(conn)
    })
    .await;
    let (status, body) = app
        .api_send(
            Method::POST,
            &key,
            "/posts",
            Some(post("schedule", Some(&id), false)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["msg"]
            .as_str()
            .unwrap()
            .contains("Saving it this way would publish it again to sandbox"),
        "{body}"
    );
    assert_eq!(
        app.api_send(
            Method::POST,
            &key,
            "/posts",
            Some(post("update", Some(&id), false))
        )
        .await
        .0,
        StatusCode::CREATED
    );

    // A published post whose platform id is "missing": candidates, then the real id once.
    let (status, body) = app.api_get(&key, &format!("/posts/{id}/missing")).await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
    let (_, body) = app
        .api_get(&key, &format!("/analytics/post/{id}?date=7"))
        .await;
    assert_eq!(body, json!({ "missing": true }));
    let (status, body) = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{id}/release-id"),
            Some(json!({ "releaseId": "real-1" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["releaseId"], "real-1");
    let again = app
        .api_send(
            Method::PUT,
            &key,
            &format!("/posts/{id}/release-id"),
            Some(json!({ "releaseId": "real-2" })),
        )
        .await;
    assert_eq!(
        again.0,
        StatusCode::CONFLICT,
        "only a missing release id is set"
    );
    let unknown = app
        .api_send(
            Method::PUT,
            &key,
            "/posts/no-such-post/release-id",
            Some(json!({ "releaseId": "real-2" })),
        )
        .await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    let (status, series) = app
        .api_get(&key, &format!("/analytics/post/{id}?date=7"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(series[0]["label"], "Impressions");
    assert_eq!(series[0]["data"].as_array().unwrap().len(), 7);
    let (_, cached) = app
        .api_get(&key, &format!("/analytics/post/{id}?date=7"))
        .await;
    assert_eq!(cached, series, "served from the hour-long cache");
    let (_, series) = app
        .api_get(&key, &format!("/analytics/{first}?date=3"))
        .await;
    assert_eq!(series[0]["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.api_get(&key, "/analytics/unknown?date=3").await.0,
        StatusCode::NOT_FOUND
    );

    // A post repeating weekly shows once a week in a three-week range.
    let mut weekly = post("schedule", None, false);
    weekly["inter"] = json!(7);
    app.api_send(Method::POST, &key, "/posts", Some(weekly))
        .await;
    let from = chrono::Utc::now().format("%Y-%m-%dT00:00:00Z");
    let to = (chrono::Utc::now() + chrono::Duration::days(20)).format("%Y-%m-%dT23:59:59Z");
    let (_, listed) = app
        .api_get(&key, &format!("/posts?startDate={from}&endDate={to}"))
        .await;
    let repeats: Vec<&Value> = listed["posts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["intervalInDays"] == 7)
        .collect();
    assert_eq!(repeats.len(), 3, "{listed}");
    assert!(repeats.iter().all(|p| p["actualDate"].is_string()));

    // The next free slot, and a clear error when the channel has none.
    let (status, slot) = app.api_get(&key, &format!("/find-slot/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(slot["date"].as_str().unwrap().ends_with(":00"));
    let (o, c) = (org.clone(), first.clone());
    app.state
        .db
        .run(move |conn| channels::set_preferences(conn, &o, &c, &[], None))
        .await
        .unwrap();
    let (status, body) = app.api_get(&key, &format!("/find-slot/{first}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["msg"].as_str().unwrap().contains("no posting times"));

    // Notifications, newest first, a page at a time.
    let o = org.clone();
    app.state
        .db
        .run(move |conn| {
            socialgate::publishing::notifications::add(conn, &o, "first", None)?;
            socialgate::publishing::notifications::add(
                conn,
                &o,
                "second",
                Some("https://x.example/1"),
            )
        })
        .await
        .unwrap();
    let (_, page) = app.api_get(&key, "/notifications?page=0").await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["limit"], 100);
    assert_eq!(page["hasMore"], false);
    assert_eq!(page["notifications"][0]["content"], "second");
    assert_eq!(page["notifications"][0]["link"], "https://x.example/1");
    assert_eq!(
        app.api_get(&key, "/notifications?page=-1").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[actix_web::test]
async fn scopes_guard_the_post_and_media_routes() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("ada@example.com").await;
    let org = app.org_of("ada@example.com").await;
    let registered = app
        .register_app(&org, &["https://client.example/cb"], false)
        .await;
    let token = app.access_token(&browser, &registered, "posts:read").await;
    let body = json!({ "type": "draft", "shortLink": false, "date": in_an_hour(), "tags": [], "posts": [] });
    let (status, body) = app
        .api_send(reqwest::Method::POST, &token, "/posts", Some(body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({ "msg": "insufficient_scope", "scope": "posts:write" })
    );
    let (status, body) = app.upload(&token, "cat.png", PNG.to_vec()).await;
    assert_eq!(
        (status, body["scope"].clone()),
        (StatusCode::FORBIDDEN, json!("media:write"))
    );
    assert_eq!(
        app.api_get(&token, "/notifications").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.api_get(&token, &range()).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn bodies_and_queries_of_the_wrong_type_are_refused_not_guessed() {
    let app = spawn_app().await;
    let key = app.tenant("strict@example.com").await.key;
    let channel = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |patch: Value| {
        let mut body = json!({ "type": "schedule", "date": "2031-01-01T00:00:00Z", "shortLink": false,
            "tags": [], "posts": [{ "integration": { "id": channel },
                "value": [{ "content": "hello", "image": [] }] }] });
        json_patch(&mut body, &patch);
        body
    };
    for (patch, field) in [
        (json!({ "creationMethod": "X" }), "creationMethod"),
        (json!({ "republish": "yes" }), "republish"),
        (json!({ "type": "now", "date": "garbage" }), "date"),
        (
            json!({ "posts": [{ "integration": { "id": channel }, "group": 5,
            "value": [{ "content": "hello", "image": [] }] }] }),
            "group",
        ),
        (
            json!({ "posts": [{ "integration": { "id": channel },
            "value": [{ "content": "hello", "image": [], "delay": "x" }] }] }),
            "delay",
        ),
        (
            json!({ "posts": [{ "integration": { "id": channel },
            "value": [{ "content": "hello", "image": [], "id": 5 }] }] }),
            "id",
        ),
    ] {
        let (status, body) = app
            .api_send(Method::POST, &key, "/posts", Some(post(patch)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert!(body.to_string().contains(field), "{field}: {body}");
    }
    let (status, _) = app
        .api_send(Method::POST, &key, "/posts", Some(post(json!({}))))
        .await;
    assert_eq!(status, StatusCode::CREATED, "the unpatched body is fine");

    for path in [
        format!("/analytics/{channel}?date=abc"),
        "/notifications?page=92233720368547758".to_owned(),
        "/notifications?page=9223372036854775807".to_owned(),
    ] {
        let (status, body) = app.api_get(&key, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    }
    let (status, _) = app
        .api_get(&key, "/notifications?page=92233720368547757")
        .await;
    assert_eq!(status, StatusCode::OK, "the last page there can be");
    let (status, body) = app
        .api_send(
            Method::POST,
            &key,
            &format!("/integration-trigger/{channel}"),
            Some(json!({ "methodName": "channels", "data": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Sets the top-level fields of `patch` in `body`.
fn json_patch(body: &mut Value, patch: &Value) {
    for (k, v) in patch.as_object().unwrap() {
        body[k] = v.clone();
    }
}
