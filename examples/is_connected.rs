//! Checks an API key (or OAuth token) against a socialgate server.
//!
//!     SOCIALGATE_API_KEY=sgk_… cargo run --example is_connected [-- http://localhost:8080]

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    socialgate::install_tls_provider();
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://localhost:8080".to_owned());
    let key = std::env::var("SOCIALGATE_API_KEY")
        .map_err(|_| anyhow::anyhow!("set SOCIALGATE_API_KEY to an API key or pos_ token"))?;
    let response = reqwest::Client::new()
        .get(format!(
            "{}/public/v1/is-connected",
            base.trim_end_matches('/')
        ))
        .header("Authorization", key)
        .send()
        .await?;
    println!("{} {}", response.status(), response.text().await?);
    Ok(())
}
