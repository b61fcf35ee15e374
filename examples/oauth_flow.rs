//! A third-party app connecting to socialgate with the authorization-code flow (and PKCE).
//!
//! Register an app under Settings → Developers → Apps with the redirect URL
//! `http://127.0.0.1:8976/callback`, then:
//!
//!     SOCIALGATE_CLIENT_ID=pca_… SOCIALGATE_CLIENT_SECRET=pcs_… cargo run --example oauth_flow
//!
//! It prints the authorize URL, waits for the browser to come back to its local listener,
//! exchanges the code with its secret, and calls `GET /public/v1/is-connected` with the token.
//! `SOCIALGATE_URL` (default `http://localhost:8080`) and `CALLBACK_PORT` (default 8976) are
//! optional.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use base64::Engine;
use sha2::{Digest, Sha256};

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"))
}

/// Waits for one request on the listener and returns its query string.
fn wait_for_callback(listener: &TcpListener) -> anyhow::Result<String> {
    let (mut stream, _) = listener.accept()?;
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let query = target
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    let body = "socialgate answered; you can close this tab and return to the terminal.";
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    Ok(query)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    socialgate::install_tls_provider();
    let base = std::env::var("SOCIALGATE_URL").unwrap_or_else(|_| "http://localhost:8080".into());
    let base = base.trim_end_matches('/').to_owned();
    let client_id = env("SOCIALGATE_CLIENT_ID")?;
    let client_secret = env("SOCIALGATE_CLIENT_SECRET")?;
    let port = std::env::var("CALLBACK_PORT").unwrap_or_else(|_| "8976".into());
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))?;

    // A fresh state and PKCE verifier for this attempt.
    let state = socialgate::crypto::random_alphanumeric(24);
    let verifier = socialgate::crypto::random_alphanumeric(64);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let authorize = format!(
        "{base}/oauth/authorize?{}",
        serde_urlencoded::to_string([
            ("client_id", client_id.as_str()),
            ("response_type", "code"),
            ("redirect_uri", &redirect_uri),
            ("state", &state),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])?
    );
    println!("Open this URL in your browser and approve the app:\n\n  {authorize}\n");

    let query = wait_for_callback(&listener)?;
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&query)?;
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("state").as_deref() != Some(state.as_str()) {
        anyhow::bail!("the state came back changed: refusing the answer");
    }
    if let Some(error) = get("error") {
        anyhow::bail!("authorization failed: {error}");
    }
    let code = get("code").ok_or_else(|| anyhow::anyhow!("no code in the callback"))?;

    let http = reqwest::Client::new();
    let response = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", &client_id),
            ("client_secret", &client_secret),
        ])
        .send()
        .await?;
    let status = response.status();
    let token: serde_json::Value = response.json().await?;
    println!("Token response ({status}): {token:#}");
    let access_token = token["access_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no access token"))?;

    let check = http
        .get(format!("{base}/public/v1/is-connected"))
        .header("Authorization", format!("Bearer {access_token}"))
        .send()
        .await?;
    println!(
        "GET /public/v1/is-connected → {} {}",
        check.status(),
        check.text().await?
    );
    Ok(())
}
