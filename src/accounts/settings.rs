//! Settings pages: the shell (organization switcher, sections), Members and Developers → Public API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::api_keys::{self, ApiKey};
use super::sessions::{self, SignedIn};
use super::sign_in::CsrfForm;
use super::users::{self, Member, Organization, Role};
use crate::AppState;
use crate::error::AppError;
use crate::pages;

/// What every settings page shows around its content.
pub struct Shell {
    pub user_name: String,
    pub role: &'static str,
    pub is_admin: bool,
    pub organization_id: String,
    pub organization_name: String,
    pub organizations: Vec<Organization>,
    pub csrf_token: String,
    pub section: &'static str,
}

impl Shell {
    pub async fn load(
        state: &AppState,
        me: &SignedIn,
        section: &'static str,
    ) -> Result<Shell, AppError> {
        let user_id = me.user_id.clone();
        let organizations = state
            .db
            .run(move |conn| users::organizations_of(conn, &user_id))
            .await?;
        Ok(Shell {
            user_name: if me.name.is_empty() {
                me.email.clone()
            } else {
                me.name.clone()
            },
            role: me.role.as_str(),
            is_admin: me.is_admin(),
            organization_id: me.org.id.clone(),
            organization_name: me.org.name.clone(),
            organizations,
            csrf_token: me.csrf_token.clone(),
            section,
        })
    }
}

#[derive(Template)]
#[template(path = "accounts/members.html")]
struct MembersPage {
    shell: Shell,
    members: Vec<Member>,
    error: Option<String>,
}

/// A key just created, shown once.
struct CreatedKey {
    name: String,
    key: String,
}

#[derive(Template)]
#[template(path = "accounts/api_keys.html")]
struct ApiKeysPage {
    shell: Shell,
    keys: Vec<ApiKey>,
    created: Option<CreatedKey>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    organization_id: String,
}

#[derive(Deserialize)]
pub struct AddMemberForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct CreateKeyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
}

/// `GET /` and `GET /settings`
pub async fn home(_me: SignedIn) -> HttpResponse {
    pages::see_other("/settings/members")
}

/// `POST /settings/organization`: act in another organization of mine.
pub async fn switch_organization(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    let (sid, user_id, org_id) = (me.session_id, me.user_id, form.organization_id.clone());
    state
        .db
        .run(move |conn| {
            users::membership(conn, &org_id, &user_id)?
                .ok_or_else(|| AppError::forbidden("You are not a member of that organization"))?;
            sessions::switch_organization(conn, &sid, &org_id)
        })
        .await?;
    Ok(pages::see_other("/settings"))
}

async fn members_page(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let org_id = me.org.id.clone();
    let members = state
        .db
        .run(move |conn| users::list_members(conn, &org_id))
        .await?;
    let page = MembersPage {
        shell: Shell::load(state, me, "members").await?,
        members,
        error,
    };
    pages::html(status, &page)
}

/// `GET /settings/members`
pub async fn members(state: web::Data<AppState>, me: SignedIn) -> Result<HttpResponse, AppError> {
    members_page(&state, &me, StatusCode::OK, None).await
}

/// `POST /settings/members`: an admin adds an existing user by email.
pub async fn add_member(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<AddMemberForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    me.require_admin()?;
    let Some(role) = Role::parse(form.role.trim()) else {
        return members_page(
            &state,
            &me,
            StatusCode::BAD_REQUEST,
            Some("Choose the role admin or user.".into()),
        )
        .await;
    };
    let (org_id, email) = (me.org.id.clone(), form.email.clone());
    let added = state
        .db
        .run(move |conn| {
            let user = users::find_user_by_email(conn, &email)?.ok_or_else(|| {
                AppError::not_found("No account has this email; ask them to sign up first.")
            })?;
            if users::membership(conn, &org_id, &user.id)?.is_some() {
                return Err(AppError::Conflict(
                    "This person is already a member.".into(),
                ));
            }
            users::add_member(conn, &org_id, &user.id, role)
        })
        .await;
    match added {
        Ok(()) => Ok(pages::see_other("/settings/members")),
        Err(e @ (AppError::NotFound(_) | AppError::Conflict(_))) => {
            let status = if matches!(e, AppError::NotFound(_)) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::CONFLICT
            };
            members_page(&state, &me, status, Some(e.to_string())).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /settings/members/{user_id}/remove`
pub async fn remove_member(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    me.require_admin()?;
    let (org_id, user_id) = (me.org.id.clone(), path.into_inner());
    match state
        .db
        .run(move |conn| users::remove_member(conn, &org_id, &user_id))
        .await
    {
        Ok(()) => Ok(pages::see_other("/settings/members")),
        Err(e @ AppError::Conflict(_)) => {
            members_page(&state, &me, StatusCode::CONFLICT, Some(e.to_string())).await
        }
        Err(e) => Err(e),
    }
}

async fn api_keys_page(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    created: Option<CreatedKey>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let org_id = me.org.id.clone();
    let keys = state
        .db
        .run(move |conn| api_keys::list(conn, &org_id))
        .await?;
    let page = ApiKeysPage {
        shell: Shell::load(state, me, "public-api").await?,
        keys,
        created,
        error,
    };
    pages::html(status, &page)
}

/// `GET /settings/developers/public-api` (admins)
pub async fn api_keys_list(
    state: web::Data<AppState>,
    me: SignedIn,
) -> Result<HttpResponse, AppError> {
    me.require_admin()?;
    api_keys_page(&state, &me, StatusCode::OK, None, None).await
}

/// `POST /settings/developers/public-api`: the response is the only place the key appears.
pub async fn api_keys_create(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<CreateKeyForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    me.require_admin()?;
    let (org_id, name) = (me.org.id.clone(), form.name.clone());
    match state
        .db
        .run(move |conn| api_keys::create(conn, &org_id, &name))
        .await
    {
        Ok((row, key)) => {
            tracing::info!(key_id = %row.id, "API key created");
            let created = CreatedKey {
                name: row.name,
                key,
            };
            api_keys_page(&state, &me, StatusCode::CREATED, Some(created), None).await
        }
        Err(AppError::BadRequest(why)) => {
            api_keys_page(&state, &me, StatusCode::BAD_REQUEST, None, Some(why)).await
        }
        Err(e) => Err(e),
    }
}

/// `POST /settings/developers/public-api/{id}/revoke`
pub async fn api_keys_revoke(
    state: web::Data<AppState>,
    me: SignedIn,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    me.check_csrf(&state.keys, &form.csrf_token)?;
    me.require_admin()?;
    let (org_id, key_id) = (me.org.id.clone(), path.into_inner());
    state
        .db
        .run(move |conn| api_keys::revoke(conn, &org_id, &key_id))
        .await?;
    tracing::info!("API key revoked");
    Ok(pages::see_other("/settings/developers/public-api"))
}
