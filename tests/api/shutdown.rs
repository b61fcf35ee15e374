//! SIGTERM drains the HTTP server: an upload still arriving completes and is kept, a request
//! that arrives meanwhile gets 503, then the process exits by itself.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::{CREATE_OPS, socialgate};
use crate::fakes::PNG;
use crate::helpers::{eventually, test_database};

/// The files kept under `dir` (recursively), leaving out `incoming/`.
fn kept_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("incoming") {
                files.extend(kept_files(&path));
            }
        } else {
            files.push(path);
        }
    }
    files
}

#[actix_web::test]
async fn sigterm_lets_an_upload_in_flight_finish_and_answers_503_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path());
    let admin = |args: &[&str]| -> Value {
        let out = socialgate(dir.path(), &db.url, args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    admin(&CREATE_OPS);
    let key = admin(&["admin", "create-api-key", "--org", "Acme", "--name", "up"])["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_socialgate"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("SOCIALGATE_DATA_DIR", dir.path().join("data"))
        .env("SOCIALGATE_LISTEN", &address)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{address}");
    eventually("the server is ready", || {
        let (http, url) = (http.clone(), format!("{base}/ready"));
        async move {
            let r = http.get(url).send().await.ok()?;
            (r.status() == StatusCode::OK).then_some(())
        }
    })
    .await;

    // An upload whose body has only partly arrived when the signal comes.
    let mut body = b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
    body.extend_from_slice(PNG);
    body.extend_from_slice(b"\r\n--b0undary--\r\n");
    let head = format!(
        "POST /public/v1/upload HTTP/1.1\r\nHost: {address}\r\nAuthorization: {key}\r\n\
         Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() - 20);
    let mut upload = tokio::net::TcpStream::connect(&address).await.unwrap();
    upload.write_all(head.as_bytes()).await.unwrap();
    upload.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let refused = eventually("a new request is refused while draining", || {
        let (http, url) = (http.clone(), format!("{base}/public/v1/integrations"));
        let key = key.clone();
        async move {
            let r = http
                .get(url)
                .header("authorization", key)
                .send()
                .await
                .ok()?;
            (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(r)
        }
    })
    .await;
    assert!(refused.headers().contains_key("retry-after"));
    let msg: Value = refused.json().await.unwrap();
    assert!(
        msg["msg"].as_str().unwrap().contains("shutting down"),
        "{msg}"
    );
    assert!(
        server.try_wait().unwrap().is_none(),
        "still running while the upload is in flight"
    );

    upload.write_all(rest).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), upload.read_to_end(&mut answer))
        .await
        .expect("the upload is answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let media: Value =
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap();
    let name = media["name"].as_str().unwrap().to_owned();

    // Then the server exits by itself, successfully, and the upload is kept.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the server did not exit"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}");
    let kept = kept_files(&dir.path().join("data").join("uploads"));
    assert!(
        kept.iter().any(|p| p.ends_with(&name)),
        "{name} is kept: {kept:?}"
    );
}
