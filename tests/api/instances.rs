//! Several instances on one PostgreSQL database: what one instance caches (resolved keys and
//! tokens, rendered channel lists), a change made through another ends on the next request,
//! and a change notice the instance could not hear leaves nothing trusted.

use diesel::{Connection, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, client, on_postgres, spawn_app, spawn_on};

/// Two servers on one database and data directory (so the same master key), once both listen
/// for change notices.
async fn two_instances() -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let data_dir = a.dir.path().display().to_string();
    let b = spawn_on(
        tempfile::tempdir().unwrap(),
        a.state.config.database_url.clone(),
        None,
        &[("SOCIALGATE_DATA_DIR", &data_dir)],
    )
    .await;
    crate::helpers::eventually("both instances listen for change notices", || async {
        (listeners(&a).await >= 2).then_some(())
    })
    .await;
    (a, b)
}

async fn channel_ids(app: &TestApp, credential: &str) -> Vec<String> {
    let (status, body) = app.api_get(credential, "/integrations").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the instance's change-notice listener is connected (its row in pg_stat_activity).
async fn listeners(app: &TestApp) -> i64 {
    let url = app.state.config.database_url.clone();
    actix_web::web::block(move || {
        let mut admin = diesel::PgConnection::establish(&url).unwrap();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'socialgate-notices' \
               AND query = 'LISTEN socialgate_changes'",
        )
        .get_result::<N>(&mut admin)
        .unwrap()
        .n
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn a_change_through_one_instance_ends_what_another_cached_on_the_next_request() {
    if !on_postgres() {
        return;
    }
    let (a, b) = two_instances().await;
    let tenant = a.tenant("instances@example.com").await;
    let registered = a
        .register_app(&tenant.org, &["https://app.example/cb"], false)
        .await;
    let token = a
        .access_token(&tenant.browser, &registered, "integrations:read")
        .await;

    // b resolves the key and the token and renders the (empty) list, twice: cached after.
    for _ in 0..2 {
        assert!(channel_ids(&b, &tenant.key).await.is_empty());
        assert!(channel_ids(&b, &token).await.is_empty());
    }
    // A channel connected through a appears in b's next list, and goes when a deletes it.
    let channel = a.connect_sandbox(&tenant.key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(channel_ids(&b, &tenant.key).await, vec![channel.clone()]);
    assert_eq!(channel_ids(&b, &token).await, vec![channel.clone()]);
    let (status, _) = a
        .api_send(
            Method::DELETE,
            &tenant.key,
            &format!("/integrations/{channel}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(channel_ids(&b, &tenant.key).await.is_empty());

    // The token revoked through a is refused by b on the next request.
    let r = client()
        .post(a.url("/oauth/revoke"))
        .basic_auth(&registered.client_id, registered.client_secret.as_deref())
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        b.api_get(&token, "/integrations").await.0,
        StatusCode::UNAUTHORIZED
    );

    // So is the key revoked through a's settings page.
    a.revoke_first_api_key(&tenant.browser).await;
    let (status, body) = b.api_get(&tenant.key, "/integrations").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"msg": "Invalid API key"})
        )
    );
}

#[actix_web::test]
async fn a_notice_missed_while_the_listener_was_gone_leaves_nothing_trusted() {
    if !on_postgres() {
        return;
    }
    let (a, b) = two_instances().await;
    let tenant = a.tenant("missed@example.com").await;
    let second_key = a.create_api_key(&tenant.browser, "second").await;
    for _ in 0..2 {
        assert_eq!(
            b.api_get(&tenant.key, "/is-connected").await.0,
            StatusCode::OK
        );
        assert_eq!(
            b.api_get(&second_key, "/is-connected").await.0,
            StatusCode::OK
        );
    }

    // Every listener goes away; a key is revoked in the database directly while they are
    // gone, so no instance hears of it or ends it itself.
    let url = a.state.config.database_url.clone();
    let key = tenant.key.clone();
    let revoked = actix_web::web::block(move || {
        let mut admin = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'socialgate-notices'",
        )
        .execute(&mut admin)
        .unwrap();
        diesel::sql_query(
            "UPDATE api_keys SET revoked_at = now() WHERE key_hash = encode(sha256($1::bytea), 'hex')",
        )
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(&mut admin)
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(revoked, 1);
    let (status, body): (StatusCode, Value) = b.api_get(&tenant.key, "/is-connected").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The other key still works, and the listeners come back.
    assert_eq!(
        b.api_get(&second_key, "/is-connected").await.0,
        StatusCode::OK
    );
    crate::helpers::eventually("the listeners connect again", || async {
        (listeners(&a).await >= 2).then_some(())
    })
    .await;
    assert_eq!(
        a.api_get(&tenant.key, "/is-connected").await.0,
        StatusCode::UNAUTHORIZED
    );
}
