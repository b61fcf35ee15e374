//! Uploads: types from the bytes, size limits, and `upload-from-url` kept off private networks.

use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fakes::{PNG, trusted};
use crate::helpers::{Tenant, client, spawn_app, spawn_app_with};

#[actix_web::test]
async fn uploads_are_typed_by_their_bytes_and_limited_in_size() {
    let app = spawn_app().await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;

    // A ZIP archive named like a picture.
    let (status, body) = app
        .upload(
            &key,
            "cat.png",
            b"PK\x03\x04\x14\0\0\0\x08\0 not an image at all, really".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({ "msg": "Unsupported file type." }));
    // A PDF named like a picture: kept as the document it is.
    let (status, body) = app
        .upload(&key, "cat.png", b"%PDF-1.7\n%%EOF\n".to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["path"].as_str().unwrap().ends_with(".pdf"), "{body}");
    // An image over 10 MB.
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    let (status, body) = app.upload(&key, "big.png", big).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["msg"],
        "File size exceeds the maximum allowed size of 10485760 bytes."
    );
    // No file at all.
    let r = client()
        .post(app.url("/public/v1/upload"))
        .header("Authorization", &key)
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        json!({ "msg": "No file provided" })
    );
    // Nothing refused was kept.
    let incoming = app.dir.path().join("uploads").join("incoming");
    let leftovers = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0);

    // A small MP4 is a video; the name's extension does not matter.
    let mut mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    mp4.extend_from_slice(&[0u8; 64]);
    let (status, body) = app.upload(&key, "clip.bin", mp4).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["path"].as_str().unwrap().ends_with(".mp4"));
    assert_eq!(body["originalName"], "clip.bin");
    // Paths outside the uploads layout are not served.
    for bad in [
        "/uploads/../secret.key",
        "/uploads/2026/11/23/..%2Fsecret.key",
        "/uploads/secret.key",
    ] {
        assert_eq!(
            client().get(app.url(bad)).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
}

#[actix_web::test]
async fn upload_from_url_refuses_private_addresses_and_redirects_into_them() {
    let cdn = MockServer::start().await;
    let app = spawn_app_with(&[("SOCIALGATE_FETCH_TRUSTED_HOSTS", &trusted(&cdn))]).await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;
    let from_url = |url: String| {
        let (app, key) = (&app, key.clone());
        async move {
            app.api_send(
                reqwest::Method::POST,
                &key,
                "/upload-from-url",
                Some(json!({ "url": url })),
            )
            .await
        }
    };
    for url in [
        "http://example.com/cat.png",
        "https://127.0.0.1/cat.png",
        "https://10.0.0.1/cat.png",
        "https://169.254.169.254/latest/meta-data.png",
        "https://[::1]/cat.png",
        "https://localhost/cat.png",
    ] {
        let (status, body) = from_url(url.into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
        assert!(
            body["msg"]
                .as_str()
                .unwrap()
                .starts_with("Failed to fetch URL"),
            "{url}: {body}"
        );
    }
    assert_eq!(
        from_url("https://cdn.example/file.svg".into()).await.1["msg"],
        "Unsupported file type."
    );

    // A host the operator trusts, redirecting into private addresses: refused at the hop.
    Mock::given(method("GET"))
        .and(path("/to-metadata.png"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", "https://169.254.169.254/latest.png"),
        )
        .mount(&cdn)
        .await;
    Mock::given(method("GET"))
        .and(path("/to-loopback.png"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", "http://127.0.0.1:9/cat.png"),
        )
        .mount(&cdn)
        .await;
    Mock::given(method("GET"))
        .and(path("/cat.png"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(PNG))
        .mount(&cdn)
        .await;
    Mock::given(method("GET"))
        .and(path("/lies.png"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>not a picture</html>"))
        .mount(&cdn)
        .await;
    for hop in ["to-metadata.png", "to-loopback.png"] {
        let (status, body) = from_url(format!("{}/{hop}", cdn.uri())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{hop}: {body}");
    }
    assert_eq!(
        from_url(format!("{}/lies.png", cdn.uri())).await.1["msg"],
        "Unsupported file type."
    );
    let (status, body) = from_url(format!("{}/cat.png", cdn.uri())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["originalName"], "upload.png");
}

#[actix_web::test]
async fn uploads_can_go_to_an_s3_compatible_bucket() {
    use wiremock::Request;
    use wiremock::matchers::path_regex;
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path_regex(
            r"^/media/uploads/\d{4}/\d{2}/\d{2}/[0-9a-f]{32}\.png$",
        ))
        .and(|req: &Request| {
            let header = |n: &str| {
                req.headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            header("authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && header("authorization").contains("/eu-west-3/s3/aws4_request")
                && header("authorization").contains("Signature=")
                && !header("x-amz-date").is_empty()
                && !header("x-amz-content-sha256").is_empty()
                && req.body == PNG
        })
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"5d41402abc4b2a76b9719d911017c592\""),
        )
        .expect(1)
        .mount(&s3)
        .await;
    let app = spawn_app_with(&[
        ("SOCIALGATE_S3_BUCKET", "media"),
        ("SOCIALGATE_S3_ENDPOINT", &s3.uri()),
        ("SOCIALGATE_S3_REGION", "eu-west-3"),
        ("SOCIALGATE_S3_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "SOCIALGATE_S3_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("SOCIALGATE_S3_PUBLIC_URL", "https://cdn.example"),
    ])
    .await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;
    let (status, body) = app.upload(&key, "cat.png", PNG.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = body["path"].as_str().unwrap();
    assert!(
        path.starts_with("https://cdn.example/uploads/") && path.ends_with(".png"),
        "{path}"
    );
    // Nothing stays on local disk.
    let local: usize = walk(&app.dir.path().join("uploads"));
    assert_eq!(local, 0);
}

/// Files under a directory (0 when it does not exist).
fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
