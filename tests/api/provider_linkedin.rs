//! What only LinkedIn does: "little text" escaping, videos in the parts LinkedIn names and
//! posted once processed, plain-text comments, the API version LinkedIn switches off, and a
//! company page's statistics. The baseline is in `provider_contract`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use socialgate::providers::{MediaItem, ProviderError, Thread};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fakes::linkedin::{self, PART};
use crate::helpers::{TestApp, spawn_app_with};

/// ada connected on `network`: the app, the fake, her organization, API key and channel id.
async fn ada_on(
    network: &str,
    vars: &[(&str, &str)],
) -> (TestApp, MockServer, String, String, String) {
    let server = MockServer::start().await;
    let hosts = linkedin::hosts(&server);
    let mut all = vec![("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str())];
    all.extend_from_slice(vars);
    let app = spawn_app_with(&all).await;
    let tenant = app.tenant("ada@example.com").await;
    if network == "linkedin-page" {
        linkedin::mount_organizations(&server).await;
    }
    let id = linkedin::connect(&app, &tenant.key, &tenant.org, &server, network).await;
    (app, server, tenant.org, tenant.key, id)
}

#[actix_web::test]
async fn text_arrives_as_typed_with_hashtags_and_mentions_kept_and_comments_stay_plain() {
    let (app, server, org, _, id) = ada_on("linkedin", &[]).await;
    let seen = linkedin::mount_publishing(&server, "urn:li:person:ada-sub").await;
    let channel = app.channel(&org, &id).await;
    let typed = "Price (net): 5*3 <b> ~ a_b {x} [y] | back\\slash mail@x.com #launch \
                 with @[Acme Rockets](urn:li:organization:2414183) #1 # alone";
    let root = app.publish(&channel, typed, vec![], None).await.unwrap();
    assert!(root.id.starts_with("urn:li:share:"), "{root:?}");
    assert_eq!(
        root.url,
        format!("https://www.linkedin.com/feed/update/{}/", root.id)
    );
    let posts = seen.posts.lock().unwrap().clone();
    assert_eq!(
        posts[0]["commentary"],
        "Price \\(net\\): 5\\*3 \\<b\\> \\~ a\\_b \\{x\\} \\[y\\] \\| back\\\\slash mail\\@x.com #launch \
         with @[Acme Rockets](urn:li:organization:2414183) #1 \\# alone"
    );

    let thread = Thread {
        root: root.clone(),
        parent: root.clone(),
    };
    app.publish(&channel, "Thanks (all) #team!", vec![], Some(&thread))
        .await
        .unwrap();
    let comments = seen.comments.lock().unwrap().clone();
    assert_eq!(
        comments[0],
        json!({ "actor": "urn:li:person:ada-sub", "object": root.id,
            "message": { "text": "Thanks (all) #team!" } })
    );
}

#[actix_web::test]
async fn a_video_goes_up_in_linkedins_parts_and_is_posted_once_processed() {
    let (app, server, org, key, id) = ada_on("linkedin", &[]).await;
    let seen = linkedin::mount_publishing(&server, "urn:li:person:ada-sub").await;
    let mut video = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    video.resize(PART + 1_000_000, 7);
    let (status, uploaded) = app.upload(&key, "clip.mp4", video).await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    let channel = app.channel(&org, &id).await;
    let item = MediaItem {
        kind: "video".into(),
        path: uploaded["path"].as_str().unwrap().to_owned(),
        alt: None,
        thumbnail: None,
        dimensions: None,
    };
    let published = app
        .publish(&channel, "Our launch", vec![item], None)
        .await
        .unwrap();
    assert!(published.id.starts_with("urn:li:share:"));
    assert_eq!(*seen.parts.lock().unwrap(), vec![PART, 1_000_000]);
    let posts = seen.posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "posted once, after the processing refusal");
    assert_eq!(posts[0]["content"]["media"]["id"], "urn:li:video:C5505AQH");
}

#[actix_web::test]
async fn a_switched_off_api_version_fails_naming_the_setting() {
    let (app, server, org, _, id) =
        ada_on("linkedin", &[("SOCIALGATE_LINKEDIN_VERSION", "202501")]).await;
    linkedin::mount_publishing(&server, "urn:li:person:ada-sub").await;
    let channel = app.channel(&org, &id).await;
    let refused = app.publish(&channel, "hello", vec![], None).await;
    match refused {
        Err(ProviderError::BadBody(m)) => {
            assert!(m.contains("SOCIALGATE_LINKEDIN_VERSION"), "{m}");
            assert!(m.contains("20250101 is not active"), "{m}");
        }
        other => panic!("not a lasting error: {other:?}"),
    }
}

#[actix_web::test]
async fn a_company_page_reports_its_statistics() {
    let (app, server, _, key, id) = ada_on("linkedin-page", &[]).await;
    let (_, list) = app.api_get(&key, "/integrations").await;
    let page = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(page["name"], "Acme Rockets");
    let org = "urn%3Ali%3Aorganization%3A2414183";
    let day = 1_764_460_800_000_i64;
    // The time range in Rest.li 2.0 syntax, unencoded as LinkedIn requires.
    let daily = move |req: &Request| {
        let q = req.url.query().unwrap_or("");
        q.contains(&format!("={org}"))
            && q.contains("timeIntervals=(timeRange:(start:")
            && q.ends_with("),timeGranularityType:DAY)")
    };
    Mock::given(method("GET"))
        .and(path("/rest/organizationalEntityShareStatistics"))
        .and(query_param("q", "organizationalEntity"))
        .and(daily)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "elements": [
            { "timeRange": { "start": day, "end": day + 86_400_000 }, "organizationalEntity": "urn:li:organization:2414183",
              "totalShareStatistics": { "impressionCount": 120, "clickCount": 9, "likeCount": 14,
                "commentCount": 2, "shareCount": 1, "uniqueImpressionsCount": 100, "engagement": 0.2 } }
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/organizationalEntityFollowerStatistics"))
        .and(daily)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "elements": [
                { "timeRange": { "start": day, "end": day + 86_400_000 },
                  "followerGains": { "organicFollowerGain": 5, "paidFollowerGain": 0 } }
            ]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/organizationPageStatistics"))
        .and(query_param("q", "organization"))
        .and(daily)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "elements": [
                { "timeRange": { "start": day, "end": day + 86_400_000 },
                  "totalPageStatistics": { "views": { "allPageViews": { "pageViews": 42 } } } }
            ]})),
        )
        .mount(&server)
        .await;
    let (status, series) = app.api_get(&key, &format!("/analytics/{id}?date=7")).await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let total = |label: &str| -> Value {
        series
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["label"] == label)
            .unwrap_or_else(|| panic!("no {label} in {series}"))["data"][0]
            .clone()
    };
    assert_eq!(
        total("Impressions"),
        json!({ "total": "120", "date": "2025-11-30" })
    );
    assert_eq!(total("New followers")["total"], "5");
    assert_eq!(total("Page views")["total"], "42");
}

#[actix_web::test]
async fn a_channel_without_refresh_token_is_announced_a_week_ahead_and_kept_until_it_expires() {
    let (app, _server, org, key, id) = ada_on("linkedin", &[]).await;
    let channel = app.channel(&org, &id).await;
    assert!(
        !channel.has_refresh_token(),
        "LinkedIn gave no refresh token"
    );
    let expires = channel.token_expires_at.unwrap();
    let days = (expires - socialgate::db::now()).num_days();
    assert!((59..=60).contains(&days), "60 days: {days}");
    // Twelve hours before it ends: within the week, within the day-ahead refresh sweep.
    let soon = socialgate::db::now() + chrono::Duration::hours(12);
    let (row, at) = (id.clone(), soon);
    app.with_db(move |conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::integrations;
        diesel::update(integrations::table.find(row))
            .set(integrations::token_expires_at.eq(at))
            .execute(conn)
    })
    .await;
    let worker = app.start_worker();
    let notes = crate::helpers::eventually("the owners are told", || {
        let (app, key) = (&app, key.clone());
        async move {
            let (_, notes) = app.api_get(&key, "/notifications").await;
            let text = notes.to_string();
            text.contains("must be reconnected before").then_some(text)
        }
    })
    .await;
    assert!(
        notes.contains(&soon.format("%Y-%m-%d %H:%M").to_string()),
        "{notes}"
    );
    worker.stop().await;
    let channel = app.channel(&org, &id).await;
    assert!(
        !channel.refresh_needed,
        "the token still works until it expires: the channel keeps publishing"
    );
    let worker = app.start_worker();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    worker.stop().await;
    let (_, notes) = app.api_get(&key, "/notifications").await;
    assert_eq!(
        notes
            .to_string()
            .matches("must be reconnected before")
            .count(),
        1,
        "told once: {notes}"
    );
}

#[actix_web::test]
async fn pictures_become_one_carousel_document_built_here() {
    let (app, server, org, key, id) = ada_on("linkedin", &[]).await;
    let seen = linkedin::mount_publishing(&server, "urn:li:person:ada-sub").await;
    let mut paths = Vec::new();
    // Real PNGs (the fakes' tiny one is only a header and a checksum-less pixel).
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, 3, 2);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&[200; 18]).unwrap();
    }
    for name in ["one.png", "two.png"] {
        let (status, uploaded) = app.upload(&key, name, png.clone()).await;
        assert_eq!(status, StatusCode::CREATED);
        paths.push(uploaded["path"].as_str().unwrap().to_owned());
    }
    let channel = app.channel(&org, &id).await;
    let media = paths
        .iter()
        .map(|p| MediaItem {
            kind: "image".into(),
            path: p.clone(),
            alt: None,
            thumbnail: None,
            dimensions: None,
        })
        .collect();
    let settings = json!({ "post_as_images_carousel": true, "carousel_name": "Our deck" });
    app.publish_with(&channel, "Swipe through", media, settings, None)
        .await
        .unwrap();
    let documents = seen.documents.lock().unwrap().clone();
    assert_eq!(documents.len(), 1);
    let pdf = String::from_utf8_lossy(&documents[0]);
    assert!(pdf.contains("/Count 2"), "a page per picture");
    assert!(pdf.trim_end().ends_with("%%EOF"));
    let posts = seen.posts.lock().unwrap().clone();
    assert_eq!(
        posts[0]["content"],
        json!({ "media": { "title": "Our deck", "id": "urn:li:document:D4D10AQHr" } })
    );

    // Only JPEG and PNG pictures make a carousel: refused when the post is written.
    let gif = format!("{}/files/cat.gif", server.uri());
    let body = json!({ "type": "now", "shortLink": false, "tags": [], "date": "2031-01-01T00:00:00Z",
        "posts": [{ "integration": { "id": id }, "settings": { "post_as_images_carousel": true },
            "value": [{ "content": "x", "image": [{ "id": "g", "path": gif }] }] }] });
    let (status, answer) = app
        .api_send(reqwest::Method::POST, &key, "/posts", Some(body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("JPEG or PNG"), "{answer}");
}

#[actix_web::test]
async fn an_uploaded_pdf_is_posted_as_a_document_and_refused_where_documents_are_not_taken() {
    let (app, server, org, key, id) = ada_on("linkedin", &[]).await;
    let seen = linkedin::mount_publishing(&server, "urn:li:person:ada-sub").await;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let (status, uploaded) = app.upload(&key, "report.pdf", pdf.to_vec()).await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    let path = uploaded["path"].as_str().unwrap().to_owned();
    assert!(path.ends_with(".pdf"), "{path}");
    let item = || json!({ "id": uploaded["id"], "path": path });
    let post = |integration: &str, image: Vec<Value>| {
        json!({ "type": "schedule", "date": "2031-01-01T00:00:00Z", "shortLink": false, "tags": [],
            "posts": [{ "integration": { "id": integration }, "settings": {},
                "value": [{ "content": "Our report", "image": image }] }] })
    };
    // Written: accepted for LinkedIn alone, never beside a picture, nor for another network.
    let (status, answer) = app
        .api_send(
            reqwest::Method::POST,
            &key,
            "/posts",
            Some(post(&id, vec![item()])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let picture = json!({ "id": "p", "path": format!("{}/files/cat.png", server.uri()) });
    let sandbox = app.connect_sandbox(&key).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.refuses_posts(
        &key,
        vec![
            (post(&id, vec![item(), picture]), "PDF document alone"),
            (post(&sandbox, vec![item()]), "no PDF documents"),
        ],
    )
    .await;

    // Published: uploaded through the Documents API, posted with its file name as title.
    let channel = app.channel(&org, &id).await;
    let media = vec![MediaItem {
        kind: "document".into(),
        path: path.clone(),
        alt: None,
        thumbnail: None,
        dimensions: None,
    }];
    app.publish_with(&channel, "Our report", media, json!({}), None)
        .await
        .unwrap();
    let documents = seen.documents.lock().unwrap().clone();
    assert_eq!(documents, vec![pdf.to_vec()], "the PDF as uploaded");
    let posts = seen.posts.lock().unwrap().clone();
    let name = path.rsplit('/').next().unwrap();
    assert_eq!(
        posts[0]["content"],
        json!({ "media": { "title": name, "id": "urn:li:document:D4D10AQHr" } })
    );
}

#[actix_web::test]
async fn with_basic_profile_on_the_scope_is_asked_and_the_public_profile_name_kept() {
    let (app, _server, _org, key, id) =
        ada_on("linkedin", &[("SOCIALGATE_LINKEDIN_BASIC_PROFILE", "true")]).await;
    let (_, list) = app.api_get(&key, "/integrations").await;
    let channel = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(channel["profile"], "ada-lovelace", "{channel}");
}

#[actix_web::test]
async fn a_scope_the_app_lacks_is_explained_on_the_page_the_user_lands_on() {
    let server = MockServer::start().await;
    let hosts = linkedin::hosts(&server);
    let app = spawn_app_with(&[
        ("SOCIALGATE_PROVIDER_HOSTS", hosts.as_str()),
        ("SOCIALGATE_LINKEDIN_BASIC_PROFILE", "on"),
    ])
    .await;
    let tenant = app.tenant("ada@example.com").await;
    app.set_credentials(&tenant.org, "linkedin", "li-id", "li-secret", None)
        .await;
    let url = app.connect_url(&tenant.key, "linkedin").await;
    let scope = crate::helpers::query_param(&url, "scope").unwrap();
    assert_eq!(scope, "openid profile w_member_social r_basicprofile");
    let state = crate::helpers::query_param(&url, "state").unwrap();
    let page = crate::helpers::client()
        .get(app.url(&format!(
            "/postiz/integrations/social/linkedin?error=unauthorized_scope_error&error_description=Scope+%22r_basicprofile%22+is+not+authorized+for+your+application&state={state}"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("not allowed a permission") && page.contains("r_basicprofile"),
        "{page}"
    );
    assert!(page.contains("developer console"), "{page}");
}
