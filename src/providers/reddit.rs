//! Reddit: OAuth 2 (`duration=permanent`, HTTP Basic client authentication, hour-long tokens
//! renewed in their last half hour), every call with a `User-Agent` naming socialgate, its
//! version and the account, at most one request a second per app (and the window Reddit's
//! `X-Ratelimit-*` headers describe), one publish at a time. A post may go to several
//! subreddits, each its own submission with its own title, kind and flair, made one per step
//! (the first by `publish`, the next by each check, so a failure is retried from the
//! subreddit that failed and none is posted twice); pictures and videos go up through Reddit's
//! media lease, and since Reddit names such a post only later, those are found in the account's
//! submissions. Comments through `/api/comment`; the `subreddits` and `restrictions` tools let
//! a client fill the settings right.

use std::time::Duration;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth};
use super::error::truncate;
use super::medium::{MediaKind, Medium};
use super::oauth2::{ClientAuth, Endpoints, TokenGrant};
use super::{
    ConnectedAccount, Connecting, EnvCredentials, MediaItem, MediaRules, On, PendingChecks,
    PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo, Published, RefreshPolicy,
    Result, SettingsSpec, ToolField, ToolInfo,
};

pub struct Reddit;

/// Reddit's rule for clients: `<platform>:<app ID>:<version string> (by /u/<username>)`.
const USER_AGENT: &str = concat!("web:socialgate:", env!("CARGO_PKG_VERSION"));

/// One request a second per account (the tenant guide's rule for Reddit).
const EVERY: Duration = Duration::from_secs(1);

static INFO: ProviderInfo = ProviderInfo {
    identifier: "reddit",
    name: "Reddit",
    oauth2: Some(&ENDPOINTS),
    scopes: &["read", "identity", "submit", "flair"],
    max_length: 10000,
    max_concurrent_jobs: 1,
    refresh: RefreshPolicy::BeforeExpiry,
    refresh_ahead: 1_800,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "REDDIT_CLIENT_ID",
        client_secret: "REDDIT_CLIENT_SECRET",
        instance_url: None,
    }),
    api_base: "https://oauth.reddit.com",
    summary: "OAuth 2 (`duration=permanent`, HTTP Basic, `read identity submit flair`); one post to several subreddits, one request a second",
    media: MediaRules {
        max: 1,
        video: true,
        video_alone: true,
        documents: false,
    },
    settings: SettingsSpec::of::<RedditSettings>(),
    pending: PendingChecks {
        every_seconds: 10,
        at_most: 60,
    },
    user_agent: Some(USER_AGENT),
    tools: &TOOLS,
    logo: include_str!("../../static/logos/reddit.svg"),
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = Endpoints {
    authorize: "https://www.reddit.com/api/v1/authorize",
    token: "https://www.reddit.com/api/v1/access_token",
    client_auth: ClientAuth::Basic,
    authorize_params: &[("duration", "permanent")],
    ..Endpoints::DEFAULT
};

static TOOLS: [ToolInfo; 2] = [
    ToolInfo {
        method_name: "subreddits",
        description: "Get list of subreddits with information",
        data_schema: &[ToolField {
            key: "word",
            kind: "string",
            description: "Search subreddit",
        }],
    },
    ToolInfo {
        method_name: "restrictions",
        description: "Get list of flairs and restrictions for a subreddit",
        data_schema: &[ToolField {
            key: "subreddit",
            kind: "string",
            description: "Search flairs and restrictions for a subreddit, must be in the format /r/[name]",
        }],
    },
];

/// What a submission is.
#[derive(Clone, Copy, Debug, serde::Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    /// Text
    #[serde(rename = "self")]
    Text,
    Link,
    /// The post's picture or video (Postiz's `media`)
    Media,
    Image,
    Video,
}

#[derive(Clone, Debug, serde::Serialize, Deserialize, JsonSchema)]
struct Flair {
    id: String,
    #[serde(default)]
    name: String,
}

/// One subreddit's submission.
#[derive(Clone, Debug, serde::Serialize, Deserialize, JsonSchema)]
struct Submission {
    /// The subreddit, `/r/name/`, `r/name` or `name`
    #[schemars(length(min = 2))]
    subreddit: String,
    /// The title (at most 300 characters)
    #[schemars(length(min = 2, max = 300))]
    title: String,
    /// `self` (text), `link`, or `media` (the post's picture or video)
    #[serde(rename = "type")]
    kind: Kind,
    /// The link of a `link` submission
    #[serde(default)]
    url: Option<String>,
    /// Whether the subreddit requires a flair (the `restrictions` tool tells)
    #[serde(default)]
    is_flair_required: bool,
    /// The flair (one of the `restrictions` tool's)
    #[serde(default)]
    flair: Option<Flair>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
struct Entry {
    value: Submission,
}

/// Reddit's post settings (Postiz's `RedditSettingsDto`).
#[derive(Debug, Deserialize, JsonSchema)]
struct RedditSettings {
    /// The subreddits to post to, each with its own title, kind and flair
    #[schemars(length(min = 1))]
    subreddit: Vec<Entry>,
}

/// Requests are paced per app (Reddit counts them per OAuth client): every account connected
/// through one app shares its second.
fn pace_key(app: Option<&super::AppCredentials>) -> String {
    format!("reddit:{}", app.map_or("", |a| a.client_id.as_str()))
}

/// A subreddit's bare name from `/r/name/`, `r/name` or `name`.
fn bare(subreddit: &str) -> String {
    let s = subreddit.trim().trim_matches('/');
    s.strip_prefix("r/")
        .unwrap_or(s)
        .trim_matches('/')
        .to_owned()
}

impl Submission {
    fn check(&self, media: &[MediaItem]) -> std::result::Result<(), String> {
        let name = bare(&self.subreddit);
        let valid = (2..=21).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "subreddit: {:?} is not a subreddit (write /r/name)",
                self.subreddit
            ));
        }
        let title = self.title.trim().chars().count();
        if !(2..=300).contains(&title) {
            return Err(format!("r/{name}: the title must be 2 to 300 characters"));
        }
        if self.is_flair_required && self.flair.as_ref().is_none_or(|f| f.id.trim().is_empty()) {
            return Err(format!(
                "r/{name} requires a flair: pick one of the restrictions tool's flairs"
            ));
        }
        match self.kind {
            Kind::Link => match self.url.as_deref().map(str::trim) {
                Some(url)
                    if url::Url::parse(url)
                        .is_ok_and(|u| matches!(u.scheme(), "http" | "https")) => {}
                _ => return Err(format!("r/{name}: a link submission needs a valid url")),
            },
            Kind::Media | Kind::Image | Kind::Video => {
                if media.len() != 1 {
                    return Err(
                        "When posting a media post, you must attach exactly one media file.".into(),
                    );
                }
                let video = media[0].kind == "video";
                if (self.kind == Kind::Image && video) || (self.kind == Kind::Video && !video) {
                    return Err(format!("r/{name}: the media does not match the kind"));
                }
                if video && media[0].thumbnail.is_none() {
                    return Err("You must attach a thumbnail to your video post.".into());
                }
            }
            Kind::Text => {}
        }
        Ok(())
    }

    /// The kind Reddit takes for this submission and its media.
    fn wire_kind(&self, media: &[MediaItem]) -> &'static str {
        match self.kind {
            Kind::Text => "self",
            Kind::Link => "link",
            _ if media.first().is_some_and(|m| m.kind == "video") => "video",
            _ => "image",
        }
    }
}

#[derive(Deserialize)]
struct Me {
    id: String,
    name: String,
    #[serde(default)]
    icon_img: Option<String>,
}

/// A submission or comment answer: `{"json": {"errors": [[code, message, field]], "data"}}`.
#[derive(Deserialize)]
struct Answer {
    json: AnswerBody,
}

#[derive(Deserialize)]
struct AnswerBody {
    #[serde(default)]
    errors: Vec<Vec<Value>>,
    #[serde(default)]
    data: Value,
    /// Seconds until the account may post again, with a `RATELIMIT` error.
    #[serde(default)]
    ratelimit: Option<f64>,
}

/// The first error of a submission or comment, classified; `None` without one.
fn refused(answer: &AnswerBody, subreddit: &str) -> Option<ProviderError> {
    let error = answer.errors.first()?;
    let text = |i: usize| error.get(i).and_then(Value::as_str).unwrap_or_default();
    let (code, message) = (text(0), text(1));
    let said = format!("Reddit refused the post to r/{subreddit}: {message} ({code})");
    Some(match code {
        "RATELIMIT" => ProviderError::RetryLater {
            after: Some(Duration::from_secs(
                answer.ratelimit.map_or(600.0, |s| s.ceil().max(1.0)) as u64,
            )),
            message: said,
        },
        "SUBMIT_VALIDATION_FLAIR_REQUIRED" => ProviderError::BadBody(format!(
            "{said}: this subreddit requires a flair; pick one with the restrictions tool"
        )),
        "USER_REQUIRED" => ProviderError::RefreshNeeded(said),
        _ => ProviderError::BadBody(said),
    })
}

/// A submission to look for in the account's posts: where, and under which title.
#[derive(Clone, Debug, PartialEq, serde::Serialize, Deserialize)]
struct Waiting {
    subreddit: String,
    title: String,
}

/// A post Reddit has.
#[derive(Clone, Debug, serde::Serialize, Deserialize)]
struct Done {
    id: String,
    url: String,
}

#[derive(Deserialize)]
struct Listing {
    data: ListingData,
}

#[derive(Deserialize)]
struct ListingData {
    #[serde(default)]
    children: Vec<Child>,
}

#[derive(Deserialize)]
struct Child {
    data: Value,
}

/// Where a post to several subreddits stands, kept between steps.
#[derive(serde::Serialize, Deserialize)]
struct Progress {
    #[serde(default)]
    done: Vec<Done>,
    /// Pictures and videos submitted, not yet found among the account's posts.
    #[serde(default)]
    waiting: Vec<Waiting>,
    /// The submissions still to make, in order.
    #[serde(default)]
    todo: Vec<Submission>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    media: Vec<MediaItem>,
}

impl Progress {
    fn outcome(self) -> Result<PostOutcome> {
        if !self.todo.is_empty() || !self.waiting.is_empty() {
            return serde_json::to_value(&self)
                .map(PostOutcome::Pending)
                .map_err(|e| ProviderError::BadBody(e.to_string()));
        }
        Ok(PostOutcome::Published(joined(&self.done)))
    }
}

/// Several posts as one release: ids and URLs joined by commas (as Postiz joins them).
fn joined(done: &[Done]) -> Published {
    Published {
        id: done
            .iter()
            .map(|d| d.id.as_str())
            .collect::<Vec<_>>()
            .join(","),
        url: done
            .iter()
            .map(|d| d.url.as_str())
            .collect::<Vec<_>>()
            .join(","),
        reference: None,
    }
}

impl Reddit {
    fn api<'a>(&'a self, on: &'a On<'a>) -> Api<'a> {
        let account = on.auth.username.as_deref().unwrap_or(&on.auth.internal_id);
        Api::of(self, on.ctx, Auth::Bearer(&on.auth.access_token))
            .user_agent(format!("{USER_AGENT} (by /u/{account})"))
            .paced(&pace_key(on.auth.app.as_ref()), EVERY)
    }

    /// The account's recent submissions: `(subreddit, title)` → the post.
    async fn recent(&self, on: &On<'_>) -> Result<Vec<(Waiting, Done)>> {
        let name = on.auth.username.as_deref().unwrap_or_default();
        let listing: Listing = self
            .api(on)
            .get(&format!("/user/{name}/submitted"))
            .query(&[("limit", "25"), ("sort", "new"), ("raw_json", "1")])
            .read()
            .await?;
        Ok(listing
            .data
            .children
            .into_iter()
            .filter_map(|c| {
                let d = c.data;
                let permalink = d["permalink"].as_str()?;
                Some((
                    Waiting {
                        subreddit: d["subreddit"].as_str()?.to_lowercase(),
                        title: d["title"].as_str()?.to_owned(),
                    },
                    Done {
                        id: d["id"].as_str()?.to_owned(),
                        url: format!("https://www.reddit.com{permalink}"),
                    },
                ))
            })
            .collect())
    }

    /// Uploads a medium through Reddit's lease; answers its URL for the submission.
    async fn upload(&self, on: &On<'_>, path: &str) -> Result<String> {
        let medium = Medium::open(on.ctx, path).await?;
        let lease: Value = self
            .api(on)
            .post("/api/media/asset.json")
            .form(&[
                ("filepath", medium.file_name.as_str()),
                ("mimetype", medium.mime),
            ])
            .read()
            .await?;
        let action = lease["args"]["action"].as_str().ok_or_else(|| {
            ProviderError::BadBody(format!(
                "Reddit gave no upload lease: {}",
                truncate(&lease.to_string(), 300)
            ))
        })?;
        let action = if action.starts_with("//") {
            format!("https:{action}")
        } else {
            action.to_owned()
        };
        let mut form = reqwest::multipart::Form::new();
        let mut key = None;
        for field in lease["args"]["fields"].as_array().into_iter().flatten() {
            let (Some(name), Some(value)) = (field["name"].as_str(), field["value"].as_str())
            else {
                continue;
            };
            if name == "key" {
                key = Some(value.to_owned());
            }
            form = form.text(name.to_owned(), value.to_owned());
        }
        let key =
            key.ok_or_else(|| ProviderError::BadBody("Reddit's upload lease has no key".into()))?;
        form = form.part("file", medium.part().await?);
        // The storage's own form; no Reddit token goes there.
        Api::new(self, on.ctx, "", Auth::None)
            .post(&action)
            .multipart(form)
            .send()
            .await?;
        Ok(format!("{}/{key}", action.trim_end_matches('/')))
    }

    async fn submit(
        &self,
        on: &On<'_>,
        message: &str,
        media: &[MediaItem],
        entry: &Submission,
    ) -> Result<std::result::Result<Done, Waiting>> {
        let subreddit = bare(&entry.subreddit);
        let kind = entry.wire_kind(media);
        let mut form: Vec<(&str, String)> = vec![
            ("api_type", "json".into()),
            ("sr", subreddit.clone()),
            ("kind", kind.into()),
            ("title", entry.title.trim().to_owned()),
            ("sendreplies", "true".into()),
        ];
        match kind {
            "self" => form.push(("text", message.to_owned())),
            "link" => form.push((
                "url",
                entry.url.clone().unwrap_or_default().trim().to_owned(),
            )),
            _ => {
                let item = &media[0];
                form.push(("url", self.upload(on, &item.path).await?));
                if kind == "video" {
                    let poster = item.thumbnail.as_deref().ok_or_else(|| {
                        ProviderError::BadBody(
                            "You must attach a thumbnail to your video post.".into(),
                        )
                    })?;
                    form.push(("video_poster_url", self.upload(on, poster).await?));
                }
            }
        }
        if let Some(flair) = entry.flair.as_ref().filter(|f| !f.id.trim().is_empty()) {
            form.push(("flair_id", flair.id.clone()));
            if !flair.name.is_empty() {
                form.push(("flair_text", flair.name.clone()));
            }
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer: Answer = self
            .api(on)
            .post("/api/submit")
            .query(&[("raw_json", "1")])
            .form(&pairs)
            .read()
            .await?;
        if let Some(e) = refused(&answer.json, &subreddit) {
            return Err(e);
        }
        let data = &answer.json.data;
        match (data["id"].as_str(), data["url"].as_str()) {
            (Some(id), Some(url)) => Ok(Ok(Done {
                id: id.to_owned(),
                url: url.to_owned(),
            })),
            // Pictures and videos: Reddit makes the post after processing the media.
            _ => Ok(Err(Waiting {
                subreddit: subreddit.to_lowercase(),
                title: entry.title.trim().to_owned(),
            })),
        }
    }

    async fn comment(&self, on: &On<'_>, post: &PostDetails, parent: &str) -> Result<PostOutcome> {
        let mut done = Vec::new();
        // A post to several subreddits gets the comment under each.
        for id in parent.split(',').map(str::trim).filter(|id| !id.is_empty()) {
            let thing = if id.starts_with("t3_") || id.starts_with("t1_") {
                id.to_owned()
            } else {
                format!("t3_{id}")
            };
            let answer: Answer = self
                .api(on)
                .post("/api/comment")
                .query(&[("raw_json", "1")])
                .form(&[
                    ("api_type", "json"),
                    ("thing_id", &thing),
                    ("text", &post.message),
                ])
                .read()
                .await?;
            if let Some(e) = refused(&answer.json, "the thread") {
                return Err(e);
            }
            let comment = &answer.json.data["things"][0]["data"];
            let (Some(id), Some(permalink)) =
                (comment["id"].as_str(), comment["permalink"].as_str())
            else {
                return Err(ProviderError::Unconfirmed(
                    "Reddit answered the comment without its id".into(),
                ));
            };
            done.push(Done {
                id: id.to_owned(),
                url: format!("https://www.reddit.com{permalink}"),
            });
        }
        Ok(PostOutcome::Published(joined(&done)))
    }

    /// One step: the next submission, or a look for the pictures and videos Reddit has made.
    async fn step(&self, on: &On<'_>, mut progress: Progress) -> Result<PostOutcome> {
        if let Some(entry) = progress.todo.first().cloned() {
            match self
                .submit(on, &progress.message, &progress.media, &entry)
                .await?
            {
                Ok(posted) => progress.done.push(posted),
                Err(later) => progress.waiting.push(later),
            }
            progress.todo.remove(0);
            return progress.outcome();
        }
        if !progress.waiting.is_empty() {
            let recent = self.recent(on).await?;
            let mut still = Vec::new();
            for wanted in std::mem::take(&mut progress.waiting) {
                match recent.iter().find(|(w, _)| *w == wanted) {
                    Some((_, post)) => progress.done.push(post.clone()),
                    None => still.push(wanted),
                }
            }
            progress.waiting = still;
        }
        progress.outcome()
    }
}

#[async_trait]
impl Provider for Reddit {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> std::result::Result<(), String> {
        let Some(first) = chain.first() else {
            return Ok(());
        };
        let settings: RedditSettings = super::settings::parse(&first.settings)?;
        if settings.subreddit.is_empty() {
            return Err("Please add at least one Subreddit from the settings".into());
        }
        for entry in &settings.subreddit {
            entry.value.check(&first.media)?;
        }
        if chain[1..].iter().any(|c| !c.media.is_empty()) {
            return Err("Reddit comments carry no media".into());
        }
        Ok(())
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        let me: Me = Api::of(self, c.ctx, Auth::Bearer(&grant.access_token))
            .paced(&pace_key(c.app), EVERY)
            .get("/api/v1/me")
            .query(&[("raw_json", "1")])
            .read()
            .await?;
        Ok(ConnectedAccount {
            internal_id: me.id,
            picture: me
                .icon_img
                .map(|p| p.split('?').next().unwrap_or_default().to_owned())
                .filter(|p| !p.is_empty()),
            username: Some(me.name.clone()),
            name: me.name,
            tokens: grant.into(),
            ..ConnectedAccount::default()
        })
    }

    async fn call_tool(&self, on: &On<'_>, name: &str, data: &Value) -> Result<Value> {
        match name {
            "subreddits" => {
                let word = data["word"].as_str().unwrap_or_default().trim();
                if word.is_empty() {
                    return Ok(json!([]));
                }
                let listing: Listing = self
                    .api(on)
                    .get("/subreddits/search")
                    .query(&[
                        ("q", word),
                        ("limit", "10"),
                        ("show", "public"),
                        ("sort", "activity"),
                        ("show_users", "false"),
                        ("raw_json", "1"),
                    ])
                    .read()
                    .await?;
                Ok(Value::Array(
                    listing
                        .data
                        .children
                        .into_iter()
                        .map(|c| c.data)
                        .filter(|d| d["subreddit_type"] == "public" && d["submission_type"] != "image")
                        .map(|d| json!({ "title": d["title"], "name": d["url"], "id": d["id"], "subscribers": d["subscribers"] }))
                        .collect(),
                ))
            }
            "restrictions" => {
                let subreddit = bare(data["subreddit"].as_str().unwrap_or_default());
                if subreddit.is_empty() {
                    return Err(ProviderError::BadBody("subreddit: write /r/name".into()));
                }
                let about: Value = self
                    .api(on)
                    .get(&format!("/r/{subreddit}/about"))
                    .query(&[("raw_json", "1")])
                    .read()
                    .await?;
                if about["kind"] != "t5" {
                    return Err(ProviderError::BadBody(format!(
                        "r/{subreddit} does not exist"
                    )));
                }
                let about = &about["data"];
                // Reddit answers no flairs to a user who may not set them.
                let flairs: Vec<Value> = match self
                    .api(on)
                    .get(&format!("/r/{subreddit}/api/link_flair_v2"))
                    .query(&[("raw_json", "1")])
                    .read::<Vec<Value>>()
                    .await
                {
                    Ok(flairs) => flairs,
                    Err(e) if e.is_transient() => return Err(e),
                    Err(_) => Vec::new(),
                };
                let requirements: Value = self
                    .api(on)
                    .get(&format!("/api/v1/{subreddit}/post_requirements"))
                    .read()
                    .await
                    .unwrap_or_default();
                let submission = about["submission_type"].as_str().unwrap_or("any");
                let mut allow = Vec::new();
                if matches!(submission, "any" | "self") {
                    allow.push("self");
                }
                if matches!(submission, "any" | "link") {
                    allow.push("link");
                }
                if about["allow_images"] == true || about["allow_videos"] == true {
                    allow.push("media");
                }
                Ok(json!({
                    "subreddit": format!("/r/{subreddit}/"),
                    "allow": allow,
                    "is_flair_required": requirements["is_flair_required"] == true && !flairs.is_empty(),
                    "flairs": flairs.iter().map(|f| json!({ "id": f["id"], "name": f["text"] })).collect::<Vec<_>>(),
                }))
            }
            _ => Err(ProviderError::NotSupported("Tool not found".into())),
        }
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        if let Some(thread) = &post.reply_to {
            return self.comment(on, post, &thread.parent.id).await;
        }
        let settings: RedditSettings =
            super::settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        for entry in &settings.subreddit {
            entry
                .value
                .check(&post.media)
                .map_err(ProviderError::BadBody)?;
        }
        if let Some(item) = post.media.first() {
            let medium = Medium::open(on.ctx, &item.path).await?;
            if medium.kind == MediaKind::Document {
                return Err(ProviderError::BadBody(
                    "Reddit takes pictures and videos, not documents".into(),
                ));
            }
        }
        self.step(
            on,
            Progress {
                done: Vec::new(),
                waiting: Vec::new(),
                todo: settings.subreddit.into_iter().map(|e| e.value).collect(),
                message: post.message.clone(),
                media: post.media.clone(),
            },
        )
        .await
    }

    async fn check_status(&self, on: &On<'_>, pending: &Value) -> Result<PostOutcome> {
        let progress: Progress = serde_json::from_value(pending.clone()).map_err(|e| {
            ProviderError::BadBody(format!("a Reddit publish in an unknown state: {e}"))
        })?;
        self.step(on, progress).await
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        let said = || format!("Reddit answered {status}: {}", truncate(body, 300));
        match status {
            401 => Some(ProviderError::RefreshNeeded(said())),
            403 if body.contains("insufficient_scope") => {
                Some(ProviderError::Disconnected(format!(
                    "{}: connect the channel again and grant every permission asked for",
                    said()
                )))
            }
            // Private, banned or quarantined subreddits.
            403 | 404 => Some(ProviderError::BadBody(said())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subreddit_is_named_however_it_is_written() {
        for written in ["/r/rust/", "r/rust", "rust", " /r/rust "] {
            assert_eq!(bare(written), "rust", "{written:?}");
        }
    }

    #[test]
    fn reddits_refusals_inside_a_success_are_read() {
        let answer: Answer = serde_json::from_str(
            r#"{"json":{"ratelimit":487.42,"errors":[["RATELIMIT","you are doing that too much. try again in 8 minutes.","ratelimit"]]}}"#,
        )
        .unwrap();
        assert!(matches!(
            refused(&answer.json, "rust"),
            Some(ProviderError::RetryLater { after: Some(after), .. }) if after == Duration::from_secs(488)
        ));
        let answer: Answer = serde_json::from_str(
            r#"{"json":{"errors":[["NO_SELFS","that subreddit doesn't allow text posts","sr"]]}}"#,
        )
        .unwrap();
        match refused(&answer.json, "pics") {
            Some(ProviderError::BadBody(m)) => {
                assert!(
                    m.contains("r/pics") && m.contains("doesn't allow text posts"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
        let fine: Answer =
            serde_json::from_str(r#"{"json":{"errors":[],"data":{"id":"p1"}}}"#).unwrap();
        assert!(refused(&fine.json, "rust").is_none());
    }
}
