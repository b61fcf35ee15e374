//! Outgoing webhooks: `post.published`, `post.failed`, `integration.refresh_needed` (and
//! `webhook.test`), signed with HMAC-SHA256 over `<timestamp>.<body>` under a per-webhook
//! secret (`X-Socialgate-Signature: t=…,v1=…`), delivered by the job queue with backoff for up
//! to 24 hours, each attempt recorded.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use super::jobs;
use crate::AppState;
use crate::config::Config;
use crate::crypto::{hex, hmac_sha256, new_id, new_secret};
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::media::guard::{self, Limits};

/// The job kind that delivers one event to one webhook (its subject is the delivery).
pub const DELIVER: &str = "webhook";
/// How long a delivery keeps being retried.
const GIVE_UP_AFTER_HOURS: i64 = 24;

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: String,
    #[serde(skip)]
    pub organization_id: String,
    pub name: String,
    pub url: String,
    #[serde(skip)]
    pub channels: String,
    #[serde(skip)]
    secret: String,
    #[serde(serialize_with = "super::posts::iso", rename = "createdAt")]
    pub created_at: NaiveDateTime,
}

impl Webhook {
    /// The channel ids it is limited to (empty: every channel).
    pub fn channel_ids(&self) -> Vec<String> {
        crate::db::json_column(&self.channels, "webhooks.channels")
    }
}

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = webhook_deliveries)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    #[serde(skip)]
    pub webhook_id: String,
    pub event: String,
    #[serde(skip)]
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub response_status: Option<i32>,
    pub error: Option<String>,
    #[serde(serialize_with = "super::posts::iso")]
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// The limits of a delivery: 10 s, the same address rules as `upload-from-url`.
fn limits(config: &Config) -> Limits {
    Limits {
        max_bytes: 64 * 1024,
        timeout: std::time::Duration::from_secs(10),
        trusted: config.fetch_trusted.clone(),
    }
}

/// The signature header value for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex(&mac))
}

/// Creates a webhook; the URL must be https on a public address. Returns it and its secret
/// (shown once).
pub async fn create(
    state: &AppState,
    org: &str,
    name: &str,
    url: &str,
    channels: Vec<String>,
) -> Result<(Webhook, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request(
            "A name of 1 to 100 characters is required",
        ));
    }
    let checked = guard::check_url(url, &limits(&state.config))
        .await
        .map_err(|e| AppError::bad_request(format!("This URL cannot receive webhooks: {e}")))?;
    let secret = new_secret("whsec_", 40);
    let sealed = state.keys.seal(&secret);
    let (org, name, url) = (org.to_owned(), name.to_owned(), checked.to_string());
    let id = new_id();
    let webhook = state
        .db
        .run(move |conn| {
            for channel in &channels {
                crate::channels::get(conn, &org, channel)?;
            }
            diesel::insert_into(webhooks::table)
                .values((
                    webhooks::id.eq(&id),
                    webhooks::organization_id.eq(&org),
                    webhooks::name.eq(&name),
                    webhooks::url.eq(&url),
                    webhooks::channels
                        .eq(serde_json::to_string(&channels).unwrap_or_else(|_| "[]".into())),
                    webhooks::secret.eq(&sealed),
                    webhooks::created_at.eq(now()),
                ))
                .execute(conn)?;
            get(conn, &org, &id)
        })
        .await?;
    Ok((webhook, secret))
}

pub fn list(conn: &mut DbConn, org: &str) -> Result<Vec<Webhook>, AppError> {
    Ok(webhooks::table
        .filter(webhooks::organization_id.eq(org))
        .order(webhooks::created_at.asc())
        .select(Webhook::as_select())
        .load(conn)?)
}

pub fn get(conn: &mut DbConn, org: &str, id: &str) -> Result<Webhook, AppError> {
    webhooks::table
        .filter(webhooks::organization_id.eq(org))
        .filter(webhooks::id.eq(id))
        .select(Webhook::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("Webhook not found"))
}

pub fn delete(conn: &mut DbConn, org: &str, id: &str) -> Result<(), AppError> {
    get(conn, org, id)?;
    let deliveries: Vec<String> = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id))
        .select(webhook_deliveries::id)
        .load(conn)?;
    for d in deliveries {
        jobs::cancel(conn, DELIVER, &d)?;
    }
    diesel::delete(webhooks::table.find(id)).execute(conn)?;
    Ok(())
}

/// The last 50 deliveries of a webhook, newest first.
pub fn deliveries(conn: &mut DbConn, org: &str, id: &str) -> Result<Vec<Delivery>, AppError> {
    get(conn, org, id)?;
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(50)
        .select(Delivery::as_select())
        .load(conn)?)
}

fn enqueue(
    conn: &mut DbConn,
    webhook: &Webhook,
    event: &str,
    body: &Value,
) -> Result<(), AppError> {
    let id = new_id();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(&id),
            webhook_deliveries::webhook_id.eq(&webhook.id),
            webhook_deliveries::event.eq(event),
            webhook_deliveries::body.eq(body.to_string()),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::created_at.eq(now()),
        ))
        .execute(conn)?;
    jobs::schedule(conn, DELIVER, &id, "webhooks", now())
}

/// Queues `event` for every webhook of the organization that follows this channel.
pub fn emit(
    conn: &mut DbConn,
    org: &str,
    channel_id: Option<&str>,
    event: &str,
    data: Value,
) -> Result<(), AppError> {
    for webhook in list(conn, org)? {
        let channels = webhook.channel_ids();
        if !channels.is_empty() && !channel_id.is_some_and(|c| channels.iter().any(|x| x == c)) {
            continue;
        }
        let mut body = json!({ "event": event, "time": super::posts::iso_string(&now()) });
        if let Value::Object(fields) = &data {
            for (k, v) in fields {
                body[k] = v.clone();
            }
        }
        enqueue(conn, &webhook, event, &body)?;
    }
    Ok(())
}

/// Queues a `webhook.test` event to one webhook ("send test").
pub fn send_test(conn: &mut DbConn, org: &str, id: &str) -> Result<(), AppError> {
    let webhook = get(conn, org, id)?;
    let body = json!({
        "event": "webhook.test",
        "time": super::posts::iso_string(&now()),
        "webhook": { "id": webhook.id, "name": webhook.name },
    });
    enqueue(conn, &webhook, "webhook.test", &body)
}

/// The `post` object of an event.
pub fn post_json(
    root: &super::posts::Post,
    state: &str,
    url: Option<&str>,
    error: Option<&str>,
) -> Value {
    json!({
        "id": root.id,
        "group": root.group_id,
        "content": root.content,
        "publishDate": super::posts::iso_string(&root.publish_date),
        "releaseURL": url,
        "state": state,
        "error": error,
    })
}

/// The `channel` object of an event.
pub fn channel_json(c: &crate::channels::Channel) -> Value {
    json!({ "id": c.id, "name": c.name, "provider": c.provider, "picture": c.picture })
}

/// Delivers one queued event; returns when to try again, if at all.
pub async fn deliver(
    state: &AppState,
    delivery_id: &str,
) -> Result<Option<NaiveDateTime>, AppError> {
    let id = delivery_id.to_owned();
    let found: Option<(Delivery, Webhook)> = state
        .db
        .run(move |conn| {
            webhook_deliveries::table
                .inner_join(webhooks::table)
                .filter(webhook_deliveries::id.eq(&id))
                .select((Delivery::as_select(), Webhook::as_select()))
                .first(conn)
                .optional()
                .map_err(AppError::from)
        })
        .await?;
    let Some((delivery, webhook)) = found else {
        return Ok(None);
    };
    if delivery.status != "pending" {
        return Ok(None);
    }
    let secret = state.keys.open(&webhook.secret).map_err(AppError::from)?;
    let timestamp = chrono::Utc::now().timestamp();
    let outcome = match url::Url::parse(&webhook.url) {
        Err(_) => Err("the URL is not valid".to_owned()),
        Ok(url) => match guard::pinned_client(&url, &limits(&state.config)).await {
            Err(e) => Err(e.to_string()),
            Ok(client) => client
                .post(url)
                .header("Content-Type", "application/json")
                .header("X-Socialgate-Event", &delivery.event)
                .header("X-Socialgate-Delivery", &delivery.id)
                .header(
                    "X-Socialgate-Signature",
                    signature(&secret, timestamp, &delivery.body),
                )
                .body(delivery.body.clone())
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.without_url().to_string()),
        },
    };
    let attempts = delivery.attempts + 1;
    let (status, code, error) = match outcome {
        Ok(code) if (200..300).contains(&code) => ("delivered", Some(code), None),
        Ok(code) => (
            "pending",
            Some(code),
            Some(format!("the receiver answered {code}")),
        ),
        Err(e) => ("pending", None, Some(e)),
    };
    let give_up = delivery.created_at + Duration::hours(GIVE_UP_AFTER_HOURS);
    let retry_at = now() + Duration::seconds((15i64 << (attempts - 1).clamp(0, 8)).min(3600));
    let (status, retry) = match status {
        "pending" if retry_at > give_up => ("failed", None),
        "pending" => ("pending", Some(retry_at)),
        other => (other, None),
    };
    let id = delivery.id.clone();
    state
        .db
        .run(move |conn| {
            diesel::update(webhook_deliveries::table.find(&id))
                .set((
                    webhook_deliveries::status.eq(status),
                    webhook_deliveries::attempts.eq(attempts),
                    webhook_deliveries::response_status.eq(code.map(i32::from)),
                    webhook_deliveries::error.eq(error),
                    webhook_deliveries::delivered_at.eq((status == "delivered").then(now)),
                ))
                .execute(conn)
                .map_err(AppError::from)
        })
        .await?;
    Ok(retry)
}
