//! The social networks: the `Provider` contract, the registry (`ALL`), the kit every network is
//! built from (`api`, `oauth2`, `oauth1`, `medium`, `settings`, `text`, `http`, `error`) and one
//! file per network. Knows no HTTP route of ours, no actix and no `AppState`.

pub mod api;
pub mod bluesky;
pub mod dribbble;
pub mod error;
pub mod facebook;
pub mod gmb;
pub mod google;
pub mod http;
pub mod instagram;
pub mod instagram_standalone;
pub mod linkedin;
pub mod markdown;
pub mod mastodon;
pub mod medium;
pub mod meta;
mod oauth1;
pub mod oauth2;
pub mod pinterest;
pub mod reddit;
pub mod sandbox;
pub mod settings;
#[cfg(feature = "network-sketch")]
#[path = "../../tests/networks/sketch.rs"]
pub mod sketch;
pub mod text;
pub mod threads;
pub mod tiktok;
pub mod x;
pub mod youtube;

use std::collections::HashMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Config;
pub use error::ProviderError;
use oauth2::TokenGrant;
pub use settings::SettingsSpec;

/// How a network authenticates the account being connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    OAuth2,
    OAuth1,
    /// A form of credentials (e.g. a Bluesky app password) checked against the platform.
    Credentials,
    ApiKey,
}

/// What the editor produces for this network (Postiz's `editor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Editor {
    Normal,
    Markdown,
    Html,
}

/// How a network's tokens are kept alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshPolicy {
    /// Tokens do not expire (X OAuth 1.0a, Mastodon).
    Never,
    /// Refresh with the refresh token when the access token is about to expire.
    BeforeExpiry,
    /// Refresh before expiry only when the network granted a refresh token; without one the
    /// token is used until it ends, then the user reconnects (LinkedIn for most apps).
    WithRefreshToken,
}

/// At most `posts` publishes per channel in `per_seconds` (X: 300 in 3 hours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pacing {
    pub posts: i64,
    pub per_seconds: i64,
}

/// What media one post may carry on a network.
#[derive(Clone, Copy, Debug)]
pub struct MediaRules {
    pub max: usize,
    /// Whether videos are taken at all.
    pub video: bool,
    /// Whether a video must be the post's only medium (X).
    pub video_alone: bool,
    /// Whether a PDF document is taken (alone, one per post: LinkedIn).
    pub documents: bool,
}

impl MediaRules {
    /// No limit the kit knows of.
    pub const ANY: MediaRules = MediaRules {
        max: usize::MAX,
        video: true,
        video_alone: false,
        documents: false,
    };

    /// Checks one post's media; the message names the network's rule.
    pub fn check(&self, name: &str, media: &[MediaItem]) -> Result<(), String> {
        let documents = media.iter().filter(|m| m.kind == "document").count();
        if documents > 0 && !self.documents {
            return Err(format!("{name} takes no PDF documents"));
        }
        if documents > 0 && media.len() > 1 {
            return Err(format!(
                "{name} takes a PDF document alone: one per post, without pictures or video"
            ));
        }
        let videos = media.iter().filter(|m| m.kind == "video").count();
        let broken = media.len() > self.max
            || (!self.video && videos > 0)
            || (self.video_alone && videos > 0 && media.len() > 1);
        if !broken {
            return Ok(());
        }
        let max = self.max;
        Err(match (self.video, self.video_alone) {
            (false, _) => format!("{name} takes at most {max} pictures per post (no video)"),
            (true, true) => format!("{name} can have at most {max} pictures or one video per post"),
            (true, false) => format!("{name} takes at most {max} media per post"),
        })
    }
}

/// The environment variables of a network's instance-wide app (Postiz's names).
#[derive(Clone, Copy, Debug)]
pub struct EnvCredentials {
    pub client_id: &'static str,
    pub client_secret: &'static str,
    /// The variable naming the instance (Mastodon's `MASTODON_URL`).
    pub instance_url: Option<&'static str>,
}

/// How often, and how many times, a pending publish is checked before it counts as failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingChecks {
    pub every_seconds: i64,
    pub at_most: u32,
}

/// Every fact of a network, in one place: the registry, the pages, the credentials, the worker
/// and the docs read it from here. Write `..ProviderInfo::DEFAULT` and what differs.
#[derive(Debug)]
pub struct ProviderInfo {
    pub identifier: &'static str,
    pub name: &'static str,
    pub auth: AuthKind,
    /// An OAuth 2 network's endpoints: the kit then builds the authorization URL, exchanges the
    /// code (checking the granted scopes) and refreshes; the network writes only `account`.
    pub oauth2: Option<&'static oauth2::Endpoints>,
    /// The permissions asked for when connecting (for the docs and the scope check).
    pub scopes: &'static [&'static str],
    pub editor: Editor,
    pub max_length: usize,
    /// Publishes allowed at once across every instance (Postiz's `maxConcurrentJob`).
    pub max_concurrent_jobs: u32,
    /// Whether a page or account pick follows authentication (unless the account comes
    /// `picked`).
    pub between_steps: bool,
    pub refresh: RefreshPolicy,
    /// How long before its access token expires a channel is refreshed by the sweep, in
    /// seconds (a day; an hour where tokens live a day or less, as TikTok's).
    pub refresh_ahead: i64,
    /// Whether connecting needs app credentials (a client id and secret).
    pub needs_app_credentials: bool,
    /// Whether the app credentials include an instance URL (Mastodon).
    pub has_instance_url: bool,
    /// The instance used when none is configured (`https://mastodon.social`).
    pub default_instance: Option<&'static str>,
    /// The instance-wide app in the environment, when the operator allows it.
    pub env: Option<EnvCredentials>,
    /// The network's API base (rewritten by `SOCIALGATE_PROVIDER_HOSTS` like every request).
    pub api_base: &'static str,
    /// Whether the callback lives at `/integrations/social/…` without the prefix (X, Threads).
    pub unprefixed_callback: bool,
    /// Built into socialgate (the sandbox): offered per `SOCIALGATE_SANDBOX`, needs no account.
    pub builtin: bool,
    /// Rules shown to whoever writes a post (Postiz's `@Rules`).
    pub rules: &'static str,
    /// How connecting works, one line for the README's table of networks.
    pub summary: &'static str,
    pub pacing: Option<Pacing>,
    /// What media a post may carry.
    pub media: MediaRules,
    /// The post settings: their JSON schema and their check, from one typed definition.
    pub settings: SettingsSpec,
    /// Two-phase networks: how a pending publish is checked.
    pub pending: PendingChecks,
    /// The `User-Agent` the network asks for (Reddit blocks generic ones); unset, socialgate's.
    pub user_agent: Option<&'static str>,
    /// Whether the platform fetches media itself from our public URL (Meta, Threads, …).
    pub fetches_media: bool,
    /// The network's logo, an SVG compiled into the binary (`static/logos/`, from the CC0
    /// simple-icons set); empty: a letter badge.
    pub logo: &'static str,
    /// The credentials form of a `Credentials` network.
    pub custom_fields: &'static [CustomField],
    /// The helpers clients may call (`integration-trigger`), answered by `call_tool`.
    pub tools: &'static [ToolInfo],
    /// Between-steps networks: what the pick page says when the account manages nothing to
    /// pick (empty: a generic sentence).
    pub no_pages: &'static str,
    /// What to tell a user the network sent back with access denied (a known cause and its
    /// fix, such as Google's "Access blocked" for an app in Testing mode).
    pub denied: &'static str,
}

impl ProviderInfo {
    /// A network that has none of the optional facts; identifier and name must be set.
    pub const DEFAULT: ProviderInfo = ProviderInfo {
        identifier: "",
        name: "",
        auth: AuthKind::OAuth2,
        oauth2: None,
        scopes: &[],
        editor: Editor::Normal,
        max_length: 5000,
        max_concurrent_jobs: 10,
        between_steps: false,
        refresh: RefreshPolicy::Never,
        refresh_ahead: 86_400,
        needs_app_credentials: false,
        has_instance_url: false,
        default_instance: None,
        env: None,
        api_base: "",
        unprefixed_callback: false,
        builtin: false,
        rules: "",
        summary: "",
        pacing: None,
        media: MediaRules::ANY,
        settings: SettingsSpec::ANY,
        pending: PendingChecks {
            every_seconds: 20,
            at_most: 90,
        },
        user_agent: None,
        fetches_media: false,
        logo: "",
        custom_fields: &[],
        tools: &[],
        no_pages: "",
        denied: "",
    };
}

/// One field of a credentials form (Postiz's `customFields`).
#[derive(Debug, Serialize)]
pub struct CustomField {
    pub key: &'static str,
    pub label: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(rename = "defaultValue")]
    pub default_value: &'static str,
    /// A regular expression the value must match, as a hint for the form.
    pub validation: &'static str,
}

/// A named operation a client may trigger (`/public/v1/integration-trigger`).
#[derive(Debug, Serialize)]
pub struct ToolInfo {
    #[serde(rename = "methodName")]
    pub method_name: &'static str,
    pub description: &'static str,
    #[serde(rename = "dataSchema")]
    pub data_schema: &'static [ToolField],
}

#[derive(Debug, Serialize)]
pub struct ToolField {
    pub key: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub description: &'static str,
}

/// The organization's (or the instance's) app at a network.
#[derive(Clone, Debug)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// The redirect URI registered at the network (the override, or ours).
    pub redirect_uri: String,
    pub instance_url: Option<String>,
}

/// What the shared parts of the server give a provider call.
pub struct Ctx<'a> {
    pub http: &'a reqwest::Client,
    pub config: &'a Config,
    /// Only the built-in sandbox network keeps its posts in our database.
    pub db: &'a crate::db::Db,
    /// Where uploads live, so media streams from there.
    pub store: &'a crate::media::storage::Store,
}

/// Instance URLs (Mastodon, Bluesky services) must be https, except loopback hosts.
pub fn check_instance_url(value: &str) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    let url = url::Url::parse(value).map_err(|_| format!("{value:?} is not an absolute URL"))?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "{value:?} must be a plain URL such as https://mastodon.social"
        ));
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(value.to_owned()),
        "http" if loopback => Ok(value.to_owned()),
        _ => Err(format!(
            "{value:?}: use https (http is accepted only for 127.0.0.1, [::1] or localhost)"
        )),
    }
}

/// The name to show for an account: its display name, else its handle, else `fallback`.
pub fn display_name(name: Option<&str>, handle: Option<&str>, fallback: &str) -> String {
    [name, handle]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty())
        .unwrap_or(fallback)
        .to_owned()
}

/// The app credentials a network needs, or the message every network gives without them.
pub fn require_app<'a>(
    provider: &dyn Provider,
    app: Option<&'a AppCredentials>,
) -> Result<&'a AppCredentials> {
    app.ok_or_else(|| {
        ProviderError::NotSupported(format!(
            "{} API credentials are not configured",
            provider.info().name
        ))
    })
}

/// The first step of connecting: where to send the user, and what to remember until the callback.
#[derive(Debug)]
pub struct AuthStart {
    pub url: String,
    /// The value the callback will present to find this flow (the `state`, or X's `oauth_token`).
    pub state_key: String,
    /// A secret kept (sealed) for the callback: a PKCE verifier or a request-token secret.
    pub secret: Option<String>,
}

/// What the callback (or the credentials form) hands to `authenticate`.
#[derive(Debug, Default)]
pub struct AuthInput {
    /// The organization connecting (the sandbox names its account after it).
    pub organization_id: String,
    /// What identified the flow (the `state`, or X's request token).
    pub state_key: String,
    pub code: String,
    pub secret: Option<String>,
    pub fields: HashMap<String, String>,
}

/// An account just authenticated.
#[derive(Clone, Debug, Default)]
pub struct ConnectedAccount {
    pub internal_id: String,
    pub name: String,
    pub picture: Option<String>,
    pub username: Option<String>,
    pub tokens: Tokens,
    pub instance_url: Option<String>,
    pub additional_settings: Vec<AdditionalSetting>,
    /// A between-steps network that picks only among several (YouTube): this account is
    /// already the one to publish to, and no pick follows.
    pub picked: bool,
}

/// A channel's tokens, in the clear (only in memory).
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires, when it does.
    pub expires_in: Option<i64>,
    /// Seconds until the refresh token expires, when the network says.
    pub refresh_expires_in: Option<i64>,
}

impl Tokens {
    /// A token that does not expire and comes without a refresh token.
    pub fn lasting(access_token: String) -> Tokens {
        Tokens {
            access_token,
            ..Tokens::default()
        }
    }
}

/// A per-channel flag such as X's "Verified" (Postiz's `additionalSettings`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AdditionalSetting {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Value,
}

/// Everything a provider needs to act as a connected channel.
#[derive(Clone, Debug)]
pub struct ChannelAuth {
    pub internal_id: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub instance_url: Option<String>,
    pub username: Option<String>,
    pub additional_settings: Vec<AdditionalSetting>,
    pub app: Option<AppCredentials>,
    /// Seconds until the access token expires, when it does.
    pub expires_in: Option<i64>,
}

impl ChannelAuth {
    /// The channel's tokens as they are (a page picked with the account's own token keeps
    /// its expiry and refresh token).
    pub fn tokens(&self) -> Tokens {
        Tokens {
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            expires_in: self.expires_in,
            refresh_expires_in: None,
        }
    }
}

/// One medium attached to a post.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MediaItem {
    /// `image`, `video` or `document` (a PDF), as `media::kind_of_path` tells.
    #[serde(rename = "type", default = "image_kind")]
    pub kind: String,
    pub path: String,
    #[serde(default)]
    pub alt: Option<String>,
    #[serde(default)]
    pub thumbnail: Option<String>,
    /// An image's width and height, when the post's checks could read them (our uploads).
    #[serde(skip)]
    pub dimensions: Option<(u32, u32)>,
}

fn image_kind() -> String {
    "image".into()
}

/// One post (or one comment of a chain) as a provider receives it.
#[derive(Clone, Debug)]
pub struct PostDetails {
    /// Our id of the post, used as an idempotency key where the network accepts one.
    pub id: String,
    /// The text, already converted to what the network's editor takes.
    pub message: String,
    pub settings: Value,
    pub media: Vec<MediaItem>,
    /// For a comment: the chain's first post and the one it answers.
    pub reply_to: Option<Thread>,
}

/// A post that exists on the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// The platform's id of the post (the release id).
    pub id: String,
    pub url: String,
    /// What a reply needs beyond the id (e.g. Bluesky's content hash), kept with the post.
    #[serde(default)]
    pub reference: Option<String>,
}

/// The result of publishing.
#[derive(Clone, Debug, PartialEq)]
pub enum PostOutcome {
    Published(Published),
    /// Two-phase networks: poll `check_status` with this data until it completes.
    Pending(Value),
}

/// Where a comment goes: the chain's first post and the one it answers.
#[derive(Clone, Debug)]
pub struct Thread {
    pub root: Published,
    pub parent: Published,
}

/// One analytics series: `[{label, data:[{total,date}], percentageChange}]` in Postiz.
#[derive(Clone, Debug, Serialize)]
pub struct AnalyticsSeries {
    pub label: String,
    pub data: Vec<AnalyticsPoint>,
    #[serde(rename = "percentageChange")]
    pub percentage_change: f64,
}

impl AnalyticsSeries {
    /// A series with its change from the first point to the last, in percent (one decimal).
    pub fn new(label: impl Into<String>, data: Vec<AnalyticsPoint>) -> AnalyticsSeries {
        let first = data.first().map_or(0, |p| p.total).max(1) as f64;
        let last = data.last().map_or(0, |p| p.total) as f64;
        AnalyticsSeries {
            label: label.into(),
            percentage_change: ((last - first) / first * 1000.0).round() / 10.0,
            data,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct AnalyticsPoint {
    /// Postiz sends totals as strings.
    #[serde(serialize_with = "as_string")]
    pub total: i64,
    pub date: String,
}

fn as_string<S: serde::Serializer>(n: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

/// A post on the network that may be the one a `missing` release id stands for.
#[derive(Clone, Debug, Serialize)]
pub struct MissingItem {
    pub id: String,
    pub url: String,
}

/// A page or account a user picks after authenticating ("between steps").
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub picture: Option<String>,
    pub username: Option<String>,
}

/// What the provider layer answers.
pub type Result<T, E = ProviderError> = std::result::Result<T, E>;

/// The series a network reports for an account or a post.
pub type Analytics = Vec<AnalyticsSeries>;

/// What connecting an account works with: the shared parts, the app at the network (when it
/// needs one) and our callback URL.
#[derive(Clone, Copy)]
pub struct Connecting<'a> {
    pub ctx: &'a Ctx<'a>,
    pub app: Option<&'a AppCredentials>,
    pub callback: &'a str,
}

/// What a call on a connected channel works with: the shared parts and the channel's tokens.
#[derive(Clone, Copy)]
pub struct On<'a> {
    pub ctx: &'a Ctx<'a>,
    pub auth: &'a ChannelAuth,
}

/// The contract every network implements. Defaults describe a network without the capability.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    fn info(&self) -> &'static ProviderInfo;

    /// The scopes asked for when connecting: `info().scopes`, plus any this installation's
    /// settings add (LinkedIn's `r_basicprofile`). Only `info().scopes` must be granted.
    fn scopes(&self, _config: &crate::config::Config) -> Vec<&'static str> {
        self.info().scopes.to_vec()
    }

    /// The longest text a post may have, given the channel's flags.
    fn max_length(&self, _additional: &[AdditionalSetting]) -> usize {
        self.info().max_length
    }

    /// The length of a text as the network counts it.
    fn text_length(&self, text: &str) -> usize {
        text::graphemes(text)
    }

    /// Checks a post chain's media and settings together (Postiz's `checkValidity`); by
    /// default each post against the network's `MediaRules`.
    fn check_validity(&self, chain: &[PostDetails]) -> Result<(), String> {
        let info = self.info();
        chain
            .iter()
            .try_for_each(|post| info.media.check(info.name, &post.media))
    }

    async fn call_tool(&self, _on: &On<'_>, _name: &str, _data: &Value) -> Result<Value> {
        Err(ProviderError::NotSupported("Tool not found".into()))
    }

    /// OAuth 2 networks (`ProviderInfo::oauth2`): the account behind freshly granted tokens.
    async fn account(&self, _c: &Connecting<'_>, _grant: TokenGrant) -> Result<ConnectedAccount> {
        Err(ProviderError::NotSupported(
            "this network does not connect with OAuth 2".into(),
        ))
    }

    /// Where to send the user to connect an account (networks without `oauth2`).
    async fn authorization_url(&self, _c: &Connecting<'_>, _state: &str) -> Result<AuthStart> {
        Err(ProviderError::NotSupported(
            "this network has no authorization URL".into(),
        ))
    }

    /// Turns the callback's code (or the form's credentials) into an account with tokens
    /// (networks without `oauth2`).
    async fn authenticate(
        &self,
        _c: &Connecting<'_>,
        _input: AuthInput,
    ) -> Result<ConnectedAccount> {
        Err(ProviderError::NotSupported(
            "this network does not connect this way".into(),
        ))
    }

    /// New tokens from the refresh token (networks without `oauth2`).
    async fn refresh(&self, _on: &On<'_>) -> Result<Tokens> {
        Err(ProviderError::RefreshNeeded(
            "this network's tokens cannot be refreshed; reconnect the channel".into(),
        ))
    }

    /// The pages or accounts to pick from, for "between steps" networks.
    async fn pages(&self, _on: &On<'_>) -> Result<Vec<Page>> {
        Ok(Vec::new())
    }

    /// The picked page as the account the channel publishes to.
    async fn pick_page(&self, _on: &On<'_>, _page_id: &str) -> Result<ConnectedAccount> {
        Err(ProviderError::NotSupported(
            "this network has no pages to pick".into(),
        ))
    }

    /// Publishes a post: the first of a chain, or with `post.reply_to` a reply in its thread.
    /// Networks without replies answer `NotSupported` for a reply.
    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome>;

    /// Polls a two-phase publish.
    async fn check_status(&self, _on: &On<'_>, _pending: &Value) -> Result<PostOutcome> {
        Err(ProviderError::NotSupported(
            "this network publishes in one step".into(),
        ))
    }

    async fn analytics(&self, _on: &On<'_>, _days: u32) -> Result<Analytics> {
        Ok(Vec::new())
    }

    async fn post_analytics(&self, _on: &On<'_>, _id: &str, _days: u32) -> Result<Analytics> {
        Ok(Vec::new())
    }

    /// Recent posts that may be the one a `missing` release id stands for.
    async fn missing(&self, _on: &On<'_>) -> Result<Vec<MissingItem>> {
        Ok(Vec::new())
    }

    /// Maps a platform-specific error body to an error kind, before the generic rules.
    fn classify(&self, _status: u16, _body: &str) -> Option<ProviderError> {
        None
    }
}

/// Every network socialgate speaks, in the order pages list them: one line each.
pub static ALL: &[&dyn Provider] = &[
    &sandbox::Sandbox,
    &sandbox::SandboxPages,
    &x::X,
    &mastodon::Mastodon,
    &bluesky::Bluesky,
    &facebook::Facebook,
    &instagram::INSTAGRAM,
    &instagram_standalone::STANDALONE,
    &threads::Threads,
    &linkedin::PERSONAL,
    &linkedin::PAGE,
    &youtube::YouTube,
    &gmb::Gmb,
    &tiktok::TikTok,
    &pinterest::Pinterest,
    &reddit::Reddit,
    &dribbble::Dribbble,
    #[cfg(feature = "network-sketch")]
    &sketch::Sketch,
];

/// The network with this identifier.
pub fn get(identifier: &str) -> Option<&'static dyn Provider> {
    ALL.iter()
        .copied()
        .find(|p| p.info().identifier == identifier)
}

/// What a client needs to write a post for a network: its rules, maximum length (given the
/// channel's flags), settings schema and tools (Postiz's integration schema).
pub fn describe(config: &Config, p: &dyn Provider, additional: &[AdditionalSetting]) -> Value {
    let mut output = json!({
        "rules": p.info().rules,
        "maxLength": p.max_length(additional),
        "settings": p.info().settings.json_schema(),
        "tools": p.info().tools,
    });
    // Beyond Postiz: why this network cannot fetch this installation's media.
    if let Some(warning) = medium::unreachable_media(config, p.info(), medium::media_base(config)) {
        output["warning"] = json!(warning);
    }
    output
}

/// Whether this instance offers a network at all (built-in networks follow
/// `SOCIALGATE_SANDBOX`; unset, they are on unless instance-wide credentials are in use).
pub fn offered(config: &Config, provider: &dyn Provider) -> bool {
    !provider.info().builtin || builtin_offered(config)
}

fn builtin_offered(config: &Config) -> bool {
    let p = &config.providers;
    p.sandbox.unwrap_or_else(|| {
        !p.env_credentials
            || !ALL
                .iter()
                .filter_map(|n| n.info().env)
                .any(|e| p.env.get(e.client_id).is_some() || p.env.get(e.client_secret).is_some())
    })
}
