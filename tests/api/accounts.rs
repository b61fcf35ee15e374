use reqwest::StatusCode;

use crate::helpers::{client, input_value, spawn_app, spawn_app_with};

#[actix_web::test]
async fn sign_up_opens_settings_and_sign_out_ends_the_session() {
    let app = spawn_app().await;
    let c = client();
    let r = app
        .sign_up(&c, "ada@example.com", "correct horse battery")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("sg_session="));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(
        !cookie.contains("Secure"),
        "http public URL: no Secure flag"
    );
    let session_value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("sg_session=")
        .to_owned();

    let (status, html) = app.page(&c, "/settings/members").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ada@example.com"));
    assert!(
        html.contains("Members of Test User&#39;s organization")
            || html.contains("Members of Test User&#x27;s organization"),
        "{html}"
    );
    assert!(
        html.contains("Public API"),
        "the admin sees the Developers section"
    );

    let token = app.csrf(&c, "/settings/members").await;
    let r = app
        .post_form(&c, "/signout", &[("csrf_token", &token)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The old cookie, replayed by someone who kept it, no longer works.
    let replay = client()
        .get(app.url("/settings/members"))
        .header("cookie", format!("sg_session={session_value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(
        replay.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin?next=")
    );
}

#[actix_web::test]
async fn sign_in_page_has_the_labelled_fields() {
    let app = spawn_app().await;
    let (status, html) = app.page(&client(), "/signin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<label for=\"email\">Email</label>"));
    assert!(html.contains("<label for=\"password\">Password</label>"));
    assert!(html.contains("<button type=\"submit\">Sign in</button>"));
}

#[actix_web::test]
async fn sign_in_returns_to_the_requested_page_and_never_leaves_the_site() {
    let app = spawn_app().await;
    app.signed_up_client("bob@example.com").await;

    let c = client();
    let r = app.get(&c, "/settings/developers/public-api").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        "/signin?next=%2Fsettings%2Fdevelopers%2Fpublic-api"
    );
    let (_, html) = app.page(&c, &location).await;
    let next = input_value(&html, "next").unwrap();
    let token = input_value(&html, "csrf_token").unwrap();
    let r = app
        .post_form(
            &c,
            "/signin",
            &[
                ("csrf_token", &token),
                ("next", &next),
                ("email", "BOB@example.com "),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/settings/developers/public-api");

    let c = client();
    let token = app.csrf(&c, "/signin").await;
    let r = app
        .post_form(
            &c,
            "/signin",
            &[
                ("csrf_token", &token),
                ("next", "//evil.example/x"),
                ("email", "bob@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/settings");
}

#[actix_web::test]
async fn wrong_email_and_wrong_password_get_the_same_message() {
    let app = spawn_app().await;
    app.signed_up_client("carol@example.com").await;
    let c = client();
    let wrong_password = app
        .sign_in(&c, "carol@example.com", "not her password")
        .await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let a = wrong_password.text().await.unwrap();
    let unknown = app
        .sign_in(&c, "nobody@example.com", "not her password")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let b = unknown.text().await.unwrap();
    assert!(a.contains("Wrong email or password."));
    assert!(b.contains("Wrong email or password."));
    assert!(
        !a.contains("not her password"),
        "the password is not echoed"
    );
}

#[actix_web::test]
async fn repeated_failures_for_an_account_get_429_with_retry_after() {
    let app = spawn_app().await;
    app.signed_up_client("dave@example.com").await;
    let c = client();
    for _ in 0..10 {
        let r = app.sign_in(&c, "dave@example.com", "guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app.sign_in(&c, "dave@example.com", "a long password").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    // Another account from the same address is not locked out by this one.
    app.signed_up_client("erin@example.com").await;
    let r = app
        .sign_in(&client(), "erin@example.com", "a long password")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn repeated_failures_from_one_ip_get_429() {
    let app = spawn_app().await;
    let c = client();
    for i in 0..50 {
        let r = app
            .sign_in(&c, &format!("user{i}@example.com"), "guess guess")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app.sign_in(&c, "someone@example.com", "guess guess").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
}

#[actix_web::test]
async fn forms_without_a_valid_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let alice = app.signed_up_client("alice@example.com").await;
    let mallory = app.signed_up_client("mallory@example.com").await;
    let foreign = app.csrf(&mallory, "/settings/members").await;

    for token in ["", "forged", foreign.as_str()] {
        let r = app
            .post_form(
                &alice,
                "/settings/developers/public-api",
                &[("csrf_token", token), ("name", "sneaky")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "token {token:?}");
        let r = app
            .post_form(
                &alice,
                "/settings/members",
                &[
                    ("csrf_token", token),
                    ("email", "mallory@example.com"),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = app
            .post_form(&alice, "/signout", &[("csrf_token", token)])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let (_, html) = app.page(&alice, "/settings/developers/public-api").await;
    assert!(!html.contains("sneaky"), "no key was created");
    let (status, html) = app.page(&alice, "/settings/members").await;
    assert_eq!(status, StatusCode::OK, "still signed in");
    assert!(!html.contains("mallory@example.com"), "nobody was added");

    // Sign-in and sign-up forms need the token bound to their pre-session cookie.
    let c = client();
    let r = app
        .post_form(
            &c,
            "/signin",
            &[
                ("csrf_token", "x"),
                ("email", "alice@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .post_form(
            &c,
            "/signup",
            &[
                ("email", "new@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .sign_in(&client(), "new@example.com", "a long password")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the refused sign-up created no account"
    );
}

#[actix_web::test]
async fn sign_up_rejects_bad_input_and_duplicates() {
    let app = spawn_app().await;
    let c = client();
    let short = app.sign_up(&c, "frank@example.com", "short").await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 8 characters")
    );
    let bad_email = app.sign_up(&c, "not-an-email", "a long password").await;
    assert_eq!(bad_email.status(), StatusCode::BAD_REQUEST);
    app.signed_up_client("frank@example.com").await;
    let again = app
        .sign_up(&client(), "Frank@Example.com", "another password")
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[actix_web::test]
async fn closed_signups_refuse_new_accounts() {
    let app = spawn_app_with(&[("SOCIALGATE_SIGNUPS", "closed")]).await;
    let c = client();
    let (status, html) = app.page(&c, "/signup").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Sign-ups are closed"));
    let token = app.csrf(&c, "/signin").await;
    let r = app
        .post_form(
            &c,
            "/signup",
            &[
                ("csrf_token", &token),
                ("email", "gina@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.sign_in(&c, "gina@example.com", "a long password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn https_public_url_makes_cookies_secure() {
    let app = spawn_app_with(&[("SOCIALGATE_PUBLIC_URL", "https://gate.example.com")]).await;
    let r = app.get(&client(), "/signin").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[actix_web::test]
async fn admins_add_and_remove_members_who_then_lose_access_at_once() {
    let app = spawn_app().await;
    let admin = app.signed_up_client("owner@example.com").await;
    let member = app.signed_up_client("helper@example.com").await;

    let token = app.csrf(&admin, "/settings/members").await;
    let r = app
        .post_form(
            &admin,
            "/settings/members",
            &[
                ("csrf_token", &token),
                ("email", "nobody@example.com"),
                ("role", "user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("No account has this email")
    );
    let r = app
        .post_form(
            &admin,
            "/settings/members",
            &[
                ("csrf_token", &token),
                ("email", "helper@example.com"),
                ("role", "user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.page(&admin, "/settings/members").await;
    assert!(html.contains("helper@example.com"));

    // The helper switches to the owner's organization, where they are a plain user.
    let (_, html) = app.page(&member, "/settings/members").await;
    let owner_org = html
        .split("<option value=\"")
        .skip(1)
        .find(|o| !o.split('<').next().unwrap().contains("selected"))
        .map(|o| o.split('"').next().unwrap().to_owned())
        .expect("two organizations to choose from");
    let token = input_value(&html, "csrf_token").unwrap();
    let r = app
        .post_form(
            &member,
            "/settings/organization",
            &[("csrf_token", &token), ("organization_id", &owner_org)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.page(&member, "/settings/members").await;
    assert!(
        html.contains("owner@example.com"),
        "now acting in the owner's organization"
    );
    let (status, _) = app.page(&member, "/settings/developers/public-api").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "plain users do not manage API keys"
    );
    let r = app
        .post_form(
            &member,
            "/settings/members",
            &[
                ("csrf_token", &token),
                ("email", "owner@example.com"),
                ("role", "user"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Switching to an organization one does not belong to is refused.
    let stranger = app.signed_up_client("stranger@example.com").await;
    let stoken = app.csrf(&stranger, "/settings/members").await;
    let r = app
        .post_form(
            &stranger,
            "/settings/organization",
            &[("csrf_token", &stoken), ("organization_id", &owner_org)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The admin removes the helper: the helper's very next request is back in their own organization.
    let (_, html) = app.page(&admin, "/settings/members").await;
    let helper_id = html
        .split("/settings/members/")
        .skip(1)
        .map(|s| s.split('/').next().unwrap().to_owned())
        .find(|id| {
            html.contains(&format!(
                "{id}/remove\" class=\"inline\" data-confirm=\"Remove helper@example.com"
            ))
        })
        .expect("a remove button for the helper");
    let token = app.csrf(&admin, "/settings/members").await;
    let r = app
        .post_form(
            &admin,
            &format!("/settings/members/{helper_id}/remove"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, html) = app.page(&member, "/settings/members").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("owner@example.com"),
        "no longer sees the owner's organization"
    );

    // The last admin cannot be removed.
    let (_, html) = app.page(&admin, "/settings/members").await;
    let own_id = html
        .split("/settings/members/")
        .nth(1)
        .map(|s| s.split('/').next().unwrap().to_owned())
        .unwrap();
    let r = app
        .post_form(
            &admin,
            &format!("/settings/members/{own_id}/remove"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[actix_web::test]
async fn a_user_removed_from_their_only_organization_is_signed_out() {
    let app = spawn_app().await;
    let c = app.signed_up_client("solo@example.com").await;
    app.with_db(|conn| {
        use diesel::prelude::*;
        use socialgate::db::schema::members;
        diesel::delete(members::table).execute(conn)
    })
    .await;
    let r = app.get(&c, "/settings/members").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
