//! A fake Google Business Profile: Google's OAuth 2 and `userinfo`, the accounts and their
//! locations (`locations/{id}` without the account, as Business Information answers), local
//! posts on `v4/accounts/{a}/locations/{l}/localPosts` checked as Google checks them (an event
//! needs its title and schedule, an offer its terms, media by `sourceUrl`), and the daily
//! metrics of Business Profile Performance.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::facebook::{form_has, pick_page};
use crate::helpers::{TestApp, client, query_param as url_param};

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends Google's hosts to the fake.
pub fn hosts(server: &MockServer) -> String {
    format!(
        "accounts.google.com={0} oauth2.googleapis.com={0} openidconnect.googleapis.com={0} \
         mybusinessaccountmanagement.googleapis.com={0} mybusinessbusinessinformation.googleapis.com={0} \
         mybusiness.googleapis.com={0} businessprofileperformance.googleapis.com={0}",
        server.uri()
    )
}

fn bearer(req: &Request) -> bool {
    req.headers
        .get("authorization")
        .is_some_and(|v| v == "Bearer ya29.gmb" || v == "Bearer ya29.gmb2")
}

/// The code `gmb-code` is worth `ya29.gmb` (its refresh token renews to `ya29.gmb2`); bo manages Bo's Bakery (`accounts/111/locations/987`).
pub async fn mount_login(server: &MockServer, scope: &str) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(|req: &Request| {
            form_has(req, "grant_type", "authorization_code")
                && form_has(req, "code", "gmb-code")
                && form_has(req, "client_id", "gmb-id")
                && form_has(req, "client_secret", "gmb-secret")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.gmb", "expires_in": 3599, "refresh_token": "1//gmb-refresh",
            "scope": scope, "token_type": "Bearer"
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(|req: &Request| {
            form_has(req, "grant_type", "refresh_token")
                && form_has(req, "refresh_token", "1//gmb-refresh")
                && form_has(req, "client_secret", "gmb-secret")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.gmb2", "expires_in": 3599, "scope": scope, "token_type": "Bearer"
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/userinfo"))
        .and(bearer)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": "1090", "name": "Bo Baker", "email": "bo@example.com", "email_verified": true
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts"))
        .and(bearer)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "accounts": [{
                "name": "accounts/111", "accountName": "Bo Baker", "type": "PERSONAL",
                "role": "PRIMARY_OWNER", "verificationState": "VERIFIED"
            }]})),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts/111/locations"))
        .and(query_param("readMask", "name,title,storefrontAddress"))
        .and(bearer)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "locations": [{
            "name": "locations/987", "title": "Bo's Bakery",
            "storefrontAddress": { "regionCode": "US", "locality": "Portland", "addressLines": ["1 Main St"] }
        }]})))
        .mount(server)
        .await;
}

/// Local posts of Bo's Bakery; the bodies received are kept.
pub async fn mount_posts(server: &MockServer) -> Arc<Mutex<Vec<Value>>> {
    let posts: Arc<Mutex<Vec<Value>>> = Arc::default();
    let kept = posts.clone();
    Mock::given(method("POST"))
        .and(path("/v4/accounts/111/locations/987/localPosts"))
        .and(bearer)
        .respond_with(move |req: &Request| {
            let b: Value = serde_json::from_slice(&req.body).unwrap_or_default();
            let topic = b["topicType"].as_str().unwrap_or("").to_owned();
            let schedule = &b["event"]["schedule"];
            let valid = b["summary"].is_string()
                && ["STANDARD", "EVENT", "OFFER"].contains(&topic.as_str())
                && (topic == "STANDARD"
                    || (b["event"]["title"].is_string() && schedule["startDate"]["year"].is_number()
                        && schedule["endDate"]["day"].is_number()))
                && (topic != "OFFER" || b["offer"]["termsConditions"].is_string())
                && b["media"].as_array().is_none_or(|m| {
                    m.iter().all(|i| i["sourceUrl"].is_string() && i["mediaFormat"].is_string())
                });
            if !valid {
                return ResponseTemplate::new(400).set_body_json(json!({ "error": {
                    "code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT" }}));
            }
            let mut posts = kept.lock().unwrap();
            posts.push(b);
            ResponseTemplate::new(200).set_body_json(json!({
                "name": format!("accounts/111/locations/987/localPosts/{}", 554 + posts.len()),
                "state": "LIVE", "topicType": topic,
                "searchUrl": "https://local.google.com/place?id=987&use=posts&lpsid=555"
            }))
        })
        .mount(server)
        .await;
    posts
}

/// The answer Google gives a project not yet approved for the Business Profile APIs.
pub fn not_approved() -> ResponseTemplate {
    ResponseTemplate::new(429).set_body_json(json!({ "error": {
        "code": 429, "status": "RESOURCE_EXHAUSTED",
        "message": "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service 'mybusiness.googleapis.com' for consumer 'project_number:1'.",
        "details": [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com", "metadata": { "quota_limit_value": "0", "quota_metric": "Requests" } }]
    }}))
}

/// Connects Bo's Bakery; returns the channel id.
pub async fn connect(app: &TestApp, key: &str, org: &str, server: &MockServer) -> String {
    app.set_credentials(org, "gmb", "gmb-id", "gmb-secret", None)
        .await;
    let url = app.connect_url(key, "gmb").await;
    assert!(
        url.starts_with(&format!("{}/o/oauth2/v2/auth?", server.uri())),
        "{url}"
    );
    mount_login(server, &url_param(&url, "scope").unwrap()).await;
    let state = url_param(&url, "state").unwrap();
    let person = client();
    let r = person
        .get(app.url(&format!(
            "/postiz/integrations/social/gmb?code=gmb-code&state={state}"
        )))
        .send()
        .await
        .unwrap();
    let html = pick_page(app, &person, r, "gmb", "accounts/111/locations/987").await;
    assert!(html.contains("Bakery (Portland)"), "{html}");
    app.channel_id(key, "gmb").await
}
