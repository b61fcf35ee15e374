//! A fake Graph API for Facebook Pages: the token exchanges, the user's pages, and page calls
//! that must carry the page's own token (never the user's) on the versioned path, answering
//! with Meta's bodies, errors included.

use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{TestApp, client, input_value, query_param as url_param};

/// The Graph version socialgate calls by default.
pub const VERSION: &str = "v27.0";

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Facebook's hosts to the fake.
pub fn hosts(graph: &MockServer) -> String {
    format!(
        "www.facebook.com={0} graph.facebook.com={0} graph-video.facebook.com={0} rupload.facebook.com={0}",
        graph.uri()
    )
}

/// A versioned Graph path.
pub fn v(path: &str) -> String {
    format!("/{VERSION}{path}")
}

/// Meta's error body.
pub fn error(code: i64, subcode: Option<i64>, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({ "error": {
        "message": message, "type": "OAuthException", "code": code,
        "error_subcode": subcode, "fbtrace_id": "AbCdEf123"
    }}))
}

/// Whether a form body carries this field with this value.
pub fn form_has(req: &Request, name: &str, value: &str) -> bool {
    url::form_urlencoded::parse(&req.body).any(|(k, v)| k == name && v == value)
}

/// A page the user manages, as `/me/accounts` lists it.
pub fn page(id: &str, name: &str, token: &str) -> serde_json::Value {
    json!({
        "id": id, "name": name, "access_token": token, "category": "Bakery",
        "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"]
    })
}

/// Login: the code `fb-code` of the app `fb-id`/`fb-secret` (asked for at `callback`) is worth
/// a short-lived user token, which is exchanged for a long-lived one; the user manages `pages`.
pub async fn mount_login(
    graph: &MockServer,
    callback: &'static str,
    pages: Vec<serde_json::Value>,
) {
    Mock::given(method("GET"))
        .and(path("/oauth/access_token"))
        .and(query_param("client_id", "fb-id"))
        .and(query_param("client_secret", "fb-secret"))
        .and(query_param("code", "fb-code"))
        .and(move |req: &Request| {
            req.url
                .query_pairs()
                .any(|(k, v)| k == "redirect_uri" && v.ends_with(callback))
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "short-user-token", "token_type": "bearer", "expires_in": 5400
        })))
        .mount(graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param("client_id", "fb-id"))
        .and(query_param("client_secret", "fb-secret"))
        .and(query_param("fb_exchange_token", "short-user-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "long-user-token", "token_type": "bearer", "expires_in": 5183944
        })))
        .mount(graph)
        .await;
    Mock::given(method("GET"))
        .and(path(v("/me")))
        .and(query_param("access_token", "long-user-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "u-1", "name": "Ada Lovelace",
            "picture": { "data": { "url": "https://scontent.example/ada.jpg" } }
        })))
        .mount(graph)
        .await;
    Mock::given(method("GET"))
        .and(path(v("/me/accounts")))
        .and(query_param("access_token", "long-user-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": pages })))
        .mount(graph)
        .await;
}

/// Page calls of page `p-1` with its token `page-token-1`: photos (published or not), feed
/// posts, comments, permalinks and insights.
pub async fn mount_page(graph: &MockServer) {
    let token = || query_param("access_token", "page-token-1");
    Mock::given(method("POST"))
        .and(path(v("/p-1/photos")))
        .and(token())
        .and(|req: &Request| form_has(req, "published", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "ph-9" })))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path(v("/p-1/photos")))
        .and(token())
        .and(|req: &Request| url::form_urlencoded::parse(&req.body).any(|(k, _)| k == "url"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "ph-1", "post_id": "p-1_100"
        })))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path(v("/p-1/feed")))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "p-1_101" })))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path_regex_comments())
        .and(token())
        .respond_with(|req: &Request| {
            let post = req
                .url
                .path()
                .split('/')
                .nth(2)
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(json!({ "id": format!("{post}_c7") }))
        })
        .mount(graph)
        .await;
    for post in ["p-1_100", "p-1_101"] {
        Mock::given(method("GET"))
            .and(path(v(&format!("/{post}"))))
            .and(query_param("fields", "permalink_url"))
            .and(token())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": post, "permalink_url": format!("https://www.facebook.com/{post}")
            })))
            .mount(graph)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(v("/p-1/insights")))
        .and(token())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "name": "page_media_view", "period": "day", "title": "Views",
              "values": [ { "value": 10, "end_time": "2026-11-28T08:00:00+0000" },
                          { "value": 25, "end_time": "2026-11-29T08:00:00+0000" } ],
              "id": "p-1/insights/page_media_view/day" }
        ]})))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path(v("/p-1/videos")))
        .and(token())
        .and(|req: &Request| url::form_urlencoded::parse(&req.body).any(|(k, _)| k == "file_url"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "id": "vid-1" })))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path(v("/p-1/photo_stories")))
        .and(token())
        .and(|req: &Request| form_has(req, "photo_id", "ph-9"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "success": true, "post_id": 1234 })),
        )
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path(v("/p-1/video_stories")))
        .and(token())
        .and(|req: &Request| form_has(req, "upload_phase", "start"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "video_id": "vs-1",
            "upload_url": format!("https://rupload.facebook.com/video-upload/{VERSION}/vs-1")
        })))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/video-upload/{VERSION}/vs-1")))
        .and(wiremock::matchers::header(
            "authorization",
            "OAuth page-token-1",
        ))
        .and(wiremock::matchers::header_exists("file_url"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true })))
        .mount(graph)
        .await;
    Mock::given(method("POST"))
        .and(path(v("/p-1/video_stories")))
        .and(token())
        .and(|req: &Request| {
            form_has(req, "upload_phase", "finish") && form_has(req, "video_id", "vs-1")
        })
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "success": true, "post_id": "5678" })),
        )
        .mount(graph)
        .await;
    for (id, link) in [
        ("vid-1", "/ada/videos/vid-1/".to_owned()),
        ("1234", "https://www.facebook.com/stories/1234".to_owned()),
        ("5678", "https://www.facebook.com/stories/5678".to_owned()),
    ] {
        Mock::given(method("GET"))
            .and(path(v(&format!("/{id}"))))
            .and(query_param("fields", "permalink_url"))
            .and(token())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "id": id, "permalink_url": link })),
            )
            .mount(graph)
            .await;
    }
    // Any page call with another token: what Meta answers to a token it does not take here.
    Mock::given(wiremock::matchers::path_regex(format!("^/{VERSION}/p-1")))
        .respond_with(error(
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
        ))
        .with_priority(10)
        .mount(graph)
        .await;
}

fn path_regex_comments() -> wiremock::matchers::PathRegexMatcher {
    wiremock::matchers::path_regex(format!("^/{VERSION}/p-1_[0-9]+/comments$"))
}

/// The scopes Facebook Login asks for each Meta network.
pub fn scopes(network: &str) -> &'static str {
    match network {
        "facebook" => {
            "pages_show_list,business_management,pages_manage_posts,pages_manage_engagement,pages_read_engagement,read_insights"
        }
        _ => {
            "instagram_basic,pages_show_list,pages_read_engagement,business_management,instagram_content_publish,instagram_manage_comments,instagram_manage_insights"
        }
    }
}

/// Connects `page` of a Facebook Login network (`facebook`, `instagram`) with the
/// organization's app, through the login and the page pick, as a person in a browser would;
/// returns the channel id.
pub async fn connect(
    app: &TestApp,
    key: &str,
    org: &str,
    graph: &MockServer,
    network: &str,
    page: &str,
) -> String {
    app.set_credentials(org, network, "fb-id", "fb-secret", None)
        .await;
    let url = app.connect_url(key, network).await;
    assert!(
        url.starts_with(&format!("{}/dialog/oauth?", graph.uri())),
        "{url}"
    );
    assert_eq!(url_param(&url, "client_id").as_deref(), Some("fb-id"));
    assert_eq!(url_param(&url, "scope").as_deref(), Some(scopes(network)));
    let state = url_param(&url, "state").unwrap();
    let person = client();
    let r = person
        .get(app.url(&format!(
            "/postiz/integrations/social/{network}?code=fb-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    pick_page(app, &person, r, network, page).await;
    app.channel_id(key, network).await
}

/// Follows a callback's redirect to the page pick and picks `page`; answers the pick page.
pub async fn pick_page(
    app: &TestApp,
    person: &reqwest::Client,
    callback: reqwest::Response,
    network: &str,
    page: &str,
) -> String {
    assert_eq!(callback.status(), StatusCode::SEE_OTHER);
    let pick = callback.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = app.page(person, &pick).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let r = person
        .post(app.url(&format!("/integrations/social/{network}/pick")))
        .form(&[
            ("csrf_token", input_value(&html, "csrf_token").unwrap()),
            ("state", input_value(&html, "state").unwrap()),
            ("page", page.to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    html
}
