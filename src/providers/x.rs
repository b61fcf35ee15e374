//! X: OAuth 1.0a three-legged connect (request token → authenticate → access token), posts
//! through `POST /2/tweets`, chunked media upload, threads as reply chains, weighted length.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{fetch_media, send, send_json, transport_error};
use super::oauth1::{Signer, parse_form};
use super::text::x_weighted_length;
use super::{
    AdditionalSetting, AppCredentials, AuthInput, AuthKind, AuthStart, ChannelAuth,
    ConnectedAccount, Ctx, Editor, PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo,
    Published, RefreshPolicy, Thread, Tokens,
};
use crate::pages::url_encode;

pub struct X;

static INFO: ProviderInfo = ProviderInfo {
    identifier: "x",
    name: "X",
    auth: AuthKind::OAuth1,
    scopes: &[],
    editor: Editor::Normal,
    max_length: 280,
    max_concurrent_jobs: 10,
    between_steps: false,
    refresh: RefreshPolicy::Never,
    needs_app_credentials: true,
    has_instance_url: false,
    unprefixed_callback: true,
    rules: "X can have at most 4 pictures or one video per post, or no media at all. Posts longer than 280 characters need a verified account (turn on \"Verified\" for the channel).",
    pacing: Some((300, 3 * 3600)),
};

/// Who may reply, as X's `reply_settings` (plus `everyone`, the default).
const WHO_CAN_REPLY: [&str; 5] = [
    "everyone",
    "following",
    "mentionedUsers",
    "subscribers",
    "verified",
];
const COMMUNITY_PREFIX: &str = "https://x.com/i/communities/";
const CHUNK: usize = 1024 * 1024;

/// The app credentials, or the exact message the issue asks for.
fn app(app: Option<&AppCredentials>) -> Result<&AppCredentials, ProviderError> {
    app.ok_or_else(|| ProviderError::NotSupported("X API credentials are not configured".into()))
}

/// A channel's token is stored as `token:secret`.
fn split_token(auth: &ChannelAuth) -> Result<(&str, &str), ProviderError> {
    auth.access_token.split_once(':').ok_or_else(|| {
        ProviderError::Disconnected("the stored X token is malformed; reconnect".into())
    })
}

struct Api<'a> {
    base: &'a str,
    app: &'a AppCredentials,
    token: &'a str,
    secret: &'a str,
}

impl Api<'_> {
    fn signer(&self) -> Signer<'_> {
        Signer::new(self.app, Some(self.token), Some(self.secret))
    }

    fn post_json(&self, ctx: &Ctx<'_>, path: &str, body: &Value) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base);
        let header = self.signer().header("POST", &url, &[], &[]);
        ctx.http
            .post(url)
            .header("Authorization", header)
            .json(body)
    }

    fn get(&self, ctx: &Ctx<'_>, path: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.base);
        let header = self.signer().header("GET", &url, query, &[]);
        let query_string: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        ctx.http
            .get(format!("{url}?{}", query_string.join("&")))
            .header("Authorization", header)
    }
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    name: String,
    username: String,
    profile_image_url: Option<String>,
    #[serde(default)]
    verified: bool,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Upload {
    id: String,
    #[serde(default)]
    processing_info: Option<Processing>,
}

#[derive(Deserialize)]
struct Processing {
    state: String,
    #[serde(default)]
    check_after_secs: Option<u64>,
}

impl X {
    async fn upload(
        &self,
        ctx: &Ctx<'_>,
        api: &Api<'_>,
        path: &str,
        alt: Option<&str>,
    ) -> Result<String, ProviderError> {
        let (bytes, mime) = fetch_media(ctx, path).await?;
        let category = match mime.as_str() {
            "image/gif" => "tweet_gif",
            m if m.starts_with("video/") => "tweet_video",
            _ => "tweet_image",
        };
        let init: Data<Upload> = send_json(
            self,
            api.post_json(
                ctx,
                "/2/media/upload/initialize",
                &json!({ "media_type": mime, "total_bytes": bytes.len(), "media_category": category }),
            ),
        )
        .await?;
        let id = init.data.id;
        for (index, chunk) in bytes.chunks(CHUNK).enumerate() {
            let url = format!("{}/2/media/upload/{id}/append", api.base);
            let header = api.signer().header("POST", &url, &[], &[]);
            let form = reqwest::multipart::Form::new()
                .text("segment_index", index.to_string())
                .part(
                    "media",
                    reqwest::multipart::Part::bytes(chunk.to_vec())
                        .file_name("media")
                        .mime_str("application/octet-stream")
                        .map_err(transport_error)?,
                );
            send(
                self,
                ctx.http
                    .post(url)
                    .header("Authorization", header)
                    .multipart(form),
            )
            .await?;
        }
        let finalized: Data<Upload> = send_json(
            self,
            api.post_json(ctx, &format!("/2/media/upload/{id}/finalize"), &json!({})),
        )
        .await?;
        let mut processing = finalized.data.processing_info;
        let mut checks = 0;
        while let Some(p) = processing.take() {
            match p.state.as_str() {
                "succeeded" => break,
                "failed" => {
                    return Err(ProviderError::BadBody(
                        "X could not process the media".into(),
                    ));
                }
                _ if checks >= 60 => {
                    return Err(ProviderError::retry("X is still processing the media"));
                }
                _ => {
                    checks += 1;
                    tokio::time::sleep(Duration::from_secs(
                        p.check_after_secs.unwrap_or(1).clamp(1, 10),
                    ))
                    .await;
                    let status: Data<Upload> = send_json(
                        self,
                        api.get(
                            ctx,
                            "/2/media/upload",
                            &[("command", "STATUS"), ("media_id", &id)],
                        ),
                    )
                    .await?;
                    processing = status.data.processing_info;
                }
            }
        }
        if let Some(alt) = alt.filter(|a| !a.trim().is_empty()) {
            send(
                self,
                api.post_json(
                    ctx,
                    "/2/media/metadata",
                    &json!({ "id": id, "metadata": { "alt_text": { "text": alt } } }),
                ),
            )
            .await?;
        }
        Ok(id)
    }

    async fn tweet(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        post: &PostDetails,
        reply_to: Option<&str>,
    ) -> Result<PostOutcome, ProviderError> {
        let app = app(auth.app.as_ref())?;
        let (token, secret) = split_token(auth)?;
        let api = Api {
            base: &ctx.config.providers.x_api_url,
            app,
            token,
            secret,
        };
        let mut media_ids = Vec::new();
        for m in &post.media {
            media_ids.push(self.upload(ctx, &api, &m.path, m.alt.as_deref()).await?);
        }
        let mut body = json!({ "text": post.message });
        if !media_ids.is_empty() {
            body["media"] = json!({ "media_ids": media_ids });
        }
        match reply_to {
            Some(parent) => body["reply"] = json!({ "in_reply_to_tweet_id": parent }),
            None => {
                if let Some(who) = post
                    .settings
                    .get("who_can_reply_post")
                    .and_then(Value::as_str)
                    && who != "everyone"
                {
                    body["reply_settings"] = json!(who);
                }
                if let Some(id) = community_id(&post.settings) {
                    body["community_id"] = json!(id);
                }
            }
        }
        let created: Data<Created> =
            send_json(self, api.post_json(ctx, "/2/tweets", &body)).await?;
        let username = auth.username.as_deref().unwrap_or("i");
        Ok(PostOutcome::Published(Published {
            url: format!("https://x.com/{username}/status/{}", created.data.id),
            id: created.data.id,
            reference: None,
        }))
    }
}

fn community_id(settings: &Value) -> Option<&str> {
    settings
        .get("community")
        .and_then(Value::as_str)
        .and_then(|c| c.strip_prefix(COMMUNITY_PREFIX))
        .filter(|id| !id.is_empty())
}

fn verified(additional: &[AdditionalSetting]) -> bool {
    additional
        .iter()
        .any(|s| s.title == "Verified" && s.value.as_bool() == Some(true))
}

#[async_trait]
impl Provider for X {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn max_length(&self, additional: &[AdditionalSetting]) -> usize {
        if verified(additional) { 4000 } else { 280 }
    }

    fn text_length(&self, text: &str) -> usize {
        x_weighted_length(text)
    }

    fn settings_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "who_can_reply_post": {
                    "type": "string",
                    "enum": WHO_CAN_REPLY,
                    "default": "everyone",
                    "description": "Who can reply to the post"
                },
                "community": {
                    "type": "string",
                    "pattern": "^(https://x\\.com/i/communities/\\d+)?$",
                    "description": "Post to an X community: its URL"
                }
            }
        })
    }

    fn validate_settings(&self, settings: &Value) -> Result<(), String> {
        if let Some(who) = settings.get("who_can_reply_post")
            && !who.as_str().is_some_and(|w| WHO_CAN_REPLY.contains(&w))
        {
            return Err(format!(
                "who_can_reply_post must be one of {}",
                WHO_CAN_REPLY.join(", ")
            ));
        }
        if let Some(c) = settings.get("community") {
            let ok = c.as_str().is_some_and(|c| {
                c.is_empty()
                    || c.strip_prefix(COMMUNITY_PREFIX)
                        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
            });
            if !ok {
                return Err(format!(
                    "community must be a URL such as {COMMUNITY_PREFIX}1234567890"
                ));
            }
        }
        Ok(())
    }

    fn check_validity(&self, chain: &[PostDetails]) -> Result<(), String> {
        for post in chain {
            let videos = post.media.iter().filter(|m| m.kind == "video").count();
            if post.media.len() > 4 || (videos > 0 && post.media.len() > 1) {
                return Err("X can have at most 4 pictures or one video per post".into());
            }
        }
        Ok(())
    }

    async fn authorization_url(
        &self,
        ctx: &Ctx<'_>,
        app_credentials: Option<&AppCredentials>,
        callback: &str,
        _state: &str,
    ) -> Result<AuthStart, ProviderError> {
        let app = app(app_credentials)?;
        let base = &ctx.config.providers.x_api_url;
        let url = format!("{base}/oauth/request_token");
        let signer = Signer::new(app, None, None);
        let header = signer.header("POST", &url, &[], &[("oauth_callback", callback)]);
        let body = send(self, ctx.http.post(url).header("Authorization", header))
            .await?
            .text()
            .await
            .map_err(transport_error)?;
        let answer = parse_form(&body);
        let (Some(token), Some(secret)) =
            (answer.get("oauth_token"), answer.get("oauth_token_secret"))
        else {
            return Err(ProviderError::BadBody("X sent no request token".into()));
        };
        if answer.get("oauth_callback_confirmed").map(String::as_str) != Some("true") {
            return Err(ProviderError::BadBody(
                "X did not confirm the callback URL".into(),
            ));
        }
        Ok(AuthStart {
            url: format!(
                "{base}/oauth/authenticate?oauth_token={}",
                url_encode(token)
            ),
            state_key: token.clone(),
            secret: Some(secret.clone()),
        })
    }

    async fn authenticate(
        &self,
        ctx: &Ctx<'_>,
        app_credentials: Option<&AppCredentials>,
        _callback: &str,
        input: AuthInput,
    ) -> Result<ConnectedAccount, ProviderError> {
        let app = app(app_credentials)?;
        let base = &ctx.config.providers.x_api_url;
        let url = format!("{base}/oauth/access_token");
        let signer = Signer::new(app, Some(&input.state_key), input.secret.as_deref());
        let header = signer.header("POST", &url, &[], &[("oauth_verifier", &input.code)]);
        let body = send(self, ctx.http.post(url).header("Authorization", header))
            .await?
            .text()
            .await
            .map_err(transport_error)?;
        let answer = parse_form(&body);
        let (Some(token), Some(secret)) =
            (answer.get("oauth_token"), answer.get("oauth_token_secret"))
        else {
            return Err(ProviderError::BadBody("X sent no access token".into()));
        };
        let api = Api {
            base,
            app,
            token,
            secret,
        };
        let me: Data<Me> = send_json(
            self,
            api.get(
                ctx,
                "/2/users/me",
                &[("user.fields", "profile_image_url,verified")],
            ),
        )
        .await?;
        Ok(ConnectedAccount {
            internal_id: me.data.id,
            name: me.data.name,
            picture: me.data.profile_image_url,
            username: Some(me.data.username),
            tokens: Tokens {
                access_token: format!("{token}:{secret}"),
                refresh_token: None,
                expires_in: None,
            },
            instance_url: None,
            additional_settings: vec![AdditionalSetting {
                title: "Verified".into(),
                description: "Is this a verified account? (posts up to 4,000 characters)".into(),
                kind: "checkbox".into(),
                value: Value::Bool(me.data.verified),
            }],
        })
    }

    async fn post(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        post: &PostDetails,
    ) -> Result<PostOutcome, ProviderError> {
        self.tweet(ctx, auth, post, None).await
    }

    async fn comment(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        thread: &Thread,
        post: &PostDetails,
    ) -> Result<PostOutcome, ProviderError> {
        self.tweet(ctx, auth, post, Some(&thread.parent.id)).await
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        match status {
            402 => Some(ProviderError::BadBody(
                "X refused: the app's API credits are used up (402)".into(),
            )),
            403 if body.contains("duplicate") => {
                Some(ProviderError::BadBody("X refused a duplicate post".into()))
            }
            _ => None,
        }
    }
}
