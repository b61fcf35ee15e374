//! YouTube: Google's OAuth 2 with refresh tokens, one video per post uploaded with the
//! resumable protocol (streamed from storage in 8 MiB chunks, resumed from the last byte
//! YouTube acknowledged after a dropped connection or a server error), the thumbnail set
//! afterwards, a used-up daily quota waited out until midnight Pacific, and analytics from
//! YouTube Analytics.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth};
use super::medium::{MediaKind, Medium};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    Analytics, AnalyticsPoint, AnalyticsSeries, ConnectedAccount, Connecting, EnvCredentials,
    MediaRules, On, Page, PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo,
    Published, RefreshPolicy, Result, SettingsSpec, Tokens, google, settings,
};

pub struct YouTube;

/// Chunks of the upload: a multiple of 256 KiB, as the resumable protocol requires.
pub const CHUNK: usize = 32 * 256 * 1024;

/// How many times an interrupted upload is resumed before the publish is retried later.
const RESUMES: u32 = 5;

const RULES: &str = "YouTube must have on video attachment, it cannot be empty";

/// Who a video is for.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
enum Visibility {
    #[default]
    Public,
    Private,
    Unlisted,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum YesNo {
    Yes,
    No,
}

/// A picture from the media library.
#[derive(Debug, Deserialize, JsonSchema)]
struct Picture {
    path: String,
}

/// YouTube's post settings (Postiz's `YoutubeSettingsDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct YouTubeSettings {
    /// The video's title (2 to 100 characters)
    #[schemars(length(min = 2, max = 100))]
    title: String,
    /// Who may watch it
    #[serde(rename = "type", default)]
    visibility: Visibility,
    /// Whether the video is made for kids
    #[serde(rename = "selfDeclaredMadeForKids", default)]
    made_for_kids: Option<YesNo>,
    /// A custom thumbnail (the channel must be verified)
    #[serde(default)]
    thumbnail: Option<Picture>,
    /// Tags, 500 characters in all
    #[serde(default)]
    tags: Vec<settings::Tag>,
}

impl YouTubeSettings {
    fn check(&self) -> std::result::Result<(), String> {
        let title = self.title.trim().chars().count();
        if !(2..=100).contains(&title) {
            return Err("title must be 2 to 100 characters".into());
        }
        if self.title.contains(['<', '>']) {
            return Err("title cannot contain < or >".into());
        }
        // YouTube counts the commas between tags, and quotes around a tag with a space.
        let tags: usize = self
            .tags
            .iter()
            .map(|t| t.value.chars().count() + if t.value.contains(' ') { 2 } else { 0 })
            .sum::<usize>()
            + self.tags.len().saturating_sub(1);
        if tags > 500 {
            return Err(format!("tags have {tags} characters; YouTube takes 500"));
        }
        Ok(())
    }
}

static INFO: ProviderInfo = ProviderInfo {
    identifier: "youtube",
    name: "YouTube",
    oauth2: Some(&ENDPOINTS),
    scopes: &[
        "https://www.googleapis.com/auth/userinfo.profile",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/youtube",
        "https://www.googleapis.com/auth/youtube.force-ssl",
        "https://www.googleapis.com/auth/youtube.readonly",
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/yt-analytics.readonly",
    ],
    max_length: 5000,
    max_concurrent_jobs: 200,
    refresh: RefreshPolicy::BeforeExpiry,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "YOUTUBE_CLIENT_ID",
        client_secret: "YOUTUBE_CLIENT_SECRET",
        instance_url: None,
    }),
    api_base: "https://www.googleapis.com",
    rules: RULES,
    summary: "Google OAuth 2 (YouTube Data and Analytics APIs, consent screen with test users or verified); one video per post, resumable upload",
    media: MediaRules {
        max: 1,
        video: true,
        video_alone: true,
        documents: false,
    },
    settings: SettingsSpec::of::<YouTubeSettings>(),
    denied: google::DENIED,
    // Only when the Google account has several channels.
    between_steps: true,
    no_pages: "This Google account has no YouTube channel: create one on youtube.com, then connect again.",
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = google::login();

#[derive(Deserialize)]
struct Channels {
    #[serde(default)]
    items: Vec<Channel>,
}

#[derive(Deserialize)]
struct Channel {
    id: String,
    snippet: Snippet,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    title: String,
    #[serde(default)]
    custom_url: Option<String>,
    #[serde(default)]
    thumbnails: Value,
}

/// The channels of the account behind a token (`mine=true`).
async fn channels(api: &Api<'_>) -> Result<Vec<Channel>> {
    let channels: Channels = api
        .get("/youtube/v3/channels")
        .query(&[("part", "snippet,statistics"), ("mine", "true")])
        .read()
        .await?;
    Ok(channels.items)
}

impl Channel {
    /// The channel as the account a channel of ours publishes to.
    fn account(self, tokens: Tokens) -> ConnectedAccount {
        let picture = self.snippet.thumbnails["default"]["url"]
            .as_str()
            .map(str::to_owned);
        ConnectedAccount {
            internal_id: self.id,
            name: self.snippet.title,
            picture,
            username: self.snippet.custom_url,
            tokens,
            picked: true,
            ..ConnectedAccount::default()
        }
    }
}

/// Where an upload stands, from a 308's `Range: bytes=0-N` (nothing stored without one).
fn acknowledged(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix("bytes=0-"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map_or(0, |last| last + 1)
}

/// What one PUT of the session answered.
enum Step {
    /// YouTube has the bytes up to here.
    At(u64),
    Done(String),
    /// The connection dropped or YouTube failed: ask where it stands.
    Interrupted(String),
}

impl YouTube {
    fn api<'a>(&'a self, on: &'a On<'a>) -> Api<'a> {
        Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token))
    }

    /// Opens an upload session; answers its URI.
    async fn open(&self, api: &Api<'_>, video: &Medium, metadata: &Value) -> Result<String> {
        let opened = api
            .post("/upload/youtube/v3/videos")
            .query(&[("uploadType", "resumable"), ("part", "snippet,status")])
            .header("X-Upload-Content-Length", video.len.to_string())
            .header("X-Upload-Content-Type", video.mime)
            .json(metadata)
            .send()
            .await?;
        opened
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| ProviderError::BadBody("YouTube opened no upload session".into()))
    }

    /// One PUT to the session: a chunk from `offset`, or (`None`) the question where it stands.
    async fn put(
        &self,
        api: &Api<'_>,
        session: &str,
        video: &Medium,
        offset: Option<u64>,
    ) -> Result<Step> {
        let total = video.len;
        let request = match offset {
            Some(from) => {
                let chunk = video.chunk_at(from, CHUNK).await?;
                let last = from + chunk.len() as u64 - 1;
                api.put(session)
                    .header("Content-Range", format!("bytes {from}-{last}/{total}"))
                    .body(chunk, video.mime)
            }
            None => api
                .put(session)
                .header("Content-Range", format!("bytes */{total}"))
                .body(Vec::new(), video.mime),
        };
        let answer = match request.send_any().await {
            Ok(answer) => answer,
            Err(e @ (ProviderError::Unconfirmed(_) | ProviderError::RetryLater { .. })) => {
                return Ok(Step::Interrupted(e.to_string()));
            }
            Err(e) => return Err(e),
        };
        let status = answer.status().as_u16();
        match status {
            308 => Ok(Step::At(acknowledged(&answer))),
            200 | 201 => {
                let video: Value = answer.json().await.map_err(|e| {
                    ProviderError::Unconfirmed(format!("YouTube's answer to the upload: {e}"))
                })?;
                video["id"]
                    .as_str()
                    .map(|id| Step::Done(id.to_owned()))
                    .ok_or_else(|| {
                        ProviderError::Unconfirmed(
                            "YouTube answered the upload without a video id".into(),
                        )
                    })
            }
            500 | 502 | 503 | 504 => Ok(Step::Interrupted(format!("YouTube answered {status}"))),
            404 => Err(ProviderError::retry(
                "YouTube's upload session expired; the upload starts again later",
            )),
            _ => {
                let body = answer.text().await.unwrap_or_default();
                Err(super::http::classify(
                    self,
                    answer_status(status),
                    &body,
                    None,
                ))
            }
        }
    }

    /// Sends the whole video through the session; answers the video id.
    async fn upload(&self, api: &Api<'_>, session: &str, video: &Medium) -> Result<String> {
        let mut offset = 0;
        let mut resumes = 0;
        loop {
            let step = if offset < video.len {
                self.put(api, session, video, Some(offset)).await?
            } else {
                self.put(api, session, video, None).await?
            };
            match step {
                Step::Done(id) => return Ok(id),
                Step::At(next) => offset = next,
                Step::Interrupted(why) => {
                    resumes += 1;
                    if resumes > RESUMES {
                        return Err(ProviderError::Unconfirmed(format!(
                            "the upload to YouTube kept failing ({why})"
                        )));
                    }
                    tracing::info!(%why, offset, "YouTube upload interrupted; asking where it stands");
                    match self.put(api, session, video, None).await? {
                        Step::Done(id) => return Ok(id),
                        Step::At(next) => offset = next,
                        Step::Interrupted(_) => {}
                    }
                }
            }
        }
    }

    /// Sets the custom thumbnail; a refusal does not undo the published video.
    async fn thumbnail(&self, on: &On<'_>, video_id: &str, path: &str) {
        let set = async {
            let picture = Medium::open(on.ctx, path).await?;
            self.api(on)
                .post("/upload/youtube/v3/thumbnails/set")
                .query(&[("videoId", video_id), ("uploadType", "media")])
                .body(picture.body().await?, picture.mime)
                .send()
                .await
        };
        if let Err(e) = set.await {
            tracing::warn!(video = %video_id, error = %e, "YouTube refused the thumbnail (a custom thumbnail needs a verified channel)");
        }
    }

    /// Daily series of YouTube Analytics metrics, for the channel or (`video`) one video.
    async fn report(&self, on: &On<'_>, days: u32, video: Option<&str>) -> Result<Analytics> {
        let end = chrono::Utc::now().date_naive();
        let start = end - chrono::Duration::days(i64::from(days.clamp(1, 365)));
        let (start, end) = (start.to_string(), end.to_string());
        let metrics = "views,estimatedMinutesWatched,likes,subscribersGained";
        let filter = video.map(|v| format!("video=={v}"));
        // The picked channel by its id (`MINE` would be the token's default channel).
        let channel = format!("channel=={}", on.auth.internal_id);
        let mut query = vec![
            ("ids", channel.as_str()),
            ("startDate", start.as_str()),
            ("endDate", end.as_str()),
            ("metrics", metrics),
            ("dimensions", "day"),
            ("sort", "day"),
        ];
        if let Some(f) = &filter {
            query.push(("filters", f));
        }
        let table: Value = Api::new(
            self,
            on.ctx,
            "https://youtubeanalytics.googleapis.com",
            Auth::Bearer(&on.auth.access_token),
        )
        .get("/v2/reports")
        .query(&query)
        .read()
        .await?;
        let rows = table["rows"].as_array().cloned().unwrap_or_default();
        let labels = [
            ("Views", 1),
            ("Minutes watched", 2),
            ("Likes", 3),
            ("New subscribers", 4),
        ];
        Ok(labels
            .iter()
            .map(|(label, column)| {
                let data = rows
                    .iter()
                    .map(|row| AnalyticsPoint {
                        total: row[*column]
                            .as_i64()
                            .or_else(|| row[*column].as_str().and_then(|s| s.parse().ok()))
                            .unwrap_or(0),
                        date: row[0].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect();
                AnalyticsSeries::new(*label, data)
            })
            .collect())
    }
}

fn answer_status(status: u16) -> reqwest::StatusCode {
    reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY)
}

#[async_trait]
impl Provider for YouTube {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> std::result::Result<(), String> {
        let [post] = chain else {
            return Err("YouTube takes one video per post, without comments".into());
        };
        if post.media.len() != 1 || post.media[0].kind != "video" {
            return Err(RULES.into());
        }
        settings::parse::<YouTubeSettings>(&post.settings)?.check()
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let api = Api::of(self, c.ctx, Auth::Bearer(&grant.access_token));
        let mut channels = channels(&api).await?;
        match channels.len() {
            0 => Err(ProviderError::BadBody(
                "this Google account has no YouTube channel: create one on youtube.com, then connect again".into(),
            )),
            1 => Ok(channels.remove(0).account(grant.into())),
            // Several: the Google account waits while its user picks one.
            _ => google::account(self, c, grant).await,
        }
    }

    async fn pages(&self, on: &On<'_>) -> Result<Vec<Page>> {
        let channels = channels(&self.api(on)).await?;
        Ok(channels
            .into_iter()
            .map(|c| {
                let account = c.account(Tokens::default());
                Page {
                    id: account.internal_id,
                    name: account.name,
                    picture: account.picture,
                    username: account.username,
                }
            })
            .collect())
    }

    async fn pick_page(&self, on: &On<'_>, page_id: &str) -> Result<ConnectedAccount> {
        channels(&self.api(on))
            .await?
            .into_iter()
            .find(|c| c.id == page_id)
            .map(|c| c.account(on.auth.tokens()))
            .ok_or_else(|| {
                ProviderError::BadBody(format!(
                    "this Google account has no YouTube channel {page_id:?}"
                ))
            })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        if post.reply_to.is_some() {
            return Err(ProviderError::NotSupported(
                "YouTube posts have no comment chain".into(),
            ));
        }
        let settings: YouTubeSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        settings.check().map_err(ProviderError::BadBody)?;
        let Some(item) = post.media.first() else {
            return Err(ProviderError::BadBody(RULES.into()));
        };
        let video = Medium::open(on.ctx, &item.path).await?;
        if video.kind != MediaKind::Video || video.len == 0 {
            return Err(ProviderError::BadBody(RULES.into()));
        }
        let visibility = match settings.visibility {
            Visibility::Public => "public",
            Visibility::Private => "private",
            Visibility::Unlisted => "unlisted",
        };
        let metadata = json!({
            "snippet": {
                "title": settings.title.trim(),
                "description": post.message,
                "tags": settings.tags.iter().map(|t| t.value.as_str()).collect::<Vec<_>>(),
                "categoryId": "22",
            },
            "status": {
                "privacyStatus": visibility,
                "selfDeclaredMadeForKids": matches!(settings.made_for_kids, Some(YesNo::Yes)),
            },
        });
        let api = self.api(on);
        let session = self.open(&api, &video, &metadata).await?;
        let id = self.upload(&api, &session, &video).await?;
        if let Some(thumbnail) = &settings.thumbnail {
            self.thumbnail(on, &id, &thumbnail.path).await;
        }
        Ok(PostOutcome::Published(Published {
            url: format!("https://www.youtube.com/watch?v={id}"),
            id,
            reference: None,
        }))
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        self.report(on, days, None).await
    }

    async fn post_analytics(&self, on: &On<'_>, id: &str, days: u32) -> Result<Analytics> {
        self.report(on, days, Some(id)).await
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        google::classify(INFO.name, status, body)
    }
}
