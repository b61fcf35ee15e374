//! Channels (Postiz's "integrations"): connected accounts with sealed tokens, soft deletion,
//! posting times and customers.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::crypto::{Keys, new_id};
use crate::db::schema::{customers, integrations};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::providers::{AdditionalSetting, ChannelAuth, ConnectedAccount, Provider, Tokens};

/// Marks the organization's channel list changed, for the rendered lists this process keeps
/// (other instances hear the trigger's notice, `db::notices`).
fn changed(org_id: &str) {
    crate::db::notices::channels_changed(org_id);
}

/// Posting slots of a new channel, in minutes after midnight UTC (Postiz's default).
pub const DEFAULT_POSTING_TIMES: &str = r#"[{"time":120},{"time":400},{"time":700}]"#;

/// A channel as stored (tokens still sealed).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = integrations)]
pub struct Channel {
    pub id: String,
    pub organization_id: String,
    pub internal_id: String,
    pub provider: String,
    pub name: String,
    pub picture: Option<String>,
    pub profile: Option<String>,
    access_token: String,
    refresh_token: Option<String>,
    pub token_expires_at: Option<NaiveDateTime>,
    pub instance_url: Option<String>,
    pub disabled: bool,
    pub refresh_needed: bool,
    pub in_between_steps: bool,
    pub posting_times: String,
    pub customer_id: Option<String>,
    pub additional_settings: String,
    pub root_internal_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    /// When the refresh token ends, where the network says.
    pub refresh_expires_at: Option<NaiveDateTime>,
}

/// A customer ("group" in the Public API) that channels can belong to.
#[derive(Clone, Debug, Queryable, Serialize)]
pub struct Customer {
    pub id: String,
    #[serde(skip)]
    pub organization_id: String,
    pub name: String,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, Serialize)]
struct PostingTime {
    time: i32,
}

impl Channel {
    /// Whether the network gave a refresh token (else the user reconnects when it expires).
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }

    /// Minutes after midnight UTC at which this channel likes to publish.
    pub fn posting_minutes(&self) -> Vec<i32> {
        serde_json::from_str::<Vec<PostingTime>>(&self.posting_times)
            .map(|v| v.into_iter().map(|t| t.time).collect())
            .unwrap_or_default()
    }

    pub fn additional(&self) -> Vec<AdditionalSetting> {
        crate::db::json_column(
            &self.additional_settings,
            "integrations.additional_settings",
        )
    }

    /// `active`, `disabled` or `refresh needed`.
    pub fn status(&self) -> &'static str {
        if self.refresh_needed {
            "refresh needed"
        } else if self.in_between_steps {
            "pick a page"
        } else if self.disabled {
            "disabled"
        } else {
            "active"
        }
    }

    /// The provider, if socialgate still knows it.
    pub fn provider(&self) -> Option<&'static dyn Provider> {
        crate::providers::get(&self.provider)
    }

    /// The sealed token columns, for tests and audits that check they are not plaintext.
    pub fn sealed_tokens(&self) -> (&str, Option<&str>) {
        (&self.access_token, self.refresh_token.as_deref())
    }
}

/// Creates the channel, or revives and updates the one with the same account in this
/// organization (a reconnect). With `refresh`, the account must be that channel's.
pub fn upsert(
    conn: &mut DbConn,
    keys: &Keys,
    org_id: &str,
    provider: &dyn Provider,
    account: &ConnectedAccount,
    refresh: Option<&str>,
) -> Result<Channel, AppError> {
    if let Some(refresh_id) = refresh {
        let target = get(conn, org_id, refresh_id)?;
        if target.internal_id != account.internal_id {
            return Err(AppError::bad_request(format!(
                "This reconnects the channel {}, but you signed in as another account ({}). Sign in with the same account.",
                target.name, account.name
            )));
        }
    }
    let at = now();
    let expires = account
        .tokens
        .expires_in
        .map(|s| at + Duration::seconds(s.clamp(0, 10 * 365 * 86_400)));
    let access = keys.seal(&account.tokens.access_token);
    let refresh_token = account
        .tokens
        .refresh_token
        .as_deref()
        .map(|t| keys.seal(t));
    let refresh_expires = refresh_ends(at, &account.tokens);
    let additional =
        serde_json::to_string(&account.additional_settings).unwrap_or_else(|_| "[]".into());
    let between = provider.info().between_steps && !account.picked;
    crate::db::write_transaction(conn, |conn| {
        let existing: Option<String> = integrations::table
            .filter(integrations::organization_id.eq(org_id))
            .filter(integrations::internal_id.eq(&account.internal_id))
            .select(integrations::id)
            .first(conn)
            .optional()?;
        let id = match existing {
            Some(id) => {
                diesel::update(integrations::table.find(&id))
                    .set((
                        integrations::provider.eq(provider.info().identifier),
                        integrations::name.eq(&account.name),
                        integrations::picture.eq(&account.picture),
                        integrations::profile.eq(&account.username),
                        integrations::access_token.eq(&access),
                        integrations::refresh_token.eq(&refresh_token),
                        integrations::token_expires_at.eq(expires),
                        integrations::refresh_expires_at.eq(refresh_expires),
                        integrations::instance_url.eq(&account.instance_url),
                        integrations::refresh_needed.eq(false),
                        integrations::expiry_warned_at.eq(None::<NaiveDateTime>),
                        integrations::in_between_steps.eq(between),
                        integrations::updated_at.eq(at),
                        integrations::deleted_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)?;
                id
            }
            None => {
                let id = new_id();
                diesel::insert_into(integrations::table)
                    .values((
                        integrations::id.eq(&id),
                        integrations::organization_id.eq(org_id),
                        integrations::internal_id.eq(&account.internal_id),
                        integrations::provider.eq(provider.info().identifier),
                        integrations::name.eq(&account.name),
                        integrations::picture.eq(&account.picture),
                        integrations::profile.eq(&account.username),
                        integrations::access_token.eq(&access),
                        integrations::refresh_token.eq(&refresh_token),
                        integrations::token_expires_at.eq(expires),
                        integrations::refresh_expires_at.eq(refresh_expires),
                        integrations::instance_url.eq(&account.instance_url),
                        integrations::disabled.eq(false),
                        integrations::refresh_needed.eq(false),
                        integrations::expiry_warned_at.eq(None::<NaiveDateTime>),
                        integrations::in_between_steps.eq(between),
                        integrations::posting_times.eq(DEFAULT_POSTING_TIMES),
                        integrations::additional_settings.eq(&additional),
                        integrations::created_at.eq(at),
                        integrations::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                id
            }
        };
        Ok::<_, AppError>(id)
    })
    .and_then(|id| {
        changed(org_id);
        get(conn, org_id, &id)
    })
}

/// Makes the picked page the channel: its account, name and tokens. When the organization
/// already has a channel for that page (perhaps deleted), that one is revived and updated and
/// the waiting one removed.
pub fn settle_page(
    conn: &mut DbConn,
    keys: &Keys,
    waiting: &Channel,
    page: &ConnectedAccount,
) -> Result<Channel, AppError> {
    let at = now();
    let access = keys.seal(&page.tokens.access_token);
    let refresh = page.tokens.refresh_token.as_deref().map(|t| keys.seal(t));
    let expires = page.tokens.expires_in.map(|s| at + Duration::seconds(s));
    let id = crate::db::write_transaction(conn, |conn| {
        let existing: Option<String> = integrations::table
            .filter(integrations::organization_id.eq(&waiting.organization_id))
            .filter(integrations::internal_id.eq(&page.internal_id))
            .filter(integrations::id.ne(&waiting.id))
            .select(integrations::id)
            .first(conn)
            .optional()?;
        let target = match existing {
            Some(other) => {
                diesel::delete(integrations::table.find(&waiting.id)).execute(conn)?;
                other
            }
            None => waiting.id.clone(),
        };
        diesel::update(integrations::table.find(&target))
            .set((
                integrations::internal_id.eq(&page.internal_id),
                integrations::name.eq(&page.name),
                integrations::picture.eq(&page.picture),
                integrations::profile.eq(&page.username),
                integrations::access_token.eq(&access),
                integrations::refresh_token.eq(&refresh),
                integrations::token_expires_at.eq(expires),
                integrations::root_internal_id.eq(&waiting.internal_id),
                integrations::in_between_steps.eq(false),
                integrations::refresh_needed.eq(false),
                integrations::expiry_warned_at.eq(None::<NaiveDateTime>),
                integrations::updated_at.eq(at),
                integrations::deleted_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok::<_, AppError>(target)
    })?;
    changed(&waiting.organization_id);
    get(conn, &waiting.organization_id, &id)
}

/// The organization's channels that are not deleted, optionally of one customer.
pub fn list(
    conn: &mut DbConn,
    org_id: &str,
    customer: Option<&str>,
) -> Result<Vec<Channel>, AppError> {
    let mut query = integrations::table
        .filter(integrations::organization_id.eq(org_id))
        .filter(integrations::deleted_at.is_null())
        .select(Channel::as_select())
        .order(integrations::created_at.asc())
        .into_boxed();
    if let Some(c) = customer {
        query = query.filter(integrations::customer_id.eq(c.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// One live channel of the organization, or 404.
pub fn get(conn: &mut DbConn, org_id: &str, id: &str) -> Result<Channel, AppError> {
    integrations::table
        .filter(integrations::id.eq(id))
        .filter(integrations::organization_id.eq(org_id))
        .filter(integrations::deleted_at.is_null())
        .select(Channel::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("Channel not found"))
}

/// Soft-deletes a channel; reconnecting the same account revives it.
pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> Result<(), AppError> {
    let n = diesel::update(
        integrations::table
            .filter(integrations::id.eq(id))
            .filter(integrations::organization_id.eq(org_id))
            .filter(integrations::deleted_at.is_null()),
    )
    .set((
        integrations::deleted_at.eq(now()),
        integrations::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("Channel not found"));
    }
    changed(org_id);
    Ok(())
}

/// Disables or enables a channel.
pub fn set_disabled(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    disabled: bool,
) -> Result<(), AppError> {
    get(conn, org_id, id)?;
    diesel::update(integrations::table.find(id))
        .set((
            integrations::disabled.eq(disabled),
            integrations::updated_at.eq(now()),
        ))
        .execute(conn)?;
    changed(org_id);
    Ok(())
}

/// Parses "09:00, 14:30" (UTC) into minutes after midnight.
pub fn parse_posting_times(text: &str) -> Result<Vec<i32>, String> {
    let mut out = Vec::new();
    for part in text
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (h, m) = part
            .split_once(':')
            .ok_or_else(|| format!("{part:?} is not a time such as 09:30"))?;
        let (h, m): (i32, i32) = (
            h.parse()
                .map_err(|_| format!("{part:?} is not a time such as 09:30"))?,
            m.parse()
                .map_err(|_| format!("{part:?} is not a time such as 09:30"))?,
        );
        if !(0..24).contains(&h) || !(0..60).contains(&m) {
            return Err(format!("{part:?} is not a time of day"));
        }
        out.push(h * 60 + m);
    }
    if out.len() > 48 {
        return Err("at most 48 posting times".into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Sets a channel's posting times and customer (by name; empty = none, created when new).
pub fn set_preferences(
    conn: &mut DbConn,
    org_id: &str,
    id: &str,
    minutes: &[i32],
    customer_name: Option<&str>,
) -> Result<(), AppError> {
    get(conn, org_id, id)?;
    let times: Vec<PostingTime> = minutes.iter().map(|&time| PostingTime { time }).collect();
    let times = serde_json::to_string(&times).map_err(AppError::internal)?;
    let customer_id = match customer_name.map(str::trim).filter(|n| !n.is_empty()) {
        None => None,
        Some(name) if name.chars().count() > 100 => {
            return Err(AppError::bad_request(
                "a customer name has at most 100 characters",
            ));
        }
        Some(name) => Some(find_or_create_customer(conn, org_id, name)?),
    };
    diesel::update(integrations::table.find(id))
        .set((
            integrations::posting_times.eq(times),
            integrations::customer_id.eq(customer_id),
            integrations::updated_at.eq(now()),
        ))
        .execute(conn)?;
    changed(org_id);
    Ok(())
}

fn find_or_create_customer(
    conn: &mut DbConn,
    org_id: &str,
    name: &str,
) -> Result<String, AppError> {
    let found: Option<String> = customers::table
        .filter(customers::organization_id.eq(org_id))
        .filter(customers::name.eq(name))
        .select(customers::id)
        .first(conn)
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = new_id();
    diesel::insert_into(customers::table)
        .values((
            customers::id.eq(&id),
            customers::organization_id.eq(org_id),
            customers::name.eq(name),
            customers::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The organization's customers.
pub fn customers_of(conn: &mut DbConn, org_id: &str) -> Result<Vec<Customer>, AppError> {
    Ok(customers::table
        .filter(customers::organization_id.eq(org_id))
        .order(customers::name.asc())
        .load(conn)?)
}

/// Opens a channel's tokens and resolves the app it was connected with.
pub fn auth(
    conn: &mut DbConn,
    keys: &Keys,
    config: &Config,
    channel: &Channel,
) -> Result<ChannelAuth, AppError> {
    let provider = channel.provider().ok_or_else(|| {
        AppError::bad_request(format!(
            "the provider {} is not available",
            channel.provider
        ))
    })?;
    let open = |v: &str| keys.open(v).map_err(AppError::from);
    Ok(ChannelAuth {
        internal_id: channel.internal_id.clone(),
        access_token: open(&channel.access_token)?,
        refresh_token: channel.refresh_token.as_deref().map(open).transpose()?,
        instance_url: channel.instance_url.clone(),
        username: channel.profile.clone(),
        additional_settings: channel.additional(),
        app: super::credentials::resolve(conn, keys, config, &channel.organization_id, provider)?,
        expires_in: channel
            .token_expires_at
            .map(|at| (at - now()).num_seconds().max(0)),
    })
}

/// Stores refreshed tokens. A refresh that brings no new refresh token (Google's) keeps the
/// one the channel has.
pub fn save_tokens(
    conn: &mut DbConn,
    keys: &Keys,
    id: &str,
    tokens: &Tokens,
) -> Result<(), AppError> {
    let at = now();
    if let Some(refresh) = tokens.refresh_token.as_deref() {
        diesel::update(integrations::table.find(id))
            .set((
                integrations::refresh_token.eq(keys.seal(refresh)),
                integrations::refresh_expires_at.eq(refresh_ends(at, tokens)),
            ))
            .execute(conn)?;
    }
    diesel::update(integrations::table.find(id))
        .set((
            integrations::access_token.eq(keys.seal(&tokens.access_token)),
            integrations::token_expires_at.eq(tokens.expires_in.map(|s| at + Duration::seconds(s))),
            integrations::refresh_needed.eq(false),
            integrations::expiry_warned_at.eq(None::<NaiveDateTime>),
            integrations::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// When a refresh token given now ends, where the network says (at most ten years on).
fn refresh_ends(at: NaiveDateTime, tokens: &Tokens) -> Option<NaiveDateTime> {
    tokens
        .refresh_token
        .as_ref()
        .and(tokens.refresh_expires_in)
        .map(|s| at + Duration::seconds(s.clamp(0, 10 * 365 * 86_400)))
}

impl Channel {
    /// When the channel's access ends for good unless the user reconnects: its refresh
    /// token's end, or without one its access token's.
    pub fn access_ends_at(&self) -> Option<NaiveDateTime> {
        match &self.refresh_token {
            Some(_) => self.refresh_expires_at,
            None => self.token_expires_at,
        }
    }
}

/// Marks a channel as needing the user to reconnect it.
pub fn mark_refresh_needed(conn: &mut DbConn, id: &str) -> Result<(), AppError> {
    diesel::update(integrations::table.find(id))
        .set((
            integrations::refresh_needed.eq(true),
            integrations::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Live channels whose tokens expire before `before` and can be refreshed.
pub fn expiring(conn: &mut DbConn, before: NaiveDateTime) -> Result<Vec<Channel>, AppError> {
    let rows: Vec<Channel> = integrations::table
        .filter(integrations::deleted_at.is_null())
        .filter(integrations::refresh_needed.eq(false))
        .filter(integrations::token_expires_at.lt(before))
        .select(Channel::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|c| {
            c.provider()
                .is_some_and(|p| p.info().refresh != crate::providers::RefreshPolicy::Never)
        })
        .collect())
}

/// Channels whose token expires before `before` and that have no refresh token, not yet
/// warned about it: each is marked warned and returned, to be told once.
pub fn to_warn_of_expiry(
    conn: &mut DbConn,
    before: NaiveDateTime,
) -> Result<Vec<Channel>, AppError> {
    let ending_access = integrations::refresh_token
        .is_null()
        .and(integrations::token_expires_at.lt(before));
    let ending_refresh = integrations::refresh_token
        .is_not_null()
        .and(integrations::refresh_expires_at.lt(before));
    let rows: Vec<Channel> = integrations::table
        .filter(integrations::deleted_at.is_null())
        .filter(integrations::refresh_needed.eq(false))
        .filter(integrations::expiry_warned_at.is_null())
        .filter(ending_access.or(ending_refresh))
        .select(Channel::as_select())
        .load(conn)?;
    for channel in &rows {
        diesel::update(integrations::table.find(&channel.id))
            .set(integrations::expiry_warned_at.eq(now()))
            .execute(conn)?;
    }
    Ok(rows)
}

/// Re-encrypts every channel token (a master-key rotation); returns how many values moved.
pub fn reseal_all(
    conn: &mut DbConn,
    reseal: &dyn Fn(&str) -> Result<String, AppError>,
) -> Result<usize, AppError> {
    let rows: Vec<(String, String, Option<String>)> = integrations::table
        .select((
            integrations::id,
            integrations::access_token,
            integrations::refresh_token,
        ))
        .load(conn)?;
    let count = rows.len();
    for (id, access, refresh) in rows {
        diesel::update(integrations::table.find(&id))
            .set((
                integrations::access_token.eq(reseal(&access)?),
                integrations::refresh_token.eq(refresh.as_deref().map(reseal).transpose()?),
            ))
            .execute(conn)?;
    }
    Ok(count)
}
