//! TikTok: Login Kit OAuth 2 (`client_key`, comma-separated scopes, short-lived tokens renewed
//! by the sweep in their last hour), then the Content Posting API. Before each publish,
//! `creator_info` decides what is allowed: the privacy level must be one the creator's account
//! offers, interactions the creator switched off are sent off, and a video may not run longer
//! than the creator's maximum. Videos go up in chunks (`FILE_UPLOAD`, streamed from storage)
//! or, when the operator has verified the media host at TikTok, by `PULL_FROM_URL`; photos are
//! always pulled from our public URL. The publish is two-phase: its status is checked until
//! TikTok says it is complete, without holding a worker slot.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::api::{Api, Auth, Request};
use super::error::truncate;
use super::medium::{self, MediaKind, Medium};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    Analytics, AnalyticsPoint, AnalyticsSeries, ConnectedAccount, Connecting, EnvCredentials,
    MediaRules, MissingItem, On, Pacing, PendingChecks, PostDetails, PostOutcome, Provider,
    ProviderError, ProviderInfo, Published, RefreshPolicy, Result, SettingsSpec, display_name,
    settings,
};

pub struct TikTok;

/// The chunk size of a `FILE_UPLOAD`: TikTok takes chunks of 5 to 64 MB, the count rounded
/// down, the last chunk taking what is left (up to 128 MB); a video under one chunk goes whole.
pub const CHUNK: u64 = 10_000_000;

/// `SOCIALGATE_TIKTOK_VERIFIED_MEDIA=true`: the operator has verified the media host (our
/// public URL or the bucket's) at TikTok, so videos are pulled from it instead of uploaded.
const VERIFIED_MEDIA: &str = "SOCIALGATE_TIKTOK_VERIFIED_MEDIA";

const RULES: &str = "TikTok can have one video or one picture or multiple pictures, it cannot be without an attachment";

static INFO: ProviderInfo = ProviderInfo {
    identifier: "tiktok",
    name: "TikTok",
    oauth2: Some(&ENDPOINTS),
    scopes: &[
        "video.list",
        "user.info.basic",
        "video.publish",
        "video.upload",
        "user.info.profile",
        "user.info.stats",
    ],
    max_length: 2000,
    max_concurrent_jobs: 300,
    refresh: RefreshPolicy::BeforeExpiry,
    // Tokens live a day (two hours in TikTok's newest documents).
    refresh_ahead: 3_600,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "TIKTOK_CLIENT_ID",
        client_secret: "TIKTOK_CLIENT_SECRET",
        instance_url: None,
    }),
    api_base: "https://open.tiktokapis.com",
    rules: RULES,
    summary: "TikTok Login Kit (`client_key`, Content Posting API); a video (chunked upload, or pulled from a verified host) or up to 35 photos; unaudited apps post only `SELF_ONLY`",
    // Six publish initialisations a minute per user.
    pacing: Some(Pacing {
        posts: 6,
        per_seconds: 60,
    }),
    media: MediaRules {
        max: 35,
        video: true,
        video_alone: true,
        documents: false,
    },
    settings: SettingsSpec::of::<TikTokSettings>(),
    pending: PendingChecks {
        every_seconds: 15,
        at_most: 240,
    },
    fetches_media: true,
    logo: include_str!("../../static/logos/tiktok.svg"),
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = Endpoints {
    authorize: "https://www.tiktok.com/v2/auth/authorize/",
    token: "https://open.tiktokapis.com/v2/oauth/token/",
    scope_separator: ",",
    client_id_param: "client_key",
    ..Endpoints::DEFAULT
};

/// Who may watch the post.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Privacy {
    PublicToEveryone,
    MutualFollowFriends,
    FollowerOfCreator,
    SelfOnly,
}

impl Privacy {
    fn wire(self) -> &'static str {
        match self {
            Privacy::PublicToEveryone => "PUBLIC_TO_EVERYONE",
            Privacy::MutualFollowFriends => "MUTUAL_FOLLOW_FRIENDS",
            Privacy::FollowerOfCreator => "FOLLOWER_OF_CREATOR",
            Privacy::SelfOnly => "SELF_ONLY",
        }
    }
}

/// Published at once, or sent to the creator's TikTok inbox to finish there.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum PostingMethod {
    DirectPost,
    Upload,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum YesNo {
    Yes,
    #[default]
    No,
}

/// TikTok's post settings (Postiz's `TikTokDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct TikTokSettings {
    /// A photo post's title (at most 90 characters)
    #[serde(default)]
    #[schemars(length(max = 90))]
    title: Option<String>,
    /// Who may watch: one of the levels the creator's account offers
    privacy_level: Privacy,
    /// Allow duets (sent off when the creator has them off)
    #[serde(default)]
    duet: bool,
    /// Allow stitches (sent off when the creator has them off)
    #[serde(default)]
    stitch: bool,
    /// Allow comments (sent off when the creator has them off)
    #[serde(default)]
    comment: bool,
    /// The post promotes a third party's brand (paid partnership)
    #[serde(default)]
    brand_content_toggle: bool,
    /// The post promotes the creator's own business
    #[serde(default)]
    brand_organic_toggle: bool,
    /// Photo posts: let TikTok add music
    #[serde(rename = "autoAddMusic", default)]
    auto_add_music: YesNo,
    /// Label the post as made with AI
    #[serde(default)]
    video_made_with_ai: bool,
    /// Publish at once, or send to the creator's TikTok inbox to finish there
    content_posting_method: PostingMethod,
}

impl TikTokSettings {
    fn check(&self) -> std::result::Result<(), String> {
        if let Some(title) = &self.title
            && title.encode_utf16().count() > 90
        {
            return Err("title: TikTok takes at most 90 characters".into());
        }
        if self.brand_content_toggle && self.privacy_level == Privacy::SelfOnly {
            return Err(
                "privacy_level: branded content cannot be private (SELF_ONLY); choose another \
                 privacy level or turn brand_content_toggle off"
                    .into(),
            );
        }
        Ok(())
    }
}

/// TikTok's answer envelope: `{"data": …, "error": {"code": "ok", "message", "log_id"}}`.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    error: Option<EnvelopeError>,
}

#[derive(Deserialize)]
struct EnvelopeError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct UserData {
    user: User,
}

#[derive(Default, Deserialize)]
struct User {
    #[serde(default)]
    open_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    #[serde(default)]
    follower_count: Option<i64>,
    #[serde(default)]
    following_count: Option<i64>,
    #[serde(default)]
    likes_count: Option<i64>,
    #[serde(default)]
    video_count: Option<i64>,
}

/// What the creator's account allows now (`creator_info/query`).
#[derive(Deserialize)]
struct Creator {
    #[serde(default)]
    privacy_level_options: Vec<String>,
    #[serde(default)]
    comment_disabled: bool,
    #[serde(default)]
    duet_disabled: bool,
    #[serde(default)]
    stitch_disabled: bool,
    #[serde(default)]
    max_video_post_duration_sec: Option<f64>,
}

#[derive(Deserialize)]
struct Init {
    publish_id: String,
    #[serde(default)]
    upload_url: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    fail_reason: Option<String>,
    /// Sic: TikTok's spelling. Numbers in its documents, strings in the wild.
    #[serde(default)]
    publicaly_available_post_id: Vec<Value>,
}

#[derive(Deserialize)]
struct Videos {
    #[serde(default)]
    videos: Vec<Video>,
}

#[derive(Deserialize)]
struct Video {
    id: String,
    #[serde(default)]
    cover_image_url: Option<String>,
    #[serde(default)]
    view_count: Option<i64>,
    #[serde(default)]
    like_count: Option<i64>,
    #[serde(default)]
    comment_count: Option<i64>,
    #[serde(default)]
    share_count: Option<i64>,
}

/// What a failed publish's `fail_reason` means for the person who wrote the post.
fn failure(reason: &str) -> ProviderError {
    let explained = match reason {
        "file_format_check_failed" => "TikTok could not read the video's format (MP4, WebM or MOV)",
        "duration_check_failed" => "the video is longer than this creator may post",
        "frame_rate_check_failed" => "the video's frame rate is outside 23 to 60 frames a second",
        "picture_size_check_failed" => "a picture is larger than TikTok takes (1080p, 20 MB)",
        "video_pull_failed" | "photo_pull_failed" => {
            "TikTok could not download the media from socialgate's public address"
        }
        "publish_cancelled" => "the publish was cancelled",
        "auth_removed" => "the creator removed socialgate's access",
        "spam_risk_too_many_posts" => "the creator has reached TikTok's daily posting limit",
        "spam_risk_user_banned_from_posting" => "TikTok has banned this creator from posting",
        "spam_risk_text" | "spam_risk" => "TikTok took the post for spam",
        "internal" => "TikTok failed on its side",
        _ => "",
    };
    let message = if explained.is_empty() {
        format!("TikTok could not publish the post ({reason})")
    } else {
        format!("TikTok could not publish the post: {explained} ({reason})")
    };
    match reason {
        "auth_removed" => ProviderError::Disconnected(message),
        _ => ProviderError::BadBody(message),
    }
}

/// What an error code in TikTok's envelope (or its OAuth `error`) means.
fn refusal(code: &str, message: &str) -> Option<ProviderError> {
    let said = if message.is_empty() {
        format!("TikTok: {code}")
    } else {
        format!("TikTok: {message} ({code})")
    };
    let day = std::time::Duration::from_secs(6 * 3600);
    Some(match code {
        "ok" => return None,
        "access_token_invalid" | "invalid_grant" => ProviderError::RefreshNeeded(said),
        "scope_not_authorized" | "scope_permission_missed" => ProviderError::Disconnected(format!(
            "{said}: connect the channel again and grant every permission asked for"
        )),
        "rate_limit_exceeded" | "internal_error" | "temporarily_unavailable" | "server_error" => {
            ProviderError::retry(said)
        }
        "spam_risk_too_many_posts"
        | "reached_active_user_cap"
        | "spam_risk_too_many_pending_share" => ProviderError::RetryLater {
            message: format!("{said}: TikTok's daily limit is reached; trying again later"),
            after: Some(day),
        },
        "unaudited_client_can_only_post_to_private_accounts" => ProviderError::BadBody(format!(
            "{said}: until TikTok audits the app, it may post only to private accounts with \
             privacy_level SELF_ONLY"
        )),
        "url_ownership_unverified" => ProviderError::BadBody(format!(
            "{said}: TikTok pulls media only from a domain verified in the TikTok developer \
             portal; verify socialgate's public address there (or unset {VERIFIED_MEDIA} to \
             upload videos instead)"
        )),
        "privacy_level_option_mismatch" => ProviderError::BadBody(format!(
            "{said}: choose a privacy_level this creator's account offers"
        )),
        _ => ProviderError::BadBody(said),
    })
}

/// The data of an answer, or the refusal its envelope names (TikTok sends some with 200).
fn data_of<T: DeserializeOwned>(text: &str) -> Result<T> {
    let envelope: Envelope<T> = serde_json::from_str(text).map_err(|e| {
        ProviderError::BadBody(format!(
            "TikTok answered something unexpected ({e}): {}",
            truncate(text, 300)
        ))
    })?;
    if let Some(error) = &envelope.error
        && let Some(refused) = refusal(&error.code, &error.message)
    {
        return Err(refused);
    }
    envelope.data.ok_or_else(|| {
        ProviderError::BadBody(format!(
            "TikTok answered without data: {}",
            truncate(text, 300)
        ))
    })
}

async fn read<T: DeserializeOwned>(request: Request<'_>) -> Result<T> {
    data_of(&request.text().await?)
}

/// An id as TikTok sends it, a number or a string.
fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One series with today's value.
fn today(label: &str, total: Option<i64>) -> AnalyticsSeries {
    let date = chrono::Utc::now().date_naive().to_string();
    AnalyticsSeries::new(
        label,
        vec![AnalyticsPoint {
            total: total.unwrap_or(0),
            date,
        }],
    )
}

impl TikTok {
    fn api<'a>(&'a self, on: &'a On<'a>) -> Api<'a> {
        Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token))
    }

    fn pulls_videos(on: &On<'_>) -> bool {
        on.ctx
            .config
            .providers
            .env
            .get(VERIFIED_MEDIA)
            .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
    }

    /// Uploads the video in TikTok's chunks, in order, each streamed from storage.
    async fn upload(&self, on: &On<'_>, url: &str, video: &Medium, chunk: u64) -> Result<()> {
        let count = (video.len / chunk).max(1);
        let uploads = Api::new(self, on.ctx, "", Auth::None);
        for index in 0..count {
            let first = index * chunk;
            let last = if index + 1 == count {
                video.len - 1
            } else {
                first + chunk - 1
            };
            let answer = uploads
                .put(url)
                .header(
                    "Content-Range",
                    format!("bytes {first}-{last}/{}", video.len),
                )
                .header("Content-Length", (last - first + 1).to_string())
                .body(video.range_body(first, last - first + 1).await?, video.mime)
                .send()
                .await?;
            let expected = if index + 1 == count { 201 } else { 206 };
            if answer.status().as_u16() != expected
                && !(index + 1 == count && answer.status().is_success())
            {
                return Err(ProviderError::Unconfirmed(format!(
                    "TikTok answered {} to chunk {} of {count}",
                    answer.status(),
                    index + 1
                )));
            }
        }
        Ok(())
    }

    async fn creator(&self, on: &On<'_>) -> Result<Creator> {
        read(
            self.api(on)
                .post("/v2/post/publish/creator_info/query/")
                .header("Content-Type", "application/json; charset=UTF-8"),
        )
        .await
    }

    async fn publish_video(
        &self,
        on: &On<'_>,
        post: &PostDetails,
        settings: &TikTokSettings,
        creator: &Creator,
        post_info: Value,
    ) -> Result<String> {
        let item = &post.media[0];
        let video = Medium::open(on.ctx, &item.path).await?;
        if video.kind != MediaKind::Video || video.len == 0 {
            return Err(ProviderError::BadBody(RULES.into()));
        }
        if let (Some(max), Some(seconds)) =
            (creator.max_video_post_duration_sec, video.duration().await)
            && seconds > max
        {
            return Err(ProviderError::BadBody(format!(
                "the video lasts {seconds:.0} seconds; this creator may post videos of at most {max:.0} seconds"
            )));
        }
        let pull = Self::pulls_videos(on);
        let chunk = CHUNK.min(video.len);
        let source_info = if pull {
            medium::check_fetchable(on.ctx, &INFO, &item.path)?;
            json!({ "source": "PULL_FROM_URL", "video_url": item.path })
        } else {
            json!({
                "source": "FILE_UPLOAD",
                "video_size": video.len,
                "chunk_size": chunk,
                "total_chunk_count": (video.len / chunk).max(1),
            })
        };
        let (path, body) = match settings.content_posting_method {
            PostingMethod::DirectPost => (
                "/v2/post/publish/video/init/",
                json!({ "post_info": post_info, "source_info": source_info }),
            ),
            PostingMethod::Upload => (
                "/v2/post/publish/inbox/video/init/",
                json!({ "source_info": source_info }),
            ),
        };
        let init: Init = read(self.api(on).post(path).json(&body)).await?;
        if !pull {
            let url = init.upload_url.as_deref().ok_or_else(|| {
                ProviderError::BadBody("TikTok gave no upload URL for the video".into())
            })?;
            self.upload(on, url, &video, chunk).await?;
        }
        Ok(init.publish_id)
    }

    async fn publish_photos(
        &self,
        on: &On<'_>,
        post: &PostDetails,
        settings: &TikTokSettings,
        mut post_info: Value,
    ) -> Result<String> {
        let mut images = Vec::new();
        for item in &post.media {
            medium::check_fetchable(on.ctx, &INFO, &item.path)?;
            images.push(
                medium::url_accepted(on.ctx, &item.path, &["image/jpeg", "image/webp"]).await?,
            );
        }
        post_info["title"] = json!(settings.title.clone().unwrap_or_default());
        post_info["description"] = json!(post.message);
        post_info["auto_add_music"] = json!(settings.auto_add_music == YesNo::Yes);
        // A photo post takes no duets, stitches or AI label.
        if let Some(info) = post_info.as_object_mut() {
            for video_only in ["disable_duet", "disable_stitch", "is_aigc"] {
                info.remove(video_only);
            }
        }
        let mode = match settings.content_posting_method {
            PostingMethod::DirectPost => "DIRECT_POST",
            PostingMethod::Upload => "MEDIA_UPLOAD",
        };
        let body = json!({
            "post_info": post_info,
            "source_info": { "source": "PULL_FROM_URL", "photo_cover_index": 0, "photo_images": images },
            "post_mode": mode,
            "media_type": "PHOTO",
        });
        let init: Init = read(
            self.api(on)
                .post("/v2/post/publish/content/init/")
                .json(&body),
        )
        .await?;
        Ok(init.publish_id)
    }
}

#[async_trait]
impl Provider for TikTok {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn text_length(&self, text: &str) -> usize {
        // TikTok counts UTF-16 runes.
        text.encode_utf16().count()
    }

    fn check_validity(&self, chain: &[PostDetails]) -> std::result::Result<(), String> {
        let [post] = chain else {
            return Err("TikTok posts have no comments".into());
        };
        settings::parse::<TikTokSettings>(&post.settings)?.check()?;
        if post.media.is_empty() {
            return Err(RULES.into());
        }
        INFO.media.check(INFO.name, &post.media)?;
        for item in post.media.iter().filter(|m| m.kind == "image") {
            let name = item
                .path
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if name.ends_with(".gif") {
                return Err(
                    "TikTok takes JPEG, PNG (sent as JPEG) or WebP pictures, not GIF".into(),
                );
            }
        }
        Ok(())
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let data: UserData = read(
            Api::of(self, c.ctx, Auth::Bearer(&grant.access_token))
                .get("/v2/user/info/")
                .query(&[(
                    "fields",
                    "open_id,union_id,avatar_url,display_name,username",
                )]),
        )
        .await?;
        let user = data.user;
        Ok(ConnectedAccount {
            name: display_name(
                user.display_name.as_deref(),
                user.username.as_deref(),
                "TikTok",
            ),
            internal_id: user.open_id,
            picture: user.avatar_url,
            username: user.username,
            tokens: grant.into(),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        if post.reply_to.is_some() {
            return Err(ProviderError::NotSupported(
                "TikTok posts have no comments".into(),
            ));
        }
        let settings: TikTokSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        settings.check().map_err(ProviderError::BadBody)?;
        if post.media.is_empty() {
            return Err(ProviderError::BadBody(RULES.into()));
        }
        let creator = self.creator(on).await?;
        let privacy = settings.privacy_level.wire();
        if !creator.privacy_level_options.iter().any(|o| o == privacy) {
            return Err(ProviderError::BadBody(format!(
                "privacy_level {privacy} is not one this creator's account offers; it offers {}",
                creator.privacy_level_options.join(", ")
            )));
        }
        // What the creator switched off in the app is sent off, whatever the post asked.
        let post_info = json!({
            "title": post.message,
            "privacy_level": privacy,
            "disable_duet": !settings.duet || creator.duet_disabled,
            "disable_stitch": !settings.stitch || creator.stitch_disabled,
            "disable_comment": !settings.comment || creator.comment_disabled,
            "brand_content_toggle": settings.brand_content_toggle,
            "brand_organic_toggle": settings.brand_organic_toggle,
            "is_aigc": settings.video_made_with_ai,
        });
        let publish_id = if post.media[0].kind == "video" {
            self.publish_video(on, post, &settings, &creator, post_info)
                .await?
        } else {
            self.publish_photos(on, post, &settings, post_info).await?
        };
        Ok(PostOutcome::Pending(json!({ "publish_id": publish_id })))
    }

    async fn check_status(&self, on: &On<'_>, pending: &Value) -> Result<PostOutcome> {
        let Some(publish_id) = pending["publish_id"].as_str() else {
            return Err(ProviderError::BadBody("no TikTok publish to check".into()));
        };
        let status: Status = read(
            self.api(on)
                .post("/v2/post/publish/status/fetch/")
                .json(&json!({ "publish_id": publish_id })),
        )
        .await?;
        let profile = format!(
            "https://www.tiktok.com/@{}",
            on.auth.username.as_deref().unwrap_or_default()
        );
        match status.status.as_str() {
            "PUBLISH_COMPLETE" => Ok(PostOutcome::Published(
                match status.publicaly_available_post_id.first().and_then(id_text) {
                    Some(id) => Published {
                        url: format!("{profile}/video/{id}"),
                        id,
                        reference: None,
                    },
                    // Private posts never get a public id: the creator picks it later.
                    None => Published {
                        id: "missing".into(),
                        url: profile,
                        reference: Some(publish_id.to_owned()),
                    },
                },
            )),
            // Uploaded to the inbox: the creator finishes the post in TikTok.
            "SEND_TO_USER_INBOX" => Ok(PostOutcome::Published(Published {
                id: "missing".into(),
                url: "https://www.tiktok.com/messages?lang=en".into(),
                reference: Some(publish_id.to_owned()),
            })),
            "FAILED" => Err(failure(status.fail_reason.as_deref().unwrap_or("unknown"))),
            _ => Ok(PostOutcome::Pending(pending.clone())),
        }
    }

    async fn missing(&self, on: &On<'_>) -> Result<Vec<MissingItem>> {
        let videos: Videos = read(
            self.api(on)
                .post("/v2/video/list/")
                .query(&[("fields", "id,cover_image_url,share_url")])
                .json(&json!({ "max_count": 20 })),
        )
        .await?;
        Ok(videos
            .videos
            .into_iter()
            .map(|v| MissingItem {
                url: v.cover_image_url.unwrap_or_default(),
                id: v.id,
            })
            .collect())
    }

    async fn analytics(&self, on: &On<'_>, _days: u32) -> Result<Analytics> {
        let data: UserData = read(self.api(on).get("/v2/user/info/").query(&[(
            "fields",
            "open_id,follower_count,following_count,likes_count,video_count",
        )]))
        .await?;
        let user = data.user;
        Ok(vec![
            today("Followers", user.follower_count),
            today("Following", user.following_count),
            today("Likes", user.likes_count),
            today("Videos", user.video_count),
        ])
    }

    async fn post_analytics(&self, on: &On<'_>, id: &str, _days: u32) -> Result<Analytics> {
        let videos: Videos = read(
            self.api(on)
                .post("/v2/video/query/")
                .query(&[(
                    "fields",
                    "id,view_count,like_count,comment_count,share_count",
                )])
                .json(&json!({ "filters": { "video_ids": [id] } })),
        )
        .await?;
        let Some(video) = videos.videos.into_iter().find(|v| v.id == id) else {
            return Ok(Vec::new());
        };
        Ok(vec![
            today("Views", video.view_count),
            today("Likes", video.like_count),
            today("Comments", video.comment_count),
            today("Shares", video.share_count),
        ])
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        // Rate limits and outages: the generic rules keep the stated wait.
        if status == 429 || status >= 500 {
            return None;
        }
        let value: Value = serde_json::from_str(body).ok()?;
        match &value["error"] {
            // The Content Posting and Display APIs' envelope.
            Value::Object(error) => refusal(
                error.get("code")?.as_str()?,
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ),
            // OAuth's flat error.
            Value::String(code) => refusal(
                code,
                value["error_description"].as_str().unwrap_or_default(),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_publish_says_why_in_words() {
        match failure("duration_check_failed") {
            ProviderError::BadBody(m) => {
                assert!(m.contains("longer than this creator may post"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            failure("auth_removed"),
            ProviderError::Disconnected(_)
        ));
        match failure("something_new") {
            ProviderError::BadBody(m) => assert!(m.ends_with("(something_new)"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tiktoks_error_codes_become_what_the_worker_does() {
        assert_eq!(refusal("ok", ""), None);
        assert!(matches!(
            refusal("access_token_invalid", "The access token is invalid"),
            Some(ProviderError::RefreshNeeded(_))
        ));
        assert!(matches!(
            refusal("spam_risk_too_many_posts", ""),
            Some(ProviderError::RetryLater { after: Some(_), .. })
        ));
        match refusal("unaudited_client_can_only_post_to_private_accounts", "") {
            Some(ProviderError::BadBody(m)) => assert!(m.contains("SELF_ONLY"), "{m}"),
            other => panic!("{other:?}"),
        }
        match refusal("url_ownership_unverified", "") {
            Some(ProviderError::BadBody(m)) => assert!(m.contains(VERIFIED_MEDIA), "{m}"),
            other => panic!("{other:?}"),
        }
        // Answers with 200 carry their refusal in the envelope.
        let body = r#"{"data":{},"error":{"code":"reached_active_user_cap","message":"cap","log_id":"1"}}"#;
        assert!(matches!(
            data_of::<Creator>(body),
            Err(ProviderError::RetryLater { .. })
        ));
    }
}
