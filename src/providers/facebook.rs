//! Facebook Pages: Facebook Login (a long-lived user token), then the page pick; the channel
//! keeps the page's own token. Text with a link, one or several photos (unpublished photos
//! attached to one feed post), a video, or a story; the comment chain as comments on the post.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::meta::{self, Graph, Listed, PostType};
use super::oauth2::TokenGrant;
use super::settings::{self, SettingsSpec};
use super::{
    Analytics, ConnectedAccount, Connecting, Ctx, MediaItem, MediaRules, On, Page, PostDetails,
    PostOutcome, Provider, ProviderError, ProviderInfo, Published, Result, Tokens, medium,
};

pub struct Facebook;

/// Videos go up through Meta's video host.
const GRAPH_VIDEO: &str = "https://graph-video.facebook.com";

static INFO: ProviderInfo = ProviderInfo {
    identifier: "facebook",
    name: "Facebook Page",
    oauth2: Some(&meta::FACEBOOK_LOGIN),
    scopes: &[
        "pages_show_list",
        "business_management",
        "pages_manage_posts",
        "pages_manage_engagement",
        "pages_read_engagement",
        "read_insights",
    ],
    max_length: 63206,
    max_concurrent_jobs: 500,
    between_steps: true,
    needs_app_credentials: true,
    env: Some(meta::FACEBOOK_APP),
    api_base: meta::FACEBOOK_GRAPH,
    rules: "Facebook Page posts take text with an optional link, up to 10 photos or one video; a story takes one photo or one video.",
    summary: "Facebook Login (a long-lived user token), then pick the page; the channel keeps the page's token",
    media: MediaRules {
        max: 10,
        video: true,
        video_alone: true,
        documents: false,
    },
    settings: SettingsSpec::of::<FacebookSettings>(),
    fetches_media: true,
    logo: include_str!("../../static/logos/facebook.svg"),
    no_pages: "Your Facebook account manages no page socialgate can publish to: the person who connects must have admin access to at least one Facebook Page.",
    ..ProviderInfo::DEFAULT
};

/// Facebook's post settings (Postiz's `FacebookDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct FacebookSettings {
    /// A link shown with the post
    #[serde(default, deserialize_with = "super::settings::http_url")]
    #[schemars(url)]
    url: Option<String>,
    /// A feed post or a story
    #[serde(default)]
    post_type: PostType,
    /// A Facebook text-format preset (coloured background) for a text post
    #[serde(default)]
    text_format_preset_id: Option<String>,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    name: String,
    #[serde(default)]
    picture: Option<Picture>,
}

#[derive(Deserialize)]
struct Picture {
    data: PictureData,
}

#[derive(Deserialize)]
struct PictureData {
    url: String,
}

#[derive(Deserialize)]
struct PageRow {
    id: String,
    name: String,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    picture: Option<Picture>,
    #[serde(default)]
    username: Option<String>,
}

fn graph<'a>(ctx: &'a Ctx<'a>, token: &'a str) -> Graph<'a> {
    Graph::new(
        &Facebook,
        ctx,
        meta::FACEBOOK_GRAPH,
        meta::graph_version(ctx.config),
        token,
    )
}

async fn managed_pages(ctx: &Ctx<'_>, user_token: &str) -> Result<Vec<PageRow>> {
    let listed: Listed<PageRow> = graph(ctx, user_token)
        .get("/me/accounts")
        .query(&[
            ("fields", "id,name,access_token,username,picture{url}"),
            ("limit", "100"),
        ])
        .read()
        .await?;
    Ok(listed.data)
}

/// Each medium's public URL, checked to be one Facebook can fetch.
fn urls<'m>(ctx: &Ctx<'_>, media: &'m [MediaItem]) -> Result<Vec<&'m str>> {
    media
        .iter()
        .map(|m| {
            medium::check_fetchable(ctx, &INFO, &m.path)?;
            Ok(m.path.as_str())
        })
        .collect()
}

/// The post's public address.
async fn permalink(graph: &Graph<'_>, id: &str) -> Result<String> {
    let post: Value = graph
        .get(&format!("/{id}"))
        .query(&[("fields", "permalink_url")])
        .read()
        .await?;
    let url = post["permalink_url"].as_str().unwrap_or_default();
    Ok(if url.starts_with('/') {
        format!("https://www.facebook.com{url}")
    } else {
        url.to_owned()
    })
}

/// An id Meta sends as a string or, in some answers, as a number.
fn id_of(answer: &Value, field: &str) -> Option<String> {
    match &answer[field] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn no_id(what: &str, answer: &Value) -> ProviderError {
    ProviderError::BadBody(format!("Facebook sent no {what} id: {answer}"))
}

/// Uploads a photo that is not published by itself (for a multi-photo post or a story).
async fn unpublished_photo(graph: &Graph<'_>, page: &str, url: &str) -> Result<String> {
    let photo: Value = graph
        .post(&format!("/{page}/photos"))
        .form(&[("url", url), ("published", "false")])
        .read()
        .await?;
    id_of(&photo, "id").ok_or_else(|| no_id("photo", &photo))
}

/// A feed post: text (with its link), one photo, several photos attached to one post, or a
/// video. Returns the post's id, or the video's (a video's post id comes later).
async fn feed_post(
    ctx: &Ctx<'_>,
    graph: &Graph<'_>,
    page: &str,
    post: &PostDetails,
    settings: &FacebookSettings,
    urls: &[&str],
) -> Result<String> {
    let video = post.media.iter().any(|m| m.kind == "video");
    let text = post.message.as_str();
    let (answer, field) = match urls {
        [url] if video => {
            let token = graph.token();
            let uploaded: Value = Graph::new(
                &Facebook,
                ctx,
                GRAPH_VIDEO,
                meta::graph_version(ctx.config),
                token,
            )
            .post(&format!("/{page}/videos"))
            .form(&[("file_url", url), ("description", text)])
            .read()
            .await?;
            (uploaded, "id")
        }
        [url] => {
            let photo: Value = graph
                .post(&format!("/{page}/photos"))
                .form(&[("url", url), ("caption", text)])
                .read()
                .await?;
            (photo, "post_id")
        }
        _ => {
            let mut attached = Vec::new();
            for url in urls {
                let id = unpublished_photo(graph, page, url).await?;
                attached.push(json!({ "media_fbid": id }).to_string());
            }
            let names: Vec<String> = (0..attached.len())
                .map(|i| format!("attached_media[{i}]"))
                .collect();
            let mut form: Vec<(&str, &str)> = vec![("message", text)];
            form.extend(
                names
                    .iter()
                    .map(String::as_str)
                    .zip(attached.iter().map(String::as_str)),
            );
            if let Some(link) = &settings.url {
                form.push(("link", link));
            }
            if let Some(preset) = settings
                .text_format_preset_id
                .as_deref()
                .filter(|_| urls.is_empty())
            {
                form.push(("text_format_preset_id", preset));
            }
            let created: Value = graph
                .post(&format!("/{page}/feed"))
                .form(&form)
                .read()
                .await?;
            (created, "id")
        }
    };
    id_of(&answer, field)
        .or_else(|| id_of(&answer, "id"))
        .ok_or_else(|| no_id("post", &answer))
}

/// A story: one photo (uploaded unpublished, then shared as a story) or one video (started,
/// fetched by Meta from our URL, finished).
async fn story(graph: &Graph<'_>, page: &str, post: &PostDetails, url: &str) -> Result<String> {
    let answer: Value = if post.media.iter().any(|m| m.kind == "video") {
        let started: Value = graph
            .post(&format!("/{page}/video_stories"))
            .form(&[("upload_phase", "start")])
            .read()
            .await?;
        let video = id_of(&started, "video_id").ok_or_else(|| no_id("video", &started))?;
        let upload = started["upload_url"]
            .as_str()
            .ok_or_else(|| no_id("upload URL", &started))?;
        graph
            .api
            .post(upload)
            .header("Authorization", format!("OAuth {}", graph.token()))
            .header("file_url", url)
            .send()
            .await?;
        graph
            .post(&format!("/{page}/video_stories"))
            .form(&[("upload_phase", "finish"), ("video_id", &video)])
            .read()
            .await?
    } else {
        let photo = unpublished_photo(graph, page, url).await?;
        graph
            .post(&format!("/{page}/photo_stories"))
            .form(&[("photo_id", &photo)])
            .read()
            .await?
    };
    id_of(&answer, "post_id").ok_or_else(|| no_id("story", &answer))
}

#[async_trait]
impl Provider for Facebook {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> Result<(), String> {
        for (i, post) in chain.iter().enumerate() {
            INFO.media.check(INFO.name, &post.media)?;
            let story = settings::parse::<FacebookSettings>(&post.settings)
                .is_ok_and(|s| s.post_type == PostType::Story);
            if i == 0 && story && post.media.len() != 1 {
                return Err("A Facebook story takes exactly one photo or one video".into());
            }
            if i > 0 && post.media.len() > 1 {
                return Err("A Facebook comment takes at most one photo".into());
            }
        }
        Ok(())
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let long = meta::facebook_long_lived(self, c, &grant.access_token).await?;
        let me: Me = graph(c.ctx, &long.access_token)
            .me("id,name,picture{url}")
            .await?;
        Ok(ConnectedAccount {
            internal_id: me.id,
            name: me.name,
            picture: me.picture.map(|p| p.data.url),
            username: None,
            tokens: long.into(),
            ..ConnectedAccount::default()
        })
    }

    async fn pages(&self, on: &On<'_>) -> Result<Vec<Page>> {
        Ok(managed_pages(on.ctx, &on.auth.access_token)
            .await?
            .into_iter()
            .filter(|p| p.access_token.is_some())
            .map(|p| Page {
                id: p.id,
                name: p.name,
                picture: p.picture.map(|p| p.data.url),
                username: p.username,
            })
            .collect())
    }

    async fn pick_page(&self, on: &On<'_>, page_id: &str) -> Result<ConnectedAccount> {
        let page = managed_pages(on.ctx, &on.auth.access_token)
            .await?
            .into_iter()
            .find(|p| p.id == page_id)
            .ok_or_else(|| {
                ProviderError::BadBody(format!("this account manages no page {page_id:?}"))
            })?;
        let token = page.access_token.ok_or_else(|| {
            ProviderError::BadBody(
                "Facebook gave no token for this page: you need admin access to it".into(),
            )
        })?;
        Ok(ConnectedAccount {
            internal_id: page.id,
            name: page.name,
            picture: page.picture.map(|p| p.data.url),
            username: page.username,
            // A page token from a long-lived user token does not expire.
            tokens: Tokens::lasting(token),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        let settings: FacebookSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        let urls = urls(on.ctx, &post.media)?;
        let graph = graph(on.ctx, &on.auth.access_token);
        let page = &on.auth.internal_id;
        if let Some(thread) = post.reply_to.as_ref() {
            let mut form = vec![("message", post.message.as_str())];
            if let Some(url) = urls.first() {
                form.push(("attachment_url", url));
            }
            let comment: Value = graph
                .post(&format!("/{}/comments", thread.root.id))
                .form(&form)
                .read()
                .await?;
            let id = comment["id"].as_str().unwrap_or_default().to_owned();
            return Ok(PostOutcome::Published(Published {
                url: format!("{}?comment_id={id}", thread.root.url),
                id,
                reference: None,
            }));
        }
        let id = match (settings.post_type, urls.as_slice()) {
            (PostType::Story, [url]) => story(&graph, page, post, url).await?,
            (PostType::Story, _) => {
                return Err(ProviderError::BadBody(
                    "A Facebook story takes exactly one photo or one video".into(),
                ));
            }
            (PostType::Post, _) => feed_post(on.ctx, &graph, page, post, &settings, &urls).await?,
        };
        let url = permalink(&graph, &id).await?;
        Ok(PostOutcome::Published(Published {
            id,
            url,
            reference: None,
        }))
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        let metric =
            "page_total_media_view_unique,page_media_view,page_post_engagements,page_daily_follows";
        let path = format!("/{}/insights", on.auth.internal_id);
        let graph = graph(on.ctx, &on.auth.access_token);
        let params = [("metric", metric), ("period", "day")];
        meta::insights_over(&graph, &path, &params, days, 90).await
    }

    async fn post_analytics(&self, on: &On<'_>, id: &str, _days: u32) -> Result<Analytics> {
        let insights: Listed<Value> = graph(on.ctx, &on.auth.access_token)
            .get(&format!("/{id}/insights"))
            .query(&[(
                "metric",
                "post_total_media_view_unique,post_media_view,post_clicks",
            )])
            .read()
            .await?;
        Ok(insights.data.iter().map(meta::insights_series).collect())
    }

    fn classify(&self, _status: u16, body: &str) -> Option<ProviderError> {
        meta::classify(INFO.name, body)
    }
}
