//! Developer apps in the browser and as JSON, secret rotation, deletion and Approved Apps.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, input_by_id, input_value, spawn_app};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

fn app_form(csrf: &str, name: &str, redirects: &str) -> Form {
    Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("name", name.to_owned())
        .text("description", "Schedules posts for you.")
        .text("redirect_uris", redirects.to_owned())
}

/// An app registered on the developer page, as the page shows it right after.
struct RegisteredInBrowser {
    /// The app's page.
    path: String,
    client_id: String,
    /// Shown this once.
    client_secret: String,
}

/// Registers an app through the page.
async fn register_in_browser(
    app: &TestApp,
    browser: &reqwest::Client,
    form: Form,
) -> RegisteredInBrowser {
    let r = browser
        .post(app.url("/settings/developers/apps"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let html = r.text().await.unwrap();
    assert!(html.contains("you will not see it again"));
    let client_id = input_by_id(&html, "new-client-id").unwrap();
    let client_secret = input_by_id(&html, "new-client-secret").unwrap();
    let path = html
        .split("href=\"/settings/developers/apps/")
        .nth(1)
        .map(|s| format!("/settings/developers/apps/{}", s.split('"').next().unwrap()))
        .unwrap();
    RegisteredInBrowser {
        path,
        client_id,
        client_secret,
    }
}

#[actix_web::test]
async fn register_edit_rotate_and_delete_an_app_in_the_browser() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("dev@example.com").await;
    let csrf = app.csrf(&browser, "/settings/developers/apps").await;

    // Bad redirect URLs are refused with the reason, and the typed values stay.
    for bad in [
        "http://app.example/cb",
        "javascript:alert(1)",
        "https://app.example/cb#x",
        "https://*.example/cb",
        "https://u@app.example/cb",
        "",
    ] {
        let r = browser
            .post(app.url("/settings/developers/apps"))
            .multipart(app_form(&csrf, "Scheduler", bad))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().await.unwrap().contains("value=\"Scheduler\""));
    }
    let not_image = app_form(&csrf, "Scheduler", "https://app.example/cb").part(
        "picture",
        Part::bytes(b"<svg onload=alert(1)>".to_vec()).file_name("x.png"),
    );
    let r = browser
        .post(app.url("/settings/developers/apps"))
        .multipart(not_image)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let form = app_form(
        &csrf,
        "Scheduler",
        "https://app.example/cb\nhttp://127.0.0.1/cb",
    )
    .part("picture", Part::bytes(PNG.to_vec()).file_name("logo.png"));
    let RegisteredInBrowser {
        path,
        client_id,
        client_secret: secret,
    } = register_in_browser(&app, &browser, form).await;
    assert!(client_id.starts_with("pca_") && client_id.len() == 36);
    assert!(secret.starts_with("pcs_") && secret.len() == 52);

    let (status, html) = app.page(&browser, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&client_id));
    assert!(!html.contains(&secret), "the secret is never shown again");
    let r = client()
        .get(app.url(&format!("/oauth/apps/{client_id}/picture")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

    // A user approves it and gets a token.
    let user = app.signed_up_client("user@example.com").await;
    let registered = crate::helpers::RegisteredApp {
        client_id: client_id.clone(),
        client_secret: Some(secret.clone()),
    };
    let token = {
        let code = app
            .obtain_code(
                &user,
                &[
                    ("client_id", &client_id),
                    ("response_type", "code"),
                    ("redirect_uri", "https://app.example/cb"),
                ],
            )
            .await;
        let r = app
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &client_id),
                ("client_secret", &secret),
                ("redirect_uri", "https://app.example/cb"),
            ])
            .await;
        r.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(app.is_connected(Some(&token)).await.0, StatusCode::OK);

    // Edit.
    let csrf = app.csrf(&browser, &path).await;
    let r = browser
        .post(app.url(&path))
        .multipart(
            app_form(&csrf, "Scheduler Pro", "https://app.example/cb")
                .text("remove_picture", "yes"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.page(&browser, &path).await;
    assert!(html.contains("Scheduler Pro"));
    let r = client()
        .get(app.url(&format!("/oauth/apps/{client_id}/picture")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Rotate: the new secret shows once, the old one is refused, the token keeps working.
    let r = app
        .post_form(
            &browser,
            &format!("{path}/rotate"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let new_secret = input_by_id(&r.text().await.unwrap(), "new-client-secret").unwrap();
    assert_ne!(new_secret, secret);
    let r = client()
        .post(app.url("/oauth/introspect"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    assert_eq!(
        app.is_connected(Some(&token)).await.0,
        StatusCode::OK,
        "rotation alone revokes nothing"
    );
    let rotated = crate::helpers::RegisteredApp {
        client_id: client_id.clone(),
        client_secret: Some(new_secret.clone()),
    };
    let second = app.access_token(&user, &rotated, "").await;
    drop(registered);

    // Rotate and revoke: every token dies.
    let r = app
        .post_form(
            &browser,
            &format!("{path}/rotate"),
            &[("csrf_token", &csrf), ("revoke_tokens", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let newest = input_by_id(&r.text().await.unwrap(), "new-client-secret").unwrap();
    assert_eq!(
        app.is_connected(Some(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.is_connected(Some(&second)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Delete needs the confirmation; then tokens, pending codes and approvals are gone.
    let third = app
        .access_token(
            &user,
            &crate::helpers::RegisteredApp {
                client_id: client_id.clone(),
                client_secret: Some(newest.clone()),
            },
            "",
        )
        .await;
    let pending = app
        .obtain_code(
            &user,
            &[
                ("client_id", &client_id),
                ("response_type", "code"),
                ("redirect_uri", "https://app.example/cb"),
            ],
        )
        .await;
    let r = app
        .post_form(
            &browser,
            &format!("{path}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.is_connected(Some(&third)).await.0, StatusCode::OK);
    let r = app
        .post_form(
            &browser,
            &format!("{path}/delete"),
            &[("csrf_token", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.is_connected(Some(&third)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &pending),
            ("client_id", &client_id),
            ("client_secret", &newest),
            ("redirect_uri", "https://app.example/cb"),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "the client is gone");
    let (_, html) = app.page(&user, "/settings/approved-apps").await;
    assert!(!html.contains("Scheduler"));
    let (status, _) = app.page(&browser, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn approved_apps_lists_and_revokes_grants() {
    let app = spawn_app().await;
    let owner = app.signed_up_client("owner2@example.com").await;
    let org = app.org_of("owner2@example.com").await;
    let a = app
        .register_app(&org, &["https://a.example/cb"], false)
        .await;
    let b = app
        .register_app(&org, &["https://b.example/cb"], false)
        .await;
    let user = app.signed_up_client("approver@example.com").await;
    let token_a = app.access_token(&user, &a, "posts:read").await;
    let token_b = app.access_token(&user, &b, "").await;
    let pending = app
        .obtain_code(
            &user,
            &[("client_id", &a.client_id), ("response_type", "code")],
        )
        .await;

    let (status, html) = app.page(&user, "/settings/approved-apps").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("/revoke\"").count(), 2);
    assert!(html.contains("posts:read"));
    assert!(
        html.contains("Test User&#39;s organization")
            || html.contains("Test User&#x27;s organization")
    );

    // JSON view of the same.
    let list: Value = app.get_json(&user, "/user/approved-apps").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let grant_a = list
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["app"]["client_id"] == a.client_id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let csrf = input_value(&html, "csrf_token").unwrap();
    let r = app
        .post_form(
            &user,
            &format!("/settings/approved-apps/{grant_a}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.is_connected(Some(&token_a)).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Invalid OAuth token"})
        )
    );
    assert_eq!(
        app.is_connected(Some(&token_b)).await.0,
        StatusCode::OK,
        "other apps are unaffected"
    );
    let r = app
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &pending),
            ("client_id", &a.client_id),
            ("client_secret", a.client_secret.as_deref().unwrap()),
        ])
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "invalid_grant",
        "pending codes fail"
    );

    // Someone else cannot revoke my grants.
    let grant_b = app.get_json(&user, "/user/approved-apps").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let self_json: Value = app.get_json(&owner, "/user/self").await;
    let r = owner
        .delete(app.url(&format!("/user/approved-apps/{grant_b}")))
        .header("x-csrf-token", self_json["csrf_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // JSON revocation needs the CSRF header.
    let r = user
        .delete(app.url(&format!("/user/approved-apps/{grant_b}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let me: Value = app.get_json(&user, "/user/self").await;
    let r = user
        .delete(app.url(&format!("/user/approved-apps/{grant_b}")))
        .header("x-csrf-token", me["csrf_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"success": true}));
    assert_eq!(
        app.is_connected(Some(&token_b)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn apps_as_json() {
    let app = spawn_app().await;
    let dev = app.signed_up_client("json@example.com").await;
    let me: Value = app.get_json(&dev, "/user/self").await;
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(me["organization"]["role"], "admin");

    let body = json!({"name": "Agent", "redirect_uris": ["https://agent.example/cb"], "picture_url": "https://agent.example/logo.png"});
    let r = dev
        .post(app.url("/user/oauth-apps"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF header");
    let r = dev
        .post(app.url("/user/oauth-apps"))
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pcs_"));
    assert_eq!(created["picture"], "https://agent.example/logo.png");

    let r = dev
        .post(app.url("/user/oauth-apps"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "", "redirect_uris": ["https://x.example/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = dev
        .post(app.url("/user/oauth-apps"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "X", "redirect_uris": ["http://x.example/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let listed: Value = app.get_json(&dev, "/user/oauth-apps").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret));

    let r = dev
        .put(app.url(&format!("/user/oauth-apps/{id}")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Agent 2", "picture_url": null}))
        .send()
        .await
        .unwrap();
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["name"], "Agent 2");
    assert_eq!(updated["picture"], Value::Null);
    assert_eq!(
        updated["redirect_uris"],
        json!(["https://agent.example/cb"])
    );

    let r = dev
        .post(app.url(&format!("/user/oauth-apps/{id}/rotate-secret")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"revoke_tokens": true}))
        .send()
        .await
        .unwrap();
    let rotated: Value = r.json().await.unwrap();
    assert_ne!(rotated["client_secret"], secret.as_str());
    assert_eq!(rotated["tokens_revoked"], true);

    // A body that cannot be read is refused, never taken as "keep the tokens"; `null` for a
    // field that cannot be removed is refused, never taken as "unchanged".
    for bad in [
        r#"{"revoke_tokens":"true"}"#.to_owned(),
        "not json".to_owned(),
    ] {
        let r = dev
            .post(app.url(&format!("/user/oauth-apps/{id}/rotate-secret")))
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let r = dev
        .put(app.url(&format!("/user/oauth-apps/{id}")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": null, "redirect_uris": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Another organization's admin sees nothing of it.
    let other = app.signed_up_client("other-org@example.com").await;
    let r = other
        .get(app.url(&format!("/user/oauth-apps/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = dev
        .delete(app.url(&format!("/user/oauth-apps/{id}")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"success": true}));
    let r = dev
        .get(app.url(&format!("/user/oauth-apps/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn admin_command_registers_apps() {
    let app = spawn_app().await;
    app.signed_up_client("cmd@example.com").await;
    let org = app.org_of("cmd@example.com").await;
    let db = app.state.db.clone();
    let bad = actix_web::web::block(move || {
        socialgate::admin::create_oauth_app(
            &mut db.get().unwrap(),
            &org,
            "X",
            &["ftp://x".to_owned()],
            false,
        )
    })
    .await
    .unwrap();
    assert!(bad.is_err());
}
