//! The credentials form of networks that connect with an app password (Bluesky): bound to
//! the connect flow's state and a pre-session CSRF token; the platform checks the credentials
//! before the channel is saved, and a refused attempt keeps the flow for a correction.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::flow::{done, finish, live_flow, problem};
use crate::AppState;
use crate::accounts::SignedIn;
use crate::accounts::csrf::PreSession;
use crate::error::AppError;
use crate::pages;
use crate::providers::{self, AuthInput, AuthKind, Provider};

#[derive(Template)]
#[template(path = "channels/password_form.html")]
struct CredentialsForm<'a> {
    provider: &'a str,
    identifier: &'a str,
    state: &'a str,
    csrf_token: String,
    fields: Vec<FormField>,
    error: Option<String>,
}

struct FormField {
    key: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
}

fn form_fields(provider: &dyn Provider, values: &HashMap<String, String>) -> Vec<FormField> {
    provider
        .info()
        .custom_fields
        .iter()
        .map(|f| FormField {
            key: f.key,
            label: f.label,
            kind: f.kind,
            // Passwords are never echoed back into the page.
            value: if f.kind == "password" {
                String::new()
            } else {
                values
                    .get(f.key)
                    .cloned()
                    .unwrap_or_else(|| f.default_value.to_owned())
            },
        })
        .collect()
}

fn render_form(
    state: &AppState,
    req: &HttpRequest,
    provider: &dyn Provider,
    flow_state: &str,
    values: &HashMap<String, String>,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let pre = PreSession::of(req);
    let page = CredentialsForm {
        provider: provider.info().name,
        identifier: provider.info().identifier,
        state: flow_state,
        csrf_token: pre.token(&state.keys),
        fields: form_fields(provider, values),
        error,
    };
    Ok(pre.attach(&state.config, pages::html(status, &page)?))
}

const NO_FORM: &str = "This network does not connect with a credentials form.";

/// The network of a credentials-form route, if it connects that way.
fn credentials_provider(name: &str) -> Option<&'static dyn Provider> {
    providers::get(name).filter(|p| p.info().auth == AuthKind::Credentials)
}

/// `GET /integrations/social/{provider}/connect?state=…`: the credentials form.
pub(super) async fn page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let Some(provider) = credentials_provider(&path) else {
        return problem(StatusCode::NOT_FOUND, NO_FORM);
    };
    let flow_state = query.get("state").cloned().unwrap_or_default();
    if let Err(m) = live_flow(&state, &flow_state, provider, me.as_ref()).await? {
        return problem(StatusCode::BAD_REQUEST, m);
    }
    render_form(
        &state,
        &req,
        provider,
        &flow_state,
        &HashMap::new(),
        StatusCode::OK,
        None,
    )
}

/// `POST /integrations/social/{provider}/connect`: checks the credentials with the network,
/// then saves the channel. A refused attempt keeps the flow so the user can correct it.
pub(super) async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    me: Option<SignedIn>,
) -> Result<HttpResponse, AppError> {
    let Some(provider) = credentials_provider(&path) else {
        return problem(StatusCode::NOT_FOUND, NO_FORM);
    };
    let mut values = form.into_inner();
    PreSession::of(&req).verify(
        &state.keys,
        values.get("csrf_token").map(String::as_str).unwrap_or(""),
    )?;
    let flow_state = values.remove("state").unwrap_or_default();
    let flow = match live_flow(&state, &flow_state, provider, me.as_ref()).await? {
        Ok(f) => f,
        Err(m) => return problem(StatusCode::BAD_REQUEST, m),
    };
    for field in provider.info().custom_fields {
        if values.get(field.key).is_none_or(|v| v.trim().is_empty()) {
            let error = format!("{} is required.", field.label);
            return render_form(
                &state,
                &req,
                provider,
                &flow_state,
                &values,
                StatusCode::BAD_REQUEST,
                Some(error),
            );
        }
    }
    let fields: HashMap<String, String> = provider
        .info()
        .custom_fields
        .iter()
        .filter_map(|f| {
            values
                .get(f.key)
                .map(|v| (f.key.to_owned(), v.trim().to_owned()))
        })
        .collect();
    let return_url = flow.return_url.clone();
    let input = AuthInput {
        fields,
        ..AuthInput::default()
    };
    match finish(&state, provider, flow, input).await? {
        Ok(channel) => done(&state, return_url, me.as_ref(), &channel).await,
        Err(message) => render_form(
            &state,
            &req,
            provider,
            &flow_state,
            &values,
            StatusCode::BAD_REQUEST,
            Some(message),
        ),
    }
}
