//! Webhooks: created through the session JSON, delivered signed by the worker, retried, logged.

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use socialgate::db::schema::jobs;
use tokio::sync::watch;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fakes::trusted;
use crate::helpers::{Tenant, eventually, spawn_app_with};

/// Checks `X-Socialgate-Signature` the way the README tells receivers to.
fn verified(req: &Request, secret: &str) -> bool {
    let header = req
        .headers
        .get("x-socialgate-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&req.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

#[actix_web::test]
async fn events_arrive_signed_and_failed_deliveries_are_retried() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let app = spawn_app_with(&[("SOCIALGATE_FETCH_TRUSTED_HOSTS", &trusted(&receiver))]).await;
    let Tenant { browser, key, .. } = app.tenant("ada@example.com").await;
    let channel = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let csrf = app.get_json(&browser, "/user/self").await["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = |body: Value, with_csrf: bool| {
        let mut req = browser.post(app.url("/user/webhooks")).json(&body);
        if with_csrf {
            req = req.header("X-CSRF-Token", &csrf);
        }
        req.send()
    };
    let hook = format!("{}/hook", receiver.uri());
    assert_eq!(
        create(json!({ "name": "n", "url": hook }), false)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    for url in [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "not a url",
    ] {
        let r = create(json!({ "name": "n", "url": url }), true)
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
    }
    let r = create(
        json!({ "name": "Receiver", "url": hook, "channels": [channel] }),
        true,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let webhook = created["id"].as_str().unwrap().to_owned();
    let listed = app.get_json(&browser, "/user/webhooks").await;
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );

    let (stop, stopped) = watch::channel(false);
    let worker = actix_web::rt::spawn(socialgate::publishing::worker::run(
        app.state.clone(),
        stopped,
    ));
    let body = json!({ "type": "now", "shortLink": false, "date": chrono::Utc::now().to_rfc3339(), "tags": [],
        "posts": [{ "integration": { "id": channel }, "value": [{ "content": "<p>Hook me</p>", "image": [] }], "settings": {} }] });
    let (_, created) = app.api_send(Method::POST, &key, "/posts", Some(body)).await;
    let post_id = created[0]["postId"].as_str().unwrap().to_owned();

    // The first delivery meets a 500 and waits; made due again, it goes through.
    let deliveries = |browser: &reqwest::Client| {
        let url = app.url(&format!("/user/webhooks/{webhook}/deliveries"));
        let browser = browser.clone();
        async move {
            browser
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let first = eventually("the first delivery attempt", || {
        let (deliveries, browser) = (&deliveries, &browser);
        async move {
            let list = deliveries(browser).await;
            (list[0]["attempts"] == 1).then_some(list)
        }
    })
    .await;
    assert_eq!(first[0]["status"], "pending", "{first}");
    assert_eq!(first[0]["responseStatus"], 500);
    app.with_db(|c| {
        diesel::update(jobs::table.filter(jobs::kind.eq("webhook")))
            .set(jobs::run_at.eq(socialgate::db::now()))
            .execute(c)
    })
    .await;
    socialgate::publishing::jobs::WAKE.notify_one();
    let done = eventually("the retried delivery", || {
        let (deliveries, browser) = (&deliveries, &browser);
        async move {
            let list = deliveries(browser).await;
            (list[0]["status"] == "delivered").then_some(list)
        }
    })
    .await;
    assert_eq!(done[0]["status"], "delivered", "{done}");
    assert_eq!(done[0]["attempts"], 2);

    // "Send test" from the page.
    let page_csrf = app.csrf(&browser, "/settings/webhooks").await;
    let r = app
        .post_form(
            &browser,
            &format!("/settings/webhooks/{webhook}/test"),
            &[("csrf_token", &page_csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    eventually("the test delivery", || {
        let (deliveries, browser) = (&deliveries, &browser);
        async move {
            (deliveries(browser).await[0]["event"] == "webhook.test"
                && deliveries(browser).await[0]["status"] == "delivered")
                .then_some(())
        }
    })
    .await;
    let _ = stop.send(true);
    let _ = worker.await;

    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 3, "a failed try, the retry, the test");
    assert!(
        received.iter().all(|r| verified(r, &secret)),
        "every delivery is signed"
    );
    assert!(!verified(&received[1], "whsec_wrong"));
    let event: Value = serde_json::from_slice(&received[1].body).unwrap();
    assert_eq!(received[1].headers["x-socialgate-event"], "post.published");
    assert_eq!(event["event"], "post.published");
    assert_eq!(event["post"]["id"], post_id);
    assert_eq!(event["post"]["state"], "PUBLISHED");
    assert!(
        event["post"]["releaseURL"]
            .as_str()
            .unwrap()
            .contains("/sandbox/posts/")
    );
    assert_eq!(event["channel"]["provider"], "sandbox");
    assert_eq!(
        serde_json::from_slice::<Value>(&received[2].body).unwrap()["event"],
        "webhook.test"
    );
    let (_, html) = app
        .page(&browser, &format!("/settings/webhooks/{webhook}"))
        .await;
    assert!(html.contains("post.published") && html.contains("delivered"));

    let r = browser
        .delete(app.url(&format!("/user/webhooks/{webhook}")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.get_json(&browser, "/user/webhooks").await, json!([]));
}
