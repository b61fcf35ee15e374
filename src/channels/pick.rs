//! "Between steps": a network whose account manages pages (Facebook, LinkedIn pages, …) is
//! connected in two steps. After authenticating, the channel waits (`in_between_steps`) while
//! the user picks the page it publishes to; the pick is bound to a fresh single-use flow step.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::flow::{self, EXPIRED, consume, live_flow, problem};
use super::{Channel, FreshAuthError, fresh_auth};
use crate::AppState;
use crate::accounts::SignedIn;
use crate::accounts::csrf::PreSession;
use crate::error::AppError;
use crate::pages;
use crate::providers::{self, On, Page, Provider};

#[derive(Template)]
#[template(path = "channels/pick.html")]
struct PickPage<'a> {
    network: &'a str,
    identifier: &'a str,
    state: &'a str,
    csrf_token: String,
    pages: Vec<Page>,
    /// Why there is nothing to pick, when the list is empty.
    empty: String,
    error: Option<String>,
}

/// The waiting channel of a live pick step, with its credentials ready.
async fn waiting(
    state: &AppState,
    provider: &'static dyn Provider,
    key: &str,
    me: Option<&SignedIn>,
) -> Result<Result<(flow::Flow, Channel), String>, AppError> {
    let flow = match live_flow(state, key, provider, me).await? {
        Ok(f) => f,
        Err(m) => return Ok(Err(m.to_owned())),
    };
    let Some(id) = flow.refresh_integration_id.clone() else {
        return Ok(Err(EXPIRED.to_owned()));
    };
    let org = flow.organization_id.clone();
    let channel = state
        .db
        .run(move |conn| super::get(conn, &org, &id))
        .await?;
    if !channel.in_between_steps {
        return Ok(Err(EXPIRED.to_owned()));
    }
    Ok(Ok((flow, channel)))
}

async fn render(
    state: &AppState,
    req: &HttpRequest,
    provider: &'static dyn Provider,
    key: &str,
    channel: &Channel,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let pages_list = match fresh_auth(&state.ctx(), &state.keys, channel).await {
        Ok(auth) => provider
            .pages(&On {
                ctx: &state.ctx(),
                auth: &auth,
            })
            .await
            .map_err(|e| e.to_string()),
        Err(FreshAuthError::App(e)) => return Err(e),
        Err(FreshAuthError::Provider(e)) => Err(e.to_string()),
    };
    let pages_list = match pages_list {
        Ok(p) => p,
        Err(m) => {
            return problem(
                StatusCode::BAD_GATEWAY,
                &format!("{} did not list the pages: {m}", provider.info().name),
            );
        }
    };
    let pre = PreSession::of(req);
    let page = PickPage {
        network: provider.info().name,
        identifier: provider.info().identifier,
        state: key,
        csrf_token: pre.token(&state.keys),
        pages: pages_list,
        empty: match provider.info().no_pages {
            "" => format!("{} lists no pages for this account.", provider.info().name),
            why => why.to_owned(),
        },
        error,
    };
    Ok(pre.attach(&state.config, pages::html(status, &page)?))
}

/// `GET /integrations/social/{provider}/pick?state=…`
pub async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let Some(provider) = providers::get(&path).filter(|p| p.info().between_steps) else {
        return problem(StatusCode::NOT_FOUND, "This network has no pages to pick.");
    };
    let key = query.get("state").cloned().unwrap_or_default();
    match waiting(&state, provider, &key, me.as_ref()).await? {
        Ok((_, channel)) => {
            render(&state, &req, provider, &key, &channel, StatusCode::OK, None).await
        }
        Err(m) => problem(StatusCode::BAD_REQUEST, &m),
    }
}

/// `POST /integrations/social/{provider}/pick` with `state`, `page` and the CSRF token.
pub async fn pick(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let Some(provider) = providers::get(&path).filter(|p| p.info().between_steps) else {
        return problem(StatusCode::NOT_FOUND, "This network has no pages to pick.");
    };
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    PreSession::of(&req).verify(&state.keys, &field("csrf_token"))?;
    let key = field("state");
    let (flow, channel) = match waiting(&state, provider, &key, me.as_ref()).await? {
        Ok(found) => found,
        Err(m) => return problem(StatusCode::BAD_REQUEST, &m),
    };
    let auth = match fresh_auth(&state.ctx(), &state.keys, &channel).await {
        Ok(a) => a,
        Err(FreshAuthError::App(e)) => return Err(e),
        Err(FreshAuthError::Provider(e)) => {
            return problem(StatusCode::BAD_GATEWAY, &e.to_string());
        }
    };
    let account = match provider
        .pick_page(
            &On {
                ctx: &state.ctx(),
                auth: &auth,
            },
            &field("page"),
        )
        .await
    {
        Ok(a) => a,
        Err(e) => {
            let error = Some(format!("{} refused this page: {e}", provider.info().name));
            return render(
                &state,
                &req,
                provider,
                &key,
                &channel,
                StatusCode::BAD_REQUEST,
                error,
            )
            .await;
        }
    };
    let (keys, hash) = (state.keys.clone(), flow.state_hash.clone());
    let picked = state
        .db
        .run(move |conn| {
            if !consume(conn, &hash)? {
                return Ok(None);
            }
            super::settle_page(conn, &keys, &channel, &account).map(Some)
        })
        .await?;
    match picked {
        Some(channel) => flow::done(&state, flow.return_url.clone(), me.as_ref(), &channel).await,
        None => problem(StatusCode::BAD_REQUEST, EXPIRED),
    }
}
