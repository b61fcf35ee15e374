//! X: OAuth 1.0a three-legged connect (request token → authenticate → access token), posts
//! through `POST /2/tweets`, chunked media upload, threads as reply chains, weighted length.

use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::api::{Api, Auth, poll_until};
use super::medium::{MediaKind, Medium};
use super::oauth1::{Signer, parse_form};
use super::settings::{self, SettingsSpec};
use super::text::x_weighted_length;
use super::{
    AdditionalSetting, AppCredentials, AuthInput, AuthKind, AuthStart, ChannelAuth,
    ConnectedAccount, Connecting, Ctx, EnvCredentials, MediaRules, On, Pacing, PostDetails,
    PostOutcome, Provider, ProviderError, ProviderInfo, Published, Result, Tokens, require_app,
};

pub struct X;

static INFO: ProviderInfo = ProviderInfo {
    identifier: "x",
    name: "X",
    auth: AuthKind::OAuth1,
    max_length: 280,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "X_API_KEY",
        client_secret: "X_API_SECRET",
        instance_url: None,
    }),
    api_base: "https://api.x.com",
    unprefixed_callback: true,
    rules: "X can have at most 4 pictures or one video per post, or no media at all. Posts longer than 280 characters need a verified account (turn on \"Verified\" for the channel).",
    summary: "OAuth 1.0a (request token → authenticate → access token)",
    pacing: Some(Pacing {
        posts: 300,
        per_seconds: 3 * 3600,
    }),
    settings: SettingsSpec::of::<XSettings>(),
    media: MediaRules {
        max: 4,
        video: true,
        video_alone: true,
        documents: false,
    },
    logo: include_str!("../../static/logos/x.svg"),
    ..ProviderInfo::DEFAULT
};

/// Who may reply, as X's `reply_settings` (plus `everyone`, the default).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
enum WhoCanReply {
    #[default]
    Everyone,
    Following,
    MentionedUsers,
    Subscribers,
    Verified,
}

const COMMUNITY_PREFIX: &str = "https://x.com/i/communities/";

/// X's post settings (Postiz's `XDto`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
struct XSettings {
    /// Who can reply to the post
    #[serde(default)]
    who_can_reply_post: WhoCanReply,
    /// Post to an X community: its URL
    #[serde(default, deserialize_with = "community")]
    #[schemars(regex(pattern = r"^(https://x\.com/i/communities/\d+)?$"))]
    community: Option<String>,
}

/// A community URL's id (an empty value means none).
fn community<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?.unwrap_or_default();
    if value.is_empty() {
        return Ok(None);
    }
    match value.strip_prefix(COMMUNITY_PREFIX) {
        Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(id.to_owned()))
        }
        _ => Err(serde::de::Error::custom(format!(
            "community must be a URL such as {COMMUNITY_PREFIX}1234567890"
        ))),
    }
}

const CHUNK: usize = 1024 * 1024;

/// A channel's token is stored as `token:secret`.
fn split_token(auth: &ChannelAuth) -> Result<(&str, &str)> {
    auth.access_token.split_once(':').ok_or_else(|| {
        ProviderError::Disconnected("the stored X token is malformed; reconnect".into())
    })
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

async fn upload(api: &Api<'_>, medium: &Medium, alt: Option<&str>) -> Result<String> {
    let category = match (medium.kind, medium.mime) {
        (_, "image/gif") => "tweet_gif",
        (MediaKind::Video, _) => "tweet_video",
        (MediaKind::Image, _) => "tweet_image",
        (MediaKind::Document, _) => {
            return Err(ProviderError::BadBody("X takes no PDF documents".into()));
        }
    };
    let init: Data<Upload> = api
        .post("/2/media/upload/initialize")
        .json(&json!({ "media_type": medium.mime, "total_bytes": medium.len, "media_category": category }))
        .read()
        .await?;
    let id = init.data.id;
    let mut chunks = medium.chunks(CHUNK).await?;
    while let Some((index, chunk)) = chunks.next().await? {
        let part = reqwest::multipart::Part::bytes(chunk)
            .file_name("media")
            .mime_str("application/octet-stream")
            .map_err(super::http::transport_error)?;
        let form = reqwest::multipart::Form::new()
            .text("segment_index", index.to_string())
            .part("media", part);
        api.post(&format!("/2/media/upload/{id}/append"))
            .multipart(form)
            .send()
            .await?;
    }
    let finalized: Data<Upload> = api
        .post(&format!("/2/media/upload/{id}/finalize"))
        .json(&json!({}))
        .read()
        .await?;
    if let Some(p) = finalized.data.processing_info {
        if p.state == "failed" {
            return Err(ProviderError::BadBody(
                "X could not process the media".into(),
            ));
        }
        if p.state != "succeeded" {
            let every = Duration::from_secs(p.check_after_secs.unwrap_or(1).clamp(1, 10));
            poll_until(every, 60, "X's media", || async {
                let status: Data<Upload> = api
                    .get("/2/media/upload")
                    .query(&[("command", "STATUS"), ("media_id", &id)])
                    .read()
                    .await?;
                match status.data.processing_info.map(|p| p.state) {
                    Some(state) if state == "failed" => Err(ProviderError::BadBody(
                        "X could not process the media".into(),
                    )),
                    Some(state) if state != "succeeded" => Ok(None),
                    _ => Ok(Some(())),
                }
            })
            .await?;
        }
    }
    if let Some(alt) = alt.filter(|a| !a.trim().is_empty()) {
        api.post("/2/media/metadata")
            .json(&json!({ "id": id, "metadata": { "alt_text": { "text": alt } } }))
            .send()
            .await?;
    }
    Ok(id)
}

fn verified(additional: &[AdditionalSetting]) -> bool {
    additional
        .iter()
        .any(|s| s.title == "Verified" && s.value.as_bool() == Some(true))
}

/// The API signed with the app and, once there is one, the user's token.
fn api<'a>(
    ctx: &'a Ctx<'a>,
    app: &'a AppCredentials,
    token: Option<&'a str>,
    secret: Option<&'a str>,
) -> Api<'a> {
    Api::of(&X, ctx, Auth::OAuth1(Signer::new(app, token, secret)))
}

/// A form-encoded answer of the OAuth 1.0a endpoints: its token and secret.
fn token_pair(body: &str, what: &str) -> Result<(String, String)> {
    let answer = parse_form(body);
    match (answer.get("oauth_token"), answer.get("oauth_token_secret")) {
        (Some(token), Some(secret)) => Ok((token.clone(), secret.clone())),
        _ => Err(ProviderError::BadBody(format!("X sent no {what}"))),
    }
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

    async fn authorization_url(&self, c: &Connecting<'_>, _state: &str) -> Result<AuthStart> {
        let app = require_app(self, c.app)?;
        let body = api(c.ctx, app, None, None)
            .post("/oauth/request_token")
            .oauth_param("oauth_callback", c.callback)
            .text()
            .await?;
        if parse_form(&body)
            .get("oauth_callback_confirmed")
            .map(String::as_str)
            != Some("true")
        {
            token_pair(&body, "request token")?;
            return Err(ProviderError::BadBody(
                "X did not confirm the callback URL".into(),
            ));
        }
        let (token, secret) = token_pair(&body, "request token")?;
        let mut url = url::Url::parse(INFO.api_base)
            .and_then(|base| base.join("/oauth/authenticate"))
            .map_err(|e| ProviderError::BadBody(e.to_string()))?;
        url.query_pairs_mut().append_pair("oauth_token", &token);
        Ok(AuthStart {
            url: c.ctx.config.providers.hosts.rewrite(url.as_str()),
            state_key: token,
            secret: Some(secret),
        })
    }

    async fn authenticate(&self, c: &Connecting<'_>, input: AuthInput) -> Result<ConnectedAccount> {
        let app = require_app(self, c.app)?;
        let body = api(c.ctx, app, Some(&input.state_key), input.secret.as_deref())
            .post("/oauth/access_token")
            .oauth_param("oauth_verifier", &input.code)
            .text()
            .await?;
        let (token, secret) = token_pair(&body, "access token")?;
        let me: Data<Me> = api(c.ctx, app, Some(&token), Some(&secret))
            .get("/2/users/me")
            .query(&[("user.fields", "profile_image_url,verified")])
            .read()
            .await?;
        Ok(ConnectedAccount {
            internal_id: me.data.id,
            name: me.data.name,
            picture: me.data.profile_image_url,
            username: Some(me.data.username),
            tokens: Tokens::lasting(format!("{token}:{secret}")),
            additional_settings: vec![AdditionalSetting {
                title: "Verified".into(),
                description: "Is this a verified account? (posts up to 4,000 characters)".into(),
                kind: "checkbox".into(),
                value: Value::Bool(me.data.verified),
            }],
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        let app = require_app(self, on.auth.app.as_ref())?;
        let (token, secret) = split_token(on.auth)?;
        let settings: XSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        let api = api(on.ctx, app, Some(token), Some(secret));
        let mut media_ids = Vec::new();
        for m in &post.media {
            let medium = Medium::open(on.ctx, &m.path).await?;
            media_ids.push(upload(&api, &medium, m.alt.as_deref()).await?);
        }
        let mut body = json!({ "text": post.message });
        if !media_ids.is_empty() {
            body["media"] = json!({ "media_ids": media_ids });
        }
        match post.reply_to.as_ref() {
            Some(thread) => body["reply"] = json!({ "in_reply_to_tweet_id": thread.parent.id }),
            None => {
                if settings.who_can_reply_post != WhoCanReply::Everyone {
                    body["reply_settings"] = json!(settings.who_can_reply_post);
                }
                if let Some(id) = settings.community {
                    body["community_id"] = json!(id);
                }
            }
        }
        let created: Data<Created> = api.post("/2/tweets").json(&body).read().await?;
        let username = on.auth.username.as_deref().unwrap_or("i");
        Ok(PostOutcome::Published(Published {
            url: format!("https://x.com/{username}/status/{}", created.data.id),
            id: created.data.id,
            reference: None,
        }))
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
