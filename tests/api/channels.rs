//! Channels: the connect flow (states, return URLs, sessions), the sandbox network, the
//! Channels page, and the `/public/v1` channel routes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use socialgate::providers::{Published, Thread};

use crate::fakes::image;
use crate::helpers::{Tenant, client, input_value, query_param, spawn_app, spawn_app_with};

#[actix_web::test]
async fn the_sandbox_connects_by_following_the_api_url_and_is_listed() {
    let app = spawn_app().await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;

    let channel = app.connect_sandbox(&key).await;
    let keys: Vec<&str> = channel
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["disabled", "id", "identifier", "name", "picture", "profile"]
    );
    assert_eq!(channel["name"], "Sandbox");
    assert_eq!(channel["profile"], "sandbox");
    assert_eq!(channel["disabled"], false);

    // The stored token is sealed, never plaintext.
    let row = app.channel(&org, channel["id"].as_str().unwrap()).await;
    assert!(row.sealed_tokens().0.starts_with("v1."));

    // Deleting is soft; connecting the same account again revives the same channel.
    let r = client()
        .delete(app.url(&format!(
            "/public/v1/integrations/{}",
            channel["id"].as_str().unwrap()
        )))
        .header("Authorization", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({ "success": true }));
    assert_eq!(app.api_get(&key, "/integrations").await.1, json!([]));
    let again = app.connect_sandbox(&key).await;
    assert_eq!(again["id"], channel["id"]);
    // The path takes DELETE only: any other method is 405, naming what it takes.
    let r = client()
        .get(app.url("/public/v1/integrations/nope"))
        .header("Authorization", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "DELETE");
    let r = client()
        .delete(app.url("/public/v1/integrations/nope"))
        .header("Authorization", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_connect_state_is_single_use_and_expires() {
    let app = spawn_app().await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;

    let url = app.connect_url(&key, "sandbox").await;
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let callback = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&app.url("/postiz/integrations/social/sandbox?code=")));
    assert_eq!(
        client().get(&callback).send().await.unwrap().status(),
        StatusCode::OK
    );
    let replay = client().get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("expired or was already used")
    );

    // An hour later the state is dead.
    let url = app.connect_url(&key, "sandbox").await;
    let callback = client().get(&url).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    app.with_db(|conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::connect_states;
        let past = socialgate::db::now() - chrono::Duration::minutes(1);
        diesel::update(connect_states::table)
            .set(connect_states::expires_at.eq(past))
            .execute(conn)
    })
    .await;
    assert_eq!(
        client().get(&callback).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // A made-up state, or the sandbox asked to send the code elsewhere, goes nowhere.
    let forged = app.url("/postiz/integrations/social/sandbox?code=sbx_x&state=forged");
    assert_eq!(
        client().get(&forged).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let elsewhere =
        app.url("/sandbox/authorize?state=s&redirect_uri=https%3A%2F%2Fevil.example%2F");
    let r = client().get(&elsewhere).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
}

#[actix_web::test]
async fn a_return_url_is_followed_only_on_an_allowed_host() {
    let app = spawn_app_with(&[(
        "SOCIALGATE_RETURN_URL_HOSTS",
        "*.tenant.example, app.partner.example",
    )])
    .await;
    let Tenant { key, .. } = app.tenant("ada@example.com").await;

    let finish = |return_url: &str| {
        let app = &app;
        let key = key.clone();
        let return_url = return_url.to_owned();
        async move {
            let url = app
                .connect_url(
                    &key,
                    &format!(
                        "sandbox?returnURL={}",
                        socialgate::percent::url_encode(&return_url)
                    ),
                )
                .await;
            let callback = client().get(&url).send().await.unwrap().headers()["location"]
                .to_str()
                .unwrap()
                .to_owned();
            client().get(&callback).send().await.unwrap()
        }
    };
    let r = finish("https://acme.tenant.example/integrations?done=1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "https://acme.tenant.example/integrations?done=1"
    );
    let r = finish("https://app.partner.example/back").await;
    assert_eq!(r.headers()["location"], "https://app.partner.example/back");
    for foreign in [
        "https://evil.example/",
        "https://tenant.example.evil.example/",
        "https://tenant.example/",
        "http://acme.tenant.example/",
        "https://user@acme.tenant.example/",
        "javascript:alert(1)",
    ] {
        let r = finish(foreign).await;
        assert_eq!(r.status(), StatusCode::OK, "{foreign}");
        assert!(r.headers().get("location").is_none(), "{foreign}");
    }
}

#[actix_web::test]
async fn unknown_unconfigured_or_switched_off_networks_are_refused() {
    let app = spawn_app_with(&[("SOCIALGATE_SANDBOX", "false")]).await;
    let Tenant { browser, key, .. } = app.tenant("ada@example.com").await;
    for provider in ["nope", "sandbox"] {
        let (status, body) = app.api_get(&key, &format!("/social/{provider}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({ "msg": "Integration not allowed" }));
    }
    let (status, body) = app.api_get(&key, "/social/x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({ "msg": "X API credentials are not configured" })
    );
    let (_, html) = app.page(&browser, "/settings/channels").await;
    assert!(html.contains("X API credentials are not configured"));
    assert!(!html.contains("Connect Sandbox"));
    let (status, _) = app.api_get(&key, "/social/sandbox?refresh=unknown").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn the_channels_page_connects_disables_groups_and_deletes() {
    let app = spawn_app().await;
    let Tenant {
        browser, key, org, ..
    } = app.tenant("ada@example.com").await;
    let csrf = app.csrf(&browser, "/settings/channels").await;
    let (_, html) = app.page(&browser, "/settings/channels").await;
    assert!(html.contains("Connect Sandbox"));

    // Without the CSRF token nothing starts.
    let r = app
        .post_form(&browser, "/settings/channels/connect/sandbox", &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = app
        .post_form(
            &browser,
            "/settings/channels/connect/sandbox",
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let authorize = r.headers()["location"].to_str().unwrap().to_owned();
    let callback = client().get(&authorize).send().await.unwrap().headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    // A flow started in this browser must be finished by the same signed-in user.
    let stranger = client().get(&callback).send().await.unwrap();
    assert_eq!(stranger.status(), StatusCode::BAD_REQUEST);
    let r = browser.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    let id = query_param(&back, "connected").unwrap();
    let (_, html) = app.page(&browser, &back).await;
    assert!(html.contains("Sandbox is connected."));
    assert!(html.contains(">active<"));

    let r = app
        .post_form(
            &browser,
            &format!("/settings/channels/{id}/disable"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, list) = app.api_get(&key, "/integrations").await;
    assert_eq!(list[0]["disabled"], true);
    let (_, html) = app.page(&browser, "/settings/channels").await;
    assert!(html.contains(">disabled<"));
    app.post_form(
        &browser,
        &format!("/settings/channels/{id}/enable"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(
        app.api_get(&key, "/integrations").await.1[0]["disabled"],
        false
    );

    // Preferences: posting times and a customer, seen through the Public API.
    let path = format!("/settings/channels/{id}/preferences");
    let (_, html) = app.page(&browser, &path).await;
    assert_eq!(input_value(&html, "times").unwrap(), "02:00, 06:40, 11:40");
    let r = app
        .post_form(
            &browser,
            &path,
            &[("csrf_token", &csrf), ("times", "25:00"), ("customer", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app
        .post_form(
            &browser,
            &path,
            &[
                ("csrf_token", &csrf),
                ("times", "13:30, 09:00"),
                ("customer", "Acme"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.channel(&org, &id).await.posting_minutes(), [540, 810]);
    let (_, groups) = app.api_get(&key, "/groups").await;
    assert_eq!(groups[0]["name"], "Acme");
    let group = groups[0]["id"].as_str().unwrap().to_owned();
    let (_, list) = app
        .api_get(&key, &format!("/integrations?group={group}"))
        .await;
    assert_eq!(list[0]["customer"], json!({ "id": group, "name": "Acme" }));
    assert_eq!(
        app.api_get(&key, "/integrations?group=other").await.1,
        json!([])
    );

    app.post_form(
        &browser,
        &format!("/settings/channels/{id}/delete"),
        &[("csrf_token", &csrf)],
    )
    .await;
    assert_eq!(app.api_get(&key, "/integrations").await.1, json!([]));
}

#[actix_web::test]
async fn the_sandbox_publishes_replies_reports_and_runs_tools() {
    let app = spawn_app().await;
    let Tenant {
        browser, key, org, ..
    } = app.tenant("ada@example.com").await;
    let listed = app.connect_sandbox(&key).await;
    let id = listed["id"].as_str().unwrap().to_owned();
    let channel = app.channel(&org, &id).await;

    let root = app
        .publish(
            &channel,
            "Hello sandbox",
            vec![image("https://cdn.example/cat.png", Some("a cat"))],
            None,
        )
        .await
        .unwrap();
    assert!(root.url.starts_with(&app.url("/sandbox/posts/")));
    let thread = Thread {
        root: root.clone(),
        parent: root.clone(),
    };
    let reply: Published = app
        .publish(&channel, "and a reply", vec![], Some(&thread))
        .await
        .unwrap();

    let (status, posts) = app.authed_get(&key, "/sandbox/posts").await;
    assert_eq!(status, StatusCode::OK, "{posts}");
    assert_eq!(posts.as_array().unwrap().len(), 2);
    assert_eq!(posts[0]["id"], reply.id);
    assert_eq!(posts[0]["replyTo"], root.id);
    assert_eq!(posts[1]["text"], "Hello sandbox");
    assert_eq!(posts[1]["media"][0]["alt"], "a cat");
    assert_eq!(posts[1]["channel"], channel.internal_id);
    let (status, html) = app
        .page(&client(), &format!("/sandbox/posts/{}", root.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Hello sandbox"));
    let (_, html) = app.page(&browser, "/sandbox").await;
    assert!(html.contains("and a reply"));
    // Another organization sees none of it.
    let Tenant { key: other_key, .. } = app.tenant("bob@example.com").await;
    assert_eq!(
        app.authed_get(&other_key, "/sandbox/posts").await.1,
        json!([])
    );

    let (_, settings) = app
        .api_get(&key, &format!("/integration-settings/{id}"))
        .await;
    assert_eq!(settings["output"]["maxLength"], 5000);
    assert_eq!(settings["output"]["tools"][0]["methodName"], "channels");
    let trigger = |body: Value| {
        client()
            .post(app.url(&format!("/public/v1/integration-trigger/{id}")))
            .header("Authorization", &key)
            .json(&body)
            .send()
    };
    let r = trigger(json!({ "methodName": "channels", "data": { "word": "new" } }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "output": [{ "id": "news", "name": "News" }] })
    );
    let r = trigger(json!({ "methodName": "post", "data": {} }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "msg": "Tool not found" })
    );

    let provider = channel.provider().unwrap();
    let auth = app.channel_auth(&channel).await;
    let ctx = app.state.ctx();
    let series = provider
        .analytics(
            &socialgate::providers::On {
                ctx: &ctx,
                auth: &auth,
            },
            7,
        )
        .await
        .unwrap();
    assert_eq!(series[0].label, "Impressions");
    assert_eq!(series[0].data.len(), 7);
    let json = serde_json::to_value(&series[0]).unwrap();
    assert!(
        json["data"][0]["total"].is_string(),
        "Postiz sends totals as strings"
    );
}

#[actix_web::test]
async fn an_oauth_token_needs_the_scope_of_each_channel_route() {
    let app = spawn_app().await;
    let browser = app.signed_up_client("ada@example.com").await;
    let org = app.org_of("ada@example.com").await;
    let registered = app
        .register_app(&org, &["https://client.example/cb"], false)
        .await;
    let token = app.access_token(&browser, &registered, "posts:read").await;
    let (status, body) = app.api_get(&token, "/integrations").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({ "msg": "insufficient_scope", "scope": "integrations:read" })
    );
    let (status, body) = app.api_get(&token, "/social/sandbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["scope"], "integrations:write");
    assert_eq!(app.api_get(&token, "/is-connected").await.0, StatusCode::OK);

    let token = app
        .access_token(
            &browser,
            &registered,
            "integrations:read integrations:write",
        )
        .await;
    assert_eq!(app.api_get(&token, "/integrations").await.0, StatusCode::OK);
    assert_eq!(
        app.api_get(&token, "/social/sandbox").await.0,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_network_with_pages_asks_which_page_before_the_channel_publishes() {
    let app = spawn_app().await;
    let Tenant { key, org, .. } = app.tenant("ada@example.com").await;

    let connect_and_pick = |page: &'static str| {
        let (app, key) = (&app, key.clone());
        async move {
            let url = app.connect_url(&key, "sandbox-pages").await;
            let person = client();
            let callback = person.get(&url).send().await.unwrap().headers()["location"]
                .to_str()
                .unwrap()
                .to_owned();
            let r = person.get(&callback).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            let pick = r.headers()["location"].to_str().unwrap().to_owned();
            assert!(
                pick.starts_with("/integrations/social/sandbox-pages/pick?state="),
                "{pick}"
            );
            // Until a page is picked, the channel waits.
            let (_, list) = app.api_get(&key, "/integrations").await;
            assert!(
                list.as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["name"] == "Sandbox pages account")
            );
            let (status, html) = app.page(&person, &pick).await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("General page") && html.contains("News page"));
            let form = [
                ("csrf_token", input_value(&html, "csrf_token").unwrap()),
                ("state", input_value(&html, "state").unwrap()),
                ("page", page.to_owned()),
            ];
            let r = person
                .post(app.url("/integrations/social/sandbox-pages/pick"))
                .form(&form)
                .send()
                .await
                .unwrap();
            let replay = person
                .post(app.url("/integrations/social/sandbox-pages/pick"))
                .form(&form)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap(), replay.status())
        }
    };
    let (status, html, replay) = connect_and_pick("news").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Sandbox News is connected"));
    assert_eq!(replay, StatusCode::BAD_REQUEST);
    let (_, list) = app.api_get(&key, "/integrations").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "Sandbox News");
    assert_eq!(list[0]["profile"], "news");
    let channel = app.channel(&org, list[0]["id"].as_str().unwrap()).await;
    assert!(!channel.in_between_steps);
    assert_eq!(
        channel.root_internal_id,
        Some(format!("sandbox-{org}:pages"))
    );
    let published = app
        .publish(&channel, "as the page", vec![], None)
        .await
        .unwrap();
    let (_, posts) = app.authed_get(&key, "/sandbox/posts").await;
    assert_eq!(posts[0]["id"], published.id);
    assert_eq!(posts[0]["channel"], format!("sandbox-{org}:news"));

    // Picking the same page again updates that channel; nothing is left waiting.
    let (status, _, _) = connect_and_pick("news").await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.api_get(&key, "/integrations").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], channel.id);
    // A page that does not exist is refused on the form.
    let (status, html, _) = connect_and_pick("nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("refused this page"));
}
