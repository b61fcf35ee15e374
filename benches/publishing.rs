//! 10,000 posts due at the same moment on the sandbox: publishes per second, the delay from
//! due time to publish (median, p99), and the resident memory of each worker process while it
//! runs. SQLite with one `socialgate worker` process; PostgreSQL (when `BENCH_DATABASE_URL`
//! names a database whose role may create databases) with three, each an instance of its own
//! sharing the database. Rerun with:
//!
//!     cargo bench --bench publishing            (POSTS=10000 to change)
//!
//! The posts are made in this process; the workers are the real binary, started once the posts
//! exist and stopped with SIGTERM at the end. The sandbox keeps each "published" post in the
//! database, so every publish is a real claim, a provider call and its writes.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;
use socialgate::accounts::users::{self, NewUserOrg};
use socialgate::channels;
use socialgate::config::Config;
use socialgate::db::schema::posts;
use socialgate::providers::{self, ConnectedAccount, Tokens};
use socialgate::publishing::posts::{CreateRequest, NewGroup, NewValue, PostType, create};

#[path = "load.rs"]
mod load;

/// Sandbox publishes at once across the workers (`SOCIALGATE_SANDBOX_CONCURRENCY`).
const SANDBOX_CONCURRENCY: u32 = 96;

fn run(label: &str, database_url: &str, total: usize, workers: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let vars = [
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        (
            "SOCIALGATE_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        ),
        // The sandbox's own limit (10 at once) would measure the limit, not the queue.
        (
            "SOCIALGATE_SANDBOX_CONCURRENCY".to_owned(),
            SANDBOX_CONCURRENCY.to_string(),
        ),
    ];
    let config = {
        let vars = vars.clone();
        Config::from_lookup(move |n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))?
    };
    let state = socialgate::prepare(config, false)?;
    // Created due in an hour, then all moved to one moment two seconds ahead: the time it takes
    // to create them (seconds on PostgreSQL) must not count as delay.
    let later = socialgate::db::now() + chrono::Duration::hours(1);
    {
        let mut conn = state.db.get()?;
        let (_, org) = users::create_user(
            &mut conn,
            "bench@example.com",
            "Bench",
            "x".into(),
            NewUserOrg::Create("Bench"),
        )?;
        let account = ConnectedAccount {
            internal_id: format!("sandbox-{org}"),
            name: "Sandbox".into(),
            picture: None,
            username: None,
            tokens: Tokens {
                access_token: "t".into(),
                refresh_token: None,
                expires_in: None,
                refresh_expires_in: None,
            },
            ..ConnectedAccount::default()
        };
        let channel = channels::upsert(
            &mut conn,
            &state.keys,
            &org,
            providers::get("sandbox").expect("sandbox"),
            &account,
            None,
        )?;
        let groups = (0..total)
            .map(|i| NewGroup {
                integration_id: channel.id.clone(),
                replaces: None,
                settings: json!({ "__type": "sandbox" }),
                values: vec![NewValue {
                    id: None,
                    content: format!("<p>bench {i}</p>"),
                    image: json!([]),
                    delay_minutes: 0,
                }],
            })
            .collect();
        let request = CreateRequest {
            kind: PostType::Schedule,
            date: later,
            tags: json!([]),
            interval_days: None,
            republish: false,
            creation_method: "API".into(),
            groups,
        };
        create(&mut conn, &org, &request)?;
    }
    let due = socialgate::db::now() + chrono::Duration::seconds(2);
    {
        use socialgate::db::schema::jobs;
        let mut conn = state.db.get()?;
        diesel::update(posts::table)
            .set(posts::publish_date.eq(due))
            .execute(&mut conn)?;
        diesel::update(jobs::table)
            .set(jobs::run_at.eq(due))
            .execute(&mut conn)?;
    }
    let log = std::fs::File::create(dir.path().join("workers.log"))?;
    let mut children: Vec<Child> = (0..workers)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_socialgate"))
                .arg("worker")
                .envs(vars.iter().cloned())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(log.try_clone()?)
                .spawn()
        })
        .collect::<std::io::Result<_>>()?;
    let system = actix_web::rt::System::new();
    let counted = system.block_on(async {
        let mut peak: f64 = 0.0;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            for child in &children {
                peak = peak.max(load::memory_of(&child.id().to_string()).0);
            }
            let done: i64 = state
                .db
                .run(|conn| {
                    posts::table
                        .filter(posts::state.eq("PUBLISHED"))
                        .count()
                        .get_result(conn)
                        .map_err(socialgate::error::AppError::from)
                })
                .await?;
            if done as usize >= total {
                break;
            }
        }
        let published: Vec<chrono::NaiveDateTime> = state
            .db
            .run(|conn| {
                posts::table
                    .select(posts::updated_at)
                    .load(conn)
                    .map_err(socialgate::error::AppError::from)
            })
            .await?;
        Ok::<_, anyhow::Error>((published, peak))
    });
    for child in &mut children {
        // SIGTERM: the worker stops claiming and lets running publishes finish.
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let _ = child.wait();
    }
    let (published, peak) = counted?;
    let last = published.iter().max().copied().unwrap_or(due);
    let elapsed = (last - due).to_std().unwrap_or_default();
    let mut delays: Vec<Duration> = published
        .iter()
        .map(|t| (*t - due).to_std().unwrap_or_default())
        .collect();
    delays.sort();
    println!(
        "{label}: {total} posts in {:.1} s after their time = {:.0} publishes/s; delay median {:.2} s, p99 {:.2} s; resident memory peak per worker process {peak:.1} MiB",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64().max(0.001),
        load::quantile(&delays, 0.5).as_secs_f64(),
        load::quantile(&delays, 0.99).as_secs_f64(),
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    socialgate::install_tls_provider();
    let total = std::env::var("POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    run(
        "SQLite, 1 worker process",
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        total,
        1,
    )?;
    if let Ok(admin) = std::env::var("BENCH_DATABASE_URL") {
        load::on_scratch_postgres(&admin, |url| {
            run("PostgreSQL, 3 worker processes", url, total, 3)
        })?;
    } else {
        println!("(set BENCH_DATABASE_URL=postgres://… to measure PostgreSQL with three workers)");
    }
    println!("total {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
