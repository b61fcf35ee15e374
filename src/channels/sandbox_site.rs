//! The sandbox's website: its authorization page (approves at once and returns to our own
//! callback, never elsewhere), and the pages listing what the organization's sandbox channels
//! published.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use super::credentials;
use crate::AppState;
use crate::accounts::SignedIn;
use crate::crypto::random_alphanumeric;
use crate::db::schema::sandbox_posts;
use crate::error::AppError;
use crate::pages;
use crate::providers::sandbox::{Sandbox, SandboxPages, SandboxPost, list_posts};
use crate::providers::{self, Provider};

/// `GET /sandbox/authorize`: approves at once and returns to our own sandbox callback.
async fn authorize(
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (Some(flow), Some(redirect)) = (query.get("state"), query.get("redirect_uri")) else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "Sandbox",
            "The request names no state or redirect URI.",
        );
    };
    // Only our own callbacks: the sandbox must never be an open redirect.
    let ours = [&Sandbox as &dyn Provider, &SandboxPages]
        .into_iter()
        .map(|p| credentials::default_redirect_uri(&state.config, p))
        .find(|uri| uri == redirect);
    let Some(expected) = ours.filter(|_| providers::offered(&state.config, &Sandbox)) else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "Sandbox",
            "The sandbox answers only socialgate's own callback.",
        );
    };
    let code = format!("sbx_{}", random_alphanumeric(32));
    Ok(pages::see_other(&format!(
        "{expected}?code={code}&state={}",
        crate::percent::url_encode(flow)
    )))
}

#[derive(Template)]
#[template(path = "channels/sandbox.html")]
struct SandboxPage {
    posts: Vec<SandboxPost>,
    organization: String,
}

/// `GET /sandbox`: what the organization's sandbox channels published.
async fn page(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    let org = me.org.id.clone();
    let posts = state.db.run(move |conn| list_posts(conn, &org)).await?;
    pages::html(
        StatusCode::OK,
        &SandboxPage {
            posts,
            organization: me.org.name.clone(),
        },
    )
}

#[derive(Template)]
#[template(path = "channels/sandbox_post.html")]
struct PostPage {
    post: SandboxPost,
}

/// `GET /sandbox/posts/{id}`: one published sandbox post (its public URL, like a real network's).
async fn post_page(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let post: Option<SandboxPost> = state
        .db
        .run(move |conn| {
            sandbox_posts::table
                .find(&id)
                .first(conn)
                .optional()
                .map_err(AppError::from)
        })
        .await?;
    match post {
        Some(post) => pages::html(StatusCode::OK, &PostPage { post }),
        None => pages::message(
            StatusCode::NOT_FOUND,
            "Sandbox",
            "No sandbox post has this id.",
        ),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sandbox", web::get().to(page))
        .route("/sandbox/authorize", web::get().to(authorize))
        .route("/sandbox/posts/{id}", web::get().to(post_page));
}
