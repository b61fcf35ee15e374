//! A fake LinkedIn: OAuth 2 with the client in the form body and no refresh token (as for
//! self-serve apps), OpenID Connect `userinfo`, and the versioned REST API, which refuses a
//! request without `X-Restli-Protocol-Version: 2.0.0` or with a version other than the active
//! `202609` (426 `NONEXISTENT_VERSION`, LinkedIn's body). Images take the member's token on
//! their upload URL; video parts take none and answer an ETag each, which finalize checks in
//! order; a post using a video is refused with `MEDIA_ASSET_WAITING_UPLOAD` once, as while
//! LinkedIn processes it. Comments go to the unversioned `v2/socialActions`.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::{form_has, pick_page};
use crate::helpers::{TestApp, client, query_param as url_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends LinkedIn's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!("www.linkedin.com={0} api.linkedin.com={0}", server.uri())
}

/// The active version; anything else is refused as LinkedIn refuses a sunset version.
pub const VERSION: &str = "202609";

/// The size of a video part LinkedIn hands out.
pub const PART: usize = 4 * 1024 * 1024;

fn bearer(req: &Request) -> bool {
    req.headers
        .get("authorization")
        .is_some_and(|v| v == "Bearer li-token")
}

/// LinkedIn's error body.
pub fn error(status: u16, code: &str, service: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "status": status, "serviceErrorCode": service, "code": code, "message": message
    }))
}

/// The app `li-id`/`li-secret`: the code `li-code` is worth `li-token` (60 days, no refresh
/// token); the member is ada (`ada-sub`).
pub async fn mount_login(server: &MockServer, network: &str, scope: &str) {
    let callback = format!("/postiz/integrations/social/{network}");
    let scope = scope.replace(' ', ",");
    Mock::given(method("POST"))
        .and(path("/oauth/v2/accessToken"))
        .and(move |req: &Request| {
            form_has(req, "grant_type", "authorization_code")
                && form_has(req, "code", "li-code")
                && form_has(req, "client_id", "li-id")
                && form_has(req, "client_secret", "li-secret")
                && url::form_urlencoded::parse(&req.body)
                    .any(|(k, v)| k == "redirect_uri" && v.ends_with(&callback))
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "li-token", "expires_in": 5183999, "scope": scope,
            "token_type": "Bearer", "id_token": "eyJ6aXAiOi.x.y"
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/userinfo"))
        .and(bearer)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": "ada-sub", "name": "Ada Lovelace", "given_name": "Ada",
            "family_name": "Lovelace", "picture": "https://media.licdn.com/ada.jpg",
            "locale": "en-US"
        })))
        .mount(server)
        .await;
    // The member's basic profile, with r_basicprofile only.
    let basic = scope.split(',').any(|s| s == "r_basicprofile");
    Mock::given(method("GET"))
        .and(path("/v2/me"))
        .and(bearer)
        .respond_with(if basic {
            ResponseTemplate::new(200).set_body_json(json!({
                "id": "yrZCpj2Z12", "localizedFirstName": "Ada", "localizedLastName": "Lovelace",
                "vanityName": "ada-lovelace", "localizedHeadline": "Analyst"
            }))
        } else {
            error(
                403,
                "ACCESS_DENIED",
                100,
                "Not enough permissions to access: me.GET.NO_VERSION",
            )
        })
        .mount(server)
        .await;
}

/// Refuses what LinkedIn refuses on every versioned call: a missing protocol header (400) or a
/// version that is not active (426). Mounted first, so it answers before anything else.
async fn mount_version_gate(server: &MockServer) {
    Mock::given(path_regex("^/rest/"))
        .and(|req: &Request| {
            req.headers
                .get("x-restli-protocol-version")
                .is_none_or(|v| v != "2.0.0")
        })
        .respond_with(error(
            400,
            "ILLEGAL_ARGUMENT",
            100,
            "X-Restli-Protocol-Version 2.0.0 is required",
        ))
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(path_regex("^/rest/"))
        .and(|req: &Request| {
            req.headers
                .get("linkedin-version")
                .is_none_or(|v| v != VERSION)
        })
        .respond_with(|req: &Request| {
            let asked = req
                .headers
                .get("linkedin-version")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            ResponseTemplate::new(426).set_body_json(json!({
                "status": 426, "code": "NONEXISTENT_VERSION",
                "message": format!("Requested version {asked}01 is not active")
            }))
        })
        .with_priority(1)
        .mount(server)
        .await;
}

/// What the fake received, for tests to inspect.
#[derive(Clone, Default)]
pub struct Seen {
    pub posts: Arc<Mutex<Vec<Value>>>,
    pub comments: Arc<Mutex<Vec<Value>>>,
    pub parts: Arc<Mutex<Vec<usize>>>,
    pub documents: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// `POST /rest/{kind}?action=initializeUpload` for `owner`: the upload URL
/// (`/dms-uploads/{kind}/0`) and the URN.
async fn mount_initialize(server: &MockServer, kind: &str, owner: &str, urn: &str) {
    let field = if kind == "images" {
        "image"
    } else {
        "document"
    };
    let owner = owner.to_owned();
    Mock::given(method("POST"))
        .and(path(format!("/rest/{kind}")))
        .and(query_param("action", "initializeUpload"))
        .and(bearer)
        .and(move |req: &Request| {
            serde_json::from_slice::<Value>(&req.body)
                .is_ok_and(|b| b["initializeUploadRequest"]["owner"] == owner.as_str())
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "value": {
            "uploadUrlExpiresAt": 1_770_541_530_896_i64,
            "uploadUrl": format!("{}/dms-uploads/{kind}/0", server.uri()),
            field: urn
        }})))
        .mount(server)
        .await;
}

/// Posts, images, videos and comments for `author` (a person or organization URN).
pub async fn mount_publishing(server: &MockServer, author: &str) -> Seen {
    mount_version_gate(server).await;
    let seen = Seen::default();
    mount_initialize(server, "images", author, "urn:li:image:C4E10AQFoyyAjHPMQuQ").await;
    Mock::given(method("PUT"))
        .and(path("/dms-uploads/images/0"))
        .and(bearer)
        .and(|req: &Request| req.body.starts_with(b"\x89PNG"))
        .respond_with(ResponseTemplate::new(201))
        .mount(server)
        .await;

    // Documents: a PDF with the member's token.
    mount_initialize(server, "documents", author, "urn:li:document:D4D10AQHr").await;
    let documents = seen.documents.clone();
    Mock::given(method("PUT"))
        .and(path("/dms-uploads/documents/0"))
        .and(bearer)
        .respond_with(move |req: &Request| {
            let pdf = req
                .headers
                .get("content-type")
                .is_some_and(|v| v == "application/pdf")
                && req.body.starts_with(b"%PDF-");
            if !pdf {
                return ResponseTemplate::new(400);
            }
            documents.lock().unwrap().push(req.body.clone());
            ResponseTemplate::new(201)
        })
        .mount(server)
        .await;

    // Videos: two parts of the file, each answered with its ETag; finalize names them in order.
    let owner = author.to_owned();
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/rest/videos"))
        .and(query_param("action", "initializeUpload"))
        .and(bearer)
        .respond_with(move |req: &Request| {
            let b: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let r = &b["initializeUploadRequest"];
            let size = r["fileSizeBytes"].as_u64().unwrap_or(0);
            if r["owner"] != owner.as_str() || size <= PART as u64 {
                return error(400, "INVALID_REQUEST", 100, "invalid initializeUploadRequest");
            }
            ResponseTemplate::new(200).set_body_json(json!({ "value": {
                "uploadUrlsExpireAt": 1_633_234_498_985_i64,
                "video": "urn:li:video:C5505AQH",
                "uploadInstructions": [
                    { "uploadUrl": format!("{base}/dms-uploads/vid/part-1"), "firstByte": 0, "lastByte": PART - 1 },
                    { "uploadUrl": format!("{base}/dms-uploads/vid/part-2"), "firstByte": PART, "lastByte": size - 1 },
                ],
                "uploadToken": "", "thumbnailUploadUrl": "", "captionsUploadUrl": ""
            }}))
        })
        .mount(server)
        .await;
    let parts = seen.parts.clone();
    Mock::given(method("PUT"))
        .and(path_regex("^/dms-uploads/vid/part-[12]$"))
        .respond_with(move |req: &Request| {
            if req.headers.contains_key("authorization") {
                return ResponseTemplate::new(400);
            }
            parts.lock().unwrap().push(req.body.len());
            let n = req.url.path().rsplit('-').next().unwrap_or("0").to_owned();
            ResponseTemplate::new(200).insert_header("etag", format!("\"etag-{n}\""))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/videos"))
        .and(query_param("action", "finalizeUpload"))
        .and(bearer)
        .and(|req: &Request| {
            serde_json::from_slice::<Value>(&req.body).is_ok_and(|b| {
                b["finalizeUploadRequest"]
                    == json!({ "video": "urn:li:video:C5505AQH", "uploadToken": "",
                        "uploadedPartIds": ["\"etag-1\"", "\"etag-2\""] })
            })
        })
        .respond_with(ResponseTemplate::new(200))
        .mount(server)
        .await;

    // Posts: 201 with the URN in x-restli-id; a video is still processing at the first try.
    let posts = seen.posts.clone();
    let author = author.to_owned();
    let waited = Arc::new(Mutex::new(false));
    Mock::given(method("POST"))
        .and(path("/rest/posts"))
        .and(bearer)
        .respond_with(move |req: &Request| {
            let b: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let valid = b["author"] == author.as_str()
                && b["commentary"].is_string()
                && b["visibility"] == "PUBLIC"
                && b["distribution"]["feedDistribution"] == "MAIN_FEED"
                && b["lifecycleState"] == "PUBLISHED";
            if !valid {
                return error(422, "UNPROCESSABLE_ENTITY", 100, "invalid post");
            }
            if b["content"]["media"]["id"] == "urn:li:video:C5505AQH" {
                let mut waited = waited.lock().unwrap();
                if !*waited {
                    *waited = true;
                    return error(
                        400,
                        "MEDIA_ASSET_WAITING_UPLOAD",
                        100,
                        "Media asset is waiting upload",
                    );
                }
            }
            let mut posts = posts.lock().unwrap();
            posts.push(b);
            ResponseTemplate::new(201).insert_header(
                "x-restli-id",
                format!("urn:li:share:70000000{}", posts.len()),
            )
        })
        .mount(server)
        .await;

    let comments = seen.comments.clone();
    Mock::given(method("POST"))
        .and(path_regex(r"^/v2/socialActions/urn%3Ali%3Ashare%3A\d+/comments$"))
        .and(bearer)
        .respond_with(move |req: &Request| {
            let b: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let object = b["object"].as_str().unwrap_or_default().to_owned();
            if !req.url.path().contains(&object.replace(':', "%3A")) || !b["message"]["text"].is_string() {
                return error(400, "INVALID_REQUEST", 100, "object does not match the path");
            }
            comments.lock().unwrap().push(b);
            ResponseTemplate::new(201)
                .insert_header("x-restli-id", "6636062862760562688")
                .set_body_json(json!({
                    "commentUrn": format!("urn:li:comment:(urn:li:activity:1,{})", 6_636_062_862_760_562_688_i64),
                    "object": object, "id": "6636062862760562688"
                }))
        })
        .mount(server)
        .await;
    seen
}

/// Acme (`2414183`), administered by ada, with its name.
pub async fn mount_organizations(server: &MockServer) {
    mount_version_gate(server).await;
    Mock::given(method("GET"))
        .and(path("/rest/organizationAcls"))
        .and(query_param("q", "roleAssignee"))
        .and(query_param("role", "ADMINISTRATOR"))
        .and(query_param("state", "APPROVED"))
        .and(bearer)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "paging": { "count": 10, "start": 0 },
            "elements": [{
                "roleAssignee": "urn:li:person:ada-sub", "state": "APPROVED",
                "role": "ADMINISTRATOR", "organization": "urn:li:organization:2414183"
            }]
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/organizations/2414183"))
        .and(bearer)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 2414183, "localizedName": "Acme Rockets", "vanityName": "acme-rockets"
        })))
        .mount(server)
        .await;
}

/// Connects ada's profile (`linkedin`) or, picking Acme, its page (`linkedin-page`).
pub async fn connect(
    app: &TestApp,
    key: &str,
    org: &str,
    server: &MockServer,
    network: &str,
) -> String {
    app.set_credentials(org, network, "li-id", "li-secret", None)
        .await;
    let url = app.connect_url(key, network).await;
    assert!(
        url.starts_with(&format!("{}/oauth/v2/authorization?", server.uri())),
        "{url}"
    );
    assert_eq!(url_param(&url, "client_id").as_deref(), Some("li-id"));
    let scope = url_param(&url, "scope").unwrap();
    mount_login(server, network, &scope).await;
    let state = url_param(&url, "state").unwrap();
    let person = client();
    let r = person
        .get(app.url(&format!(
            "/postiz/integrations/social/{network}?code=li-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    if network == "linkedin-page" {
        let html = pick_page(app, &person, r, network, "2414183").await;
        assert!(html.contains("Acme Rockets"), "{html}");
    } else {
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    app.channel_id(key, network).await
}
