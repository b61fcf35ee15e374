//! A Public API client, written as a Postiz client would be: list channels, upload an image,
//! schedule a post with a comment one minute ahead, then list it back.
//!
//!     SOCIALGATE_KEY=sgk_… cargo run --example schedule_post
//!
//! `SOCIALGATE_KEY` is an API key (Settings → Developers → Public API) or an OAuth token
//! (`pos_…`); `SOCIALGATE_URL` defaults to `http://localhost:8080`. Connect a channel first
//! (Settings → Channels → Connect Sandbox works with no social account).

use serde_json::{Value, json};

/// A 1×1 PNG, so the example needs no file on disk.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The JSON of a successful answer, or the status and body as an error.
async fn json_of(r: reqwest::Response) -> anyhow::Result<Value> {
    let status = r.status();
    let body = r.text().await?;
    anyhow::ensure!(status.is_success(), "{status}: {body}");
    Ok(serde_json::from_str(&body)?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = std::env::var("SOCIALGATE_URL").unwrap_or_else(|_| "http://localhost:8080".into());
    let key = std::env::var("SOCIALGATE_KEY").map_err(|_| anyhow::anyhow!("set SOCIALGATE_KEY"))?;
    let api = format!("{}/public/v1", base.trim_end_matches('/'));
    let http = reqwest::Client::new();

    // 1. The channels this key may publish to.
    let channels = json_of(
        http.get(format!("{api}/integrations"))
            .header("Authorization", &key)
            .send()
            .await?,
    )
    .await?;
    println!("channels: {channels}");
    let channel = channels
        .as_array()
        .and_then(|list| list.iter().find(|c| c["disabled"] == false))
        .ok_or_else(|| anyhow::anyhow!("no channel yet: connect one under Settings → Channels"))?;

    // 2. An image, uploaded once and referenced by path.
    let part = reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("pixel.png");
    let media = json_of(
        http.post(format!("{api}/upload"))
            .header("Authorization", &key)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?,
    )
    .await?;
    println!("uploaded: {media}");

    // 3. A post with a comment, one minute from now. The Idempotency-Key makes a retry safe.
    let at = chrono::Utc::now() + chrono::Duration::minutes(1);
    let body = json!({
        "type": "schedule",
        "shortLink": false,
        "date": at.to_rfc3339(),
        "tags": [],
        "posts": [{
            "integration": { "id": channel["id"] },
            "value": [
                { "content": "<p>Hello from the socialgate example</p>",
                  "image": [{ "id": media["id"], "path": media["path"], "alt": "one pixel" }] },
                { "content": "<p>…and a comment in the thread</p>", "image": [], "delay": 1 }
            ],
            "settings": {}
        }]
    });
    let created = json_of(
        http.post(format!("{api}/posts"))
            .header("Authorization", &key)
            .header("Idempotency-Key", format!("example-{}", at.timestamp()))
            .json(&body)
            .send()
            .await?,
    )
    .await?;
    println!("created: {created}");

    // 4. Listed back.
    let from =
        (at - chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let to = (at + chrono::Duration::minutes(5)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let listed = json_of(
        http.get(format!("{api}/posts?startDate={from}&endDate={to}"))
            .header("Authorization", &key)
            .send()
            .await?,
    )
    .await?;
    let id = created[0]["postId"].as_str().unwrap_or_default();
    let post = listed["posts"]
        .as_array()
        .and_then(|list| list.iter().find(|p| p["id"] == id))
        .ok_or_else(|| anyhow::anyhow!("the new post is not listed"))?;
    println!(
        "scheduled: {} at {} on {}",
        post["state"], post["publishDate"], post["integration"]["name"]
    );
    Ok(())
}
