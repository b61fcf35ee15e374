//! A fake X API that verifies OAuth 1.0a signatures as X does: over X's own URL, which
//! `SOCIALGATE_PROVIDER_HOSTS` sends to the fake.

use serde_json::json;
use wiremock::matchers::{method, path, query_param as wm_query};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::{oauth_params, oauth1_valid};

/// X's real API, which `SOCIALGATE_PROVIDER_HOSTS` sends to the fake.
pub const X_API: &str = "https://api.x.com";

/// The `SOCIALGATE_PROVIDER_HOSTS` value that sends X's API to the fake.
pub fn x_hosts(api: &MockServer) -> String {
    format!("api.x.com={}", api.uri())
}

/// Signed as X checks it, over its own URL whatever proxy the request went through: by the
/// app (`x-consumer-key`) alone, or by the app and `token` with this secret.
pub fn signed(
    token: Option<&'static str>,
    token_secret: &'static str,
) -> impl Fn(&Request) -> bool + use<> {
    move |req: &Request| {
        let params = oauth_params(req);
        oauth1_valid(req, X_API, "x-consumer-secret", token_secret)
            && params.get("oauth_consumer_key").map(String::as_str) == Some("x-consumer-key")
            && params.get("oauth_token").map(String::as_str) == token
    }
}

/// X's three-legged login, each step signed: a request token for `callback` (asked for once),
/// its exchange with the verifier `the-verifier` for alice's access token (once), and her
/// verified account.
pub async fn mount_oauth(api: &MockServer, callback: &str) {
    let expected_callback = callback.to_owned();
    Mock::given(method("POST"))
        .and(path("/oauth/request_token"))
        .and(signed(None, ""))
        .and(move |req: &Request| oauth_params(req).get("oauth_callback") == Some(&expected_callback))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "oauth_token=request-token&oauth_token_secret=request-secret&oauth_callback_confirmed=true",
        ))
        .expect(1)
        .mount(api)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/access_token"))
        .and(signed(Some("request-token"), "request-secret"))
        .and(|req: &Request| {
            oauth_params(req).get("oauth_verifier").map(String::as_str) == Some("the-verifier")
        })
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "oauth_token=42-access&oauth_token_secret=access-secret&user_id=42&screen_name=alice",
        ))
        .expect(1)
        .mount(api)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(wm_query("user.fields", "profile_image_url,verified"))
        .and(signed(Some("42-access"), "access-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "id": "42", "name": "Alice", "username": "alice",
                      "profile_image_url": "https://pbs.example/alice.jpg", "verified": true }
        })))
        .mount(api)
        .await;
}
