//! The publishing worker: exactly once, comment chains and delays, crash recovery, failure
//! kinds, repeats, and jobs that follow edits.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use socialgate::db::schema::{integrations, jobs, posts};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fakes::{bluesky, mastodon, sketch, trusted};
use crate::helpers::{Tenant, TestApp, eventually, spawn_app, spawn_app_with};

/// A post body for one channel: the post and its comments (each `(text, delay)`).
fn body(kind: &str, date: &str, channel: &str, values: &[(&str, i64)]) -> Value {
    let value: Vec<Value> = values
        .iter()
        .map(|(text, delay)| json!({ "content": format!("<p>{text}</p>"), "image": [], "delay": delay }))
        .collect();
    json!({ "type": kind, "shortLink": false, "date": date, "tags": [],
            "posts": [{ "integration": { "id": channel }, "value": value, "settings": {} }] })
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// Waits until the post's state is `state` (30 s at most: CI machines can be slow) and returns the post.
async fn wait_for(app: &TestApp, key: &str, id: &str, state: &str) -> Value {
    eventually(&format!("post {id} to reach {state}"), move || async move {
        let (_, post) = app.api_get(key, &format!("/posts/{id}")).await;
        (post["state"] == state).then_some(post)
    })
    .await
}

/// A tenant (ada@example.com) with the sandbox connected.
struct Sandboxed {
    key: String,
    org: String,
    /// The sandbox channel's id.
    channel: String,
}

async fn setup(app: &TestApp) -> Sandboxed {
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    let channel = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Sandboxed { key, org, channel }
}

async fn create(app: &TestApp, key: &str, body: Value) -> String {
    let (status, created) = app.api_send(Method::POST, key, "/posts", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created[0]["postId"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_post_and_its_comment_chain_go_out_once_with_a_notification() {
    let app = spawn_app().await;
    let Sandboxed { key, channel, .. } = setup(&app).await;
    let id = create(
        &app,
        &key,
        body(
            "now",
            &now_iso(),
            &channel,
            &[
                ("Hello (post:none)", 0),
                ("first reply", 0),
                ("second reply", 0),
            ],
        ),
    )
    .await;
    let w = app.start_worker();
    wait_for(&app, &key, &id, "PUBLISHED").await;
    // Stopping lets the running job finish its comment chain.
    w.stop().await;
    let (_, post) = app.api_get(&key, &format!("/posts/{id}")).await;
    let values = post["values"].as_array().unwrap();
    assert!(values.iter().all(|v| {
        v["state"] == "PUBLISHED"
            && v["releaseURL"]
                .as_str()
                .unwrap()
                .contains("/sandbox/posts/")
    }));
    let (_, published) = app.authed_get(&key, "/sandbox/posts").await;
    let published = published.as_array().unwrap();
    assert_eq!(published.len(), 3);
    // Newest first: the second reply answers the first, which answers the post.
    assert_eq!(published[0]["text"], "second reply");
    assert_eq!(published[0]["replyTo"], published[1]["id"]);
    assert_eq!(published[1]["replyTo"], published[2]["id"]);
    assert_eq!(
        published[2]["text"], "Hello ",
        "an unknown (post:…) placeholder becomes empty"
    );
    assert_eq!(post["releaseURL"], published[2]["url"]);
    let (_, notes) = app.api_get(&key, "/notifications").await;
    assert!(
        notes["notifications"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("Your post has been published on Sandbox at ")
    );
    assert_eq!(
        app.with_db(|c| jobs::table.count().get_result::<i64>(c))
            .await,
        0
    );
}

#[actix_web::test]
async fn concurrent_workers_publish_every_due_post_exactly_once() {
    let app = spawn_app().await;
    let Sandboxed { key, channel, .. } = setup(&app).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            create(
                &app,
                &key,
                body(
                    "now",
                    &now_iso(),
                    &channel,
                    &[(&format!("post {i}"), 0), ("reply", 0)],
                ),
            )
            .await,
        );
    }
    let workers: Vec<_> = (0..3).map(|_| app.start_worker()).collect();
    for id in &ids {
        wait_for(&app, &key, id, "PUBLISHED").await;
    }
    for w in workers {
        w.stop().await;
    }
    let (_, published) = app.authed_get(&key, "/sandbox/posts").await;
    let texts: Vec<&str> = published
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 60, "each post and each reply once");
    for i in 0..30 {
        assert_eq!(
            texts.iter().filter(|t| **t == format!("post {i}")).count(),
            1
        );
    }
}

#[actix_web::test]
async fn a_publish_cut_short_by_a_crash_is_reported_never_repeated() {
    let app = spawn_app().await;
    let Sandboxed { key, channel, .. } = setup(&app).await;
    let id = create(
        &app,
        &key,
        body("now", &now_iso(), &channel, &[("maybe out", 0)]),
    )
    .await;
    // A worker claimed the job, committed "sending", and died: its lease ran out.
    let subject = id.clone();
    app.with_db(move |conn| {
        diesel::update(jobs::table.filter(jobs::subject_id.eq(&subject)))
            .set((
                jobs::payload.eq(r#"{"sending":0}"#),
                jobs::locked_by.eq("dead-worker"),
                jobs::locked_until.eq(socialgate::db::now() - chrono::Duration::seconds(1)),
                jobs::attempts.eq(1),
            ))
            .execute(conn)
    })
    .await;
    let w = app.start_worker();
    let post = wait_for(&app, &key, &id, "ERROR").await;
    w.stop().await;
    assert_eq!(post["error"], "could not confirm the post was published");
    assert_eq!(app.authed_get(&key, "/sandbox/posts").await.1, json!([]));
    let (_, notes) = app.api_get(&key, "/notifications").await;
    assert!(
        notes["notifications"][0]["content"]
            .as_str()
            .unwrap()
            .contains("could not confirm")
    );
}

#[actix_web::test]
async fn jobs_follow_edits_drafts_deletes_delays_and_repeats() {
    let app = spawn_app().await;
    let Sandboxed { key, channel, .. } = setup(&app).await;
    let later = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let id = create(
        &app,
        &key,
        body("schedule", &later, &channel, &[("later", 0)]),
    )
    .await;
    let run_at = |id: String| {
        let app = &app;
        async move {
            app.with_db(move |c| {
                jobs::table
                    .filter(jobs::subject_id.eq(&id))
                    .select(jobs::run_at)
                    .first::<chrono::NaiveDateTime>(c)
                    .optional()
            })
            .await
        }
    };
    let first = run_at(id.clone()).await.unwrap();
    let sooner = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    app.api_send(
        Method::PUT,
        &key,
        &format!("/posts/{id}"),
        Some(json!({ "value": [{ "content": "sooner", "image": [] }], "date": sooner })),
    )
    .await;
    let moved = run_at(id.clone()).await.unwrap();
    assert!(moved < first, "rescheduling moves the job");
    app.api_send(
        Method::PUT,
        &key,
        &format!("/posts/{id}/status"),
        Some(json!({ "status": "draft" })),
    )
    .await;
    assert!(run_at(id.clone()).await.is_none(), "a draft has no job");
    app.api_send(
        Method::PUT,
        &key,
        &format!("/posts/{id}/status"),
        Some(json!({ "status": "schedule" })),
    )
    .await;
    assert!(run_at(id.clone()).await.is_some());
    app.api_send(Method::DELETE, &key, &format!("/posts/{id}"), None)
        .await;
    assert!(
        run_at(id.clone()).await.is_none(),
        "a deleted post has no job"
    );

    // A comment with a delay waits; a repeating post comes back queued for its next day.
    let mut repeating = body(
        "now",
        &now_iso(),
        &channel,
        &[("daily", 0), ("a minute later", 1)],
    );
    repeating["inter"] = json!(1);
    let id = create(&app, &key, repeating).await;
    let w = app.start_worker();
    eventually("the repeating post to be published", || {
        let (app, key, id) = (&app, &key, &id);
        async move {
            let (_, post) = app.api_get(key, &format!("/posts/{id}")).await;
            (post["values"][0]["state"] == "PUBLISHED").then_some(())
        }
    })
    .await;
    let (_, post) = app.api_get(&key, &format!("/posts/{id}")).await;
    assert_eq!(
        post["values"][1]["state"], "QUEUE",
        "the comment waits for its minute"
    );
    // The worker releases the job to sleep until the comment is due.
    eventually("the job to sleep until the comment is due", || {
        let (run_at, id) = (&run_at, id.clone());
        async move {
            let due = run_at(id).await.unwrap();
            (due > socialgate::db::now() + chrono::Duration::seconds(50)).then_some(())
        }
    })
    .await;
    // Time passes.
    let subject = id.clone();
    app.with_db(move |conn| {
        let payload: String = jobs::table
            .filter(jobs::subject_id.eq(&subject))
            .select(jobs::payload)
            .first(conn)?;
        let mut payload: Value = serde_json::from_str(&payload).unwrap();
        payload["last_at"] = json!(chrono::Utc::now().timestamp() - 120);
        diesel::update(jobs::table.filter(jobs::subject_id.eq(&subject)))
            .set((
                jobs::payload.eq(payload.to_string()),
                jobs::run_at.eq(socialgate::db::now()),
            ))
            .execute(conn)
    })
    .await;
    socialgate::publishing::jobs::WAKE.notify_one();
    let next_day = eventually("the repeating post to be queued again", || {
        let (app, subject) = (&app, id.clone());
        async move {
            let rows: Vec<(String, chrono::NaiveDateTime)> = app
                .with_db(move |c| {
                    let group: String = posts::table
                        .find(&subject)
                        .select(posts::group_id)
                        .first(c)?;
                    posts::table
                        .filter(posts::group_id.eq(group))
                        .order(posts::position.asc())
                        .select((posts::state, posts::publish_date))
                        .load(c)
                })
                .await;
            (rows.iter().all(|(s, _)| s == "QUEUE") && rows[0].1 > socialgate::db::now())
                .then(|| rows[0].1)
        }
    })
    .await;
    w.stop().await;
    assert!(next_day > socialgate::db::now() + chrono::Duration::hours(23));
    assert_eq!(run_at(id.clone()).await, Some(next_day));
    let (_, published) = app.authed_get(&key, "/sandbox/posts").await;
    assert_eq!(
        published.as_array().unwrap().len(),
        2,
        "the post and its delayed comment"
    );
}

#[actix_web::test]
async fn failures_end_or_wait_the_way_their_kind_says() {
    let instance = MockServer::start().await;
    mastodon::mount_oauth(&instance, "write:statuses profile write:media").await;
    let app = spawn_app().await;
    let Sandboxed {
        key,
        org,
        channel: sandbox,
    } = setup(&app).await;
    let channel = mastodon::connect(&app, &key, &org, &instance).await;
    let status_mock = |text: &str, answer: ResponseTemplate| {
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .and(body_partial_json(json!({ "status": text })))
            .respond_with(answer)
    };
    status_mock(
        "refused",
        ResponseTemplate::new(422).set_body_json(
            json!({ "error": "Validation failed: Text character limit of 500 exceeded" }),
        ),
    )
    .expect(1)
    .mount(&instance)
    .await;
    status_mock("busy", ResponseTemplate::new(503))
        .expect(1)
        .mount(&instance)
        .await;
    let refused = create(
        &app,
        &key,
        body("now", &now_iso(), &channel, &[("refused", 0)]),
    )
    .await;
    let busy = create(
        &app,
        &key,
        body("now", &now_iso(), &channel, &[("busy", 0)]),
    )
    .await;
    let w = app.start_worker();
    let post = wait_for(&app, &key, &refused, "ERROR").await;
    assert!(
        post["error"].as_str().unwrap().contains("character limit"),
        "{post}"
    );
    // A transient failure waits with backoff: still queued, the job moved later.
    let (attempts, error, run_at) = eventually("the busy post's job to be released", || {
        let (app, subject) = (&app, busy.clone());
        async move {
            let job: Option<(i32, Option<String>, chrono::NaiveDateTime)> = app
                .with_db(move |c| {
                    jobs::table
                        .filter(jobs::subject_id.eq(&subject))
                        .filter(jobs::locked_by.is_null())
                        .select((jobs::attempts, jobs::last_error, jobs::run_at))
                        .first(c)
                        .optional()
                })
                .await;
            job.filter(|j| j.0 == 1)
        }
    })
    .await;
    assert_eq!(attempts, 1);
    assert!(error.unwrap().contains("503"));
    assert!(run_at > socialgate::db::now() + chrono::Duration::seconds(20));
    assert_eq!(
        app.api_get(&key, &format!("/posts/{busy}")).await.1["state"],
        "QUEUE"
    );

    // A revoked token: the channel needs reconnecting and the post fails with that reason.
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(body_partial_json(json!({ "status": "revoked" })))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({ "error": "The access token was revoked" })),
        )
        .mount(&instance)
        .await;
    let revoked = create(
        &app,
        &key,
        body("now", &now_iso(), &channel, &[("revoked", 0)]),
    )
    .await;
    let post = wait_for(&app, &key, &revoked, "ERROR").await;
    assert!(
        post["error"]
            .as_str()
            .unwrap()
            .starts_with("Refresh channel needed")
    );
    let id = channel.clone();
    assert!(
        app.with_db(move |c| integrations::table
            .find(&id)
            .select(integrations::refresh_needed)
            .first::<bool>(c))
            .await
    );

    // A disabled channel fails its posts with a clear reason.
    let (o, s) = (org.clone(), sandbox.clone());
    app.state
        .db
        .run(move |conn| socialgate::channels::set_disabled(conn, &o, &s, true))
        .await
        .unwrap();
    let off = create(&app, &key, body("now", &now_iso(), &sandbox, &[("off", 0)])).await;
    let post = wait_for(&app, &key, &off, "ERROR").await;
    assert_eq!(post["error"], "Channel disabled");
    w.stop().await;
}

#[actix_web::test]
async fn three_server_processes_on_one_database_publish_each_post_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    let db = crate::helpers::test_database(&data);
    let url = db.url.clone();
    let app = crate::helpers::spawn_on(dir, url.clone(), db.pg, &[]).await;
    let Sandboxed { key, channel, .. } = setup(&app).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            create(
                &app,
                &key,
                body(
                    "now",
                    &now_iso(),
                    &channel,
                    &[(&format!("multi {i}"), 0), ("and reply", 0)],
                ),
            )
            .await,
        );
    }
    let servers: Vec<std::process::Child> = (0..3)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_socialgate"))
                .arg("serve")
                .env_clear()
                .env("DATABASE_URL", &url)
                .env("SOCIALGATE_DATA_DIR", &data)
                .env("SOCIALGATE_LISTEN", "127.0.0.1:0")
                .env("SOCIALGATE_PUBLIC_URL", &app.address)
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for id in &ids {
        wait_for(&app, &key, id, "PUBLISHED").await;
    }
    for s in &servers {
        std::process::Command::new("kill")
            .args(["-TERM", &s.id().to_string()])
            .status()
            .unwrap();
    }
    for mut s in servers {
        assert!(
            s.wait().unwrap().success(),
            "each server stops cleanly on SIGTERM"
        );
    }
    let (_, published) = app.authed_get(&key, "/sandbox/posts").await;
    let texts: Vec<&str> = published
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 40);
    for i in 0..20 {
        assert_eq!(
            texts.iter().filter(|t| **t == format!("multi {i}")).count(),
            1
        );
    }
}

#[actix_web::test]
async fn per_provider_concurrency_and_pacing_hold() {
    use socialgate::publishing::{jobs as queue, posts as stored};
    let app = spawn_app().await;
    let Sandboxed { key, channel, .. } = setup(&app).await;
    // Five due jobs on one provider's queue that allows two at once.
    let claimed = app
        .state
        .db
        .run(|conn| {
            for i in 0..5 {
                queue::schedule(
                    conn,
                    "test",
                    &format!("subject-{i}"),
                    "x",
                    socialgate::db::now(),
                )?;
            }
            let first = queue::claim(conn, "worker-a", 10, &|q| if q == "x" { 2 } else { 10 })?;
            let second = queue::claim(conn, "worker-b", 10, &|q| if q == "x" { 2 } else { 10 })?;
            Ok::<_, socialgate::error::AppError>((first.len(), second.len()))
        })
        .await
        .unwrap();
    assert_eq!(
        claimed,
        (2, 0),
        "the limit holds across workers while the first two run"
    );

    // Pacing: three publishes allowed per hour; the fourth waits for the oldest to leave the window.
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            create(
                &app,
                &key,
                body("draft", &now_iso(), &channel, &[(&format!("paced {i}"), 0)]),
            )
            .await,
        );
    }
    let (c, first_two) = (channel.clone(), ids[..2].to_vec());
    let free = app
        .state
        .db
        .run(move |conn| {
            diesel::update(posts::table.filter(posts::id.eq_any(&first_two)))
                .set(posts::state.eq("PUBLISHED"))
                .execute(conn)?;
            stored::paced_until(conn, &c, 3, 3600)
        })
        .await
        .unwrap();
    assert_eq!(free, None);
    let (c, third) = (channel.clone(), ids[2].clone());
    let wait = app
        .state
        .db
        .run(move |conn| {
            diesel::update(posts::table.find(&third))
                .set(posts::state.eq("PUBLISHED"))
                .execute(conn)?;
            stored::paced_until(conn, &c, 3, 3600)
        })
        .await
        .unwrap()
        .expect("a fourth publish waits");
    assert!(wait > socialgate::db::now() + chrono::Duration::minutes(59));
}

#[actix_web::test]
async fn a_refused_token_is_refreshed_and_the_publish_retried_and_expiring_tokens_are_renewed_early()
 {
    use crate::fakes::bluesky::jwt;
    use wiremock::matchers::header;
    let pds = MockServer::start().await;
    bluesky::mount_session(&pds).await;
    let app = spawn_app().await;
    let Sandboxed { key, .. } = setup(&app).await;
    let channel = bluesky::connect(&app, &key, &pds).await;
    // The first token is refused once ("ExpiredToken"); the refreshed one is accepted.
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header(
            "authorization",
            format!("Bearer {}", jwt("access-1")).as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({ "error": "ExpiredToken", "message": "Token has expired" })),
        )
        .expect(1)
        .mount(&pds)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:alice", "handle": "alice.test", "accessJwt": jwt("access-2"), "refreshJwt": "refresh-2"
        })))
        .expect(1)
        .mount(&pds)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header(
            "authorization",
            format!("Bearer {}", jwt("access-2")).as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({ "uri": "at://did:plc:alice/app.bsky.feed.post/3k", "cid": "c" }),
        ))
        .expect(1)
        .mount(&pds)
        .await;
    let id = create(
        &app,
        &key,
        body("now", &now_iso(), &channel, &[("after a refresh", 0)]),
    )
    .await;
    let w = app.start_worker();
    let post = wait_for(&app, &key, &id, "PUBLISHED").await;
    assert_eq!(
        post["releaseURL"],
        "https://bsky.app/profile/alice.test/post/3k"
    );
    w.stop().await;

    // A token that expires within a day is renewed by the sweep when a worker starts.
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:alice", "handle": "alice.test", "accessJwt": jwt("access-3"), "refreshJwt": "refresh-3"
        })))
        .expect(1)
        .mount(&pds)
        .await;
    let c = channel.clone();
    app.with_db(move |conn| {
        diesel::update(integrations::table.find(&c))
            .set(
                integrations::token_expires_at
                    .eq(socialgate::db::now() + chrono::Duration::hours(2)),
            )
            .execute(conn)
    })
    .await;
    let w = app.start_worker();
    eventually("the sweep to refresh the expiring token", || {
        let (app, c) = (&app, channel.clone());
        async move {
            let expires: Option<chrono::NaiveDateTime> = app
                .with_db(move |conn| {
                    integrations::table
                        .find(&c)
                        .select(integrations::token_expires_at)
                        .first(conn)
                })
                .await;
            expires
                .is_some_and(|e| e > socialgate::db::now() + chrono::Duration::days(30))
                .then_some(())
        }
    })
    .await;
    w.stop().await;
}

#[actix_web::test]
async fn a_two_phase_publish_is_released_between_checks_then_completes_its_chain() {
    let server = MockServer::start().await;
    let app = spawn_app_with(&[
        ("SOCIALGATE_PROVIDER_HOSTS", &sketch::hosts(&server)),
        ("SOCIALGATE_FETCH_TRUSTED_HOSTS", &trusted(&server)),
    ])
    .await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;
    let channel = sketch::connect(&app, &key, &org, &server).await;
    sketch::mount_publishing(&server).await;
    let id = create(
        &app,
        &key,
        body("now", &now_iso(), &channel, &[("first", 0), ("second", 0)]),
    )
    .await;
    let w = app.start_worker();
    // While Sketch processes the container the job waits unlocked, holding no worker slot.
    let subject = id.clone();
    eventually("the job to wait for the container, released", || {
        let subject = subject.clone();
        let app = &app;
        async move {
            let (locked_by, last_error, payload): (Option<String>, Option<String>, String) = app
                .with_db(move |c| {
                    jobs::table
                        .filter(jobs::subject_id.eq(&subject))
                        .select((jobs::locked_by, jobs::last_error, jobs::payload))
                        .first(c)
                })
                .await;
            (locked_by.is_none()
                && last_error.as_deref() == Some("Sketch is still processing the post")
                && payload.contains("\"pending\""))
            .then_some(())
        }
    })
    .await;
    let post = wait_for(&app, &key, &id, "PUBLISHED").await;
    assert_eq!(post["releaseURL"], "https://sketch.example/alice/p-1");
    let subject = id.clone();
    eventually("the comment chain to finish", || {
        let subject = subject.clone();
        let app = &app;
        async move {
            let left: i64 = app
                .with_db(move |c| {
                    jobs::table
                        .filter(jobs::subject_id.eq(&subject))
                        .count()
                        .get_result(c)
                })
                .await;
            (left == 0).then_some(())
        }
    })
    .await;
    w.stop().await;
    let requests = server.received_requests().await.unwrap();
    let checks = |container: &str| {
        requests
            .iter()
            .filter(|r| r.url.path() == format!("/v1/containers/{container}"))
            .count()
    };
    assert_eq!(checks("c-1"), 2, "checked once in progress, once finished");
    assert_eq!(checks("c-2"), 2, "the comment went out in two phases too");
    let reply = requests.iter().find(|r| {
        r.url.path() == "/v1/containers"
            && String::from_utf8_lossy(&r.body).contains("\"reply_to\":\"p-1\"")
    });
    assert!(reply.is_some(), "the comment answers the published post");
}
