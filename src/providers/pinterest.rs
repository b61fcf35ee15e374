//! Pinterest: API v5 with OAuth 2 (HTTP Basic client authentication, rotating refresh tokens
//! kept as they come), the `boards` tool, and pins on a board: pictures by URL (as base64 when
//! Pinterest cannot reach this installation), or a video registered, uploaded to the storage
//! Pinterest names, checked until processed (two-phase) and pinned with its cover. Analytics
//! for the account and each pin.

use async_trait::async_trait;
use base64::Engine;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth};
use super::medium::{self, MediaKind, Medium};
use super::oauth2::{ClientAuth, Endpoints, TokenGrant};
use super::{
    Analytics, AnalyticsPoint, AnalyticsSeries, ConnectedAccount, Connecting, EnvCredentials,
    MediaItem, MediaRules, On, PendingChecks, PostDetails, PostOutcome, Provider, ProviderError,
    ProviderInfo, Published, RefreshPolicy, Result, SettingsSpec, ToolInfo, display_name, settings,
};

pub struct Pinterest;

const RULES: &str = "Pinterest requires at least one media, if posting a video, you must have two attachment, one for video, one for the cover picture, When posting a video, there can be only one, if posting images, there can be maximum 5";

static INFO: ProviderInfo = ProviderInfo {
    identifier: "pinterest",
    name: "Pinterest",
    oauth2: Some(&ENDPOINTS),
    scopes: &[
        "boards:read",
        "boards:write",
        "pins:read",
        "pins:write",
        "user_accounts:read",
    ],
    max_length: 500,
    max_concurrent_jobs: 3,
    refresh: RefreshPolicy::BeforeExpiry,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "PINTEREST_CLIENT_ID",
        client_secret: "PINTEREST_CLIENT_SECRET",
        instance_url: None,
    }),
    api_base: "https://api.pinterest.com",
    rules: RULES,
    summary: "OAuth 2 (HTTP Basic, `boards:read,boards:write,pins:read,pins:write,user_accounts:read`); a pin on a board with 1–5 pictures or a video and its cover",
    media: MediaRules {
        max: 5,
        video: true,
        video_alone: false,
        documents: false,
    },
    settings: SettingsSpec::of::<PinterestSettings>(),
    pending: PendingChecks {
        every_seconds: 20,
        at_most: 24,
    },
    tools: &TOOLS,
    logo: include_str!("../../static/logos/pinterest.svg"),
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = Endpoints {
    authorize: "https://www.pinterest.com/oauth/",
    token: "https://api.pinterest.com/v5/oauth/token",
    scope_separator: ",",
    client_auth: ClientAuth::Basic,
    ..Endpoints::DEFAULT
};

static TOOLS: [ToolInfo; 1] = [ToolInfo {
    method_name: "boards",
    description: "List of boards",
    data_schema: &[],
}];

/// Pinterest's post settings (Postiz's `PinterestSettingsDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct PinterestSettings {
    /// The board's id (see the boards tool)
    #[schemars(regex(pattern = r"^\d+$"))]
    board: String,
    /// The pin's title (at most 100 characters)
    #[serde(default)]
    #[schemars(length(max = 100))]
    title: Option<String>,
    /// Where the pin leads
    #[serde(default, deserialize_with = "settings::http_url")]
    link: Option<String>,
    /// The colour shown while the picture loads, such as #6E7874
    #[serde(default)]
    dominant_color: Option<String>,
}

impl PinterestSettings {
    fn check(&self) -> std::result::Result<(), String> {
        let board = self.board.trim();
        if board.is_empty() {
            return Err("board: Board is required".into());
        }
        if !board.chars().all(|c| c.is_ascii_digit()) {
            return Err("board: Board must be the numeric board id (use the boards list of the channel to find it), not the board name".into());
        }
        if self
            .title
            .as_deref()
            .is_some_and(|t| t.chars().count() > 100)
        {
            return Err("title: Pinterest takes at most 100 characters".into());
        }
        if let Some(color) = self.dominant_color.as_deref().filter(|c| !c.is_empty()) {
            let hex = color.strip_prefix('#').unwrap_or("");
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "dominant_color: {color:?} is not a colour such as #6E7874"
                ));
            }
        }
        Ok(())
    }
}

/// The media of a pin, checked: pictures (1 to 5, all of one size), or a video and its cover.
fn check_media(media: &[MediaItem]) -> std::result::Result<(), String> {
    if media.is_empty() || media.len() > 5 {
        return Err(RULES.into());
    }
    if media[0].kind == "video" {
        return match media {
            [_, cover] if cover.kind == "image" => Ok(()),
            _ => Err(RULES.into()),
        };
    }
    if media.iter().any(|m| m.kind != "image") {
        return Err(RULES.into());
    }
    let sizes: Vec<(u32, u32)> = media.iter().filter_map(|m| m.dimensions).collect();
    if sizes.windows(2).any(|w| w[0] != w[1]) {
        return Err("the pictures of a pin must all have the same width and height".into());
    }
    Ok(())
}

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    id: Option<String>,
    username: String,
    #[serde(default)]
    business_name: Option<String>,
    #[serde(default)]
    profile_image: Option<String>,
}

#[derive(Deserialize)]
struct Boards {
    #[serde(default)]
    items: Vec<Board>,
    #[serde(default)]
    bookmark: Option<String>,
}

#[derive(Deserialize)]
struct Board {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct Upload {
    media_id: String,
    upload_url: String,
    #[serde(default)]
    upload_parameters: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
struct MediaStatus {
    status: String,
}

#[derive(Deserialize)]
struct Pin {
    id: String,
}

impl Pinterest {
    fn api<'a>(&'a self, on: &'a On<'a>) -> Api<'a> {
        Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token))
    }

    /// A picture as Pinterest takes it: by URL when it can fetch it, else as base64.
    async fn picture(&self, on: &On<'_>, item: &MediaItem) -> Result<Value> {
        if medium::can_fetch(on.ctx.config, &INFO, &item.path) {
            return Ok(json!({ "url": item.path }));
        }
        let picture = Medium::open(on.ctx, &item.path).await?;
        if !matches!(picture.mime, "image/jpeg" | "image/png") {
            return Err(ProviderError::BadBody(format!(
                "Pinterest takes JPEG or PNG pictures sent from here; {} is {}",
                picture.file_name, picture.mime
            )));
        }
        Ok(json!({
            "content_type": picture.mime,
            "data": base64::engine::general_purpose::STANDARD.encode(picture.bytes().await?),
        }))
    }

    async fn create_pin(&self, on: &On<'_>, body: &Value) -> Result<PostOutcome> {
        let pin: Pin = self.api(on).post("/v5/pins").json(body).read().await?;
        Ok(PostOutcome::Published(Published {
            url: format!("https://www.pinterest.com/pin/{}/", pin.id),
            id: pin.id,
            reference: None,
        }))
    }

    /// Daily series of the account's or a pin's metrics (Pinterest keeps 90 days).
    async fn series(
        &self,
        on: &On<'_>,
        path: &str,
        days: u32,
        metrics: &[(&str, &str)],
    ) -> Result<Analytics> {
        let end = chrono::Utc::now().date_naive();
        let start = end - chrono::Duration::days(i64::from(days.clamp(1, 89)));
        let (start, end) = (start.to_string(), end.to_string());
        let types: Vec<&str> = metrics.iter().map(|(m, _)| *m).collect();
        let answer: Value = self
            .api(on)
            .get(path)
            .query(&[
                ("start_date", start.as_str()),
                ("end_date", end.as_str()),
                ("metric_types", &types.join(",")),
            ])
            .read()
            .await?;
        let days = answer["all"]["daily_metrics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(metrics
            .iter()
            .map(|(metric, label)| {
                let data = days
                    .iter()
                    .map(|day| AnalyticsPoint {
                        total: day["metrics"][*metric].as_f64().unwrap_or(0.0).round() as i64,
                        date: day["date"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect();
                AnalyticsSeries::new(*label, data)
            })
            .collect())
    }
}

#[async_trait]
impl Provider for Pinterest {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> std::result::Result<(), String> {
        let [post] = chain else {
            return Err("Pinterest pins have no comments".into());
        };
        settings::parse::<PinterestSettings>(&post.settings)?.check()?;
        check_media(&post.media)
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let account: Account = Api::of(self, c.ctx, Auth::Bearer(&grant.access_token))
            .get("/v5/user_account")
            .read()
            .await?;
        Ok(ConnectedAccount {
            internal_id: account.id.unwrap_or_else(|| account.username.clone()),
            name: display_name(
                account.business_name.as_deref(),
                Some(&account.username),
                "Pinterest",
            ),
            picture: account.profile_image,
            username: Some(account.username),
            tokens: grant.into(),
            ..ConnectedAccount::default()
        })
    }

    async fn call_tool(&self, on: &On<'_>, name: &str, _data: &Value) -> Result<Value> {
        if name != "boards" {
            return Err(ProviderError::NotSupported("Tool not found".into()));
        }
        let mut boards = Vec::new();
        let mut bookmark: Option<String> = None;
        // At most four pages of 250.
        for _ in 0..4 {
            let mut query = vec![("page_size", "250")];
            if let Some(b) = &bookmark {
                query.push(("bookmark", b));
            }
            let page: Boards = self.api(on).get("/v5/boards").query(&query).read().await?;
            boards.extend(
                page.items
                    .into_iter()
                    .map(|b| json!({ "id": b.id, "name": b.name })),
            );
            match page.bookmark.filter(|b| !b.is_empty()) {
                Some(next) => bookmark = Some(next),
                None => break,
            }
        }
        Ok(Value::Array(boards))
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        if post.reply_to.is_some() {
            return Err(ProviderError::NotSupported(
                "Pinterest pins have no comments".into(),
            ));
        }
        let settings: PinterestSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        settings.check().map_err(ProviderError::BadBody)?;
        check_media(&post.media).map_err(ProviderError::BadBody)?;
        let mut pin = json!({ "board_id": settings.board.trim(), "description": post.message });
        for (key, value) in [
            ("title", &settings.title),
            ("link", &settings.link),
            ("dominant_color", &settings.dominant_color),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                pin[key] = json!(value);
            }
        }
        if let Some(alt) = post.media.first().and_then(|m| m.alt.as_deref()) {
            pin["alt_text"] = json!(alt.chars().take(500).collect::<String>());
        }
        if post.media[0].kind == "video" {
            let video = Medium::open(on.ctx, &post.media[0].path).await?;
            if video.kind != MediaKind::Video {
                return Err(ProviderError::BadBody(RULES.into()));
            }
            let upload: Upload = self
                .api(on)
                .post("/v5/media")
                .json(&json!({ "media_type": "video" }))
                .read()
                .await?;
            // The storage's own form, the file last; no Pinterest token goes there.
            let mut form = reqwest::multipart::Form::new();
            for (name, value) in &upload.upload_parameters {
                form = form.text(name.clone(), value.as_str().unwrap_or_default().to_owned());
            }
            form = form.part("file", video.part().await?);
            Api::new(self, on.ctx, "", Auth::None)
                .post(&upload.upload_url)
                .multipart(form)
                .send()
                .await?;
            let cover = self.picture(on, &post.media[1]).await?;
            let mut source = json!({ "source_type": "video_id", "media_id": upload.media_id });
            match cover.get("url") {
                Some(url) => source["cover_image_url"] = url.clone(),
                None => {
                    source["cover_image_content_type"] = cover["content_type"].clone();
                    source["cover_image_data"] = cover["data"].clone();
                }
            }
            pin["media_source"] = source;
            return Ok(PostOutcome::Pending(
                json!({ "media_id": upload.media_id, "pin": pin }),
            ));
        }
        let mut pictures = Vec::new();
        for item in &post.media {
            pictures.push(self.picture(on, item).await?);
        }
        let by_url = pictures[0].get("url").is_some();
        pin["media_source"] = match (pictures.len(), by_url) {
            (1, true) => json!({ "source_type": "image_url", "url": pictures[0]["url"] }),
            (1, false) => {
                let mut one = pictures.remove(0);
                one["source_type"] = json!("image_base64");
                one
            }
            (_, true) => json!({ "source_type": "multiple_image_urls", "items": pictures }),
            (_, false) => json!({ "source_type": "multiple_image_base64", "items": pictures }),
        };
        self.create_pin(on, &pin).await
    }

    async fn check_status(&self, on: &On<'_>, pending: &Value) -> Result<PostOutcome> {
        let Some(media_id) = pending["media_id"].as_str() else {
            return Err(ProviderError::BadBody("no Pinterest video to check".into()));
        };
        let media: MediaStatus = self
            .api(on)
            .get(&format!("/v5/media/{media_id}"))
            .read()
            .await?;
        match media.status.as_str() {
            "succeeded" => self.create_pin(on, &pending["pin"]).await,
            "failed" => Err(ProviderError::BadBody(
                "Pinterest could not process the video (the file may be corrupted or in a format it does not take: MP4, MOV or M4V)".into(),
            )),
            _ => Ok(PostOutcome::Pending(pending.clone())),
        }
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        self.series(
            on,
            "/v5/user_account/analytics",
            days,
            &[
                ("IMPRESSION", "Impressions"),
                ("PIN_CLICK", "Pin Clicks"),
                ("OUTBOUND_CLICK", "Outbound Clicks"),
                ("SAVE", "Saves"),
                ("ENGAGEMENT", "Engagement"),
            ],
        )
        .await
    }

    async fn post_analytics(&self, on: &On<'_>, id: &str, days: u32) -> Result<Analytics> {
        self.series(
            on,
            &format!("/v5/pins/{id}/analytics"),
            days,
            &[
                ("IMPRESSION", "Impressions"),
                ("PIN_CLICK", "Pin Clicks"),
                ("OUTBOUND_CLICK", "Outbound Clicks"),
                ("SAVE", "Saves"),
            ],
        )
        .await
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        let error: Value = serde_json::from_str(body).ok()?;
        let message = format!("Pinterest: {}", error["message"].as_str()?);
        let code = error["code"].as_i64().unwrap_or(0);
        Some(match (status, code) {
            (401, _) | (_, 2) => ProviderError::RefreshNeeded(message),
            (429, _) => ProviderError::retry(message),
            (_, _) if message.contains("Something went wrong on our end") => {
                ProviderError::retry(message)
            }
            (403, _) if message.contains("combat spam") => ProviderError::BadBody(format!(
                "{message} (Pinterest blocked the pin as spam; check the link and the board)"
            )),
            (404, _) if message.contains("Board not found") => ProviderError::BadBody(format!(
                "{message} (the board was deleted or belongs to another account; pick one from the boards tool)"
            )),
            (400..=499, _) => ProviderError::BadBody(message),
            _ => return None,
        })
    }
}
