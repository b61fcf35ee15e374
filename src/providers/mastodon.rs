//! Mastodon: OAuth 2 against the organization's instance, statuses with media (the v2 upload
//! and its processing poll) and replies through `in_reply_to_id`.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::http::{fetch_media, send, send_json, transport_error};
use super::{
    AppCredentials, AuthInput, AuthKind, AuthStart, ChannelAuth, ConnectedAccount, Ctx, Editor,
    PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo, Published, RefreshPolicy,
    Thread, Tokens,
};
use crate::pages::url_encode;

pub struct Mastodon;

const SCOPES: &[&str] = &["write:statuses", "profile", "write:media"];

static INFO: ProviderInfo = ProviderInfo {
    identifier: "mastodon",
    name: "Mastodon",
    auth: AuthKind::OAuth2,
    scopes: SCOPES,
    editor: Editor::Normal,
    max_length: 500,
    max_concurrent_jobs: 5,
    between_steps: false,
    refresh: RefreshPolicy::Never,
    needs_app_credentials: true,
    has_instance_url: true,
    unprefixed_callback: false,
    rules: "",
    pacing: None,
};

fn app(app: Option<&AppCredentials>) -> Result<&AppCredentials, ProviderError> {
    app.ok_or_else(|| {
        ProviderError::NotSupported("Mastodon API credentials are not configured".into())
    })
}

fn instance(app: &AppCredentials) -> &str {
    app.instance_url
        .as_deref()
        .unwrap_or("https://mastodon.social")
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    scope: Option<String>,
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

/// The scopes asked for that the instance did not grant.
fn missing_scopes(granted: &str) -> Vec<&'static str> {
    let granted: Vec<&str> = granted
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .collect();
    SCOPES
        .iter()
        .copied()
        .filter(|s| !granted.contains(s) && !granted.contains(&s.split(':').next().unwrap_or(s)))
        .collect()
}

impl Mastodon {
    async fn upload(
        &self,
        ctx: &Ctx<'_>,
        base: &str,
        token: &str,
        path: &str,
        alt: Option<&str>,
    ) -> Result<String, ProviderError> {
        let (bytes, mime) = fetch_media(ctx, path).await?;
        let name = path
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("media")
            .to_owned();
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name)
                .mime_str(&mime)
                .map_err(transport_error)?,
        );
        if let Some(alt) = alt.filter(|a| !a.trim().is_empty()) {
            form = form.text("description", alt.to_owned());
        }
        let response = send(
            self,
            ctx.http
                .post(format!("{base}/api/v2/media"))
                .bearer_auth(token)
                .multipart(form),
        )
        .await?;
        let processing = response.status() == reqwest::StatusCode::ACCEPTED;
        let media: Media = response.json().await.map_err(transport_error)?;
        if processing || media.url.is_none() {
            // 202: still processing; `GET /api/v1/media/:id` answers 206 until it is ready.
            for _ in 0..60 {
                let r = send(
                    self,
                    ctx.http
                        .get(format!("{base}/api/v1/media/{}", media.id))
                        .bearer_auth(token),
                )
                .await?;
                if r.status() == reqwest::StatusCode::OK {
                    return Ok(media.id);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            return Err(ProviderError::retry(
                "Mastodon is still processing the media",
            ));
        }
        Ok(media.id)
    }

    async fn status(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        post: &PostDetails,
        reply_to: Option<&str>,
    ) -> Result<PostOutcome, ProviderError> {
        let base = auth
            .instance_url
            .clone()
            .or_else(|| auth.app.as_ref().map(|a| instance(a).to_owned()))
            .ok_or_else(|| ProviderError::Disconnected("the channel has no instance URL".into()))?;
        let token = &auth.access_token;
        let mut media_ids = Vec::new();
        for m in &post.media {
            media_ids.push(
                self.upload(ctx, &base, token, &m.path, m.alt.as_deref())
                    .await?,
            );
        }
        let mut body = json!({ "status": post.message, "visibility": "public" });
        if !media_ids.is_empty() {
            body["media_ids"] = json!(media_ids);
        }
        if let Some(parent) = reply_to {
            body["in_reply_to_id"] = json!(parent);
        }
        // Mastodon honours Idempotency-Key: a retried request cannot post twice.
        let status: Status = send_json(
            self,
            ctx.http
                .post(format!("{base}/api/v1/statuses"))
                .bearer_auth(token)
                .header("Idempotency-Key", &post.id)
                .json(&body),
        )
        .await?;
        Ok(PostOutcome::Published(Published {
            url: status
                .url
                .unwrap_or_else(|| format!("{base}/statuses/{}", status.id)),
            id: status.id,
            reference: None,
        }))
    }
}

#[async_trait]
impl Provider for Mastodon {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> Result<(), String> {
        if chain.iter().any(|p| p.media.len() > 4) {
            return Err("Mastodon takes at most 4 media per post".into());
        }
        Ok(())
    }

    async fn authorization_url(
        &self,
        _ctx: &Ctx<'_>,
        app_credentials: Option<&AppCredentials>,
        callback: &str,
        state: &str,
    ) -> Result<AuthStart, ProviderError> {
        let app = app(app_credentials)?;
        Ok(AuthStart {
            url: format!(
                "{}/oauth/authorize?client_id={}&response_type=code&redirect_uri={}&scope={}&state={}",
                instance(app),
                url_encode(&app.client_id),
                url_encode(callback),
                url_encode(&SCOPES.join(" ")),
                url_encode(state)
            ),
            state_key: state.to_owned(),
            secret: None,
        })
    }

    async fn authenticate(
        &self,
        ctx: &Ctx<'_>,
        app_credentials: Option<&AppCredentials>,
        callback: &str,
        input: AuthInput,
    ) -> Result<ConnectedAccount, ProviderError> {
        let app = app(app_credentials)?;
        let base = instance(app).to_owned();
        let token: TokenAnswer = send_json(
            self,
            ctx.http.post(format!("{base}/oauth/token")).form(&[
                ("grant_type", "authorization_code"),
                ("code", &input.code),
                ("client_id", &app.client_id),
                ("client_secret", &app.client_secret),
                ("redirect_uri", callback),
                ("scope", &SCOPES.join(" ")),
            ]),
        )
        .await?;
        if let Some(granted) = &token.scope {
            let missing = missing_scopes(granted);
            if !missing.is_empty() {
                return Err(ProviderError::BadBody(format!(
                    "the instance did not grant the permissions socialgate needs: {}",
                    missing.join(", ")
                )));
            }
        }
        let account: Account = send_json(
            self,
            ctx.http
                .get(format!("{base}/api/v1/accounts/verify_credentials"))
                .bearer_auth(&token.access_token),
        )
        .await?;
        let host = url::Url::parse(&base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(ConnectedAccount {
            internal_id: format!("{}@{host}", account.id),
            name: if account.display_name.is_empty() {
                account.username.clone()
            } else {
                account.display_name
            },
            picture: account.avatar,
            username: Some(account.username),
            tokens: Tokens {
                access_token: token.access_token,
                refresh_token: None,
                expires_in: None,
            },
            instance_url: Some(base),
            additional_settings: Vec::new(),
        })
    }

    async fn post(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        post: &PostDetails,
    ) -> Result<PostOutcome, ProviderError> {
        self.status(ctx, auth, post, None).await
    }

    async fn comment(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        thread: &Thread,
        post: &PostDetails,
    ) -> Result<PostOutcome, ProviderError> {
        self.status(ctx, auth, post, Some(&thread.parent.id)).await
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        // A revoked or deleted token: Mastodon tokens cannot be refreshed, the user reconnects.
        (status == 401 && body.contains("revoked"))
            .then(|| ProviderError::Disconnected("Mastodon revoked the access token".into()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_missing_scopes() {
        assert!(super::missing_scopes("write:statuses profile write:media").is_empty());
        assert!(super::missing_scopes("write profile").is_empty());
        assert_eq!(
            super::missing_scopes("profile"),
            ["write:statuses", "write:media"]
        );
    }
}
