//! 10,000 posts due at the same moment on the sandbox: publishes per second, the delay from
//! due time to publish (median, p99), and resident memory while the workers run. SQLite with
//! one worker; PostgreSQL (when `BENCH_DATABASE_URL` names a database whose role may create
//! databases) with three workers sharing it. Rerun with:
//!
//!     cargo bench --bench publishing            (POSTS=10000 to change)
//!
//! The workers run in this process (three loops, each with its own pool, listener and leases,
//! stand for three instances); the sandbox keeps each "published" post in the database, so
//! every publish is a real claim, a provider call and its writes.

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
    // One state per worker, each with its own pool and change-notice listener, as separate
    // instances would have.
    let states = (0..workers)
        .map(|_| {
            let vars = vars.clone();
            let config = Config::from_lookup(move |n| {
                vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
            })?;
            Ok(socialgate::prepare(config, false)?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let state = states[0].clone();
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
    let system = actix_web::rt::System::new();
    let (elapsed, delays, peak) = system.block_on(async {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let handles: Vec<_> = states
            .iter()
            .map(|instance| {
                actix_web::rt::spawn(socialgate::publishing::worker::run(
                    instance.clone(),
                    stopped.clone(),
                ))
            })
            .collect();
        let mut peak: f64 = 0.0;
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            peak = peak.max(load::memory_mib().0);
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
        let _ = stop.send(true);
        for h in handles {
            let _ = h.await;
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
        let last = published.iter().max().copied().unwrap_or(due);
        let mut delays: Vec<Duration> = published
            .iter()
            .map(|t| (*t - due).to_std().unwrap_or_default())
            .collect();
        delays.sort();
        Ok::<_, anyhow::Error>(((last - due).to_std().unwrap_or_default(), delays, peak))
    })?;
    println!(
        "{label}: {total} posts in {:.1} s after their time = {:.0} publishes/s; delay median {:.2} s, p99 {:.2} s; resident memory peak {peak:.1} MiB",
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
        "SQLite, 1 worker",
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
        total,
        1,
    )?;
    if let Ok(admin) = std::env::var("BENCH_DATABASE_URL") {
        load::on_scratch_postgres(&admin, |url| run("PostgreSQL, 3 workers", url, total, 3))?;
    } else {
        println!("(set BENCH_DATABASE_URL=postgres://… to measure PostgreSQL with three workers)");
    }
    println!("total {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
