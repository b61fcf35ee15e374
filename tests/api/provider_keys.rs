//! Settings → Social Publishing API Keys, the provisioning command and master-key rotation.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;
use socialgate::channels::credentials;
use socialgate::providers;

use crate::helpers::{logs, on_postgres, spawn_app, spawn_on, test_database};
use crate::secrets::raw_database;

#[actix_web::test]
async fn credentials_are_sealed_and_the_secret_is_never_shown_again() {
    let app = spawn_app().await;
    let admin = app.signed_up_client("ada@example.com").await;
    let org = app.org_of("ada@example.com").await;
    let (status, html) = app.page(&admin, "/settings/social-keys").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&app.url("/integrations/social/x")));
    assert!(html.contains(&app.url("/postiz/integrations/social/mastodon")));
    let csrf = app.csrf(&admin, "/settings/social-keys").await;

    let secret = "mc-very-secret-98765";
    let save = |fields: Vec<(&'static str, String)>| {
        let (admin, csrf) = (&admin, csrf.clone());
        let app = &app;
        async move {
            let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
            form.extend(fields);
            admin
                .post(app.url("/settings/social-keys/mastodon"))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let r = save(vec![
        ("client_id", "mc-public-id-123".into()),
        ("client_secret", secret.into()),
        ("instance_url", "http://example.com".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("use https"));
    let r = save(vec![
        ("client_id", "mc-public-id-123".into()),
        ("client_secret", secret.into()),
        ("instance_url", "https://social.example/".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Mastodon credentials saved."));
    assert!(html.contains("mc-public-id-123"));
    assert!(html.contains("set — leave empty to keep it"));
    assert!(!html.contains(secret));

    // Saving again without a secret keeps it; the redirect override wins over ours.
    let r = save(vec![
        ("client_id", "mc-public-id-123".into()),
        ("client_secret", String::new()),
        (
            "redirect_uri",
            "https://tenant.example/postiz/integrations/social/mastodon".into(),
        ),
        ("instance_url", "https://social.example".into()),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (keys, config, org_id) = (
        app.state.keys.clone(),
        app.state.config.clone(),
        org.clone(),
    );
    let resolved = app
        .state
        .db
        .run(move |conn| {
            credentials::resolve(
                conn,
                &keys,
                &config,
                &org_id,
                providers::get("mastodon").unwrap(),
            )
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.client_secret, secret);
    assert_eq!(
        resolved.redirect_uri,
        "https://tenant.example/postiz/integrations/social/mastodon"
    );
    assert_eq!(
        resolved.instance_url.as_deref(),
        Some("https://social.example")
    );
    let (_, html) = app.page(&admin, "/settings/social-keys").await;
    assert!(!html.contains(secret));
    assert!(html.contains("https://tenant.example/postiz/integrations/social/mastodon"));

    if !on_postgres() {
        let raw = raw_database(&app);
        assert!(!raw.contains(secret) && !raw.contains("mc-public-id-123"));
    }
    assert!(!logs().contains(secret));

    // Members who are not admins, and forged forms, change nothing.
    let member = app.signed_up_client("bob@example.com").await;
    let r = admin
        .post(app.url("/settings/members"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "bob@example.com"),
            ("role", "user"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status() == StatusCode::SEE_OTHER);
    let member_csrf = app.csrf(&member, "/settings/members").await;
    let switch = member
        .post(app.url("/settings/organization"))
        .form(&[
            ("csrf_token", member_csrf.as_str()),
            ("organization_id", org.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(switch.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.page(&member, "/settings/social-keys").await.0,
        StatusCode::FORBIDDEN
    );
    let r = admin
        .post(app.url("/settings/social-keys/mastodon"))
        .form(&[("client_id", "evil"), ("client_secret", "evil")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = save(vec![("remove", "1".into())]).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Mastodon credentials removed.")
    );
    let (_, html) = app.page(&admin, "/settings/social-keys").await;
    assert!(!html.contains("mc-public-id-123"));
}

fn socialgate(data_dir: &std::path::Path, database_url: &str, args: &[&str]) -> Value {
    let data = data_dir.to_str().unwrap();
    let env = [
        ("DATABASE_URL", database_url),
        ("SOCIALGATE_DATA_DIR", data),
    ];
    let out = socialgate_with(data_dir, &env, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[actix_web::test]
async fn rotating_the_master_key_moves_every_value_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let db = test_database(&data);
    let url = db.url.clone();
    let user = socialgate(&data, &url, &crate::cli::CREATE_OPS);
    let org = user["organization_id"].as_str().unwrap().to_owned();
    let out = socialgate(
        &data,
        &url,
        &[
            "admin",
            "set-provider-credentials",
            "--org",
            "Acme",
            "--provider",
            "mastodon",
            "--client-id",
            "cid",
            "--client-secret",
            "rotating-secret",
            "--instance-url",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(
        out,
        serde_json::json!({ "provider": "mastodon", "configured": true })
    );
    let key = socialgate(&data, &url, &["admin", "create-api-key", "--org", "Acme"])["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let app = spawn_on(dir, url.clone(), db.pg, &[]).await;
    let channel = app.connect_sandbox(&key).await;
    let before = app.channel(&org, channel["id"].as_str().unwrap()).await;
    let token_before = app.channel_auth(&before).await.access_token;

    let rotated = socialgate(&data, &url, &["admin", "rotate-secret-key"]);
    assert_ne!(rotated["key_id"], rotated["previous_key_id"]);
    assert!(rotated["rows"].as_u64().unwrap() >= 2, "{rotated}");
    assert!(!data.join("secret.key.previous").exists());

    // A server started with the new key reads everything.
    let fresh = tempfile::tempdir().unwrap();
    let again = spawn_on(
        fresh,
        url,
        None,
        &[("SOCIALGATE_DATA_DIR", data.to_str().unwrap())],
    )
    .await;
    assert_eq!(
        again.state.keys.key_id(),
        rotated["key_id"].as_str().unwrap()
    );
    let (keys, config, org_id) = (
        again.state.keys.clone(),
        again.state.config.clone(),
        org.clone(),
    );
    let resolved = again
        .state
        .db
        .run(move |conn| {
            let under_old = socialgate::admin::values_under_other_keys(conn, &keys)?;
            let creds = credentials::resolve(
                conn,
                &keys,
                &config,
                &org_id,
                providers::get("mastodon").unwrap(),
            )?;
            Ok::<_, socialgate::error::AppError>((under_old, creds))
        })
        .await
        .unwrap();
    assert_eq!(resolved.0, 0);
    assert_eq!(resolved.1.unwrap().client_secret, "rotating-secret");
    let after = again.channel(&org, channel["id"].as_str().unwrap()).await;
    assert_ne!(after.sealed_tokens().0, before.sealed_tokens().0);
    assert_eq!(again.channel_auth(&after).await.access_token, token_before);
}

/// The command line with these environment variables; the raw output.
fn socialgate_with(
    dir: &std::path::Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_socialgate"));
    command.args(args).current_dir(dir).env_clear();
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[actix_web::test]
async fn the_master_key_is_bound_to_its_database_and_another_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let db = test_database(&data);
    let url = db.url.clone();
    let credentials_args = [
        "admin",
        "set-provider-credentials",
        "--org",
        "Acme",
        "--provider",
        "mastodon",
        "--client-id",
        "cid",
        "--client-secret",
        "bound-secret",
    ];
    socialgate(&data, &url, &crate::cli::CREATE_OPS);
    socialgate(&data, &url, &credentials_args);
    assert!(data.join("secret.key").exists());

    // From another data directory: no key file there, so none is created and nothing written.
    let elsewhere = tempfile::tempdir().unwrap();
    let other_dir = elsewhere.path().join("data");
    let out = socialgate_with(
        elsewhere.path(),
        &[
            ("DATABASE_URL", &url),
            ("SOCIALGATE_DATA_DIR", other_dir.to_str().unwrap()),
        ],
        &credentials_args,
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("SOCIALGATE_SECRET_KEY") && said.contains("SOCIALGATE_DATA_DIR"),
        "{said}"
    );
    assert!(
        said.contains(other_dir.to_str().unwrap()),
        "names where it looked: {said}"
    );
    assert!(
        !other_dir.join("secret.key").exists(),
        "no key file was created"
    );

    // With another explicit key: refused, naming both key ids.
    let other_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let out = socialgate_with(
        elsewhere.path(),
        &[("DATABASE_URL", &url), ("SOCIALGATE_SECRET_KEY", other_key)],
        &credentials_args,
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("sealed under master key") && said.contains("found key"),
        "{said}"
    );

    // A server with another key does not start either.
    let (db_url, data_dir) = (url.clone(), other_dir.display().to_string());
    let config = socialgate::config::Config::from_lookup(move |name| match name {
        "DATABASE_URL" => Some(db_url.clone()),
        "SOCIALGATE_SECRET_KEY" => Some(other_key.into()),
        "SOCIALGATE_DATA_DIR" => Some(data_dir.clone()),
        _ => None,
    })
    .unwrap();
    let refused = socialgate::prepare(config, false).err().expect("refused");
    assert!(
        refused.to_string().contains("sealed under master key"),
        "{refused}"
    );

    // The right server starts; /ready reports it if the binding changes under it, and a value
    // sealed under a key it does not have is named, not a bare internal error.
    let app = spawn_on(dir, url, db.pg, &[]).await;
    let r = reqwest::get(app.url("/ready")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let key = socialgate(
        &data,
        &app.state.config.database_url,
        &["admin", "create-api-key", "--org", "Acme"],
    )["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let channel = app.connect_sandbox(&key).await;
    let id = channel["id"].as_str().unwrap().to_owned();
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::integrations;
        diesel::update(integrations::table.find(&id))
            .set(integrations::access_token.eq("v1.deadbeef.AAAA.AAAA"))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let (status, body) = app
        .api_get(
            &key,
            &format!("/analytics/{}", channel["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body["msg"]
            .as_str()
            .unwrap()
            .contains("master key deadbeef"),
        "{body}"
    );
    app.with_db(|conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::master_key;
        diesel::update(master_key::table)
            .set(master_key::id.eq("0badc0de"))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let r = reqwest::get(app.url("/ready")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "key mismatch");
}
