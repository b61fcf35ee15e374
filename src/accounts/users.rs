//! Users, organizations and their members.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto;
use crate::db::schema::{members, organizations, users};
use crate::db::{DbConn, now};
use crate::error::AppError;

/// A person who signs in.
#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
}

/// An organization: the owner of channels, posts, API keys and apps.
#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// A member's role inside one organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// One row of an organization's member list.
#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// Emails are compared and stored trimmed and lowercased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Where a new user lands.
pub enum NewUserOrg<'a> {
    /// A fresh organization with this name.
    Create(&'a str),
    /// The organization with this name, created if there is none.
    FindOrCreate(&'a str),
}

/// Creates a user (password already hashed) who becomes admin of the chosen organization.
/// Returns (user id, organization id).
pub fn create_user(
    conn: &mut DbConn,
    email: &str,
    name: &str,
    password_hash: String,
    org: NewUserOrg<'_>,
) -> Result<(String, String), AppError> {
    let email = normalize_email(email);
    conn.transaction(|conn| {
        let taken: i64 = users::table
            .filter(users::email.eq(&email))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AppError::Conflict(
                "A user with this email already exists".into(),
            ));
        }
        let user = User {
            id: crypto::new_id(),
            email: email.clone(),
            name: name.trim().to_owned(),
            password_hash,
            created_at: now(),
        };
        diesel::insert_into(users::table)
            .values(&user)
            .execute(conn)?;
        let org_id = match org {
            NewUserOrg::Create(org_name) => create_organization(conn, org_name)?,
            NewUserOrg::FindOrCreate(org_name) => match find_organization(conn, org_name)? {
                Some(existing) => existing.id,
                None => create_organization(conn, org_name)?,
            },
        };
        add_member(conn, &org_id, &user.id, Role::Admin)?;
        Ok((user.id, org_id))
    })
}

pub fn create_organization(conn: &mut DbConn, name: &str) -> Result<String, AppError> {
    let org = Organization {
        id: crypto::new_id(),
        name: name.trim().to_owned(),
        created_at: now(),
    };
    diesel::insert_into(organizations::table)
        .values(&org)
        .execute(conn)?;
    Ok(org.id)
}

/// The organization with this id, or else the only one with this name.
pub fn find_organization(
    conn: &mut DbConn,
    id_or_name: &str,
) -> Result<Option<Organization>, AppError> {
    if let Some(org) = organizations::table
        .find(id_or_name)
        .select(Organization::as_select())
        .first(conn)
        .optional()?
    {
        return Ok(Some(org));
    }
    let mut named: Vec<Organization> = organizations::table
        .filter(organizations::name.eq(id_or_name.trim()))
        .select(Organization::as_select())
        .limit(2)
        .load(conn)?;
    match named.len() {
        0 => Ok(None),
        1 => Ok(named.pop()),
        _ => Err(AppError::Conflict(format!(
            "Several organizations are named {id_or_name:?}; use the organization id"
        ))),
    }
}

pub fn add_member(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
    role: Role,
) -> Result<(), AppError> {
    diesel::insert_into(members::table)
        .values((
            members::organization_id.eq(org_id),
            members::user_id.eq(user_id),
            members::role.eq(role.as_str()),
            members::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_user_by_email(conn: &mut DbConn, email: &str) -> Result<Option<User>, AppError> {
    Ok(users::table
        .filter(users::email.eq(normalize_email(email)))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_user(conn: &mut DbConn, id: &str) -> Result<Option<User>, AppError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// The user's role in the organization, if they are a member.
pub fn membership(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
) -> Result<Option<(Organization, Role)>, AppError> {
    let row: Option<(Organization, String)> = members::table
        .inner_join(organizations::table)
        .filter(members::organization_id.eq(org_id))
        .filter(members::user_id.eq(user_id))
        .select((Organization::as_select(), members::role))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(org, role)| Role::parse(&role).map(|r| (org, r))))
}

/// Every organization the user belongs to, oldest membership first.
pub fn organizations_of(conn: &mut DbConn, user_id: &str) -> Result<Vec<Organization>, AppError> {
    Ok(members::table
        .inner_join(organizations::table)
        .filter(members::user_id.eq(user_id))
        .order((members::created_at.asc(), organizations::id.asc()))
        .select(Organization::as_select())
        .load(conn)?)
}

pub fn list_members(conn: &mut DbConn, org_id: &str) -> Result<Vec<Member>, AppError> {
    let rows: Vec<(String, String, String, String)> = members::table
        .inner_join(users::table)
        .filter(members::organization_id.eq(org_id))
        .order(users::email.asc())
        .select((users::id, users::email, users::name, members::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, email, name, role)| {
            Role::parse(&role).map(|role| Member {
                user_id,
                email,
                name,
                role,
            })
        })
        .collect())
}

/// Removes a member; the last admin cannot be removed, so an organization is never orphaned.
pub fn remove_member(conn: &mut DbConn, org_id: &str, user_id: &str) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let role = membership(conn, org_id, user_id)?
            .map(|(_, role)| role)
            .ok_or_else(|| AppError::not_found("No such member"))?;
        if role == Role::Admin {
            let admins: i64 = members::table
                .filter(members::organization_id.eq(org_id))
                .filter(members::role.eq(Role::Admin.as_str()))
                .count()
                .get_result(conn)?;
            if admins <= 1 {
                return Err(AppError::Conflict(
                    "The last admin of an organization cannot be removed".into(),
                ));
            }
        }
        crate::db::notices::ended_here();
        diesel::delete(
            members::table
                .filter(members::organization_id.eq(org_id))
                .filter(members::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(())
    })
}

pub fn count_users(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(users::table.count().get_result(conn)?)
}
