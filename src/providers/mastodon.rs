//! Mastodon: OAuth 2 against the organization's instance, statuses with media (the v2 upload
//! and its processing poll) and replies through `in_reply_to_id`.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::api::{Api, Auth, poll_until};
use super::medium::Medium;
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    AppCredentials, ConnectedAccount, Connecting, EnvCredentials, MediaRules, On, PostDetails,
    PostOutcome, Provider, ProviderError, ProviderInfo, Published, Result, display_name,
};

pub struct Mastodon;

static INFO: ProviderInfo = ProviderInfo {
    identifier: "mastodon",
    name: "Mastodon",
    oauth2: Some(&ENDPOINTS),
    scopes: &["write:statuses", "profile", "write:media"],
    max_length: 500,
    max_concurrent_jobs: 5,
    needs_app_credentials: true,
    has_instance_url: true,
    default_instance: Some("https://mastodon.social"),
    env: Some(EnvCredentials {
        client_id: "MASTODON_CLIENT_ID",
        client_secret: "MASTODON_CLIENT_SECRET",
        instance_url: Some("MASTODON_URL"),
    }),
    summary: "OAuth 2 on the organization's instance (`write:statuses profile write:media`)",
    media: MediaRules {
        max: 4,
        video: true,
        video_alone: false,
        documents: false,
    },
    logo: include_str!("../../static/logos/mastodon.svg"),
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = Endpoints {
    authorize: "/oauth/authorize",
    token: "/oauth/token",
    scope_in_exchange: true,
    ..Endpoints::DEFAULT
};

fn instance(app: Option<&AppCredentials>) -> &str {
    app.and_then(|a| a.instance_url.as_deref())
        .or(INFO.default_instance)
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct Account {
    id: String,
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    avatar: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    url: Option<String>,
}

async fn upload(api: &Api<'_>, medium: &Medium, alt: Option<&str>) -> Result<String> {
    let mut form = reqwest::multipart::Form::new().part("file", medium.part().await?);
    if let Some(alt) = alt.filter(|a| !a.trim().is_empty()) {
        form = form.text("description", alt.to_owned());
    }
    let response = api.post("/api/v2/media").multipart(form).send().await?;
    let processing = response.status() == reqwest::StatusCode::ACCEPTED;
    let media: Media = response
        .json()
        .await
        .map_err(super::http::transport_error)?;
    if processing || media.url.is_none() {
        // 202: still processing; `GET /api/v1/media/:id` answers 206 until it is ready.
        let path = format!("/api/v1/media/{}", media.id);
        poll_until(Duration::from_secs(1), 60, "Mastodon's media", || async {
            let r = api.get(&path).send().await?;
            Ok((r.status() == reqwest::StatusCode::OK).then_some(()))
        })
        .await?;
    }
    Ok(media.id)
}

#[async_trait]
impl Provider for Mastodon {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let base = instance(c.app).to_owned();
        let api = Api::new(self, c.ctx, &base, Auth::Bearer(&grant.access_token));
        let account: Account = api
            .get("/api/v1/accounts/verify_credentials")
            .read()
            .await?;
        let host = url::Url::parse(&base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(ConnectedAccount {
            internal_id: format!("{}@{host}", account.id),
            name: display_name(
                Some(&account.display_name),
                Some(&account.username),
                "Mastodon",
            ),
            picture: account.avatar,
            username: Some(account.username),
            // Mastodon's tokens do not expire.
            tokens: super::Tokens::lasting(grant.access_token),
            instance_url: Some(base),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        let base = on
            .auth
            .instance_url
            .clone()
            .or_else(|| on.auth.app.as_ref().map(|a| instance(Some(a)).to_owned()))
            .ok_or_else(|| ProviderError::Disconnected("the channel has no instance URL".into()))?;
        let api = Api::new(self, on.ctx, &base, Auth::Bearer(&on.auth.access_token));
        let mut media_ids = Vec::new();
        for m in &post.media {
            let medium = Medium::open(on.ctx, &m.path).await?;
            media_ids.push(upload(&api, &medium, m.alt.as_deref()).await?);
        }
        let mut body = json!({ "status": post.message, "visibility": "public" });
        if !media_ids.is_empty() {
            body["media_ids"] = json!(media_ids);
        }
        if let Some(thread) = post.reply_to.as_ref() {
            body["in_reply_to_id"] = json!(thread.parent.id);
        }
        // Mastodon honours Idempotency-Key: a retried request cannot post twice.
        let status: Status = api
            .post("/api/v1/statuses")
            .header("Idempotency-Key", &post.id)
            .json(&body)
            .read()
            .await?;
        Ok(PostOutcome::Published(Published {
            url: status
                .url
                .unwrap_or_else(|| format!("{base}/statuses/{}", status.id)),
            id: status.id,
            reference: None,
        }))
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        // A revoked or deleted token: Mastodon tokens cannot be refreshed, the user reconnects.
        (status == 401 && body.contains("revoked"))
            .then(|| ProviderError::Disconnected("Mastodon revoked the access token".into()))
    }
}
