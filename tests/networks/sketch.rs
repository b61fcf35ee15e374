//! Sketch: a network that exists only in the test suite, built from the provider kit the way
//! a new network is (OAuth 2 with PKCE and refresh, streamed media, two-phase publishing,
//! typed settings). Compiled into the library with the `network-sketch` feature, which only
//! the tests turn on; its fake is `tests/api/fakes/sketch.rs`.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::providers::api::{Api, Auth};
use crate::providers::medium::Medium;
use crate::providers::oauth2::{ClientAuth, Endpoints, TokenGrant};
use crate::providers::settings::{self, SettingsSpec};
use crate::providers::{
    ConnectedAccount, Connecting, MediaRules, On, PendingChecks, PostDetails, PostOutcome,
    Provider, ProviderError, ProviderInfo, Published, RefreshPolicy, Result,
};

pub struct Sketch;

static INFO: ProviderInfo = ProviderInfo {
    identifier: "sketch",
    name: "Sketch",
    oauth2: Some(&ENDPOINTS),
    scopes: &["profile", "posts.write", "media.upload"],
    max_length: 1000,
    refresh: RefreshPolicy::BeforeExpiry,
    needs_app_credentials: true,
    api_base: "https://api.sketch.example",
    summary: "OAuth 2 with PKCE (test suite only)",
    media: MediaRules {
        max: 4,
        video: true,
        video_alone: false,
        ..MediaRules::ANY
    },
    settings: SettingsSpec::of::<SketchSettings>(),
    pending: PendingChecks {
        every_seconds: 1,
        at_most: 5,
    },
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = Endpoints {
    authorize: "https://sketch.example/oauth/authorize",
    token: "https://api.sketch.example/oauth/token",
    pkce: true,
    client_auth: ClientAuth::Basic,
    ..Endpoints::DEFAULT
};

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Visibility {
    #[default]
    Public,
    Followers,
}

/// Sketch's post settings.
#[derive(Debug, Deserialize, JsonSchema)]
struct SketchSettings {
    /// Who sees the post
    #[serde(default)]
    visibility: Visibility,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    name: String,
    username: String,
}

#[derive(Deserialize)]
struct Container {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    post_id: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

/// A container's state as the worker's outcome.
fn outcome(container: Container) -> Result<PostOutcome> {
    match (container.status.as_str(), container.post_id) {
        ("FINISHED", Some(id)) => Ok(PostOutcome::Published(Published {
            url: container.permalink.unwrap_or_default(),
            id,
            reference: None,
        })),
        ("ERROR", _) => Err(ProviderError::BadBody(
            container
                .error_message
                .unwrap_or_else(|| "Sketch could not publish the post".into()),
        )),
        _ => Ok(PostOutcome::Pending(json!({ "container": container.id }))),
    }
}

#[async_trait]
impl Provider for Sketch {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let me: Me = Api::of(self, c.ctx, Auth::Bearer(&grant.access_token))
            .get("/v1/me")
            .read()
            .await?;
        Ok(ConnectedAccount {
            internal_id: me.id,
            name: me.name,
            picture: None,
            username: Some(me.username),
            tokens: grant.into(),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        let settings: SketchSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        let api = Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token));
        let mut media_ids = Vec::new();
        for m in &post.media {
            let medium = Medium::open(on.ctx, &m.path).await?;
            let form = reqwest::multipart::Form::new().part("file", medium.part().await?);
            let uploaded: Value = api.post("/v1/media").multipart(form).read().await?;
            media_ids.push(uploaded["id"].clone());
        }
        let container: Container = api
            .post("/v1/containers")
            .json(&json!({
                "text": post.message,
                "media_ids": media_ids,
                "visibility": settings.visibility,
                "reply_to": post.reply_to.as_ref().map(|t| &t.parent.id),
            }))
            .read()
            .await?;
        outcome(container)
    }

    async fn check_status(&self, on: &On<'_>, pending: &Value) -> Result<PostOutcome> {
        let id = pending["container"].as_str().unwrap_or_default();
        let container: Container = Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token))
            .get(&format!("/v1/containers/{id}"))
            .read()
            .await?;
        outcome(container)
    }
}
