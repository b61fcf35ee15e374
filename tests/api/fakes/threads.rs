//! A fake Threads API: Threads' own OAuth (code, long-lived and renewed tokens), containers
//! that a media post only finishes at the second check, publishing, permalinks, the publishing
//! quota and insights, all on `v1.0` with the token as Meta documents it.

use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::form_has;
use crate::helpers::{TestApp, client, query_param as url_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Threads' hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!("threads.net={0} graph.threads.net={0}", server.uri())
}

fn long_token(req: &Request) -> bool {
    req.url
        .query_pairs()
        .any(|(k, v)| k == "access_token" && v.starts_with("th-long-"))
}

/// The app `th-id`/`th-secret`: the code `th-code` is worth a short-lived token, exchanged for
/// the long-lived `th-long-1`, which renews to `th-long-2`; the profile is ada's (`th-42`).
pub async fn mount_login(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .and(|req: &Request| {
            form_has(req, "client_id", "th-id")
                && form_has(req, "client_secret", "th-secret")
                && form_has(req, "code", "th-code")
                && form_has(req, "grant_type", "authorization_code")
                && url::form_urlencoded::parse(&req.body).any(|(k, v)| {
                    k == "redirect_uri"
                        && v.ends_with("/integrations/social/threads")
                        && !v.contains("/postiz/")
                })
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "th-short", "user_id": 42
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/access_token"))
        .and(query_param("grant_type", "th_exchange_token"))
        .and(query_param("client_secret", "th-secret"))
        .and(query_param("access_token", "th-short"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "th-long-1", "token_type": "bearer", "expires_in": 5183944
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .and(query_param("grant_type", "th_refresh_token"))
        .and(query_param("access_token", "th-long-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "th-long-2", "token_type": "bearer", "expires_in": 5183944
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me"))
        .and(long_token)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "th-42", "username": "ada", "name": "Ada Lovelace",
            "threads_profile_picture_url": "https://scontent.example/ada.jpg"
        })))
        .mount(server)
        .await;
}

/// Containers and publishing for `th-42` with `quota_usage` of 250 posts used.
pub async fn mount_publishing(server: &MockServer, quota_usage: i64) {
    Mock::given(method("GET"))
        .and(path("/v1.0/th-42/threads_publishing_limit"))
        .and(long_token)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [{
            "quota_usage": quota_usage, "config": { "quota_total": 250, "quota_duration": 86400 }
        }]})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/th-42/threads"))
        .and(long_token)
        .respond_with(|req: &Request| {
            let field = |name: &str| {
                url::form_urlencoded::parse(&req.body)
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            let id = match (field("media_type").as_deref(), field("reply_to_id")) {
                (Some("TEXT"), Some(_)) => "c-reply",
                (Some("TEXT"), None) => "c-text",
                (Some("IMAGE"), _) if field("is_carousel_item").is_some() => "c-item",
                (Some("IMAGE"), _) => "c-image",
                (Some("CAROUSEL"), _) => "c-carousel",
                _ => {
                    return ResponseTemplate::new(400).set_body_json(json!({ "error": {
                    "message": "Invalid parameter", "type": "THApiException", "code": 100,
                    "fbtrace_id": "Th1" }}));
                }
            };
            ResponseTemplate::new(200).set_body_json(json!({ "id": id }))
        })
        .mount(server)
        .await;
    // Media is processed: in progress at the first check.
    Mock::given(method("GET"))
        .and(path("/v1.0/c-image"))
        .and(query_param("fields", "status,error_message"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c-image", "status": "IN_PROGRESS"
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1.0/c-[a-z]+$"))
        .and(query_param("fields", "status,error_message"))
        .and(long_token)
        .respond_with(|req: &Request| {
            let id = req
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(json!({ "id": id, "status": "FINISHED" }))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/th-42/threads_publish"))
        .and(long_token)
        .respond_with(|req: &Request| {
            let container = url::form_urlencoded::parse(&req.body)
                .find(|(k, _)| k == "creation_id")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": format!("m-{}", container.trim_start_matches("c-")) }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1.0/m-[a-z]+$"))
        .and(query_param("fields", "permalink"))
        .and(long_token)
        .respond_with(|req: &Request| {
            let id = req
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(json!({
                "id": id, "permalink": format!("https://www.threads.net/@ada/post/{id}")
            }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/th-42/threads_insights"))
        .and(long_token)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "name": "views", "period": "day", "title": "views",
              "values": [ { "value": 225, "end_time": "2026-11-29T07:00:00+0000" } ],
              "id": "th-42/insights/views/day" },
            { "name": "followers_count", "period": "day", "title": "followers_count",
              "total_value": { "value": 458 }, "id": "th-42/insights/followers_count/day" }
        ]})))
        .mount(server)
        .await;
}

/// Connects ada's Threads profile with the organization's app; returns the channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> String {
    app.set_credentials(org, "threads", "th-id", "th-secret", None)
        .await;
    let url = app.connect_url(key, "threads").await;
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", server.uri())),
        "{url}"
    );
    assert_eq!(
        url_param(&url, "redirect_uri").unwrap(),
        app.url("/integrations/social/threads"),
        "Threads registers the callback without /postiz"
    );
    assert_eq!(
        url_param(&url, "scope").as_deref(),
        Some(
            "threads_basic,threads_content_publish,threads_manage_replies,threads_manage_insights"
        )
    );
    let state = url_param(&url, "state").unwrap();
    let r = client()
        .get(app.url(&format!(
            "/integrations/social/threads?code=th-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    app.channel_id(key, "threads").await
}
