//! Google Business Profile: the location pick, local posts of each kind with their settings
//! checked when the post is written, media by public URL, a project Google has not approved,
//! and the daily metrics.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialgate::providers::{MediaItem, ProviderError};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fakes::{PNG, gmb, trusted};
use crate::helpers::{TestApp, spawn_app_with};

async fn bo() -> (TestApp, MockServer, String, String, String) {
    let server = MockServer::start().await;
    let (hosts, fetch) = (gmb::hosts(&server), trusted(&server));
    let app = spawn_app_with(&[
        ("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str()),
        ("SOCIALGATE_FETCH_TRUSTED_HOSTS", fetch.as_str()),
    ])
    .await;
    let tenant = app.tenant("bo@example.com").await;
    let id = gmb::connect(&app, &tenant.key, &tenant.org, &server).await;
    (app, server, tenant.org, tenant.key, id)
}

#[actix_web::test]
async fn local_posts_go_out_as_updates_events_and_offers() {
    let (app, server, org, _key, id) = bo().await;
    let posts = gmb::mount_posts(&server).await;
    let channel = app.channel(&org, &id).await;
    assert_eq!(channel.name, "Bo's Bakery (Portland)");
    assert_eq!(channel.internal_id, "accounts/111/locations/987");
    let picture = format!("{}/files/bread.png", server.uri());
    Mock::given(method("GET"))
        .and(path("/files/bread.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(PNG))
        .mount(&server)
        .await;
    let photo = MediaItem {
        kind: "image".into(),
        path: picture.clone(),
        alt: None,
        thumbnail: None,
        dimensions: None,
    };
    let published = app
        .publish_with(
            &channel,
            "Fresh sourdough every morning",
            vec![photo],
            json!({ "callToActionType": "LEARN_MORE", "callToActionUrl": "https://bo.example/menu" }),
            None,
        )
        .await
        .unwrap();
    assert_eq!(published.id, "accounts/111/locations/987/localPosts/555");
    assert!(published.url.starts_with("https://local.google.com/place"));
    app.publish_with(
        &channel,
        "Live music",
        vec![],
        json!({ "topicType": "EVENT", "eventTitle": "Jazz night", "eventStartDate": "2031-05-01",
            "eventStartTime": "19:00", "eventEndDate": "2031-05-01", "eventEndTime": "22:30",
            "callToActionType": "CALL" }),
        None,
    )
    .await
    .unwrap();
    app.publish_with(
        &channel,
        "A treat",
        vec![],
        json!({ "topicType": "OFFER", "eventTitle": "20% off", "eventStartDate": "2031-05-01",
            "eventEndDate": "2031-05-07", "offerCouponCode": "BREAD20", "offerTerms": "One per customer",
            "callToActionType": "BOOK", "callToActionUrl": "https://bo.example/book" }),
        None,
    )
    .await
    .unwrap();
    let posts = posts.lock().unwrap().clone();
    assert_eq!(
        posts[0],
        json!({ "languageCode": "en-US", "summary": "Fresh sourdough every morning", "topicType": "STANDARD",
            "callToAction": { "actionType": "LEARN_MORE", "url": "https://bo.example/menu" },
            "media": [{ "mediaFormat": "PHOTO", "sourceUrl": picture }] })
    );
    assert_eq!(
        posts[1]["event"],
        json!({ "title": "Jazz night", "schedule": {
            "startDate": { "year": 2031, "month": 5, "day": 1 }, "startTime": { "hours": 19, "minutes": 0 },
            "endDate": { "year": 2031, "month": 5, "day": 1 }, "endTime": { "hours": 22, "minutes": 30 } } })
    );
    assert_eq!(posts[1]["callToAction"], json!({ "actionType": "CALL" }));
    assert_eq!(
        posts[2]["offer"],
        json!({ "termsConditions": "One per customer", "couponCode": "BREAD20" })
    );
    assert!(
        posts[2].get("callToAction").is_none(),
        "Google ignores a button on an offer"
    );
}

#[actix_web::test]
async fn settings_are_checked_when_the_post_is_written() {
    let (app, _server, _org, key, id) = bo().await;
    let post = |content: &str, settings: Value| {
        json!({ "type": "schedule", "date": "2031-01-01T00:00:00Z", "shortLink": false, "tags": [],
            "posts": [{ "integration": { "id": id }, "settings": settings,
                "value": [{ "content": content, "image": [] }] }] })
    };
    let cases = vec![
        (
            post(
                "x",
                json!({ "topicType": "EVENT", "eventStartDate": "2031-05-01", "eventEndDate": "2031-05-01" }),
            ),
            "eventTitle",
        ),
        (
            post(
                "x",
                json!({ "topicType": "EVENT", "eventTitle": "Jazz", "eventStartDate": "May 1", "eventEndDate": "2031-05-01" }),
            ),
            "eventStartDate",
        ),
        (
            post(
                "x",
                json!({ "topicType": "EVENT", "eventTitle": "Jazz", "eventStartDate": "2031-05-02", "eventEndDate": "2031-05-01" }),
            ),
            "ends before it starts",
        ),
        (
            post(
                "x",
                json!({ "topicType": "OFFER", "eventTitle": "Sale", "eventStartDate": "2031-05-01", "eventEndDate": "2031-05-02" }),
            ),
            "offerTerms",
        ),
        (
            post("x", json!({ "callToActionType": "BOOK" })),
            "callToActionUrl",
        ),
        (post("x", json!({ "topicType": "ALERT" })), "topicType"),
        (post(&"a".repeat(1501), json!({})), "too long"),
    ];
    app.refuses_posts(&key, cases).await;
    let (status, answer) = app
        .api_send(
            Method::POST,
            &key,
            "/posts",
            Some(post(&"a".repeat(1500), json!({}))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

#[actix_web::test]
async fn a_project_google_has_not_approved_is_told_how_to_ask() {
    let (app, server, org, _key, id) = bo().await;
    Mock::given(method("POST"))
        .and(path("/v4/accounts/111/locations/987/localPosts"))
        .respond_with(gmb::not_approved())
        .mount(&server)
        .await;
    let channel = app.channel(&org, &id).await;
    match app.publish(&channel, "hello", vec![], None).await {
        Err(ProviderError::BadBody(m)) => {
            assert!(m.contains("not approved"), "{m}");
            assert!(m.contains("api_default"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[actix_web::test]
async fn daily_metrics_come_from_business_profile_performance() {
    let (app, server, _org, key, id) = bo().await;
    Mock::given(method("GET"))
        .and(path("/v1/locations/987:fetchMultiDailyMetricsTimeSeries"))
        .and(query_param("dailyMetrics", "WEBSITE_CLICKS"))
        .and(|req: &wiremock::Request| {
            req.url.query_pairs().filter(|(k, _)| k == "dailyMetrics").count() == 5
                && req.url.query_pairs().any(|(k, _)| k == "dailyRange.start_date.year")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "multiDailyMetricTimeSeries": [{
            "dailyMetricTimeSeries": [{ "dailyMetric": "WEBSITE_CLICKS", "timeSeries": { "datedValues": [
                { "date": { "year": 2026, "month": 11, "day": 1 }, "value": "12" },
                { "date": { "year": 2026, "month": 11, "day": 2 } }
            ]}}]
        }]})))
        .mount(&server)
        .await;
    let (status, series) = app.api_get(&key, &format!("/analytics/{id}?date=30")).await;
    assert_eq!(status, StatusCode::OK, "{series}");
    assert_eq!(series[0]["label"], "Website clicks");
    assert_eq!(
        series[0]["data"],
        json!([{ "total": "12", "date": "2026-11-01" }, { "total": "0", "date": "2026-11-02" }])
    );
}
