//! LinkedIn, as a member (`linkedin`) or as a company page the member administers
//! (`linkedin-page`): OpenID Connect sign-in, posts through the versioned `rest/posts` API
//! (`LinkedIn-Version`, switched off by LinkedIn about a year after release), text in LinkedIn's
//! "little text" format, images and multi-image posts through the Images API, videos uploaded in
//! the parts LinkedIn hands out and posted once processed, comments through `socialActions`, and
//! page statistics. Most apps get no refresh token: the channel must be reconnected every 60 days.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth};
use super::medium::{MediaKind, Medium};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    Analytics, AnalyticsPoint, AnalyticsSeries, ConnectedAccount, Connecting, Ctx, EnvCredentials,
    MediaRules, On, Page, PendingChecks, PostDetails, PostOutcome, Provider, ProviderError,
    ProviderInfo, Published, RefreshPolicy, Result, SettingsSpec, display_name, settings,
};
use crate::media::pdf;

/// One LinkedIn network: the member's own profile, or a company page.
pub struct LinkedIn {
    info: &'static ProviderInfo,
    page: bool,
}

pub static PERSONAL: LinkedIn = LinkedIn {
    info: &INFO,
    page: false,
};

pub static PAGE: LinkedIn = LinkedIn {
    info: &PAGE_INFO,
    page: true,
};

const API: &str = "https://api.linkedin.com";

/// LinkedIn's post settings (Postiz's `LinkedinDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct LinkedInSettings {
    /// Post several images as one swipeable document (a PDF socialgate builds)
    #[serde(default)]
    post_as_images_carousel: bool,
    /// The document's title: of a carousel, or of a PDF posted as it is
    #[serde(default)]
    carousel_name: Option<String>,
}

const RULES: &str = "LinkedIn posts have at most 3,000 characters, up to 20 pictures, one video or one PDF document.";

static INFO: ProviderInfo = ProviderInfo {
    identifier: "linkedin",
    name: "LinkedIn",
    oauth2: Some(&ENDPOINTS),
    scopes: &["openid", "profile", "w_member_social"],
    max_length: 3000,
    max_concurrent_jobs: 2,
    refresh: RefreshPolicy::WithRefreshToken,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "LINKEDIN_CLIENT_ID",
        client_secret: "LINKEDIN_CLIENT_SECRET",
        instance_url: None,
    }),
    api_base: API,
    rules: RULES,
    summary: "OAuth 2 (Sign In with LinkedIn using OpenID Connect + Share on LinkedIn); a 60-day token, reconnected when LinkedIn gives no refresh token",
    media: MediaRules {
        max: 20,
        video: true,
        video_alone: true,
        documents: true,
    },
    settings: SettingsSpec::of::<LinkedInSettings>(),
    pending: PendingChecks {
        every_seconds: 15,
        at_most: 80,
    },
    ..ProviderInfo::DEFAULT
};

static PAGE_INFO: ProviderInfo = ProviderInfo {
    identifier: "linkedin-page",
    name: "LinkedIn Page",
    scopes: &[
        "openid",
        "profile",
        "w_member_social",
        "r_organization_social",
        "w_organization_social",
        "rw_organization_admin",
    ],
    between_steps: true,
    summary: "the LinkedIn app with the Community Management API product; pick a page you administer",
    no_pages: "This LinkedIn account administers no company page. Ask a page's super admin to make you an administrator, then connect again.",
    ..INFO
};

static ENDPOINTS: Endpoints = Endpoints {
    authorize: "https://www.linkedin.com/oauth/v2/authorization",
    token: "https://www.linkedin.com/oauth/v2/accessToken",
    ..Endpoints::DEFAULT
};

/// While a video is processed, LinkedIn refuses a post that uses it with this code.
const WAITING: &str = "MEDIA_ASSET_WAITING_UPLOAD";

/// A URN as one path segment or query value (`urn%3Ali%3Ashare%3A1`).
fn encoded(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

/// The characters LinkedIn's "little text" reserves.
const RESERVED: &[char] = &[
    '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
];

/// Text in LinkedIn's "little text" format: reserved characters escaped so they arrive as typed
/// (LinkedIn silently cuts a post at the first unescaped one), while `#hashtags` and mentions
/// (`@[Name](urn:li:person:…)`) stay hashtags and mentions.
pub fn little_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '@'
            && let Some(len) = mention_at(&chars[i..])
        {
            out.extend(&chars[i..i + len]);
            i += len;
            continue;
        }
        let starts_word = i == 0 || chars[i - 1].is_whitespace();
        let hashtag =
            c == '#' && starts_word && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if RESERVED.contains(&c) && !hashtag {
            out.push('\\');
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The length of a mention `@[Name](urn:li:person|organization:…)` at the start, if one is.
fn mention_at(chars: &[char]) -> Option<usize> {
    if chars.get(1) != Some(&'[') {
        return None;
    }
    let name_end = chars.iter().position(|&c| c == ']')?;
    if name_end <= 2 || chars.get(name_end + 1) != Some(&'(') {
        return None;
    }
    if chars[2..name_end].iter().any(|&c| c == '[' || c == '\n') {
        return None;
    }
    let urn_start = name_end + 2;
    let close = urn_start + chars[urn_start..].iter().position(|&c| c == ')')?;
    let urn: String = chars[urn_start..close].iter().collect();
    let known = urn.starts_with("urn:li:person:") || urn.starts_with("urn:li:organization:");
    (known && !urn.contains(char::is_whitespace)).then_some(close + 1)
}

/// LinkedIn's error body: `{"status", "serviceErrorCode", "code", "message"}`.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Failure {
    code: String,
    service_error_code: i64,
    message: String,
    error_details: Value,
}

impl Failure {
    fn of(body: &str) -> Option<Failure> {
        serde_json::from_str(body).ok()
    }

    /// The detailed input error code (`DUPLICATE_POST`, …), else the top-level one.
    fn detail(&self) -> &str {
        self.error_details["inputErrors"][0]["code"]
            .as_str()
            .unwrap_or(&self.code)
    }
}

/// The versioned API with the channel's token.
struct Rest<'a> {
    api: Api<'a>,
    version: &'a str,
}

impl<'a> Rest<'a> {
    fn new(provider: &'a LinkedIn, ctx: &'a Ctx<'a>, token: &'a str) -> Self {
        Rest {
            api: Api::of(provider, ctx, Auth::Bearer(token)),
            version: &ctx.config.providers.linkedin_version,
        }
    }

    fn versioned(&self, request: super::api::Request<'a>) -> super::api::Request<'a> {
        request
            .header("LinkedIn-Version", self.version)
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    fn get(&'a self, path: &str) -> super::api::Request<'a> {
        self.versioned(self.api.get(path))
    }

    fn post(&'a self, path: &str) -> super::api::Request<'a> {
        self.versioned(self.api.post(path))
    }
}

#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
}

#[derive(Deserialize)]
struct Initialized<T> {
    value: T,
}

/// Where to put an image or a document, and its URN.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Upload {
    upload_url: String,
    #[serde(alias = "image", alias = "document")]
    urn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoUpload {
    video: String,
    upload_instructions: Vec<Instruction>,
    #[serde(default)]
    upload_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Instruction {
    upload_url: String,
    first_byte: u64,
    last_byte: u64,
}

impl LinkedIn {
    fn author(&self, internal_id: &str) -> String {
        if self.page {
            format!("urn:li:organization:{internal_id}")
        } else {
            format!("urn:li:person:{internal_id}")
        }
    }

    /// Uploads an image (`images`) or a document (`documents`) with the member's token;
    /// answers its URN.
    async fn upload(
        &self,
        rest: &Rest<'_>,
        kind: &str,
        owner: &str,
        body: reqwest::Body,
        mime: &str,
    ) -> Result<String> {
        let started: Initialized<Upload> = rest
            .post(&format!("/rest/{kind}?action=initializeUpload"))
            .json(&json!({ "initializeUploadRequest": { "owner": owner } }))
            .read()
            .await?;
        let upload = started.value;
        rest.api
            .put(&upload.upload_url)
            .body(body, mime)
            .send()
            .await?;
        Ok(upload.urn)
    }

    async fn image(&self, rest: &Rest<'_>, owner: &str, medium: &Medium) -> Result<String> {
        self.upload(rest, "images", owner, medium.body().await?, medium.mime)
            .await
    }

    /// The pictures as one PDF document (LinkedIn's carousel); answers its URN.
    async fn carousel(&self, rest: &Rest<'_>, owner: &str, images: &[Medium]) -> Result<String> {
        let mut pictures = Vec::new();
        for image in images {
            let bytes = image.bytes().await?;
            let picture = pdf::picture(&bytes)
                .map_err(|e| ProviderError::BadBody(format!("{}: {e}", image.file_name)))?;
            pictures.push(picture);
        }
        let document = pdf::document(&pictures);
        self.upload(rest, "documents", owner, document.into(), "application/pdf")
            .await
    }

    /// Uploads a video in the parts LinkedIn names and finalizes it; answers its URN.
    async fn video(
        &self,
        ctx: &Ctx<'_>,
        rest: &Rest<'_>,
        owner: &str,
        medium: &Medium,
    ) -> Result<String> {
        let started: Initialized<VideoUpload> = rest
            .post("/rest/videos?action=initializeUpload")
            .json(&json!({ "initializeUploadRequest": {
                "owner": owner, "fileSizeBytes": medium.len,
                "uploadCaptions": false, "uploadThumbnail": false,
            }}))
            .read()
            .await?;
        let upload = started.value;
        // The part URLs are signed: they take no token.
        let unsigned = Api::new(self, ctx, "", Auth::None);
        let mut chunks = medium.chunks(1).await?;
        let mut etags = Vec::new();
        for part in &upload.upload_instructions {
            let len = (part.last_byte + 1).saturating_sub(part.first_byte) as usize;
            let bytes = chunks.take(len).await?;
            if bytes.len() != len {
                return Err(ProviderError::BadBody(format!(
                    "LinkedIn asked for bytes {}-{} of a {}-byte video",
                    part.first_byte, part.last_byte, medium.len
                )));
            }
            let sent = unsigned
                .put(&part.upload_url)
                .body(bytes, "application/octet-stream")
                .send()
                .await?;
            let etag = sent
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    ProviderError::BadBody("LinkedIn sent no ETag for a video part".into())
                })?;
            etags.push(etag.to_owned());
        }
        rest.post("/rest/videos?action=finalizeUpload")
            .json(&json!({ "finalizeUploadRequest": {
                "video": upload.video, "uploadToken": upload.upload_token, "uploadedPartIds": etags,
            }}))
            .send()
            .await?;
        Ok(upload.video)
    }

    /// Creates the post; answers it, or `None` while its video is still being processed.
    async fn create(&self, rest: &Rest<'_>, body: &Value) -> Result<Option<Published>> {
        let created = match rest.post("/rest/posts").json(body).send().await {
            Ok(created) => created,
            Err(ProviderError::RetryLater { message, .. }) if message.contains(WAITING) => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let urn = created
            .headers()
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ProviderError::Unconfirmed("LinkedIn answered without the post's id".into())
            })?
            .to_owned();
        Ok(Some(Published {
            url: format!("https://www.linkedin.com/feed/update/{urn}/"),
            id: urn,
            reference: None,
        }))
    }

    /// A comment on the chain's first post (plain text: comments are not "little text").
    async fn comment(
        &self,
        on: &On<'_>,
        post: &PostDetails,
        root: &Published,
    ) -> Result<PostOutcome> {
        let api = Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token));
        let actor = self.author(&on.auth.internal_id);
        let answer = api
            .post(&format!("/v2/socialActions/{}/comments", encoded(&root.id)))
            .json(
                &json!({ "actor": actor, "object": root.id, "message": { "text": post.message } }),
            )
            .send()
            .await?;
        let header = answer
            .headers()
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        let id = body["commentUrn"]
            .as_str()
            .map(str::to_owned)
            .or(header)
            .ok_or_else(|| {
                ProviderError::Unconfirmed("LinkedIn answered without the comment's id".into())
            })?;
        Ok(PostOutcome::Published(Published {
            id,
            url: root.url.clone(),
            reference: None,
        }))
    }

    /// The organizations the member administers, with their names.
    async fn organizations(&self, on: &On<'_>) -> Result<Vec<Page>> {
        let rest = Rest::new(self, on.ctx, &on.auth.access_token);
        let acls: Value = rest
            .get("/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED")
            .read()
            .await?;
        let mut pages = Vec::new();
        for acl in acls["elements"].as_array().into_iter().flatten() {
            let urn = ["organization", "organizationTarget", "organizationalTarget"]
                .iter()
                .find_map(|k| acl[*k].as_str());
            let Some(id) = urn.and_then(|u| u.strip_prefix("urn:li:organization:")) else {
                continue;
            };
            let org: Value = rest
                .get(&format!("/rest/organizations/{id}"))
                .read()
                .await?;
            pages.push(Page {
                id: id.to_owned(),
                name: org["localizedName"].as_str().unwrap_or(id).to_owned(),
                picture: None,
                username: org["vanityName"].as_str().map(str::to_owned),
            });
        }
        Ok(pages)
    }
}

/// `timeIntervals` in Rest.li 2.0 syntax, daily over the last `days` days.
fn daily(days: u32) -> (String, i64) {
    let end = chrono::Utc::now();
    let start = end - chrono::Duration::days(i64::from(days.clamp(1, 365)));
    let (s, e) = (start.timestamp_millis(), end.timestamp_millis());
    (
        format!("(timeRange:(start:{s},end:{e}),timeGranularityType:DAY)"),
        s,
    )
}

fn day_of(millis: &Value) -> String {
    chrono::DateTime::from_timestamp_millis(millis.as_i64().unwrap_or(0))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Series from daily `elements`, one per (label, path to the figure).
fn series_of(elements: &Value, wanted: &[(&str, &[&str])]) -> Analytics {
    wanted
        .iter()
        .map(|(label, path)| {
            let data = elements
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| AnalyticsPoint {
                    total: path.iter().fold(e, |v, k| &v[*k]).as_i64().unwrap_or(0),
                    date: day_of(&e["timeRange"]["start"]),
                })
                .collect();
            AnalyticsSeries::new(*label, data)
        })
        .collect()
}

const SHARE_FIGURES: &[(&str, &[&str])] = &[
    ("Impressions", &["totalShareStatistics", "impressionCount"]),
    ("Clicks", &["totalShareStatistics", "clickCount"]),
    ("Likes", &["totalShareStatistics", "likeCount"]),
    ("Comments", &["totalShareStatistics", "commentCount"]),
    ("Shares", &["totalShareStatistics", "shareCount"]),
];

#[async_trait]
impl Provider for LinkedIn {
    fn info(&self) -> &'static ProviderInfo {
        self.info
    }

    fn check_validity(&self, chain: &[PostDetails]) -> std::result::Result<(), String> {
        for (i, post) in chain.iter().enumerate() {
            self.info.media.check(self.info.name, &post.media)?;
            if i > 0 && !post.media.is_empty() {
                return Err("LinkedIn comments take text only".into());
            }
            let settings: LinkedInSettings = settings::parse(&post.settings)?;
            let pictures = [".png", ".jpg", ".jpeg"];
            let fits = |m: &super::MediaItem| {
                let name = m.path.split(['?', '#']).next().unwrap_or("");
                m.kind == "image"
                    && pictures
                        .iter()
                        .any(|e| name.to_ascii_lowercase().ends_with(e))
            };
            if settings.post_as_images_carousel && !post.media.iter().all(fits) {
                return Err("a LinkedIn carousel is made of JPEG or PNG pictures only".into());
            }
        }
        Ok(())
    }

    fn scopes(&self, config: &crate::config::Config) -> Vec<&'static str> {
        let mut scopes = self.info.scopes.to_vec();
        if !self.page && config.providers.linkedin_basic_profile {
            scopes.push("r_basicprofile");
        }
        scopes
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let api = Api::of(self, c.ctx, Auth::Bearer(&grant.access_token));
        let me: UserInfo = api.get("/v2/userinfo").read().await?;
        // With r_basicprofile, the public profile name (linkedin.com/in/<vanityName>).
        let mut username = None;
        if !self.page && c.ctx.config.providers.linkedin_basic_profile {
            let profile: Value = api.get("/v2/me").read().await?;
            username = profile["vanityName"].as_str().map(str::to_owned);
        }
        Ok(ConnectedAccount {
            name: display_name(me.name.as_deref(), None, "LinkedIn member"),
            internal_id: me.sub,
            picture: me.picture,
            username,
            tokens: grant.into(),
            ..ConnectedAccount::default()
        })
    }

    async fn pages(&self, on: &On<'_>) -> Result<Vec<Page>> {
        self.organizations(on).await
    }

    async fn pick_page(&self, on: &On<'_>, page_id: &str) -> Result<ConnectedAccount> {
        let page = self
            .organizations(on)
            .await?
            .into_iter()
            .find(|p| p.id == page_id)
            .ok_or_else(|| {
                ProviderError::BadBody(format!(
                    "this LinkedIn account does not administer the page {page_id:?}"
                ))
            })?;
        Ok(ConnectedAccount {
            internal_id: page.id,
            name: page.name,
            username: page.username,
            // The page is reached with the member's own token.
            tokens: on.auth.tokens(),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        if let Some(thread) = &post.reply_to {
            return self.comment(on, post, &thread.root).await;
        }
        let settings: LinkedInSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        let rest = Rest::new(self, on.ctx, &on.auth.access_token);
        let author = self.author(&on.auth.internal_id);
        let mut media = Vec::new();
        for item in &post.media {
            media.push(Medium::open(on.ctx, &item.path).await?);
        }
        let mut body = json!({
            "author": author,
            "commentary": little_text(&post.message),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false,
        });
        let alt = |i: usize| post.media[i].alt.clone().unwrap_or_default();
        let title = settings
            .carousel_name
            .as_deref()
            .filter(|t| !t.trim().is_empty());
        match media.as_slice() {
            [] => {}
            [document] if document.kind == MediaKind::Document => {
                let urn = self
                    .upload(
                        &rest,
                        "documents",
                        &author,
                        document.body().await?,
                        document.mime,
                    )
                    .await?;
                body["content"] = json!({ "media": {
                    "title": title.unwrap_or(&document.file_name), "id": urn,
                }});
            }
            [video] if video.kind == MediaKind::Video => {
                let urn = self.video(on.ctx, &rest, &author, video).await?;
                body["content"] = json!({ "media": { "title": video.file_name, "id": urn } });
                // LinkedIn processes the video first: the post is created at a later check.
                return Ok(PostOutcome::Pending(json!({ "post": body })));
            }
            images if settings.post_as_images_carousel => {
                let urn = self.carousel(&rest, &author, images).await?;
                body["content"] = json!({ "media": {
                    "title": title.unwrap_or("Carousel"), "id": urn,
                }});
            }
            [image] => {
                let urn = self.image(&rest, &author, image).await?;
                body["content"] = json!({ "media": { "id": urn, "altText": alt(0) } });
            }
            images => {
                let mut ids = Vec::new();
                for (i, image) in images.iter().enumerate() {
                    let urn = self.image(&rest, &author, image).await?;
                    ids.push(json!({ "id": urn, "altText": alt(i) }));
                }
                body["content"] = json!({ "multiImage": { "images": ids } });
            }
        }
        match self.create(&rest, &body).await? {
            Some(published) => Ok(PostOutcome::Published(published)),
            None => Ok(PostOutcome::Pending(json!({ "post": body }))),
        }
    }

    async fn check_status(&self, on: &On<'_>, pending: &Value) -> Result<PostOutcome> {
        let rest = Rest::new(self, on.ctx, &on.auth.access_token);
        match self.create(&rest, &pending["post"]).await? {
            Some(published) => Ok(PostOutcome::Published(published)),
            None => Ok(PostOutcome::Pending(pending.clone())),
        }
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        if !self.page {
            // A member's own statistics need a partner-only scope (r_member_postAnalytics).
            return Ok(Vec::new());
        }
        let rest = Rest::new(self, on.ctx, &on.auth.access_token);
        let org = encoded(&self.author(&on.auth.internal_id));
        let (intervals, _) = daily(days);
        let shares: Value = rest
            .get(&format!(
                "/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}&timeIntervals={intervals}"
            ))
            .read()
            .await?;
        let followers: Value = rest
            .get(&format!(
                "/rest/organizationalEntityFollowerStatistics?q=organizationalEntity&organizationalEntity={org}&timeIntervals={intervals}"
            ))
            .read()
            .await?;
        let views: Value = rest
            .get(&format!(
                "/rest/organizationPageStatistics?q=organization&organization={org}&timeIntervals={intervals}"
            ))
            .read()
            .await?;
        let mut all = series_of(&shares["elements"], SHARE_FIGURES);
        all.extend(series_of(
            &followers["elements"],
            &[("New followers", &["followerGains", "organicFollowerGain"])],
        ));
        all.extend(series_of(
            &views["elements"],
            &[(
                "Page views",
                &["totalPageStatistics", "views", "allPageViews", "pageViews"],
            )],
        ));
        Ok(all)
    }

    async fn post_analytics(&self, on: &On<'_>, id: &str, _days: u32) -> Result<Analytics> {
        if !self.page {
            return Ok(Vec::new());
        }
        let rest = Rest::new(self, on.ctx, &on.auth.access_token);
        let org = encoded(&self.author(&on.auth.internal_id));
        let kind = if id.starts_with("urn:li:ugcPost:") {
            "ugcPosts"
        } else {
            "shares"
        };
        let stats: Value = rest
            .get(&format!(
                "/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={org}&{kind}=List({})",
                encoded(id)
            ))
            .read()
            .await?;
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        Ok(SHARE_FIGURES
            .iter()
            .map(|(label, path)| {
                let total = path
                    .iter()
                    .fold(&stats["elements"][0], |v, k| &v[*k])
                    .as_i64()
                    .unwrap_or(0);
                AnalyticsSeries::new(
                    *label,
                    vec![AnalyticsPoint {
                        total,
                        date: today.clone(),
                    }],
                )
            })
            .collect())
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        let failure = Failure::of(body)?;
        let detail = failure.detail().to_owned();
        Some(match (status, detail.as_str()) {
            (426, _) | (_, "NONEXISTENT_VERSION") => ProviderError::BadBody(format!(
                "LinkedIn refused the API version socialgate sent ({}): set SOCIALGATE_LINKEDIN_VERSION to a current version (YYYYMM) and restart",
                failure.message
            )),
            (_, WAITING) => ProviderError::retry(format!(
                "LinkedIn is still processing the video ({WAITING})"
            )),
            (401, _) if detail == "REVOKED_ACCESS_TOKEN" || failure.service_error_code == 65601 => {
                ProviderError::Disconnected(format!(
                    "the member revoked socialgate's access on LinkedIn: {}",
                    failure.message
                ))
            }
            (401, _) => ProviderError::RefreshNeeded(format!(
                "LinkedIn refused the token ({}): LinkedIn tokens last 60 days; reconnect the channel",
                failure.message
            )),
            (422, "DUPLICATE_POST") => ProviderError::BadBody(
                "LinkedIn refused this post as a duplicate of a recent one: change the text or wait 10 minutes".into(),
            ),
            (403, _) => ProviderError::BadBody(format!(
                "LinkedIn refused: {}. The LinkedIn app needs the product that grants this permission (Share on LinkedIn; Community Management API for pages)",
                failure.message
            )),
            _ => return None,
        })
    }
}
