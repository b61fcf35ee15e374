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
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[path = "load.rs"]
mod load;

use socialgate::accounts::throttle::{self, Limit};
use socialgate::accounts::users::{self, NewUserOrg};
use socialgate::config::Config;
use socialgate::oauth::apps::{self, AppInput, Picture};
use socialgate::oauth::codes::{self, NewCode};
use socialgate::oauth::scopes::Scopes;
use socialgate::oauth::{grants, tokens};

/// One keep-alive connection exchanging codes until none is left; returns how many got 200.
async fn exchange_loop(
    addr: &str,
    next: &AtomicUsize,
    codes: &[String],
    client_id: &str,
    secret: &str,
) -> anyhow::Result<usize> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(8192);
    let mut ok = 0;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(code) = codes.get(i) else {
            return Ok(ok);
        };
        let body = format!(
            "grant_type=authorization_code&code={code}&client_id={client_id}&client_secret={secret}"
        );
        let request = format!(
            "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        if load::read_response(&mut stream, &mut buf).await? == 200 {
            ok += 1;
        }
    }
}

/// Exchanges measured without HTTP.
const DIRECT: usize = 2_000;

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
    println!("== SQLite");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    run(&sqlite, dir.path(), exchanges, concurrency)?;
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) => {
            println!("== PostgreSQL");
            load::on_scratch_postgres(&admin, |url| run(url, dir.path(), exchanges, concurrency))
        }
        Err(_) => {
            println!("(set BENCH_DATABASE_URL=postgres://… to measure PostgreSQL too)");
            Ok(())
        }
    }
}

/// Every measurement on the database `database_url`.
fn run(
    database_url: &str,
    dir: &std::path::Path,
    exchanges: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let vars = [
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("SOCIALGATE_DATA_DIR".to_owned(), dir.display().to_string()),
        // Thousands of requests a minute on one token: the rate limit must not answer them.
        ("SOCIALGATE_API_RATE".to_owned(), "100000000".to_owned()),
    ];
    let config =
        Config::from_lookup(move |n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))?;
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
        (0..exchanges + 1 + DIRECT)
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
                        resource: None,
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    // The database work of an exchange alone, on one connection: the throttle check, client
    // authentication and the code exchange, without HTTP or thread hops.
    let (direct, codes) = codes.split_at(DIRECT);
    let started = Instant::now();
    let mut parts = [Duration::ZERO; 3];
    for code in direct {
        let t = Instant::now();
        throttle::check(
            &mut conn,
            "oauth:ip:bench",
            Limit {
                max_failures: 100,
                window: chrono::Duration::minutes(15),
            },
        )?;
        throttle::check(
            &mut conn,
            "oauth:client:bench",
            Limit {
                max_failures: 20,
                window: chrono::Duration::minutes(15),
            },
        )?;
        parts[0] += t.elapsed();
        let t = Instant::now();
        let client = apps::authenticate(&mut conn, &app.client_id, Some(&secret))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        parts[1] += t.elapsed();
        let t = Instant::now();
        codes::exchange(&mut conn, &client, code, None, None, None)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        parts[2] += t.elapsed();
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / DIRECT as f64;
    println!(
        "  of which: throttle checks {:.1} µs, client authentication {:.1} µs, code exchange {:.1} µs",
        per(parts[0]),
        per(parts[1]),
        per(parts[2])
    );
    println!(
        "database work of one exchange (one connection, no HTTP): {:.1} µs",
        started.elapsed().as_secs_f64() * 1e6 / DIRECT as f64
    );
    let codes = codes.to_vec();
    let (_, api_key) = socialgate::accounts::api_keys::create(&mut conn, &org_id, "Bench")?;
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

        // The load: `concurrency` keep-alive connections speaking plain HTTP/1.1, so that the
        // generator costs little of the two cores the server also needs.
        let next = Arc::new(AtomicUsize::new(0));
        let rest: Arc<Vec<String>> = Arc::new(rest.to_vec());
        let addr = base.trim_start_matches("http://").to_owned();
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (next, rest, addr) = (next.clone(), rest.clone(), addr.clone());
                let (client_id, secret) = (app.client_id.clone(), secret.clone());
                tokio::spawn(async move { exchange_loop(&addr, &next, &rest, &client_id, &secret).await })
            })
            .collect();
        let mut ok = 0;
        for w in workers {
            ok += w.await??;
        }
        let elapsed = started.elapsed();
        println!(
            "authorization-code exchanges: {ok} of {} succeeded in {:.2} s = {:.0} per second (concurrency {concurrency})",
            rest.len(),
            elapsed.as_secs_f64(),
            ok as f64 / elapsed.as_secs_f64()
        );

        // What token authentication adds: the lookup, the check of a token resolved a moment
        // ago (SQLite), and end to end.
        let db = state.db.clone();
        let lookup_token = token.clone();
        let lookups = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("a connection");
            (0..5_000)
                .map(|_| {
                    let t = Instant::now();
                    tokens::resolve(&mut conn, &lookup_token).expect("lookup").expect("live");
                    t.elapsed()
                })
                .collect::<Vec<_>>()
        })
        .await?;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!("token lookup (hash + indexed query): median {:.1} µs", us(median(lookups)));
        let is_connected = format!("{base}/public/v1/is-connected");
        // One authenticated request leaves the token resolved.
        http.get(&is_connected).header("Authorization", &token).send().await?;
        // SQLite only: PostgreSQL keeps no resolved tokens in memory (yet).
        if state.db.backend() == socialgate::config::DbBackend::Sqlite {
            let checks: Vec<Duration> = (0..5_000)
                .map(|_| {
                    let t = Instant::now();
                    assert!(state.tokens.get(&state.db, &token).is_some(), "the token is kept");
                    t.elapsed()
                })
                .collect();
            println!(
                "check of a token resolved a moment ago (hash + revocation signal): median {:.1} µs",
                us(median(checks))
            );
        }
        // Interleaved, so that the machine's moods touch all of them alike.
        let mut times: [Vec<Duration>; 4] = Default::default();
        for _ in 0..5_000 {
            for (i, credential) in [Some(&token), Some(&api_key), None, None].into_iter().enumerate() {
                let url = if i == 3 { format!("{base}/health") } else { is_connected.clone() };
                let mut request = http.get(url);
                if let Some(credential) = credential {
                    request = request.header("Authorization", credential);
                }
                let t = Instant::now();
                let status = request.send().await?.status();
                times[i].push(t.elapsed());
                assert_eq!(status, if i == 2 { 401 } else { 200 });
            }
        }
        let [with_token, with_key, anonymous, health] = times.map(|t| us(median(t)));
        println!(
            "GET /public/v1/is-connected, median: {with_token:.1} µs with a token, {with_key:.1} µs with an API key, {anonymous:.1} µs without a credential (401); GET /health: {health:.1} µs"
        );
        println!(
            "token authentication adds {:.1} µs to the same route; a token-authenticated /public/v1 request takes {:.1} µs more than /health",
            with_token - anonymous,
            with_token - health
        );
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}
