//! Dribbble: OAuth 2 (`public upload`, tokens that do not expire), one shot per post sent as
//! multipart with its image, title, description, tags and team, the image held to the sizes
//! and types Dribbble's API documents, and the `teams` tool (the teams on the user's profile).
//! Dribbble's v2 API has no statistics.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth};
use super::medium::{MediaKind, Medium};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    ConnectedAccount, Connecting, EnvCredentials, MediaItem, MediaRules, On, PostDetails,
    PostOutcome, Provider, ProviderError, ProviderInfo, Published, Result, SettingsSpec, Tokens,
    ToolInfo, display_name, settings,
};

pub struct Dribbble;

/// The sizes Dribbble's API takes, in pixels (its documentation: "exactly 400x300 or 800x600").
const SIZES: [(u32, u32); 2] = [(400, 300), (800, 600)];

/// "no larger than eight megabytes".
const MAX_BYTES: u64 = 8 * 1024 * 1024;

const RULES: &str = "Dribbble takes one image per post: a GIF, JPG or PNG of exactly 400×300 or \
                     800×600 pixels, at most 8 MB. A shot needs a title.";

static INFO: ProviderInfo = ProviderInfo {
    identifier: "dribbble",
    name: "Dribbble",
    oauth2: Some(&ENDPOINTS),
    scopes: &["public", "upload"],
    max_length: 40000,
    max_concurrent_jobs: 3,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "DRIBBBLE_CLIENT_ID",
        client_secret: "DRIBBBLE_CLIENT_SECRET",
        instance_url: None,
    }),
    api_base: "https://api.dribbble.com",
    rules: RULES,
    summary: "OAuth 2 (`public upload`); one shot per post, an image of exactly 400×300 or 800×600",
    media: MediaRules {
        max: 1,
        video: false,
        video_alone: false,
        documents: false,
    },
    settings: SettingsSpec::of::<DribbbleSettings>(),
    tools: &TOOLS,
    logo: include_str!("../../static/logos/dribbble.svg"),
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = Endpoints {
    authorize: "https://dribbble.com/oauth/authorize",
    token: "https://dribbble.com/oauth/token",
    ..Endpoints::DEFAULT
};

static TOOLS: [ToolInfo; 1] = [ToolInfo {
    method_name: "teams",
    description: "Teams list",
    data_schema: &[],
}];

/// Dribbble's post settings (Postiz's `DribbbleDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct DribbbleSettings {
    /// The shot's title
    #[schemars(length(min = 1))]
    title: String,
    /// The team to post the shot as (an id from the `teams` tool)
    #[serde(default, deserialize_with = "team_id")]
    #[schemars(with = "Option<String>")]
    team: Option<String>,
    /// At most 12 tags
    #[serde(default)]
    #[schemars(length(max = 12))]
    tags: Vec<settings::Tag>,
}

/// A team as an id, given as a number or a string (Postiz's editor stores the id).
fn team_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.trim().chars().all(|c| c.is_ascii_digit()) => {
            Some(s.trim().to_owned())
        }
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "{other} is not a team id (see the teams tool)"
            )));
        }
    })
}

impl DribbbleSettings {
    fn check(&self) -> std::result::Result<(), String> {
        if self.title.trim().is_empty() {
            return Err("title: Title is required".into());
        }
        if self.tags.len() > 12 {
            return Err("tags: Dribbble takes at most 12 tags".into());
        }
        Ok(())
    }
}

/// Whether an image of this size is one Dribbble takes; else the message naming the sizes.
fn check_size(width: u32, height: u32) -> std::result::Result<(), String> {
    if SIZES.contains(&(width, height)) {
        return Ok(());
    }
    Err(format!(
        "Invalid image size: the image is {width}×{height} pixels; Dribbble takes exactly \
         400×300 or 800×600 px images"
    ))
}

/// The image's type by its name, where the name tells (our uploads always do).
fn check_type(item: &MediaItem) -> std::result::Result<(), String> {
    let path = item.path.split(['?', '#']).next().unwrap_or_default();
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("gif" | "jpg" | "jpeg" | "png") | None => Ok(()),
        Some(other) => Err(format!(
            "Dribbble takes GIF, JPG or PNG images, not .{other} files"
        )),
    }
}

#[derive(Deserialize)]
struct User {
    id: i64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    avatar_url: Option<String>,
    /// Absent on older answers: then the upload itself tells.
    #[serde(default)]
    can_upload_shot: Option<bool>,
    #[serde(default)]
    teams: Vec<Team>,
}

#[derive(Deserialize)]
struct Team {
    id: i64,
    #[serde(default)]
    name: String,
}

/// Dribbble's error body: `{"message": …, "errors": [{"attribute", "message"}]}`.
#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<FieldError>,
}

#[derive(Deserialize)]
struct FieldError {
    #[serde(default)]
    attribute: String,
    #[serde(default)]
    message: String,
}

impl Dribbble {
    fn api<'a>(&'a self, on: &'a On<'a>) -> Api<'a> {
        Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token))
    }
}

#[async_trait]
impl Provider for Dribbble {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> std::result::Result<(), String> {
        let [post] = chain else {
            return Err("Dribbble takes one shot per post, without comments".into());
        };
        settings::parse::<DribbbleSettings>(&post.settings)?.check()?;
        let [item] = post.media.as_slice() else {
            return Err(RULES.into());
        };
        if item.kind != "image" {
            return Err(RULES.into());
        }
        check_type(item)?;
        match item.dimensions {
            Some((width, height)) => check_size(width, height),
            // Not our upload: the size is checked when the shot is sent.
            None => Ok(()),
        }
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let user: User = Api::of(self, c.ctx, Auth::Bearer(&grant.access_token))
            .get("/v2/user")
            .read()
            .await?;
        if user.can_upload_shot == Some(false) {
            return Err(ProviderError::BadBody(
                "this Dribbble account cannot upload shots: Dribbble lets only players and \
                 teams post (upgrade the account on dribbble.com, then connect again)"
                    .into(),
            ));
        }
        Ok(ConnectedAccount {
            internal_id: user.id.to_string(),
            name: display_name(user.name.as_deref(), user.login.as_deref(), "Dribbble"),
            picture: user.avatar_url,
            username: user.login,
            tokens: Tokens::lasting(grant.access_token),
            ..ConnectedAccount::default()
        })
    }

    async fn call_tool(&self, on: &On<'_>, name: &str, _data: &Value) -> Result<Value> {
        if name != "teams" {
            return Err(ProviderError::NotSupported("Tool not found".into()));
        }
        let user: User = self.api(on).get("/v2/user").read().await?;
        Ok(Value::Array(
            user.teams
                .into_iter()
                .map(|t| json!({ "id": t.id.to_string(), "name": t.name }))
                .collect(),
        ))
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        if post.reply_to.is_some() {
            return Err(ProviderError::NotSupported(
                "Dribbble shots have no comment chain".into(),
            ));
        }
        let settings: DribbbleSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        settings.check().map_err(ProviderError::BadBody)?;
        let Some(item) = post.media.first() else {
            return Err(ProviderError::BadBody(RULES.into()));
        };
        let image = Medium::open(on.ctx, &item.path).await?;
        if image.kind != MediaKind::Image
            || !matches!(image.mime, "image/gif" | "image/jpeg" | "image/png")
        {
            return Err(ProviderError::BadBody(format!(
                "Dribbble takes GIF, JPG or PNG images; {} is {}",
                image.file_name, image.mime
            )));
        }
        if image.len > MAX_BYTES {
            return Err(ProviderError::BadBody(format!(
                "the image has {} bytes; Dribbble takes at most 8 MB",
                image.len
            )));
        }
        let head = image.chunk_at(0, 64 * 1024).await?;
        let (width, height) = crate::media::dimensions(&head).ok_or_else(|| {
            ProviderError::BadBody(format!("the size of {} cannot be read", image.file_name))
        })?;
        check_size(width, height).map_err(ProviderError::BadBody)?;
        let mut form = reqwest::multipart::Form::new()
            .part("image", image.part().await?)
            .text("title", settings.title.trim().to_owned())
            .text("description", post.message.clone());
        for tag in &settings.tags {
            form = form.text("tags[]", tag.value.clone());
        }
        if let Some(team) = &settings.team {
            form = form.text("team_id", team.clone());
        }
        let answer = self
            .api(on)
            .post("/v2/shots")
            .multipart(form)
            .send()
            .await?;
        // 202 Accepted: the shot is processed; `Location` names it.
        let id = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                ProviderError::Unconfirmed(
                    "Dribbble accepted the shot but did not say where it is".into(),
                )
            })?;
        Ok(PostOutcome::Published(Published {
            url: format!("https://dribbble.com/shots/{id}"),
            id,
            reference: None,
        }))
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        let refusal: Refusal = serde_json::from_str(body).ok()?;
        let details: Vec<String> = refusal
            .errors
            .iter()
            .map(|e| format!("{} {}", e.attribute, e.message).trim().to_owned())
            .collect();
        let message = if details.is_empty() {
            refusal.message.clone()
        } else {
            format!("{} {}", refusal.message, details.join("; "))
        };
        let message = format!("Dribbble: {}", message.trim());
        if details.iter().any(|d| d.contains("daily limit")) {
            // The daily shot limit: tomorrow it takes shots again.
            return Some(ProviderError::RetryLater {
                message,
                after: Some(std::time::Duration::from_secs(6 * 3600)),
            });
        }
        match status {
            // Tokens do not expire and cannot be renewed: a refused one needs reconnecting.
            401 => Some(ProviderError::RefreshNeeded(format!(
                "{message} (Dribbble tokens do not expire: the access was revoked; connect the channel again)"
            ))),
            403 => Some(ProviderError::BadBody(format!(
                "{message} (posting shots needs the upload scope and a player or team account)"
            ))),
            429 => Some(ProviderError::retry(message)),
            400 | 422 => Some(ProviderError::BadBody(message)),
            _ => None,
        }
    }
}
