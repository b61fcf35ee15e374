//! A fake Instagram: containers on the versioned Graph path (Facebook's host for `instagram`,
//! Instagram's for `instagram-standalone`), an image container still in progress at the first
//! check, publishing, permalinks, comments, the publishing quota and insights; and Instagram
//! Login (its wrapped code answer, long-lived and renewed tokens).

use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::{form_has, v};
use crate::helpers::{TestApp, client, query_param as url_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Instagram Login's hosts to the fake.
pub fn standalone_hosts(server: &MockServer) -> String {
    format!(
        "www.instagram.com={0} api.instagram.com={0} graph.instagram.com={0}",
        server.uri()
    )
}

/// A page linked to the Instagram Business account `ig-1` (ada.bakes).
pub fn linked_page() -> serde_json::Value {
    json!({
        "id": "p-1", "name": "Ada's Bakery", "access_token": "page-token-1",
        "instagram_business_account": {
            "id": "ig-1", "username": "ada.bakes", "name": "Ada Bakes",
            "profile_picture_url": "https://scontent.example/ig.jpg"
        }
    })
}

fn field(req: &Request, name: &str) -> Option<String> {
    url::form_urlencoded::parse(&req.body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Publishing for the account `user`, called with a token starting `token` (renewed tokens
/// keep their prefix), `quota_usage` of 50 used.
pub async fn mount_publishing(
    server: &MockServer,
    user: &str,
    token: &'static str,
    quota_usage: i64,
) {
    let token = move || {
        move |req: &Request| {
            req.url
                .query_pairs()
                .any(|(k, v)| k == "access_token" && v.starts_with(token))
        }
    };
    Mock::given(method("GET"))
        .and(path(v(&format!("/{user}/content_publishing_limit"))))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [{
            "quota_usage": quota_usage, "config": { "quota_total": 50, "quota_duration": 86400 }
        }]})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(v(&format!("/{user}/media"))))
        .and(token())
        .respond_with(|req: &Request| {
            let id = match (field(req, "media_type").as_deref(), field(req, "is_carousel_item")) {
                (None, None) if field(req, "image_url").is_some() => "c-image",
                (None | Some("VIDEO"), Some(_)) => "c-item",
                (Some("CAROUSEL"), _) if field(req, "children").is_some() => "c-carousel",
                (Some("REELS"), _) if field(req, "video_url").is_some() => "c-reel",
                (Some("STORIES"), _) => "c-story",
                _ => return ResponseTemplate::new(400).set_body_json(json!({ "error": {
                    "message": "Invalid parameter", "type": "OAuthException", "code": 100,
                    "error_subcode": 2207023, "is_transient": false,
                    "error_user_msg": "The media type is not one Instagram expects", "fbtrace_id": "Ig1"
                }})),
            };
            ResponseTemplate::new(200).set_body_json(json!({ "id": id }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(v("/c-image")))
        .and(query_param("fields", "status_code,status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c-image", "status_code": "IN_PROGRESS", "status": "In progress"
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!("^{}$", v("/c-[a-z]+"))))
        .and(query_param("fields", "status_code,status"))
        .and(token())
        .respond_with(|req: &Request| {
            let id = req
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(json!({ "id": id, "status_code": "FINISHED" }))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(v(&format!("/{user}/media_publish"))))
        .and(token())
        .respond_with(|req: &Request| {
            let container = field(req, "creation_id").unwrap_or_default();
            ResponseTemplate::new(200)
                .set_body_json(json!({ "id": format!("m-{}", container.trim_start_matches("c-")) }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!("^{}$", v("/m-[a-z]+"))))
        .and(query_param("fields", "permalink"))
        .and(token())
        .respond_with(|req: &Request| {
            let id = req
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(json!({
                "id": id, "permalink": format!("https://www.instagram.com/p/{id}/")
            }))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!("^{}$", v("/m-[a-z]+/comments"))))
        .and(token())
        .and(|req: &Request| field(req, "message").is_some())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "ig-comment-1" })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(v(&format!("/{user}/insights"))))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "name": "reach", "period": "day", "title": "Reach",
              "values": [ { "value": 12, "end_time": "2026-11-29T08:00:00+0000" } ],
              "id": format!("{user}/insights/reach/day") }
        ]})))
        .mount(server)
        .await;
}

/// Instagram Login of the app `ig-id`/`ig-secret`: the code `ig-code` (answered wrapped in
/// `data`), the long-lived `ig-long-1` renewed to `ig-long-2`, and the profile (`1789`).
pub async fn mount_standalone_login(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .and(|req: &Request| {
            form_has(req, "client_id", "ig-id")
                && form_has(req, "client_secret", "ig-secret")
                && form_has(req, "grant_type", "authorization_code")
                && form_has(req, "code", "ig-code")
                && field(req, "redirect_uri")
                    .is_some_and(|r| r.ends_with("/postiz/integrations/social/instagram-standalone"))
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [{
            "access_token": "ig-short", "user_id": "1789",
            "permissions": "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_comments,instagram_business_manage_insights"
        }]})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error_type": "OAuthException", "code": 400,
            "error_message": "Matching code was not found or was already used"
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/access_token"))
        .and(query_param("grant_type", "ig_exchange_token"))
        .and(query_param("client_secret", "ig-secret"))
        .and(query_param("access_token", "ig-short"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ig-long-1", "token_type": "bearer", "expires_in": 5183944
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/refresh_access_token"))
        .and(query_param("grant_type", "ig_refresh_token"))
        .and(query_param("access_token", "ig-long-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ig-long-2", "token_type": "bearer", "expires_in": 5183944
        })))
        .mount(server)
        .await;
    for token in ["ig-long-1", "ig-long-2"] {
        Mock::given(method("GET"))
            .and(path(v("/me")))
            .and(query_param("access_token", token))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "user_id": "1789", "username": "ada.bakes", "name": "Ada Bakes",
                "account_type": "BUSINESS", "id": "app-scoped-1"
            })))
            .mount(server)
            .await;
    }
}

/// Connects ada.bakes through Instagram Login with the organization's Instagram app.
pub async fn connect_standalone(
    app: &TestApp,
    key: &str,
    org: &str,
    server: &MockServer,
) -> String {
    app.set_credentials(org, "instagram-standalone", "ig-id", "ig-secret", None)
        .await;
    let url = app.connect_url(key, "instagram-standalone").await;
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", server.uri())),
        "{url}"
    );
    assert_eq!(
        url_param(&url, "scope").as_deref(),
        Some(
            "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_comments,instagram_business_manage_insights"
        )
    );
    let state = url_param(&url, "state").unwrap();
    let r = client()
        .get(app.url(&format!(
            "/postiz/integrations/social/instagram-standalone?code=ig-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    app.channel_id(key, "instagram-standalone").await
}
