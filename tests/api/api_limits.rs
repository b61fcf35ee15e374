//! Rate limits and `Idempotency-Key` on `/public/v1`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Tenant, client, spawn_app, spawn_app_with};

fn draft(channel: &str, text: &str) -> Value {
    json!({ "type": "draft", "shortLink": false, "date": "2030-01-01T10:00:00Z", "tags": [],
            "posts": [{ "integration": { "id": channel }, "value": [{ "content": text, "image": [] }], "settings": {} }] })
}

#[actix_web::test]
async fn requests_per_credential_and_posts_per_organization_are_limited() {
    let app = spawn_app_with(&[("SOCIALGATE_API_RATE", "5"), ("SOCIALGATE_API_LIMIT", "2")]).await;
    let Tenant { browser, key, .. } = app.tenant("ada@example.com").await;
    let other = app.create_api_key(&browser, "other").await;
    let channel = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // connect_sandbox used two requests of `key`'s five.
    let send = |key: &str, body: Value| {
        client()
            .post(app.url("/public/v1/posts"))
            .header("Authorization", key)
            .json(&body)
            .send()
    };
    assert_eq!(
        send(&key, draft(&channel, "one")).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        send(&other, draft(&channel, "two")).await.unwrap().status(),
        StatusCode::CREATED
    );
    let r = send(&other, draft(&channel, "three")).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the organization's hourly posts are used up"
    );
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(r.headers()["x-ratelimit-limit"], "2");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "0");

    let r = client()
        .get(app.url("/public/v1/is-connected"))
        .header("Authorization", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-ratelimit-limit"], "5");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "1");
    client()
        .get(app.url("/public/v1/is-connected"))
        .header("Authorization", &key)
        .send()
        .await
        .unwrap();
    let r = client()
        .get(app.url("/public/v1/is-connected"))
        .header("Authorization", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    assert_eq!(
        r.headers()["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse::<i64>()
            .unwrap(),
        wait
    );
    // Another credential has its own budget.
    let r = client()
        .get(app.url("/public/v1/is-connected"))
        .header("Authorization", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    let app = spawn_app().await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;
    let channel = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let send = |idem: &str, body: Value| {
        client()
            .post(app.url("/public/v1/posts"))
            .header("Authorization", &key)
            .header("Idempotency-Key", idem)
            .json(&body)
            .send()
    };
    let first = send("retry-1", draft(&channel, "hello")).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send("retry-1", draft(&channel, "hello")).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let (_, listed) = app
        .api_get(
            &key,
            "/posts?startDate=2029-12-31T00:00:00Z&endDate=2030-01-02T00:00:00Z",
        )
        .await;
    assert_eq!(
        listed["posts"].as_array().unwrap().len(),
        1,
        "the retry created nothing"
    );

    let r = send("retry-1", draft(&channel, "something else"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // While the first request with a key is still running, a second one waits its turn.
    let in_flight = socialgate::crypto::sha256_hex(&format!("{key}\nbusy"));
    let mut request = b"POST /public/v1/posts\n".to_vec();
    request.extend(serde_json::to_vec(&draft(&channel, "hello")).unwrap());
    let fingerprint = {
        use sha2::Digest;
        socialgate::crypto::hex(&sha2::Sha256::digest(&request))
    };
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::idempotency_keys;
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::key_hash.eq(in_flight),
                idempotency_keys::request_hash.eq(fingerprint),
                idempotency_keys::created_at.eq(socialgate::db::now()),
            ))
            .execute(conn)
    })
    .await;
    let r = send("busy", draft(&channel, "hello")).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // A record its request stopped renewing (the process died mid-request, no answer was
    // given) does not hold the key: the retry runs.
    let abandoned = socialgate::crypto::sha256_hex(&format!("{key}\nbusy"));
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::idempotency_keys;
        diesel::update(idempotency_keys::table.find(abandoned))
            .set(
                idempotency_keys::created_at
                    .eq(socialgate::db::now() - chrono::Duration::seconds(91)),
            )
            .execute(conn)
    })
    .await;
    let r = send("busy", draft(&channel, "hello")).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = send("busy", draft(&channel, "hello")).await.unwrap();
    assert_eq!(r.headers()["idempotent-replayed"], "true");

    // An answer that says nothing about the request (here: a bad credential) is not kept.
    let r = client()
        .post(app.url("/public/v1/posts"))
        .header("Authorization", "sgk_wrong")
        .header("Idempotency-Key", "k2")
        .json(&draft(&channel, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client()
        .post(app.url("/public/v1/posts"))
        .header("Authorization", "sgk_wrong")
        .header("Idempotency-Key", "k2")
        .json(&draft(&channel, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("idempotent-replayed").is_none());
}
