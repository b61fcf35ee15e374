//! Nothing secret is stored in plaintext or written to the log.

use reqwest::StatusCode;

use crate::helpers::{TestApp, logs, on_postgres, spawn_app};

/// The SQLite database files as they are on disk, write-ahead log included.
pub fn raw_database(app: &TestApp) -> String {
    let mut raw = Vec::new();
    for entry in std::fs::read_dir(app.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("socialgate.db")
        {
            raw.extend(std::fs::read(&path).unwrap());
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

#[actix_web::test]
async fn the_database_and_the_log_hold_no_plaintext_password_key_or_cookie() {
    let app = spawn_app().await;
    let password = "very-unique-password-4711";
    let c = crate::helpers::client();
    let r = app.sign_up(&c, "secrets@example.com", password).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session = cookie.trim_start_matches("sg_session=").to_owned();
    let key = app.create_api_key(&c, "grep me").await;
    assert_eq!(app.is_connected(Some(&key)).await.0, StatusCode::OK);
    let r = app
        .sign_in(&crate::helpers::client(), "secrets@example.com", password)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let wrong = app
        .sign_in(
            &crate::helpers::client(),
            "secrets@example.com",
            "wrong-password-0815",
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let secrets = [
        password,
        key.as_str(),
        &key[4..],
        session.as_str(),
        "wrong-password-0815",
    ];

    if !on_postgres() {
        let raw = raw_database(&app);
        assert!(raw.len() > 4096);
        assert!(
            raw.contains("secrets@example.com"),
            "the grep does see the data"
        );
        for secret in secrets {
            assert!(
                !raw.contains(secret),
                "the database file holds a secret in plaintext"
            );
        }
        assert!(
            raw.contains(&socialgate::crypto::sha256_hex(&key)),
            "the key is stored as its SHA-256"
        );
    }

    let log = logs();
    assert!(log.contains("request finished"), "requests are logged");
    for secret in secrets {
        let leaks: Vec<&str> = log.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "a secret reached the log: {leaks:#?}");
    }
}

#[actix_web::test]
async fn after_a_full_oauth_flow_no_secret_code_or_token_is_stored_or_logged() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("oauth-grep@example.com").await;
    let org = app.org_of("oauth-grep@example.com").await;
    let registered = app
        .register_app(&org, &["https://grep.example/cb"], false)
        .await;
    let secret = registered.client_secret.clone().unwrap();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let code = app
        .obtain_code(
            &browser,
            &[
                ("client_id", &registered.client_id),
                ("response_type", "code"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &registered.client_id),
            ("client_secret", &secret),
            ("code_verifier", verifier),
        ])
        .await;
    let token = r.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.is_connected(Some(&token)).await.0, StatusCode::OK);
    let device: serde_json::Value = app.start_device_login().await;
    let device_code = device["device_code"].as_str().unwrap().to_owned();

    let secrets = [
        secret.as_str(),
        &secret[4..],
        code.as_str(),
        token.as_str(),
        &token[4..],
        verifier,
        &device_code,
    ];
    if !on_postgres() {
        let raw = raw_database(&app);
        assert!(
            raw.contains(&registered.client_id),
            "the grep does see the data"
        );
        for s in secrets {
            assert!(
                !raw.contains(s),
                "a secret, code or token is stored in plaintext"
            );
        }
    }
    let log = logs();
    for s in secrets {
        let leaks: Vec<&str> = log.lines().filter(|l| l.contains(s)).collect();
        assert!(leaks.is_empty(), "a secret reached the log: {leaks:#?}");
    }
}
