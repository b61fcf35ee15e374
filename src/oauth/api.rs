//! Session-authenticated JSON for the same actions as the settings pages. Every state-changing
//! request carries the session's CSRF token in `X-CSRF-Token` (from `GET /user/self`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::apps::{self, App, AppInput, Picture};
use super::grants;
use crate::AppState;
use crate::accounts::SignedIn;
use crate::error::AppError;

fn check_csrf(state: &AppState, me: &SignedIn, req: &HttpRequest) -> Result<(), AppError> {
    me.check_csrf_header(&state.keys, req)
}

fn app_json(app: &App) -> Value {
    json!({
        "id": app.id,
        "client_id": app.client_id,
        "name": app.name,
        "description": app.description,
        "picture": app.picture_src(),
        "redirect_uris": app.redirect_uris(),
        "public": app.is_public(),
        "created_at": app.created_at.and_utc().to_rfc3339(),
        "updated_at": app.updated_at.and_utc().to_rfc3339(),
    })
}

/// `GET /user/self`: who is signed in, where, and the token for state-changing JSON requests.
pub async fn me(me: SignedIn) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "id": me.user_id,
            "email": me.email,
            "name": me.name,
            "organization": { "id": me.org.id, "name": me.org.name, "role": me.role.as_str() },
            "csrf_token": me.csrf_token,
        }))
}

/// `GET /user/oauth-apps`
pub async fn list(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    let org_id = me.org.id.clone();
    let apps = state.db.run(move |conn| apps::list(conn, &org_id)).await?;
    Ok(HttpResponse::Ok().json(apps.iter().map(app_json).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    description: String,
    picture_url: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
}

/// `POST /user/oauth-apps` → 201 with `client_secret`, the only time it is shown.
pub async fn create(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&state, &me, &req)?;
    me.require_admin()?;
    let body = body.into_inner();
    let input = AppInput {
        name: body.name,
        description: body.description,
        redirect_uris: body.redirect_uris,
        picture: body
            .picture_url
            .filter(|u| !u.is_empty())
            .map_or(Picture::Keep, Picture::Url),
    };
    let org_id = me.org.id.clone();
    let (app, secret) = state
        .db
        .run(move |conn| apps::create(conn, Some(&org_id), &input, body.public))
        .await?;
    let mut out = app_json(&app);
    out["client_secret"] = json!(secret);
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(out))
}

/// `GET /user/oauth-apps/{id}`
pub async fn get(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    let (org_id, id) = (me.org.id.clone(), path.into_inner());
    let app = state
        .db
        .run(move |conn| apps::get(conn, &org_id, &id))
        .await?;
    Ok(HttpResponse::Ok().json(app_json(&app)))
}

#[derive(Deserialize)]
pub struct UpdateBody {
    /// Absent keeps the value; `null` is refused (only a picture can be removed).
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    /// `null` removes the picture; absent keeps it.
    #[serde(default, with = "serde_double_option")]
    picture_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    redirect_uris: Option<Vec<String>>,
}

/// A field that, when sent, must have a value (`null` is an error, not "unchanged").
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

mod serde_double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// `PUT /user/oauth-apps/{id}`: changes only the fields sent.
pub async fn update(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&state, &me, &req)?;
    me.require_admin()?;
    let (org_id, id, body) = (me.org.id.clone(), path.into_inner(), body.into_inner());
    let app = state
        .db
        .run(move |conn| {
            let current = apps::get(conn, &org_id, &id)?;
            let input = AppInput {
                name: body.name.unwrap_or(current.name.clone()),
                description: body.description.unwrap_or(current.description.clone()),
                redirect_uris: body
                    .redirect_uris
                    .unwrap_or_else(|| current.redirect_uris()),
                picture: match body.picture_url {
                    None => Picture::Keep,
                    Some(None) => Picture::Remove,
                    Some(Some(url)) if url.is_empty() => Picture::Remove,
                    Some(Some(url)) => Picture::Url(url),
                },
            };
            apps::update(conn, &org_id, &id, &input)
        })
        .await?;
    Ok(HttpResponse::Ok().json(app_json(&app)))
}

/// `DELETE /user/oauth-apps/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&state, &me, &req)?;
    me.require_admin()?;
    let (org_id, id) = (me.org.id.clone(), path.into_inner());
    state
        .db
        .run(move |conn| apps::delete(conn, &org_id, &id))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}

#[derive(Deserialize, Default)]
pub struct RotateBody {
    #[serde(default)]
    revoke_tokens: bool,
}

/// `POST /user/oauth-apps/{id}/rotate-secret` `{"revoke_tokens": bool}` → the new secret, once.
pub async fn rotate(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    check_csrf(&state, &me, &req)?;
    me.require_admin()?;
    // No body is `{}`; a body that is not the expected object is refused, so a request to
    // revoke tokens is never read as one that keeps them.
    let revoke = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        serde_json::from_slice::<RotateBody>(&body)
            .map_err(|e| AppError::bad_request(format!("Invalid request: {e}")))?
            .revoke_tokens
    };
    let (org_id, id) = (me.org.id.clone(), path.into_inner());
    let secret = state
        .db
        .run(move |conn| apps::rotate_secret(conn, &org_id, &id, revoke))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "client_secret": secret, "tokens_revoked": revoke })))
}

/// `GET /user/approved-apps`
pub async fn approved(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    let user_id = me.user_id.clone();
    let list = state
        .db
        .run(move |conn| grants::list_for_user(conn, &user_id))
        .await?;
    let out: Vec<Value> = list
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "app": { "name": a.app_name, "description": a.app_description, "client_id": a.client_id, "picture": a.picture_src },
                "organization": { "id": a.organization_id, "name": a.organization_name },
                "scope": a.scopes,
                "approved_at": a.approved_at.and_utc().to_rfc3339(),
                "last_used_at": a.last_used_at.map(|t| t.and_utc().to_rfc3339()),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `DELETE /user/approved-apps/{id}`
pub async fn revoke_approved(
    state: web::Data<AppState>,
    me: SignedIn,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&state, &me, &req)?;
    let (user_id, id) = (me.user_id.clone(), path.into_inner());
    state
        .db
        .run(move |conn| grants::revoke(conn, &user_id, &id))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true })))
}
