//! Authorization-code exchanges per second on SQLite, and what token authentication adds to a
//! `/public/v1` request. Rerun with:
//!
//!     cargo bench --bench token_exchange            (EXCHANGES=20000 CONCURRENCY=64 to change)
//!
//! The server runs in this process with two workers on a fresh SQLite file; the load generator
//! is a keep-alive HTTP client on the same machine. Each exchange is a real `POST /oauth/token`
//! with a fresh code and `client_secret_post`; codes are issued beforehand through the same
//! functions the consent screen uses.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use socialgate::accounts::users::{self, NewUserOrg};
use socialgate::config::Config;
use socialgate::oauth::apps::{self, AppInput, Picture};
use socialgate::oauth::codes::{self, NewCode};
use socialgate::oauth::scopes::Scopes;
use socialgate::oauth::{grants, tokens};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let exchanges = env_usize("EXCHANGES", 20_000);
    let concurrency = env_usize("CONCURRENCY", 64);
    let dir = tempfile::tempdir()?;
    let vars = [
        (
            "DATABASE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
        (
            "SOCIALGATE_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        ),
    ];
    let config =
        Config::from_lookup(|n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))?;
    let state = socialgate::prepare(config, false)?;

    // One user, one organization, one confidential app, and a code per exchange.
    let mut conn = state.db.get()?;
    let (user_id, org_id) = users::create_user(
        &mut conn,
        "bench@example.com",
        "Bench",
        "x".into(),
        NewUserOrg::Create("Bench"),
    )?;
    let input = AppInput {
        name: "Bench".into(),
        description: String::new(),
        redirect_uris: vec!["https://bench.example/cb".into()],
        picture: Picture::Keep,
    };
    let (app, secret) = apps::create(&mut conn, Some(&org_id), &input, false)?;
    let secret = secret.expect("a confidential app has a secret");
    let grant_id = grants::approve(&mut conn, &app.id, &user_id, &org_id, Scopes::all())?;
    let scopes = Scopes::all().to_string();
    let codes: Vec<String> = diesel::Connection::transaction(&mut *conn, |conn| {
        (0..exchanges + 1)
            .map(|_| {
                codes::issue(
                    conn,
                    NewCode {
                        grant_id: &grant_id,
                        app_id: &app.id,
                        user_id: &user_id,
                        organization_id: &org_id,
                        scopes: &scopes,
                        redirect_uri: "https://bench.example/cb",
                        redirect_uri_sent: false,
                        code_challenge: None,
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    drop(conn);

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    let server_state = state.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            socialgate::server(server_state, listener, Some(2))
                .expect("server")
                .await
        })
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
        // Warm up the connections and the server.
        for _ in 0..50 {
            http.get(format!("{base}/health")).send().await?;
        }
        let (first, rest) = codes.split_first().expect("codes");
        let token_url = format!("{base}/oauth/token");
        let form = |code: &str| {
            vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code.to_owned()),
                ("client_id", app.client_id.clone()),
                ("client_secret", secret.clone()),
            ]
        };
        let warm: serde_json::Value = http.post(&token_url).form(&form(first)).send().await?.json().await?;
        let token = warm["access_token"].as_str().expect("a token").to_owned();

        let started = Instant::now();
        let ok = futures_util::stream::iter(rest.iter())
            .map(|code| {
                let req = http.post(&token_url).form(&form(code));
                async move { req.send().await.map(|r| r.status().is_success()).unwrap_or(false) }
            })
            .buffer_unordered(concurrency)
            .filter(|ok| std::future::ready(*ok))
            .count()
            .await;
        let elapsed = started.elapsed();
        println!(
            "authorization-code exchanges: {ok} of {} succeeded in {:.2} s = {:.0} per second (concurrency {concurrency})",
            rest.len(),
            elapsed.as_secs_f64(),
            ok as f64 / elapsed.as_secs_f64()
        );

        // What token authentication adds: the lookup itself, and end to end against /health.
        let db = state.db.clone();
        let lookups = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("a connection");
            (0..5_000)
                .map(|_| {
                    let t = Instant::now();
                    tokens::resolve(&mut conn, &token).expect("lookup").expect("live");
                    t.elapsed()
                })
                .collect::<Vec<_>>()
        })
        .await?;
        println!("token lookup (hash + indexed query): median {:.1} µs", median(lookups).as_secs_f64() * 1e6);
        let token = warm["access_token"].as_str().expect("a token");
        let mut with_token = Vec::new();
        let mut without = Vec::new();
        for _ in 0..3_000 {
            let t = Instant::now();
            http.get(format!("{base}/public/v1/is-connected")).header("Authorization", token).send().await?;
            with_token.push(t.elapsed());
            let t = Instant::now();
            http.get(format!("{base}/health")).send().await?;
            without.push(t.elapsed());
        }
        let (a, b) = (median(with_token), median(without));
        println!(
            "GET /public/v1/is-connected with a token: median {:.1} µs; GET /health: median {:.1} µs; added {:.1} µs",
            a.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            (a.as_secs_f64() - b.as_secs_f64()) * 1e6
        );
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}
