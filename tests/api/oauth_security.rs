//! The security checklist's cases for the authorization endpoint, codes, PKCE, the token
//! endpoint, client authentication, revocation and brute force.

use std::net::{IpAddr, Ipv4Addr};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, query_param, spawn_app};

const CB: &str = "https://app.example/cb";

async fn setup(
    app: &TestApp,
    email: &str,
    uris: &[&str],
    public: bool,
) -> (reqwest::Client, crate::helpers::RegisteredApp) {
    let browser = app.signed_up_client(email).await;
    let org = app.org_of(email).await;
    (browser, app.register_app(&org, uris, public).await)
}

fn assert_error_page(r: &reqwest::Response) {
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.headers().get("location").is_none(),
        "no redirect on an untrusted request"
    );
}

#[actix_web::test]
async fn untrusted_redirect_uris_and_clients_get_an_error_page() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "a1@example.com", &[CB], false).await;
    for bad in [
        "https://app.example/cb/",
        "https://app.example/CB",
        "https://app.example/cb?x=1",
        "https://app.example/cb#f",
        "https://app.example/cb%2F..",
        "https://APP.example/cb",
        "https://app.example:443/cb",
        "https://app.example.evil/cb",
        "https://app.example@evil/cb",
        "https://evil/?https://app.example/cb",
    ] {
        let r = app
            .authorize(
                &browser,
                &[
                    ("client_id", &reg.client_id),
                    ("response_type", "code"),
                    ("redirect_uri", bad),
                ],
            )
            .await;
        assert_error_page(&r);
    }
    let r = app
        .authorize(
            &browser,
            &[("client_id", "pca_unknown"), ("response_type", "code")],
        )
        .await;
    assert_error_page(&r);
    let r = app.authorize(&browser, &[("response_type", "code")]).await;
    assert_error_page(&r);
    let r = app
        .authorize(
            &browser,
            &[
                ("client_id", &reg.client_id),
                ("client_id", &reg.client_id),
                ("response_type", "code"),
            ],
        )
        .await;
    assert_error_page(&r);
    // Also before signing in: the error page, not the sign-in page.
    let r = app
        .authorize(
            &client(),
            &[("client_id", "pca_unknown"), ("response_type", "code")],
        )
        .await;
    assert_error_page(&r);
    // The built-in device client cannot be used here.
    let r = app
        .authorize(
            &browser,
            &[("client_id", "socialgate-cli"), ("response_type", "code")],
        )
        .await;
    assert_error_page(&r);
    // Several registered URIs and none named.
    let org = app.org_of("a1@example.com").await;
    let two = app
        .register_app(&org, &[CB, "https://app.example/other"], false)
        .await;
    let r = app
        .authorize(
            &browser,
            &[("client_id", &two.client_id), ("response_type", "code")],
        )
        .await;
    assert_error_page(&r);
    let headers = r.headers();
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
}

#[actix_web::test]
async fn loopback_registrations_accept_any_port_and_nothing_else() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "a3@example.com", &["http://127.0.0.1/cb"], true).await;
    let pkce = [
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    let ok = app
        .authorize(
            &browser,
            &[
                ("client_id", &reg.client_id),
                ("response_type", "code"),
                ("redirect_uri", "http://127.0.0.1:54321/cb"),
                pkce[0],
                pkce[1],
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    for bad in [
        "http://127.0.0.1:54321/other",
        "http://attacker@127.0.0.1:5/cb",
        "http://localhost:5/cb",
    ] {
        let r = app
            .authorize(
                &browser,
                &[
                    ("client_id", &reg.client_id),
                    ("response_type", "code"),
                    ("redirect_uri", bad),
                    pkce[0],
                    pkce[1],
                ],
            )
            .await;
        assert_error_page(&r);
    }
}

#[actix_web::test]
async fn bad_requests_for_a_trusted_uri_redirect_with_error_state_and_iss() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "a6@example.com", &[CB], false).await;
    let (_, public) = {
        let org = app.org_of("a6@example.com").await;
        (
            (),
            app.register_app(&org, &["https://public.example/cb"], true)
                .await,
        )
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("client_id", &reg.client_id), ("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            vec![
                ("client_id", &reg.client_id),
                ("response_type", "code id_token"),
            ],
            "unsupported_response_type",
        ),
        (vec![("client_id", &reg.client_id)], "invalid_request"),
        (
            vec![
                ("client_id", &reg.client_id),
                ("response_type", "code"),
                ("scope", "posts:read admin"),
            ],
            "invalid_scope",
        ),
        (
            vec![("client_id", &public.client_id), ("response_type", "code")],
            "invalid_request",
        ),
        (
            vec![
                ("client_id", &reg.client_id),
                ("response_type", "code"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("client_id", &reg.client_id),
                ("response_type", "code"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("client_id", &reg.client_id),
                ("response_type", "code"),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("client_id", &reg.client_id),
                ("response_type", "code"),
                ("scope", "a"),
                ("scope", "b"),
            ],
            "invalid_request",
        ),
    ];
    for (mut query, expected) in cases {
        query.push(("state", "st&=ate"));
        let r = app.authorize(&browser, &query).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{query:?}");
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("https://"), "{location}");
        assert_eq!(
            query_param(&location, "error").as_deref(),
            Some(expected),
            "{query:?}"
        );
        assert_eq!(query_param(&location, "state").as_deref(), Some("st&=ate"));
        assert_eq!(
            query_param(&location, "iss").as_deref(),
            Some(app.state.config.public_url.as_str())
        );
        assert!(query_param(&location, "code").is_none());
    }
}

#[actix_web::test]
async fn the_consent_form_needs_its_token_and_its_own_pending_request() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "e1@example.com", &[CB], false).await;
    let attacker = app.signed_up_client("e1-attacker@example.com").await;
    let r = app
        .authorize(
            &browser,
            &[("client_id", &reg.client_id), ("response_type", "code")],
        )
        .await;
    let html = r.text().await.unwrap();
    let request_id = crate::helpers::input_value(&html, "request_id").unwrap();
    let org = app.org_of("e1@example.com").await;
    let foreign_csrf = app.csrf(&attacker, "/settings/members").await;
    for csrf in ["", "bogus", foreign_csrf.as_str()] {
        let r = app
            .post_form(
                &browser,
                "/oauth/authorize",
                &[
                    ("csrf_token", csrf),
                    ("request_id", &request_id),
                    ("organization_id", &org),
                    ("action", "approve"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.headers().get("location").is_none());
    }
    // Another session cannot answer this request, even with its own valid token.
    let attacker_csrf = app.csrf(&attacker, "/settings/members").await;
    let r = app
        .post_form(
            &attacker,
            "/oauth/authorize",
            &[
                ("csrf_token", &attacker_csrf),
                ("request_id", &request_id),
                ("organization_id", &org),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Granting an organization one is not a member of is refused (and spends the request).
    let attacker_org = app.org_of("e1-attacker@example.com").await;
    let r = app
        .authorize(
            &browser,
            &[("client_id", &reg.client_id), ("response_type", "code")],
        )
        .await;
    let html = r.text().await.unwrap();
    let rid = crate::helpers::input_value(&html, "request_id").unwrap();
    let csrf = crate::helpers::input_value(&html, "csrf_token").unwrap();
    let r = app
        .post_form(
            &browser,
            "/oauth/authorize",
            &[
                ("csrf_token", &csrf),
                ("request_id", &rid),
                ("organization_id", &attacker_org),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("location").is_none());
    // The original request still works once, and only once.
    let csrf = app.csrf(&browser, "/settings/members").await;
    let answer = [
        ("csrf_token", csrf.as_str()),
        ("request_id", &request_id),
        ("organization_id", &org),
        ("action", "approve"),
    ];
    let r = app.post_form(&browser, "/oauth/authorize", &answer).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&browser, "/oauth/authorize", &answer).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn an_app_name_is_escaped_on_the_consent_screen() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("e7@example.com").await;
    let org = app.org_of("e7@example.com").await;
    let db = app.state.db.clone();
    let out = actix_web::web::block(move || {
        let mut conn = db.get().unwrap();
        let input = socialgate::oauth::apps::AppInput {
            name: "<script>alert(1)</script>".into(),
            description: "<img src=x onerror=alert(2)>".into(),
            redirect_uris: vec![CB.into()],
            picture: socialgate::oauth::apps::Picture::Keep,
        };
        socialgate::oauth::apps::create(&mut conn, Some(&org), &input, false)
            .unwrap()
            .0
            .client_id
    })
    .await
    .unwrap();
    let r = app
        .authorize(&browser, &[("client_id", &out), ("response_type", "code")])
        .await;
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
}

#[actix_web::test]
async fn a_code_is_single_use_and_a_replay_revokes_its_token() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "b1@example.com", &[CB], false).await;
    let secret = reg.client_secret.clone().unwrap();
    let code = app
        .obtain_code(
            &browser,
            &[("client_id", &reg.client_id), ("response_type", "code")],
        )
        .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", &reg.client_id),
        ("client_secret", &secret),
    ];
    let first = app.token_request(&form).await;
    assert_eq!(first.status(), StatusCode::OK);
    let token = first.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.is_connected(Some(&token)).await.0, StatusCode::OK);

    // A replay with a wrong secret is refused and changes nothing.
    let wrong = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", &reg.client_id),
        ("client_secret", "pcs_wrong"),
    ];
    let r = app.token_request(&wrong).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.is_connected(Some(&token)).await.0, StatusCode::OK);

    let replay = app.token_request(&form).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(replay.headers()["content-type"], "application/json");
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        app.is_connected(Some(&token)).await.0,
        StatusCode::UNAUTHORIZED,
        "the first token is revoked"
    );
}

#[actix_web::test]
async fn twenty_concurrent_exchanges_of_one_code_yield_exactly_one_token() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "b3@example.com", &[CB], false).await;
    let secret = reg.client_secret.clone().unwrap();
    let code = app
        .obtain_code(
            &browser,
            &[("client_id", &reg.client_id), ("response_type", "code")],
        )
        .await;
    let requests = (0..20).map(|_| {
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("client_id", reg.client_id.clone()),
            ("client_secret", secret.clone()),
        ];
        let url = app.url("/oauth/token");
        async move {
            client()
                .post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = join_all(requests).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        19,
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn codes_are_bound_to_client_redirect_uri_time_and_grant() {
    let app = spawn_app().await;
    let (browser, a) = setup(&app, "b4@example.com", &[CB], false).await;
    let org = app.org_of("b4@example.com").await;
    let b = app
        .register_app(&org, &["https://b.example/cb"], false)
        .await;
    let (a_secret, b_secret) = (
        a.client_secret.clone().unwrap(),
        b.client_secret.clone().unwrap(),
    );

    // Client B cannot redeem A's code, and A still can.
    let code = app
        .obtain_code(
            &browser,
            &[
                ("client_id", &a.client_id),
                ("response_type", "code"),
                ("redirect_uri", CB),
            ],
        )
        .await;
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &b.client_id),
            ("client_secret", &b_secret),
            ("redirect_uri", CB),
        ])
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // redirect_uri was sent, so it must be sent again, and be the same.
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &a.client_id),
            ("client_secret", &a_secret),
        ])
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &a.client_id),
            ("client_secret", &a_secret),
            ("redirect_uri", "https://app.example/cb2"),
        ])
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &a.client_id),
            ("client_secret", &a_secret),
            ("redirect_uri", CB),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Ten minutes and one second later, a code is dead.
    let code = app
        .obtain_code(
            &browser,
            &[("client_id", &a.client_id), ("response_type", "code")],
        )
        .await;
    let hash = socialgate::crypto::sha256_hex(&code);
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::oauth_codes;
        let created: chrono::NaiveDateTime = oauth_codes::table
            .filter(oauth_codes::code_hash.eq(&hash))
            .select(oauth_codes::created_at)
            .first(conn)?;
        diesel::update(oauth_codes::table.filter(oauth_codes::code_hash.eq(&hash)))
            .set(oauth_codes::expires_at.eq(created - chrono::Duration::seconds(1)))
            .execute(conn)
    })
    .await;
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &a.client_id),
            ("client_secret", &a_secret),
        ])
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "Code has expired"})
    );
}

#[actix_web::test]
async fn pkce_is_enforced_and_cannot_be_downgraded() {
    let app = spawn_app().await;
    let (browser, public) =
        setup(&app, "c1@example.com", &["https://public.example/cb"], true).await;
    let org = app.org_of("c1@example.com").await;
    let confidential = app.register_app(&org, &[CB], false).await;
    let secret = confidential.client_secret.clone().unwrap();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let pkce_query = |client_id: &str| {
        vec![
            ("client_id".to_owned(), client_id.to_owned()),
            ("response_type".to_owned(), "code".to_owned()),
            ("code_challenge".to_owned(), challenge.to_owned()),
            ("code_challenge_method".to_owned(), "S256".to_owned()),
        ]
    };
    let q = pkce_query(&public.client_id);
    let query: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    for (bad, expected) in [
        (None, "invalid_grant"),
        (Some("x".repeat(43)), "invalid_grant"),
        (Some("a".repeat(42)), "invalid_request"),
        (Some(format!("{}+/ ", "a".repeat(43))), "invalid_request"),
    ] {
        let code = app.obtain_code(&browser, &query).await;
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("client_id", public.client_id.clone()),
        ];
        if let Some(v) = bad {
            form.push(("code_verifier", v));
        }
        let r = client()
            .post(app.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["error"], expected);
    }
    // A public client that sends a secret it cannot have is not authenticated.
    let code = app.obtain_code(&browser, &query).await;
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &public.client_id),
            ("client_secret", "pcs_x"),
            ("code_verifier", verifier),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &public.client_id),
            ("code_verifier", verifier),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Downgrade: a code issued without a challenge refuses a verifier.
    let code = app
        .obtain_code(
            &browser,
            &[
                ("client_id", &confidential.client_id),
                ("response_type", "code"),
            ],
        )
        .await;
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &confidential.client_id),
            ("client_secret", &secret),
            ("code_verifier", verifier),
        ])
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
}

#[actix_web::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "f@example.com", &[CB], false).await;
    let secret = reg.client_secret.clone().unwrap();
    let code = app
        .obtain_code(
            &browser,
            &[("client_id", &reg.client_id), ("response_type", "code")],
        )
        .await;
    let url = app.url("/oauth/token");

    let r = app
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", &reg.client_id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "unsupported_grant_type"})
    );
    let r = app.token_request(&[("client_id", &reg.client_id)]).await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code", &code),
            ("client_id", &reg.client_id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    let r = client()
        .post(format!("{url}?client_secret={secret}"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &reg.client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    let r = client().get(&url).send().await.unwrap();
    assert!(r.status().is_client_error());
    let r = client()
        .post(&url)
        .header("content-type", "text/plain")
        .body("grant_type=authorization_code")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    // Client authentication: Basic works; a bad Basic secret is 401 with a challenge.
    let r = client()
        .post(&url)
        .basic_auth(&reg.client_id, Some("pcs_wrong"))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let r = client()
        .post(&url)
        .basic_auth(&reg.client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "invalid_request",
        "two methods at once"
    );
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &reg.client_id),
        ])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a confidential client must authenticate"
    );
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "pca_nobody"),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    for header in [
        "basic Zm9vOmJhcg==",
        "Basic !!!notbase64",
        "Basic Zm9vYmFy",
        "Basic //79",
        "Bearer abc",
        &format!("Basic {}", "A".repeat(10_000)),
    ] {
        let r = client()
            .post(&url)
            .header("authorization", header)
            .form(&[("grant_type", "authorization_code"), ("code", &code)])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{header}: {}", r.status());
    }
    let r = client()
        .post(&url)
        .basic_auth(&reg.client_id, Some(&secret))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the code survived all of the above"
    );
}

#[actix_web::test]
async fn revocation_and_introspection_only_touch_the_clients_own_tokens() {
    let app = spawn_app().await;
    let (browser, a) = setup(&app, "k@example.com", &[CB], false).await;
    let org = app.org_of("k@example.com").await;
    let b = app
        .register_app(&org, &["https://b.example/cb"], false)
        .await;
    let token = app.access_token(&browser, &a, "").await;
    let b_secret = b.client_secret.clone().unwrap();

    let r = client()
        .post(app.url("/oauth/revoke"))
        .basic_auth(&b.client_id, Some(&b_secret))
        .form(&[
            ("token", token.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.is_connected(Some(&token)).await.0,
        StatusCode::OK,
        "B cannot revoke A's token"
    );
    let r = client()
        .post(app.url("/oauth/introspect"))
        .basic_auth(&b.client_id, Some(&b_secret))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"active": false}));
    let r = client()
        .post(app.url("/oauth/revoke"))
        .basic_auth(&b.client_id, Some(&b_secret))
        .form(&[("token", "pos_garbage")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client()
        .post(app.url("/oauth/introspect"))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "introspection needs client authentication"
    );
}

#[actix_web::test]
async fn failed_client_authentication_is_limited_per_client_and_ip() {
    let app = spawn_app().await;
    let (browser, reg) = setup(&app, "i1@example.com", &[CB], false).await;
    let secret = reg.client_secret.clone().unwrap();
    for _ in 0..20 {
        let r = app
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("client_id", &reg.client_id),
                ("client_secret", "pcs_guess"),
            ])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", &reg.client_id),
            ("client_secret", "pcs_guess"),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));

    // The legitimate app, calling from another address, is not affected.
    let code = app
        .obtain_code(
            &browser,
            &[("client_id", &reg.client_id), ("response_type", "code")],
        )
        .await;
    let elsewhere = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let r = elsewhere
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &reg.client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
