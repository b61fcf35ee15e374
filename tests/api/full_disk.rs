//! A full disk answers 507 and keeps nothing: no partial upload, no media row, no post. Runs
//! on a small tmpfs, which needs root (as CI has); elsewhere it says so and does nothing.

use std::process::Command;

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialgate::db::schema::{media, posts};

use crate::helpers::{on_postgres, spawn_on, test_database};

/// A tmpfs of `size` mounted on a new directory, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        if mounted.status.success() {
            return Some(Tmpfs(dir));
        }
        let root = Command::new("id").arg("-u").output().unwrap();
        assert_ne!(
            String::from_utf8_lossy(&root.stdout).trim(),
            "0",
            "root could not mount a tmpfs: {}",
            String::from_utf8_lossy(&mounted.stderr)
        );
        None
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: the server under test may still hold its database open.
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

/// Files anywhere under `dir`.
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() { files_under(&path) } else { 1 }
            })
            .sum()
    })
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let _ = file.write_all(&[0u8; 512]);
}

#[actix_web::test]
async fn a_full_disk_answers_507_and_keeps_nothing() {
    let Some(tmpfs) = Tmpfs::mount("6m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let dir = tempfile::tempdir_in(tmpfs.0.path()).unwrap();
    let db = test_database(dir.path());
    let app = spawn_on(dir, db.url.clone(), db.pg, &[]).await;
    let tenant = app.tenant("full@example.com").await;
    app.connect_sandbox(&tenant.key).await;
    let channel = app.channel_id(&tenant.key, "sandbox").await;
    let uploads = app.dir.path().join("uploads");

    // An upload larger than the free space.
    let mut big = crate::fakes::PNG.to_vec();
    big.resize(8 * 1024 * 1024, 0);
    let (status, body) = app.upload(&tenant.key, "big.png", big).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert!(
        body["msg"].as_str().unwrap().contains("storage is full"),
        "{body}"
    );
    assert_eq!(files_under(&uploads), 0, "no partial file is left");
    let rows = app
        .with_db(|c| media::table.count().get_result::<i64>(c))
        .await;
    assert_eq!(rows, 0);

    // A small upload still fits.
    let (status, _) = app
        .upload(&tenant.key, "small.png", crate::fakes::PNG.to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED);

    if on_postgres() {
        // The database is not on this disk.
        return;
    }
    // With the disk full, the database cannot grow: a post is refused whole. (The write-ahead
    // log is emptied first, so the post's pages need new space.)
    app.with_db(|c| diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(c))
        .await;
    let filler = app.dir.path().join("filler");
    fill(&filler);
    let post = json!({ "type": "draft", "date": "2031-01-01T00:00:00Z", "shortLink": false, "tags": [],
        "posts": [{ "integration": { "id": channel },
            "value": vec![json!({ "content": "x".repeat(100_000), "image": [] }); 10] }] });
    let (status, body) = app
        .api_send(Method::POST, &tenant.key, "/posts", Some(post.clone()))
        .await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert!(
        body["msg"].as_str().unwrap().contains("storage is full"),
        "{body}"
    );
    let rows = app
        .with_db(|c| posts::table.count().get_result::<i64>(c))
        .await;
    assert_eq!(rows, 0, "no post of the group was kept");

    // Space freed: the same request succeeds.
    std::fs::remove_file(&filler).unwrap();
    let (status, body): (StatusCode, Value) = app
        .api_send(Method::POST, &tenant.key, "/posts", Some(post))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
