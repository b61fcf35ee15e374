use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{client, spawn_app};

#[actix_web::test]
async fn health_and_ready_answer() {
    let app = spawn_app().await;
    let r = app.get(&client(), "/health").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"status": "ok"})
    );
    let r = app.get(&client(), "/ready").await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[actix_web::test]
async fn ready_is_503_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    let broken =
        socialgate::db::Db::connect_lazy("postgres://nobody:nothing@127.0.0.1:1/none").unwrap();
    let state = actix_web::web::Data::new(socialgate::AppState {
        config: app.state.config.clone(),
        db: broken,
        keys: app.state.keys.clone(),
        http: app.state.http.clone(),
        store: app.state.store.clone(),
        tokens: Default::default(),
        drain: Default::default(),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    actix_web::rt::spawn(socialgate::server(state, listener, Some(1)).unwrap());
    let r = client()
        .get(format!("{address}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = client()
        .get(format!("{address}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
}

#[actix_web::test]
async fn html_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/signin", "/signup"] {
        let r = app.get(&client(), path).await;
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    }
}

#[actix_web::test]
async fn bad_input_gets_a_4xx_never_a_500() {
    let app = spawn_app().await;
    let c = client();
    let r = app.get(&c, "/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.get(&c, "/static/../../etc/passwd").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Not form-encoded at all, a body far too large, a wrong content type, invalid UTF-8.
    let r = c
        .post(app.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("%%%=&&&=%ZZ")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = c
        .post(app.url("/signin"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email={}", "a".repeat(200_000)))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = c
        .post(app.url("/signin"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = c
        .post(app.url("/signup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'e', b'm', b'a', b'i', b'l', b'=', 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = c.get(app.url("/signin?next=%ZZ")).send().await.unwrap();
    assert!(r.status().as_u16() < 500, "{}", r.status());
}

/// PostgreSQL: connections are not pinged before use; when the server (or network) has dropped
/// them, the next requests still succeed (the dead connection is noticed and replaced), and the
/// rate limit keeps counting.
#[actix_web::test]
async fn requests_survive_connections_the_database_dropped() {
    use diesel::{Connection, RunQueryDsl};
    if !crate::helpers::on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let tenant = app.tenant("dropped@example.com").await;
    let (status, _) = app.api_get(&tenant.key, "/integrations").await;
    assert_eq!(status, StatusCode::OK);
    let mut admin = diesel::PgConnection::establish(&app.state.config.database_url).unwrap();
    let dropped = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .unwrap();
    assert!(dropped > 0, "the server's connections were dropped");
    for _ in 0..12 {
        let (status, body) = app.api_get(&tenant.key, "/integrations").await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{body}: {}",
            crate::helpers::logs()
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
