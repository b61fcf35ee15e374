//! The built-in sandbox network: connecting needs no account (its authorization URL, served by
//! `channels::sandbox_site`, approves at once), and what it "publishes" is kept in our
//! database, listed at `/sandbox` and as JSON.

use async_trait::async_trait;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Analytics, AnalyticsPoint, AnalyticsSeries, AuthInput, AuthStart, ChannelAuth,
    ConnectedAccount, Connecting, MediaItem, On, PostDetails, PostOutcome, Provider, ProviderError,
    ProviderInfo, Published, Result, Tokens, ToolField, ToolInfo,
};
use crate::crypto::{new_id, random_alphanumeric, sha256_hex};
use crate::db::schema::sandbox_posts;
use crate::db::{DbConn, DbError, now};
use crate::error::AppError;

pub struct Sandbox;

static INFO: ProviderInfo = ProviderInfo {
    identifier: "sandbox",
    name: "Sandbox",
    builtin: true,
    tools: &TOOLS,
    rules: "The sandbox accepts any text up to 5,000 characters and any media; nothing leaves socialgate.",
    summary: "Approves at once; posts stay in socialgate (`/sandbox`, `GET /sandbox/posts`)",
    logo: include_str!("../../static/logos/sandbox.svg"),
    ..ProviderInfo::DEFAULT
};

static TOOLS: [ToolInfo; 1] = [ToolInfo {
    method_name: "channels",
    description: "List the sandbox's channels (a fixed list, to try integration-trigger)",
    data_schema: &[ToolField {
        key: "word",
        kind: "string",
        description: "Only channels whose name contains this word",
    }],
}];

/// A post the sandbox "published".
#[derive(Clone, Debug, Queryable, Serialize)]
pub struct SandboxPost {
    pub id: String,
    #[serde(skip)]
    pub organization_id: String,
    /// The sandbox account (channel) it was published on.
    pub channel: String,
    pub text: String,
    #[serde(skip)]
    pub media_json: String,
    pub reply_to: Option<String>,
    #[serde(skip)]
    pub created_at: NaiveDateTime,
}

impl SandboxPost {
    pub fn media(&self) -> Vec<MediaItem> {
        crate::db::json_column(&self.media_json, "sandbox_posts.media")
    }

    /// The JSON `GET /sandbox/posts` answers with.
    pub fn to_json(&self, public_url: &str) -> Value {
        json!({
            "id": self.id,
            "channel": self.channel,
            "text": self.text,
            "media": self.media(),
            "replyTo": self.reply_to,
            "url": format!("{public_url}/sandbox/posts/{}", self.id),
            "createdAt": self.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
    }
}

/// Sandbox accounts are `sandbox-<organization id>`, pages `sandbox-<organization id>:<page>`.
fn organization_of(auth: &ChannelAuth) -> Result<&str> {
    auth.internal_id
        .strip_prefix("sandbox-")
        .and_then(|rest| rest.split(':').next())
        .ok_or_else(|| ProviderError::Disconnected("not a sandbox channel".into()))
}

/// Keeps the post in `sandbox_posts`, as a network would publish it.
async fn keep(on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
    let (ctx, auth) = (on.ctx, on.auth);
    let reply_to = post.reply_to.as_ref().map(|t| t.parent.id.clone());
    let org = organization_of(auth)?.to_owned();
    let id = new_id();
    let media = serde_json::to_string(&post.media).unwrap_or_else(|_| "[]".into());
    let (row_id, account, text) = (id.clone(), auth.internal_id.clone(), post.message.clone());
    ctx.db
        .write_autocommit(move |conn| {
            diesel::insert_into(sandbox_posts::table)
                .values((
                    sandbox_posts::id.eq(&row_id),
                    sandbox_posts::organization_id.eq(&org),
                    sandbox_posts::account_id.eq(&account),
                    sandbox_posts::text.eq(&text),
                    sandbox_posts::media.eq(&media),
                    sandbox_posts::reply_to.eq(&reply_to),
                    sandbox_posts::created_at.eq(now()),
                ))
                .execute(conn)
                .map_err(DbError::from)
        })
        .await
        .map_err(|e: DbError| ProviderError::retry(e.to_string()))?;
    Ok(PostOutcome::Published(Published {
        url: format!("{}/sandbox/posts/{id}", ctx.config.public_url),
        id,
        reference: None,
    }))
}

/// A stable pseudo-random number from a seed, for analytics that look alive but repeat.
fn figure(seed: &str, max: i64) -> i64 {
    let h = sha256_hex(seed);
    i64::from_str_radix(&h[..8], 16).unwrap_or(0) % max
}

fn series(label: &str, seed: &str, days: u32, base: i64) -> AnalyticsSeries {
    let today = now().date();
    let data: Vec<AnalyticsPoint> = (0..days.clamp(1, 90))
        .rev()
        .map(|back| {
            let date = today - Duration::days(i64::from(back));
            AnalyticsPoint {
                total: base + figure(&format!("{seed}{label}{date}"), 50),
                date: date.format("%Y-%m-%d").to_string(),
            }
        })
        .collect();
    AnalyticsSeries::new(label, data)
}

#[async_trait]
impl Provider for Sandbox {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn call_tool(&self, _on: &On<'_>, name: &str, data: &Value) -> Result<Value> {
        if name != "channels" {
            return Err(ProviderError::NotSupported("Tool not found".into()));
        }
        let word = data
            .get("word")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase();
        let all = [
            ("general", "General"),
            ("news", "News"),
            ("random", "Random"),
        ];
        Ok(Value::Array(
            all.iter()
                .filter(|(_, n)| n.to_lowercase().contains(&word))
                .map(|(id, n)| json!({ "id": id, "name": n }))
                .collect(),
        ))
    }

    async fn authorization_url(&self, c: &Connecting<'_>, state: &str) -> Result<AuthStart> {
        let mut url = url::Url::parse(&format!("{}/sandbox/authorize", c.ctx.config.public_url))
            .map_err(|e| ProviderError::BadBody(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("state", state)
            .append_pair("redirect_uri", c.callback);
        Ok(AuthStart {
            url: url.into(),
            state_key: state.to_owned(),
            secret: None,
        })
    }

    async fn authenticate(
        &self,
        _c: &Connecting<'_>,
        input: AuthInput,
    ) -> Result<ConnectedAccount> {
        if !input.code.starts_with("sbx_") {
            return Err(ProviderError::BadBody(
                "the sandbox did not issue this code".into(),
            ));
        }
        Ok(ConnectedAccount {
            internal_id: format!("sandbox-{}", input.organization_id),
            name: "Sandbox".into(),
            picture: None,
            username: Some("sandbox".into()),
            tokens: Tokens::lasting(random_alphanumeric(40)),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        keep(on, post).await
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        Ok(vec![
            series("Impressions", &on.auth.internal_id, days, 100),
            series("Followers", &on.auth.internal_id, days, 20),
        ])
    }

    async fn post_analytics(&self, _on: &On<'_>, id: &str, days: u32) -> Result<Analytics> {
        Ok(vec![
            series("Impressions", id, days, 10),
            series("Likes", id, days, 1),
        ])
    }
}

/// The sandbox with a page pick after connecting, the way Facebook or LinkedIn pages connect.
pub struct SandboxPages;

static PAGES_INFO: ProviderInfo = ProviderInfo {
    identifier: "sandbox-pages",
    name: "Sandbox (pages)",
    between_steps: true,
    tools: &[],
    summary: "Like the sandbox, then asks which page the channel publishes as (the way Facebook or LinkedIn pages connect)",
    ..INFO
};

const PAGES: [(&str, &str); 2] = [("general", "General"), ("news", "News")];

#[async_trait]
impl Provider for SandboxPages {
    fn info(&self) -> &'static ProviderInfo {
        &PAGES_INFO
    }

    async fn authorization_url(&self, c: &Connecting<'_>, state: &str) -> Result<AuthStart> {
        Sandbox.authorization_url(c, state).await
    }

    async fn authenticate(&self, c: &Connecting<'_>, input: AuthInput) -> Result<ConnectedAccount> {
        let mut account = Sandbox.authenticate(c, input).await?;
        account.internal_id.push_str(":pages");
        account.name = "Sandbox pages account".into();
        Ok(account)
    }

    async fn pages(&self, _on: &On<'_>) -> Result<Vec<super::Page>> {
        Ok(PAGES
            .iter()
            .map(|(id, name)| super::Page {
                id: (*id).to_owned(),
                name: format!("{name} page"),
                picture: None,
                username: Some((*id).to_owned()),
            })
            .collect())
    }

    async fn pick_page(&self, on: &On<'_>, page_id: &str) -> Result<ConnectedAccount> {
        let (_, name) = PAGES
            .iter()
            .find(|(id, _)| *id == page_id)
            .ok_or_else(|| ProviderError::BadBody(format!("no page {page_id:?}")))?;
        let org = organization_of(on.auth)?;
        Ok(ConnectedAccount {
            internal_id: format!("sandbox-{org}:{page_id}"),
            name: format!("Sandbox {name}"),
            picture: None,
            username: Some(page_id.to_owned()),
            tokens: Tokens::lasting(random_alphanumeric(40)),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        keep(on, post).await
    }
}

/// The organization's sandbox posts, newest first.
pub fn list_posts(conn: &mut DbConn, org_id: &str) -> Result<Vec<SandboxPost>, AppError> {
    Ok(sandbox_posts::table
        .filter(sandbox_posts::organization_id.eq(org_id))
        .order((sandbox_posts::created_at.desc(), sandbox_posts::id.desc()))
        .limit(500)
        .load(conn)?)
}
