//! Settings → Developers → Apps (organization admins) and Settings → Approved Apps (each user).

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::apps::{self, App, AppInput, Picture};
use super::grants::{self, ApprovedApp};
use crate::AppState;
use crate::accounts::{CsrfForm, Shell, SignedIn};
use crate::error::AppError;
use crate::pages;

/// Largest app form (the picture is at most 512 KB of it).
const FORM_LIMIT: usize = 640 * 1024;

/// The app form's fields as typed, to show them again after an error.
#[derive(Default)]
pub struct AppForm {
    name: String,
    description: String,
    redirect_uris: String,
    picture_url: String,
}

impl AppForm {
    fn of(app: &App) -> AppForm {
        AppForm {
            name: app.name.clone(),
            description: app.description.clone(),
            redirect_uris: app.redirect_uris().join("\n"),
            picture_url: app.picture_url.clone().unwrap_or_default(),
        }
    }
}

/// An app just registered, with its secret shown once.
pub struct Created {
    name: String,
    client_id: String,
    client_secret: Option<String>,
}

#[derive(Template)]
#[template(path = "oauth/apps.html")]
struct AppsPage {
    shell: Shell,
    apps: Vec<App>,
    form: AppForm,
    created: Option<Created>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "oauth/app.html")]
struct AppPage {
    shell: Shell,
    app: App,
    form: AppForm,
    public_url: String,
    new_secret: Option<String>,
    revoked: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "oauth/approved_apps.html")]
struct ApprovedAppsPage {
    shell: Shell,
    apps: Vec<ApprovedApp>,
}

/// Reads the app form; the picture is an upload, a URL, or unchanged.
fn input_of(fields: &HashMap<String, Vec<u8>>) -> (AppInput, AppForm) {
    let text = |n: &str| pages::text_field(fields, n);
    let form = AppForm {
        name: text("name"),
        description: text("description"),
        redirect_uris: text("redirect_uris"),
        picture_url: text("picture_url").trim().to_owned(),
    };
    let upload = fields.get("picture").filter(|b| !b.is_empty());
    let picture = match (upload, form.picture_url.as_str()) {
        (Some(bytes), _) => Picture::Upload(bytes.clone()),
        _ if text("remove_picture") == "yes" => Picture::Remove,
        (None, "") => Picture::Keep,
        (None, url) => Picture::Url(url.to_owned()),
    };
    let input = AppInput {
        name: form.name.clone(),
        description: form.description.clone(),
        redirect_uris: form.redirect_uris.lines().map(str::to_owned).collect(),
        picture,
    };
    (input, form)
}

async fn apps_page(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    form: AppForm,
    created: Option<Created>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let org_id = me.org.id.clone();
    let apps = state.db.run(move |conn| apps::list(conn, &org_id)).await?;
    let page = AppsPage {
        shell: Shell::load(state, me, "apps").await?,
        apps,
        form,
        created,
        error,
    };
    pages::html(status, &page)
}

/// `GET /settings/developers/apps`
pub async fn list(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    apps_page(&state, &me, StatusCode::OK, AppForm::default(), None, None).await
}

/// `POST /settings/developers/apps` (multipart): the answer shows the secret, once.
pub async fn create(
    state: web::Data<AppState>,
    me: SignedIn,
    body: Multipart,
) -> Result<HttpResponse, AppError> {
    let fields = pages::read_multipart(body, FORM_LIMIT).await?;
    me.check_csrf(&state.keys, &pages::text_field(&fields, "csrf_token"))?;
    me.require_admin()?;
    let (input, form) = input_of(&fields);
    let org_id = me.org.id.clone();
    match state
        .db
        .run(move |conn| apps::create(conn, Some(&org_id), &input, false))
        .await
    {
        Ok((app, secret)) => {
            tracing::info!(client_id = %app.client_id, "OAuth app registered");
            let created = Created {
                name: app.name,
                client_id: app.client_id,
                client_secret: secret,
            };
            apps_page(
                &state,
                &me,
                StatusCode::CREATED,
                AppForm::default(),
                Some(created),
                None,
            )
            .await
        }
        Err(AppError::BadRequest(why)) => {
            apps_page(&state, &me, StatusCode::BAD_REQUEST, form, None, Some(why)).await
        }
        Err(e) => Err(e),
    }
}

async fn app_page(
    state: &AppState,
    me: &SignedIn,
    app: App,
    status: StatusCode,
    form: Option<AppForm>,
    new_secret: Option<(String, bool)>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (new_secret, revoked) = match new_secret {
        Some((s, r)) => (Some(s), r),
        None => (None, false),
    };
    let page = AppPage {
        shell: Shell::load(state, me, "apps").await?,
        form: form.unwrap_or_else(|| AppForm::of(&app)),
        app,
        public_url: state.config.public_url.clone(),
        new_secret,
        revoked,
        error,
    };
    pages::html(status, &page)
}

async fn load(state: &AppState, me: &SignedIn, id: String) -> Result<App, AppError> {
    let org_id = me.org.id.clone();
    state
        .db
        .run(move |conn| apps::get(conn, &org_id, &id))
        .await
}

/// `GET /settings/developers/apps/{id}`
pub async fn show(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    let app = load(&state, &me, path.into_inner()).await?;
    app_page(&state, &me, app, StatusCode::OK, None, None, None).await
}

/// `POST /settings/developers/apps/{id}` (multipart): edit.
pub async fn edit(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    body: Multipart,
) -> Result<HttpResponse, AppError> {
    let fields = pages::read_multipart(body, FORM_LIMIT).await?;
    me.check_csrf(&state.keys, &pages::text_field(&fields, "csrf_token"))?;
    me.require_admin()?;
    let id = path.into_inner();
    let (input, form) = input_of(&fields);
    let (org_id, app_id) = (me.org.id.clone(), id.clone());
    match state
        .db
        .run(move |conn| apps::update(conn, &org_id, &app_id, &input))
        .await
    {
        Ok(_) => Ok(pages::see_other(&format!("/settings/developers/apps/{id}"))),
        Err(AppError::BadRequest(why)) => {
            let app = load(&state, &me, id).await?;
            app_page(
                &state,
                &me,
                app,
                StatusCode::BAD_REQUEST,
                Some(form),
                None,
                Some(why),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    revoke_tokens: String,
}

/// `POST /settings/developers/apps/{id}/rotate`: shows the new secret once.
pub async fn rotate(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    form: web::Form<RotateForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    me.require_admin()?;
    let revoke = form.revoke_tokens == "yes";
    let (org_id, id) = (me.org.id.clone(), path.into_inner());
    let app_id = id.clone();
    let secret = state
        .db
        .run(move |conn| apps::rotate_secret(conn, &org_id, &app_id, revoke))
        .await?;
    tracing::info!(revoke_tokens = revoke, "client secret rotated");
    let app = load(&state, &me, id).await?;
    app_page(
        &state,
        &me,
        app,
        StatusCode::OK,
        None,
        Some((secret, revoke)),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /settings/developers/apps/{id}/delete`: needs the confirmation box ticked.
pub async fn delete(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    me.require_admin()?;
    let id = path.into_inner();
    if form.confirm != "yes" {
        let app = load(&state, &me, id).await?;
        let why = "Tick the box to confirm that deleting cannot be undone.".to_owned();
        return app_page(
            &state,
            &me,
            app,
            StatusCode::BAD_REQUEST,
            None,
            None,
            Some(why),
        )
        .await;
    }
    let org_id = me.org.id.clone();
    state
        .db
        .run(move |conn| apps::delete(conn, &org_id, &id))
        .await?;
    tracing::info!("OAuth app deleted");
    Ok(pages::see_other("/settings/developers/apps"))
}

/// `GET /settings/approved-apps`
pub async fn approved(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    let user_id = me.user_id.clone();
    let apps = state
        .db
        .run(move |conn| grants::list_for_user(conn, &user_id))
        .await?;
    let page = ApprovedAppsPage {
        shell: Shell::load(&state, &me, "approved-apps").await?,
        apps,
    };
    pages::html(StatusCode::OK, &page)
}

/// `POST /settings/approved-apps/{id}/revoke`
pub async fn revoke_approved(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let (user_id, grant_id) = (me.user_id.clone(), path.into_inner());
    state
        .db
        .run(move |conn| grants::revoke(conn, &user_id, &grant_id))
        .await?;
    tracing::info!("approved app revoked");
    Ok(pages::see_other("/settings/approved-apps"))
}
