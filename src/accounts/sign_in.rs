//! Sign up, sign in and sign out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf::PreSession;
use super::sessions::{self, SignedIn};
use super::throttle::{self, PER_ACCOUNT, PER_ACCOUNT_AND_CLIENT, PER_IP};
use super::users::{self, NewUserOrg};
use crate::AppState;
use crate::config::Signups;
use crate::crypto::password;
use crate::error::AppError;
use crate::pages;

#[derive(Template)]
#[template(path = "accounts/sign_in.html")]
struct SignInPage {
    csrf_token: String,
    next: String,
    email: String,
    error: Option<String>,
    signups_open: bool,
}

#[derive(Template)]
#[template(path = "accounts/sign_up.html")]
struct SignUpPage {
    csrf_token: String,
    name: String,
    email: String,
    organization: String,
    error: Option<String>,
    open: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    organization: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// Whether the sign-up page accepts new people.
fn signups_open(state: &AppState) -> bool {
    state.config.signups == Signups::Open
}

/// `GET /signin`
pub async fn sign_in_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let pre = PreSession::of(&req);
    let page = SignInPage {
        csrf_token: pre.token(&state.keys),
        next: pages::local_path(&query.next, "/settings").to_owned(),
        email: String::new(),
        error: None,
        signups_open: signups_open(&state),
    };
    Ok(pre.attach(&state.config, pages::html(StatusCode::OK, &page)?))
}

/// `POST /signin`
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let pre = PreSession::of(&req);
    pre.verify(&state.keys, &form.csrf_token)?;
    let form = form.into_inner();
    let email = users::normalize_email(&form.email);
    let client = crate::client_ip::text(&req);
    let account_key = format!("signin:account:{email}");
    let pair_key = format!("signin:account:{email}:client:{client}");
    let ip_key = format!("signin:ip:{client}");

    let keys = [
        (account_key.clone(), PER_ACCOUNT),
        (pair_key.clone(), PER_ACCOUNT_AND_CLIENT),
        (ip_key, PER_IP),
    ];
    let (checked, lookup) = (keys.clone(), email.clone());
    let looked_up = state
        .db
        .run(move |conn| {
            let keys: Vec<(&str, _)> = checked.iter().map(|(k, l)| (k.as_str(), *l)).collect();
            throttle::check_all(conn, &keys)?;
            users::find_user_by_email(conn, &lookup)
        })
        .await;
    let user = match looked_up {
        Err(AppError::TooManyRequests { retry_after }) => {
            let page = SignInPage {
                csrf_token: pre.token(&state.keys),
                next: pages::local_path(&form.next, "/settings").to_owned(),
                email: form.email,
                error: Some(format!(
                    "Too many failed attempts. Try again in {} minutes.",
                    retry_after.div_ceil(60)
                )),
                signups_open: signups_open(&state),
            };
            let mut response = pages::html(StatusCode::TOO_MANY_REQUESTS, &page)?;
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after),
            );
            return Ok(response);
        }
        other => other?,
    };

    let password_given = form.password.clone();
    let verified = web::block(move || match &user {
        Some(u) if password::verify(&password_given, &u.password_hash) => user,
        Some(_) => None,
        None => {
            password::verify_dummy(&password_given);
            None
        }
    })
    .await
    .map_err(|_| AppError::internal("password check cancelled"))?;

    let Some(user) = verified else {
        state
            .db
            .run(move |conn| {
                keys.iter()
                    .try_for_each(|(key, limit)| throttle::record_failure(conn, key, *limit))
            })
            .await?;
        tracing::info!("sign-in failed");
        let page = SignInPage {
            csrf_token: pre.token(&state.keys),
            next: pages::local_path(&form.next, "/settings").to_owned(),
            email: form.email,
            error: Some("Wrong email or password.".into()),
            signups_open: signups_open(&state),
        };
        return pages::html(StatusCode::UNAUTHORIZED, &page);
    };

    let keys = state.keys.clone();
    let user_id = user.id.clone();
    let token = state
        .db
        .run(move |conn| {
            throttle::clear(conn, &account_key)?;
            throttle::clear(conn, &pair_key)?;
            let org = users::organizations_of(conn, &user_id)?
                .into_iter()
                .next()
                .ok_or_else(|| AppError::forbidden("This account belongs to no organization"))?;
            sessions::start(conn, &keys, &user_id, &org.id)
        })
        .await?;
    tracing::info!(user_id = %user.id, "signed in");
    let mut response = pages::see_other(pages::local_path(&form.next, "/settings"));
    let _ = response.add_cookie(&sessions::session_cookie(&state.config, token));
    Ok(response)
}

/// `GET /signup`
pub async fn sign_up_page(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let pre = PreSession::of(&req);
    let open = signups_open(&state);
    let page = SignUpPage {
        csrf_token: pre.token(&state.keys),
        name: String::new(),
        email: String::new(),
        organization: String::new(),
        error: None,
        open,
    };
    let status = if open {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    Ok(pre.attach(&state.config, pages::html(status, &page)?))
}

fn check_sign_up(form: &SignUpForm) -> Result<(), String> {
    let email = form.email.trim();
    let valid_email = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid_email {
        return Err("Enter a valid email address.".into());
    }
    if form.password.chars().count() < 8 {
        return Err("The password must have at least 8 characters.".into());
    }
    if form.password.len() > 1024 {
        return Err("The password must have at most 1024 bytes.".into());
    }
    if form.name.chars().count() > 100 || form.organization.chars().count() > 100 {
        return Err("Names must have at most 100 characters.".into());
    }
    Ok(())
}

/// `POST /signup`: every new account gets its own organization and is its admin.
pub async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignUpForm>,
) -> Result<HttpResponse, AppError> {
    let pre = PreSession::of(&req);
    pre.verify(&state.keys, &form.csrf_token)?;
    let form = form.into_inner();
    let open = signups_open(&state);
    let rejected = |error: String, status: StatusCode| {
        let page = SignUpPage {
            csrf_token: pre.token(&state.keys),
            name: form.name.clone(),
            email: form.email.clone(),
            organization: form.organization.clone(),
            error: Some(error),
            open,
        };
        pages::html(status, &page)
    };
    if !open {
        return rejected("Sign-ups are closed.".into(), StatusCode::FORBIDDEN);
    }
    if let Err(why) = check_sign_up(&form) {
        return rejected(why, StatusCode::BAD_REQUEST);
    }

    let name = match form.name.trim() {
        "" => form
            .email
            .trim()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned(),
        n => n.to_owned(),
    };
    let org_name = match form.organization.trim() {
        "" => format!("{name}'s organization"),
        o => o.to_owned(),
    };
    let password = form.password.clone();
    let hash = web::block(move || password::hash(&password))
        .await
        .map_err(|_| AppError::internal("password hashing cancelled"))?;
    let (email, keys) = (form.email.clone(), state.keys.clone());
    let created = state
        .db
        .run(move |conn| {
            let (user_id, org_id) =
                users::create_user(conn, &email, &name, hash, NewUserOrg::Create(&org_name))?;
            sessions::start(conn, &keys, &user_id, &org_id).map(|t| (user_id, t))
        })
        .await;
    match created {
        Ok((user_id, token)) => {
            tracing::info!(%user_id, "signed up");
            let mut response = pages::see_other("/settings");
            let _ = response.add_cookie(&sessions::session_cookie(&state.config, token));
            Ok(response)
        }
        Err(AppError::Conflict(_)) => rejected(
            "An account with this email already exists. Sign in instead.".into(),
            StatusCode::CONFLICT,
        ),
        Err(e) => Err(e),
    }
}

/// `POST /signout`
pub async fn sign_out(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let sid = me.session_id.clone();
    state.db.run(move |conn| sessions::end(conn, &sid)).await?;
    let mut response = pages::see_other("/signin");
    let _ = response.add_cookie(&sessions::cleared_cookie(&state.config));
    Ok(response)
}
