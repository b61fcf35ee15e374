//! `GET /public/v1/integrations` with an API key: requests per second and latency, next to a
//! bare actix-web handler that answers the same JSON from memory, on SQLite and (when
//! `BENCH_DATABASE_URL` names a PostgreSQL database whose role may create databases) on
//! PostgreSQL, plus the process's resident memory under load. Rerun with:
//!
//!     cargo bench --bench public_api            (REQUESTS=20000 CONCURRENCY=64 to change)
//!
//! Both servers run in this process with two workers each, and take turns; the load generator
//! is a keep-alive HTTP/1.1 client on the same machine. The per-credential rate limit stays on
//! (set high enough not to refuse), so its cost is measured too.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use socialgate::accounts::api_keys;
use socialgate::accounts::users::{self, NewUserOrg};
use socialgate::channels;
use socialgate::config::Config;
use socialgate::providers::{self, ConnectedAccount, Tokens};

#[path = "load.rs"]
mod load;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the load against `addr` and prints requests per second and latency quantiles.
fn measure(
    label: &str,
    addr: String,
    path: &str,
    key: &str,
    total: usize,
    concurrency: usize,
) -> anyhow::Result<f64> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {key}\r\n\r\n");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (elapsed, mut latencies) = runtime.block_on(async {
        let next = Arc::new(AtomicUsize::new(0));
        let request = Arc::new(request);
        let started = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (addr, next, request) = (addr.clone(), next.clone(), request.clone());
                tokio::spawn(async move {
                    let make = move |_: usize| request.to_string();
                    load::run_connection(&addr, &next, total, &make).await
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        Ok::<_, anyhow::Error>((started.elapsed(), all))
    })?;
    anyhow::ensure!(
        latencies.len() == total,
        "{label}: only {} of {total} answered 200",
        latencies.len()
    );
    latencies.sort();
    let rps = total as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<34} {rps:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
        load::quantile(&latencies, 0.5).as_secs_f64() * 1000.0,
        load::quantile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    Ok(rps)
}

/// A server with an organization, an API key and five channels; returns the key.
fn provisioned(
    database_url: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(actix_web::web::Data<socialgate::AppState>, String)> {
    let vars = [
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("SOCIALGATE_DATA_DIR".to_owned(), dir.display().to_string()),
        ("SOCIALGATE_API_RATE".to_owned(), "1000000000".to_owned()),
    ];
    let config =
        Config::from_lookup(move |n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))?;
    let state = socialgate::prepare(config, false)?;
    let mut conn = state.db.get()?;
    let (_, org) = users::create_user(
        &mut conn,
        "bench@example.com",
        "Bench",
        "x".into(),
        NewUserOrg::Create("Bench"),
    )?;
    let (_, key) = api_keys::create(&mut conn, &org, "bench")?;
    for i in 0..5 {
        let account = ConnectedAccount {
            internal_id: format!("sandbox-{org}-{i}"),
            name: format!("Channel {i}"),
            picture: Some(format!("https://cdn.example/{i}.png")),
            username: Some(format!("channel{i}")),
            tokens: Tokens {
                access_token: "token".into(),
                refresh_token: None,
                expires_in: None,
                refresh_expires_in: None,
            },
            ..ConnectedAccount::default()
        };
        channels::upsert(
            &mut conn,
            &state.keys,
            &org,
            providers::get("sandbox").expect("sandbox"),
            &account,
            None,
        )?;
    }
    Ok((state, key))
}

fn serve_ours(state: actix_web::web::Data<socialgate::AppState>) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            socialgate::server(state, listener, Some(2))
                .expect("server")
                .await
                .expect("serve");
        })
    });
    Ok(addr)
}

fn serve_bare(body: Vec<u8>) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    let body = web::Bytes::from(body);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                let body = body.clone();
                App::new().route(
                    "/public/v1/integrations",
                    web::get().to(move || {
                        let body = body.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    }),
                )
            })
            .workers(2)
            .listen(listener)
            .expect("listen")
            .run()
            .await
            .expect("serve");
        })
    });
    Ok(addr)
}

fn wait_ready(addr: &str) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The JSON our server answers, fetched once (to serve the same bytes from memory).
fn fetch_body(addr: &str, key: &str) -> anyhow::Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!(
            "GET /public/v1/integrations HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {key}\r\n\r\n"
        );
        tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes()).await?;
        let mut buf = Vec::new();
        let status = load::read_response(&mut stream, &mut buf).await?;
        anyhow::ensure!(status == 200, "our server answered {status}");
        let start = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
        Ok(buf[start..].to_vec())
    })
}

fn run(label: &str, database_url: &str, total: usize, concurrency: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (state, key) = provisioned(database_url, dir.path())?;
    let ours = serve_ours(state)?;
    wait_ready(&ours);
    let body = fetch_body(&ours, &key)?;
    let bare = serve_bare(body)?;
    wait_ready(&bare);
    // Warm both up, then measure each twice, alternating.
    measure(
        "warm-up (socialgate)",
        ours.clone(),
        "/public/v1/integrations",
        &key,
        2_000,
        concurrency,
    )?;
    measure(
        "warm-up (bare)",
        bare.clone(),
        "/public/v1/integrations",
        &key,
        2_000,
        concurrency,
    )?;
    let mut ratios = Vec::new();
    for round in 1..=2 {
        let b = measure(
            &format!("bare handler, round {round}"),
            bare.clone(),
            "/public/v1/integrations",
            &key,
            total,
            concurrency,
        )?;
        let o = measure(
            &format!("socialgate {label}, round {round}"),
            ours.clone(),
            "/public/v1/integrations",
            &key,
            total,
            concurrency,
        )?;
        ratios.push(o / b);
    }
    let (rss, peak) = load::memory_mib();
    println!(
        "{label}: socialgate reaches {:.0}% and {:.0}% of the bare handler's throughput; process memory {rss:.1} MiB now, {peak:.1} MiB at peak (both servers and the load generator)",
        ratios[0] * 100.0,
        ratios[1] * 100.0
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    socialgate::install_tls_provider();
    let total = env_usize("REQUESTS", 20_000);
    let concurrency = env_usize("CONCURRENCY", 64);
    let dir = tempfile::tempdir()?;
    run(
        "SQLite",
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        total,
        concurrency,
    )?;
    if let Ok(admin) = std::env::var("BENCH_DATABASE_URL") {
        load::on_scratch_postgres(&admin, |url| {
            run("PostgreSQL", url, total, concurrency).map(drop)
        })?;
    } else {
        println!("(set BENCH_DATABASE_URL=postgres://… to measure PostgreSQL too)");
    }
    Ok(())
}
