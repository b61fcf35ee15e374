//! Instagram through a Facebook Page: a Business or Creator account linked to a page, picked
//! after Facebook Login; the channel keeps the page's token. Publishing (shared with
//! `instagram_standalone`) goes through containers (image, carousel, reel, story) that
//! Instagram fetches from our public URL, checked until finished, then published; the comment
//! chain as comments on the post.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::meta::{self, Containers, Graph, Listed, PostType, SelfRenewing};
use super::oauth2::TokenGrant;
use super::settings::{self, SettingsSpec};
use super::{
    Analytics, ConnectedAccount, Connecting, Ctx, MediaItem, MediaRules, On, Page, PendingChecks,
    PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo, Published, Result, Tokens,
    display_name, medium,
};

/// Instagram's rule, shown to writers and used to refuse a post before its time.
pub(super) const RULES: &str =
    "Instagram should have at least one attachment, if it's a story, it can have only one picture";

pub(super) static CONTAINERS: Containers = Containers {
    create: "media",
    publish: "media_publish",
    status_fields: "status_code,status",
};

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Graduation {
    Manual,
    SsPerformance,
}

/// Another account credited on the post.
#[derive(Debug, Deserialize, JsonSchema)]
struct Collaborator {
    /// The collaborator's Instagram username
    label: String,
}

/// A sound for a reel (Postiz's `audio`); volumes are percentages. Accepted and checked for
/// Postiz clients; Instagram's publishing API has no field to attach it, so it is not sent.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)] // read by the schema and the check only
struct Audio {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    artist: Option<String>,
    #[serde(default)]
    image: Option<String>,
    #[serde(default)]
    #[schemars(range(max = 100))]
    audio_volume: Option<u8>,
    #[serde(default)]
    #[schemars(range(max = 100))]
    video_volume: Option<u8>,
}

/// Instagram's post settings (Postiz's `InstagramDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct InstagramSettings {
    /// A feed post (image, carousel or reel) or a story
    #[serde(default)]
    post_type: PostType,
    /// Publish a reel as a trial reel (shown to non-followers first)
    #[serde(default)]
    is_trial_reel: Option<bool>,
    /// How a trial reel graduates to followers
    #[serde(default)]
    graduation_strategy: Option<Graduation>,
    /// Up to 3 accounts credited on a feed post or reel
    #[serde(default)]
    collaborators: Vec<Collaborator>,
    /// A sound for a reel (accepted for Postiz clients; Instagram's API cannot attach it)
    #[serde(default)]
    audio: Option<Audio>,
}

impl InstagramSettings {
    fn check(&self) -> Result<(), String> {
        if self.collaborators.len() > 3 {
            return Err("collaborators: Instagram credits at most 3 collaborators".into());
        }
        if self.post_type == PostType::Story && !self.collaborators.is_empty() {
            return Err("collaborators: a story takes no collaborators".into());
        }
        if let Some(a) = &self.audio
            && (a.audio_volume.is_some_and(|v| v > 100) || a.video_volume.is_some_and(|v| v > 100))
        {
            return Err("audio: volumes are percentages from 0 to 100".into());
        }
        Ok(())
    }
}

/// Settings and media checked together, before the post is accepted.
pub(super) fn check_chain(info: &ProviderInfo, chain: &[PostDetails]) -> Result<(), String> {
    let Some(first) = chain.first() else {
        return Ok(());
    };
    let settings: InstagramSettings = settings::parse(&first.settings)?;
    settings.check()?;
    if first.media.is_empty() {
        return Err(RULES.into());
    }
    if settings.post_type == PostType::Story && first.media.len() != 1 {
        return Err(RULES.into());
    }
    info.media.check(info.name, &first.media)?;
    if settings.post_type == PostType::Post {
        for m in &first.media {
            if let Some((w, h)) = m.dimensions.filter(|(w, h)| *w > 0 && *h > 0) {
                // Between 4:5 (portrait) and 1.91:1 (landscape), as Instagram requires.
                let ratio = f64::from(w) / f64::from(h);
                if !(0.8 - 1e-3..=1.91 + 1e-3).contains(&ratio) {
                    let name = m.path.rsplit('/').next().unwrap_or(&m.path);
                    return Err(format!(
                        "Instagram takes pictures between 4:5 and 1.91:1 in aspect ratio; {name} is {w}×{h}"
                    ));
                }
            }
        }
    }
    if chain[1..].iter().any(|c| !c.media.is_empty()) {
        return Err("Instagram comments are text only".into());
    }
    Ok(())
}

/// The container fields of one medium (`child`: an item of a carousel).
fn media_fields(m: &MediaItem, story: bool, child: bool) -> Vec<(&'static str, String)> {
    let video = m.kind == "video";
    let mut fields = vec![(
        if video { "video_url" } else { "image_url" },
        m.path.clone(),
    )];
    match (story, child, video) {
        (true, _, _) => fields.push(("media_type", "STORIES".into())),
        (false, true, true) => fields.push(("media_type", "VIDEO".into())),
        (false, false, true) => fields.push(("media_type", "REELS".into())),
        _ => {}
    }
    if child {
        fields.push(("is_carousel_item", "true".into()));
    }
    fields
}

fn form<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Publishes on the account `user`: the post through its container, or a comment on it.
async fn publish_on(
    ctx: &Ctx<'_>,
    info: &ProviderInfo,
    graph: &Graph<'_>,
    user: &str,
    post: &PostDetails,
) -> Result<PostOutcome> {
    if let Some(thread) = &post.reply_to {
        let comment: Value = graph
            .post(&format!("/{}/comments", thread.root.id))
            .form(&[("message", post.message.as_str())])
            .read()
            .await?;
        return Ok(PostOutcome::Published(Published {
            id: comment["id"].as_str().unwrap_or_default().to_owned(),
            url: thread.root.url.clone(),
            reference: None,
        }));
    }
    let settings: InstagramSettings =
        settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
    settings.check().map_err(ProviderError::BadBody)?;
    for m in &post.media {
        medium::check_fetchable(ctx, info, &m.path)?;
    }
    meta::check_quota(graph, &format!("/{user}/content_publishing_limit")).await?;
    let story = settings.post_type == PostType::Story;
    let mut fields = match post.media.as_slice() {
        [one] => media_fields(one, story, false),
        many => {
            let mut children = Vec::new();
            for m in many {
                let item = media_fields(m, false, true);
                children
                    .push(meta::create_container(graph, &CONTAINERS, user, &form(&item)).await?);
            }
            vec![
                ("media_type", "CAROUSEL".into()),
                ("children", children.join(",")),
            ]
        }
    };
    if !story {
        fields.push(("caption", post.message.clone()));
        if !settings.collaborators.is_empty() {
            let names: Vec<&str> = settings
                .collaborators
                .iter()
                .map(|c| c.label.as_str())
                .collect();
            fields.push(("collaborators", json!(names).to_string()));
        }
        if settings.is_trial_reel == Some(true) {
            let strategy = match settings.graduation_strategy {
                Some(Graduation::SsPerformance) => "SS_PERFORMANCE",
                _ => "MANUAL",
            };
            fields.push((
                "trial_params",
                json!({ "graduation_strategy": strategy }).to_string(),
            ));
        }
    }
    let created = meta::create_container(graph, &CONTAINERS, user, &form(&fields)).await?;
    meta::advance(graph, &CONTAINERS, &meta::pending(user, &created)).await
}

async fn account_insights(graph: &Graph<'_>, user: &str, days: u32) -> Result<Analytics> {
    let params = [("metric", "follower_count,reach"), ("period", "day")];
    meta::insights_over(graph, &format!("/{user}/insights"), &params, days, 30).await
}

/// Instagram by one of its two logins. Both publish, comment and read insights the same way,
/// each on its own Graph host.
pub struct Instagram {
    pub(super) info: &'static ProviderInfo,
    pub(super) host: &'static str,
    pub(super) login: Login,
}

pub(super) enum Login {
    /// Facebook Login: the Instagram accounts linked to the user's pages, picked after
    /// connecting; the channel keeps the page's token, which does not expire.
    Facebook,
    /// Instagram Login (`instagram_standalone`): the account's own 60-day token, renewed.
    Instagram(&'static SelfRenewing),
}

/// Instagram through a Facebook Page (Facebook Login, the same Meta app as Facebook).
pub static INSTAGRAM: Instagram = Instagram {
    info: &INFO,
    host: meta::FACEBOOK_GRAPH,
    login: Login::Facebook,
};

pub(super) static INFO: ProviderInfo = ProviderInfo {
    identifier: "instagram",
    name: "Instagram",
    oauth2: Some(&meta::FACEBOOK_LOGIN),
    scopes: &[
        "instagram_basic",
        "pages_show_list",
        "pages_read_engagement",
        "business_management",
        "instagram_content_publish",
        "instagram_manage_comments",
        "instagram_manage_insights",
    ],
    max_length: 2200,
    max_concurrent_jobs: 400,
    between_steps: true,
    needs_app_credentials: true,
    env: Some(meta::FACEBOOK_APP),
    api_base: meta::FACEBOOK_GRAPH,
    rules: RULES,
    summary: "Facebook Login with the Facebook Page's Meta app, then pick the Instagram Business or Creator account linked to a page",
    media: MediaRules {
        max: 10,
        video: true,
        video_alone: false,
        documents: false,
    },
    settings: SettingsSpec::of::<InstagramSettings>(),
    pending: PendingChecks {
        every_seconds: 20,
        at_most: 45,
    },
    fetches_media: true,
    logo: include_str!("../../static/logos/instagram.svg"),
    no_pages: "No Instagram account found: connect your Instagram Business or Creator account to a Facebook Page (in Instagram's settings), then connect again.",
    ..ProviderInfo::DEFAULT
};

#[derive(Deserialize)]
struct LinkedPage {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    instagram_business_account: Option<IgAccount>,
}

#[derive(Deserialize)]
struct IgAccount {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    profile_picture_url: Option<String>,
}

impl Instagram {
    pub(super) fn graph<'a>(&'a self, ctx: &'a Ctx<'a>, token: &'a str) -> Graph<'a> {
        Graph::new(self, ctx, self.host, meta::graph_version(ctx.config), token)
    }
}

/// The Instagram accounts linked to the user's pages, each with its page's token.
async fn linked_accounts(ctx: &Ctx<'_>, user_token: &str) -> Result<Vec<(IgAccount, String)>> {
    let pages: Listed<LinkedPage> = INSTAGRAM
        .graph(ctx, user_token)
        .get("/me/accounts")
        .query(&[
            (
                "fields",
                "id,name,access_token,instagram_business_account{id,username,name,profile_picture_url}",
            ),
            ("limit", "100"),
        ])
        .read()
        .await?;
    Ok(pages
        .data
        .into_iter()
        .filter_map(|p| Some((p.instagram_business_account?, p.access_token?)))
        .collect())
}

#[async_trait]
impl Provider for Instagram {
    fn info(&self) -> &'static ProviderInfo {
        self.info
    }

    fn check_validity(&self, chain: &[PostDetails]) -> Result<(), String> {
        check_chain(self.info, chain)
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        if let Login::Instagram(tokens) = self.login {
            return super::instagram_standalone::account(self, tokens, c, grant).await;
        }
        let long = meta::facebook_long_lived(self, c, &grant.access_token).await?;
        let me: Value = self.graph(c.ctx, &long.access_token).me("id,name").await?;
        Ok(ConnectedAccount {
            internal_id: me["id"].as_str().unwrap_or_default().to_owned(),
            name: me["name"].as_str().unwrap_or("Instagram").to_owned(),
            tokens: long.into(),
            ..ConnectedAccount::default()
        })
    }

    async fn refresh(&self, on: &On<'_>) -> Result<Tokens> {
        match self.login {
            Login::Instagram(tokens) => tokens.renew(self, on.ctx, &on.auth.access_token).await,
            Login::Facebook => Err(ProviderError::RefreshNeeded(
                "the page's token does not expire; reconnect the channel".into(),
            )),
        }
    }

    async fn pages(&self, on: &On<'_>) -> Result<Vec<Page>> {
        if let Login::Instagram(_) = self.login {
            return Ok(Vec::new());
        }
        Ok(linked_accounts(on.ctx, &on.auth.access_token)
            .await?
            .into_iter()
            .map(|(ig, _)| Page {
                name: display_name(ig.name.as_deref(), ig.username.as_deref(), &ig.id),
                id: ig.id,
                picture: ig.profile_picture_url,
                username: ig.username,
            })
            .collect())
    }

    async fn pick_page(&self, on: &On<'_>, page_id: &str) -> Result<ConnectedAccount> {
        let (ig, token) = match self.login {
            Login::Facebook => linked_accounts(on.ctx, &on.auth.access_token).await?,
            Login::Instagram(_) => Vec::new(),
        }
        .into_iter()
        .find(|(ig, _)| ig.id == page_id)
        .ok_or_else(|| {
            ProviderError::BadBody(format!("no linked Instagram account {page_id:?}"))
        })?;
        Ok(ConnectedAccount {
            name: display_name(ig.name.as_deref(), ig.username.as_deref(), &ig.id),
            internal_id: ig.id,
            picture: ig.profile_picture_url,
            username: ig.username,
            // The linked page's token, which does not expire.
            tokens: Tokens::lasting(token),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        let graph = self.graph(on.ctx, &on.auth.access_token);
        publish_on(on.ctx, self.info, &graph, &on.auth.internal_id, post).await
    }

    async fn check_status(&self, on: &On<'_>, pending: &Value) -> Result<PostOutcome> {
        let graph = self.graph(on.ctx, &on.auth.access_token);
        meta::advance(&graph, &CONTAINERS, pending).await
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        let graph = self.graph(on.ctx, &on.auth.access_token);
        account_insights(&graph, &on.auth.internal_id, days).await
    }

    fn classify(&self, _status: u16, body: &str) -> Option<ProviderError> {
        meta::classify(self.info.name, body)
    }
}
