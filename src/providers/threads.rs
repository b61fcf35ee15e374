//! Threads: OAuth 2 with Threads' own app, a long-lived token (60 days) renewed before it ends,
//! and posts through containers (text, image, video, carousel) published once Threads has
//! processed them; replies answer the previous post with `reply_to_id`.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::meta::{self, Containers, Graph, SelfRenewing};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    Analytics, ConnectedAccount, Connecting, Ctx, EnvCredentials, MediaRules, On, Pacing,
    PendingChecks, PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo, RefreshPolicy,
    Result, Tokens, display_name, medium, require_app,
};

pub struct Threads;

const GRAPH: &str = "https://graph.threads.net";
const VERSION: &str = "v1.0";

static INFO: ProviderInfo = ProviderInfo {
    identifier: "threads",
    name: "Threads",
    oauth2: Some(&ENDPOINTS),
    scopes: &[
        "threads_basic",
        "threads_content_publish",
        "threads_manage_replies",
        "threads_manage_insights",
    ],
    max_length: 500,
    max_concurrent_jobs: 2,
    refresh: RefreshPolicy::BeforeExpiry,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "THREADS_APP_ID",
        client_secret: "THREADS_APP_SECRET",
        instance_url: None,
    }),
    api_base: GRAPH,
    unprefixed_callback: true,
    rules: "Threads posts have at most 500 characters and up to 20 pictures or videos (a carousel).",
    summary: "OAuth 2 with the Threads app (redirect URI without `/postiz`), a 60-day token renewed before it ends",
    pacing: Some(Pacing {
        posts: 250,
        per_seconds: 24 * 3600,
    }),
    media: MediaRules {
        max: 20,
        video: true,
        video_alone: false,
        documents: false,
    },
    pending: PendingChecks {
        every_seconds: 10,
        at_most: 60,
    },
    fetches_media: true,
    logo: include_str!("../../static/logos/threads.svg"),
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = meta::login(
    "https://threads.net/oauth/authorize",
    "https://graph.threads.net/oauth/access_token",
);

static TOKENS: SelfRenewing = SelfRenewing {
    host: GRAPH,
    exchange: "th_exchange_token",
    refresh: "th_refresh_token",
};

static CONTAINERS: Containers = Containers {
    create: "threads",
    publish: "threads_publish",
    status_fields: "status,error_message",
};

#[derive(Deserialize)]
struct Me {
    id: String,
    username: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    threads_profile_picture_url: Option<String>,
}

fn graph<'a>(ctx: &'a Ctx<'a>, token: &'a str) -> Graph<'a> {
    Graph::new(&Threads, ctx, GRAPH, VERSION.to_owned(), token)
}

/// The container of one post: text, one image or video, or a carousel of them.
async fn container(
    ctx: &Ctx<'_>,
    graph: &Graph<'_>,
    user: &str,
    post: &PostDetails,
    reply_to: Option<&str>,
) -> Result<String> {
    let mut children = Vec::new();
    for m in &post.media {
        medium::check_fetchable(ctx, &INFO, &m.path)?;
    }
    let item = |m: &super::MediaItem| {
        if m.kind == "video" {
            ("VIDEO", "video_url", m.path.clone())
        } else {
            ("IMAGE", "image_url", m.path.clone())
        }
    };
    let mut fields: Vec<(&str, String)> = vec![("text", post.message.clone())];
    match post.media.as_slice() {
        [] => fields.push(("media_type", "TEXT".into())),
        [one] => {
            let (kind, field, url) = item(one);
            fields.push(("media_type", kind.into()));
            fields.push((field, url));
        }
        many => {
            for m in many {
                let (kind, field, url) = item(m);
                let form = [
                    ("media_type", kind),
                    (field, &url),
                    ("is_carousel_item", "true"),
                ];
                children.push(meta::create_container(graph, &CONTAINERS, user, &form).await?);
            }
            fields.push(("media_type", "CAROUSEL".into()));
            fields.push(("children", children.join(",")));
        }
    }
    if let Some(parent) = reply_to {
        fields.push(("reply_to_id", parent.to_owned()));
    }
    let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    meta::create_container(graph, &CONTAINERS, user, &form).await
}

#[async_trait]
impl Provider for Threads {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let long = TOKENS.exchange(self, c, &grant.access_token).await?;
        let fields = "id,username,name,threads_profile_picture_url";
        let me: Me = graph(c.ctx, &long.access_token).me(fields).await?;
        Ok(ConnectedAccount {
            internal_id: me.id,
            name: display_name(me.name.as_deref(), Some(&me.username), "Threads"),
            picture: me.threads_profile_picture_url,
            username: Some(me.username),
            // The long-lived token itself is renewed: there is no refresh token.
            tokens: long,
            ..ConnectedAccount::default()
        })
    }

    async fn refresh(&self, on: &On<'_>) -> Result<Tokens> {
        require_app(self, on.auth.app.as_ref())?;
        TOKENS.renew(self, on.ctx, &on.auth.access_token).await
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        let graph = graph(on.ctx, &on.auth.access_token);
        let user = &on.auth.internal_id;
        if post.reply_to.as_ref().is_none() {
            meta::check_quota(&graph, &format!("/{user}/threads_publishing_limit")).await?;
        }
        let parent = post.reply_to.as_ref().map(|t| t.parent.id.as_str());
        let created = container(on.ctx, &graph, user, post, parent).await?;
        // Text is usually ready at once (published now); media is checked again later.
        meta::advance(&graph, &CONTAINERS, &meta::pending(user, &created)).await
    }

    async fn check_status(&self, on: &On<'_>, pending: &Value) -> Result<PostOutcome> {
        meta::advance(&graph(on.ctx, &on.auth.access_token), &CONTAINERS, pending).await
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        let metric = "views,likes,replies,reposts,quotes,followers_count";
        let path = format!("/{}/threads_insights", on.auth.internal_id);
        let graph = graph(on.ctx, &on.auth.access_token);
        meta::insights_over(&graph, &path, &[("metric", metric)], days, 90).await
    }

    fn classify(&self, _status: u16, body: &str) -> Option<ProviderError> {
        meta::classify(INFO.name, body).map(|e| match e {
            // "The requested resource does not exist" right after creation: not ready yet.
            ProviderError::BadBody(m) if m.ends_with("(code 24)") => ProviderError::retry(m),
            other => other,
        })
    }
}
