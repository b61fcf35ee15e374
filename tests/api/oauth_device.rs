//! Device login: the Postiz CLI's endpoints and RFC 8628.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, input_value, spawn_app};

async fn poll(app: &TestApp, device_code: &str) -> (StatusCode, Value) {
    let r = client()
        .post(app.url("/device/token"))
        .json(&json!({ "device_code": device_code }))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

/// Enters the user code on /device and answers the consent screen.
async fn enter_code(
    app: &TestApp,
    browser: &reqwest::Client,
    user_code: &str,
    action: &str,
) -> String {
    let (status, html) = app
        .page(browser, &format!("/device?code={user_code}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("value=\"{user_code}\"")),
        "the code is prefilled"
    );
    let csrf = input_value(&html, "csrf_token").unwrap();
    let r = app
        .post_form(
            browser,
            "/device",
            &[
                ("csrf_token", &csrf),
                ("user_code", &user_code.to_lowercase()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let consent = r.text().await.unwrap();
    let r = app.answer_consent(browser, &consent, action).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

#[actix_web::test]
async fn the_postiz_cli_logs_in_with_a_device_code() {
    let app = spawn_app().await;
    let r = client().post(app.url("/device/code")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let code: Value = r.json().await.unwrap();
    let device_code = code["device_code"].as_str().unwrap().to_owned();
    let user_code = code["user_code"].as_str().unwrap().to_owned();
    assert_eq!(device_code.len(), 64);
    assert!(device_code.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| "ABCDEFGHJKMNPQRSTUVWXYZ23456789".contains(c))
    );
    assert_eq!(
        code["verification_uri"],
        format!("{}/device", app.state.config.public_url)
    );
    assert_eq!(code["expires_in"], 900);
    assert_eq!(code["interval"], 5);

    assert_eq!(
        poll(&app, &device_code).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "authorization_pending"})
        )
    );

    // Not signed in: through sign-in first, then back to the device page.
    let browser = client();
    let r = app
        .get(&browser, &format!("/device?code={user_code}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin?next=%2Fdevice")
    );
    let browser = app.signed_up_client("cli-user@example.com").await;
    let done = enter_code(&app, &browser, &user_code, "approve").await;
    assert!(done.contains("Device connected"));

    let (status, body) = poll(&app, &device_code).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("pos_"));
    assert_eq!(body["api_url"], app.state.config.public_url.as_str());
    assert_eq!(
        body["organization_id"],
        app.org_of("cli-user@example.com").await.as_str()
    );
    assert_eq!(app.is_connected(Some(&token)).await.0, StatusCode::OK);
    assert_eq!(
        poll(&app, &device_code).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_device_code"})
        ),
        "spent"
    );

    let (_, approved) = app.page(&browser, "/settings/approved-apps").await;
    assert!(approved.contains("socialgate CLI"));
}

#[actix_web::test]
async fn denied_expired_and_malformed_device_polls() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("deny-cli@example.com").await;
    let code: Value = app.start_device_login().await;
    let done = enter_code(&app, &browser, code["user_code"].as_str().unwrap(), "deny").await;
    assert!(done.contains("Access denied"));
    assert_eq!(
        poll(&app, code["device_code"].as_str().unwrap()).await,
        (StatusCode::BAD_REQUEST, json!({"error": "access_denied"}))
    );

    let code: Value = app.start_device_login().await;
    let hash = socialgate::crypto::sha256_hex(code["device_code"].as_str().unwrap());
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::oauth_device_codes as d;
        diesel::update(d::table.filter(d::device_code_hash.eq(&hash)))
            .set(d::expires_at.eq(socialgate::db::now() - chrono::Duration::seconds(1)))
            .execute(conn)
    })
    .await;
    assert_eq!(
        poll(&app, code["device_code"].as_str().unwrap()).await,
        (StatusCode::BAD_REQUEST, json!({"error": "expired_token"}))
    );

    let r = client()
        .post(app.url("/device/token"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "invalid_request"})
    );
    assert_eq!(
        poll(&app, "00").await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_device_code"})
        )
    );

    // Wrong user codes: a clear page, and after ten a pause.
    let (_, html) = app.page(&browser, "/device").await;
    let csrf = input_value(&html, "csrf_token").unwrap();
    for _ in 0..10 {
        let r = app
            .post_form(
                &browser,
                "/device",
                &[("csrf_token", &csrf), ("user_code", "ZZZZ-ZZZZ")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("not valid or has expired"));
    }
    let r = app
        .post_form(
            &browser,
            "/device",
            &[("csrf_token", &csrf), ("user_code", "ZZZZ-ZZZZ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = app
        .post_form(
            &browser,
            "/device",
            &[("csrf_token", "forged"), ("user_code", "ZZZZ-ZZZZ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn rfc_8628_device_grant_on_the_token_endpoint() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("rfc-device@example.com").await;
    let org = app.org_of("rfc-device@example.com").await;
    let public = app.register_app(&org, &["http://127.0.0.1/cb"], true).await;
    let other = app
        .register_app(&org, &["http://127.0.0.1/other"], true)
        .await;

    let r = client()
        .post(app.url("/oauth/device_authorization"))
        .form(&[
            ("client_id", public.client_id.as_str()),
            ("scope", "posts:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let code: Value = r.json().await.unwrap();
    let user_code = code["user_code"].as_str().unwrap().to_owned();
    assert_eq!(
        code["verification_uri_complete"],
        format!("{}/device?code={user_code}", app.state.config.public_url)
    );
    let device_code = code["device_code"].as_str().unwrap().to_owned();
    let grant = |client_id: String| {
        let url = app.url("/oauth/token");
        let device_code = device_code.clone();
        async move {
            let r = client()
                .post(url)
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("device_code", &device_code),
                    ("client_id", &client_id),
                ])
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        grant(public.client_id.clone()).await.1["error"],
        "authorization_pending"
    );
    assert_eq!(
        grant(public.client_id.clone()).await.1["error"],
        "slow_down",
        "polled faster than the interval"
    );
    assert_eq!(
        grant(other.client_id.clone()).await.1["error"],
        "invalid_grant",
        "another client's device code"
    );

    let done = enter_code(&app, &browser, &user_code, "approve").await;
    assert!(done.contains("Device connected"));
    // Wait out the (widened) interval by moving the last poll back.
    let hash = socialgate::crypto::sha256_hex(&device_code);
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::oauth_device_codes as d;
        diesel::update(d::table.filter(d::device_code_hash.eq(&hash)))
            .set(d::last_polled_at.eq(socialgate::db::now() - chrono::Duration::seconds(60)))
            .execute(conn)
    })
    .await;
    let (status, body) = grant(public.client_id.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "posts:read");
    assert_eq!(body["id"], org.as_str());
    assert_eq!(
        app.is_connected(body["access_token"].as_str()).await.0,
        StatusCode::OK
    );

    let r = client()
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", "pca_nobody")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
