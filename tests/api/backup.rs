//! `socialgate admin backup` copies a live SQLite database under write load; `restore` refuses
//! while a server holds the database, and a server started from the restored copy has every
//! post acknowledged before the backup began.

use std::process::Command;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{on_postgres, spawn_app_with, spawn_on, test_database};

fn admin(
    dir: &std::path::Path,
    url: &str,
    data: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_socialgate"))
        .arg("admin")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("DATABASE_URL", url)
        .env("SOCIALGATE_DATA_DIR", data)
        .output()
        .unwrap()
}

#[actix_web::test]
async fn a_backup_under_load_restores_every_acknowledged_post() {
    if on_postgres() {
        // PostgreSQL is backed up with pg_dump (README); this command copies SQLite files.
        return;
    }
    let app = spawn_app_with(&[("SOCIALGATE_API_LIMIT", "0"), ("SOCIALGATE_API_RATE", "0")]).await;
    let tenant = app.tenant("backup@example.com").await;
    app.connect_sandbox(&tenant.key).await;
    let channel = app.channel_id(&tenant.key, "sandbox").await;
    let url = app.state.config.database_url.clone();
    let data = app.dir.path().to_owned();

    // Writers keep creating posts; each id is recorded once the server acknowledged it.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let writer = {
        let (acknowledged, key, base) = (
            acknowledged.clone(),
            tenant.key.clone(),
            app.address.clone(),
        );
        actix_web::rt::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..120 {
                let body = json!({ "type": "draft", "date": "2031-01-01T00:00:00Z", "shortLink": false, "tags": [],
                    "posts": [{ "integration": { "id": channel }, "value": [{ "content": format!("<p>post {i}</p>"), "image": [] }] }] });
                let r = http
                    .post(format!("{base}/public/v1/posts"))
                    .header("authorization", &key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                let created: Value = r.json().await.unwrap();
                acknowledged
                    .lock()
                    .unwrap()
                    .push(created[0]["postId"].as_str().unwrap().to_owned());
            }
        })
    };
    crate::helpers::eventually("some posts before the backup", || {
        let n = acknowledged.lock().unwrap().len();
        async move { (n >= 20).then_some(()) }
    })
    .await;
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let copy = tempfile::tempdir().unwrap();
    let file = copy.path().join("socialgate.backup");
    let (u, d, f) = (url.clone(), data.clone(), file.clone());
    let out =
        tokio::task::spawn_blocking(move || admin(&d, &u, &d, &["backup", f.to_str().unwrap()]))
            .await
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(said["bytes"].as_u64().unwrap() > 0);
    assert_eq!(
        said["also_keep"][0],
        json!(data.join("secret.key").display().to_string())
    );
    writer.await.unwrap();

    // Not over a database a server holds.
    let out = admin(&data, &url, &data, &["restore", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stop it before restoring"));
    // Not from a file that is not one of ours.
    let junk = copy.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let restored_url = format!(
        "sqlite://{}",
        elsewhere.path().join("restored.db").display()
    );
    let out = admin(
        &data,
        &restored_url,
        &data,
        &["restore", junk.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));

    // Into a new place, then a server with the installation's key starts from it.
    let out = admin(
        &data,
        &restored_url,
        &data,
        &["restore", file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = test_database(elsewhere.path());
    let restored = spawn_on(
        elsewhere,
        restored_url,
        db.pg,
        &[("SOCIALGATE_DATA_DIR", data.to_str().unwrap())],
    )
    .await;
    let (status, listed) = restored
        .api_get(
            &tenant.key,
            "/posts?startDate=2030-01-01T00:00:00Z&endDate=2032-01-01T00:00:00Z",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = listed["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for id in &before {
        assert!(
            ids.contains(&id.as_str()),
            "post {id} acknowledged before the backup is missing"
        );
    }
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no post twice");
}
