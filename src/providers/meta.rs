//! What Meta's Graph APIs share (Facebook Pages, Instagram, Threads): the version in the path,
//! the error bodies (`{"error":{"code",…}}`) as error kinds, long-lived tokens, and media
//! containers (create, check until finished, publish) for Instagram and Threads.

use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth, Request};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    AnalyticsPoint, AnalyticsSeries, Connecting, Ctx, EnvCredentials, Provider, ProviderError,
    Published, Result, require_app,
};

/// The Graph version used when the operator names none.
pub const GRAPH_VERSION: &str = "v27.0";

/// `SOCIALGATE_META_GRAPH_VERSION` (`v27.0`), else the default.
pub fn graph_version(config: &crate::config::Config) -> String {
    config
        .providers
        .env
        .get("SOCIALGATE_META_GRAPH_VERSION")
        .filter(|v| {
            v.strip_prefix('v')
                .and_then(|n| n.split_once('.'))
                .is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
                })
        })
        .unwrap_or_else(|| GRAPH_VERSION.to_owned())
}

/// A Graph API at one host and version, called with one token.
pub struct Graph<'a> {
    pub api: Api<'a>,
    version: String,
    token: &'a str,
}

impl<'a> Graph<'a> {
    pub fn new(
        provider: &'a dyn Provider,
        ctx: &'a Ctx<'a>,
        base: &str,
        version: String,
        token: &'a str,
    ) -> Self {
        Graph {
            api: Api::new(provider, ctx, base, Auth::Query("access_token", token)),
            version,
            token,
        }
    }

    /// The token the calls carry (Meta's upload hosts also want it in a header).
    pub fn token(&self) -> &'a str {
        self.token
    }

    fn path(&self, path: &str) -> String {
        if self.version.is_empty() {
            path.to_owned()
        } else {
            format!("/{}{path}", self.version)
        }
    }

    pub fn get(&self, path: &str) -> Request<'_> {
        self.api.get(&self.path(path))
    }

    pub fn post(&self, path: &str) -> Request<'_> {
        self.api.post(&self.path(path))
    }

    /// The token's own account (`/me`) with these fields.
    pub async fn me<T: serde::de::DeserializeOwned>(&self, fields: &str) -> Result<T> {
        self.get("/me").query(&[("fields", fields)]).read().await
    }
}

/// A Graph list: `{"data":[…]}`.
#[derive(Deserialize)]
pub struct Listed<T> {
    pub data: Vec<T>,
}

/// An account's insights over the last `days` (at most `max_days`, the window Meta allows),
/// one series a metric.
pub async fn insights_over(
    graph: &Graph<'_>,
    path: &str,
    params: &[(&str, &str)],
    days: u32,
    max_days: u32,
) -> Result<Vec<AnalyticsSeries>> {
    let until = chrono::Utc::now();
    let since = until - chrono::Duration::days(i64::from(days.clamp(1, max_days)));
    let (since, until) = (since.timestamp().to_string(), until.timestamp().to_string());
    let mut query = params.to_vec();
    query.extend([("since", since.as_str()), ("until", until.as_str())]);
    let insights: Listed<Value> = graph.get(path).query(&query).read().await?;
    Ok(insights.data.iter().map(insights_series).collect())
}

/// One insights metric as a series: a daily series (`values:[{value, end_time}]`), or a total
/// (`total_value:{value}`) shown as today's point.
pub fn insights_series(metric: &Value) -> AnalyticsSeries {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let data: Vec<AnalyticsPoint> = match metric["values"].as_array() {
        Some(values) => values
            .iter()
            .map(|v| AnalyticsPoint {
                total: v["value"].as_i64().unwrap_or(0),
                date: v["end_time"]
                    .as_str()
                    .map_or_else(|| today.clone(), |t| t.chars().take(10).collect()),
            })
            .collect(),
        None => vec![AnalyticsPoint {
            total: metric["total_value"]["value"].as_i64().unwrap_or(0),
            date: today,
        }],
    };
    let label = metric["title"]
        .as_str()
        .or_else(|| metric["name"].as_str())
        .unwrap_or_default();
    AnalyticsSeries::new(label, data)
}

#[derive(Deserialize)]
struct ErrorBody {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    error_user_msg: Option<String>,
}

/// Meta's error codes as kinds (classified by code and subcode, never by HTTP status): 190
/// (token expired: refresh needed; the app removed, the password changed, the user
/// checkpointed or no longer on the page: disconnected), 1/2/4/17/32/341/613/80001+ (outages
/// and rate limits: retry later), 10/200-299 (a permission withdrawn: reconnect),
/// 324/389/9004/2207052 (Meta could not fetch the media), 9007/2207027 (media not ready yet).
pub fn classify(name: &str, body: &str) -> Option<ProviderError> {
    let error = serde_json::from_str::<ErrorBody>(body).ok()?.error;
    let reason = error
        .error_user_msg
        .filter(|m| !m.trim().is_empty())
        .unwrap_or(error.message);
    let said = format!("{name}: {reason} (code {})", error.code);
    Some(match (error.code, error.error_subcode) {
        (190, Some(458 | 459 | 460 | 464 | 467 | 492)) | (_, Some(492)) => {
            ProviderError::Disconnected(said)
        }
        (190 | 102, _) => ProviderError::RefreshNeeded(said),
        (10 | 200..=299, _) => ProviderError::Disconnected(format!(
            "{said}: a permission socialgate needs was withdrawn; reconnect the channel"
        )),
        (1 | 2 | 4 | 17 | 32 | 341 | 613 | 80001..=80014, _) => ProviderError::retry(said),
        (9007, _) | (_, Some(2207027)) => ProviderError::retry(said),
        (324 | 389 | 9004, _) | (_, Some(2207052)) => {
            ProviderError::BadBody(format!("{name} could not fetch the media: {reason}"))
        }
        _ => ProviderError::BadBody(said),
    })
}

/// Exchanges a token for a long-lived one at `url` with these query parameters.
pub async fn long_lived(
    provider: &dyn Provider,
    ctx: &Ctx<'_>,
    url: &str,
    query: &[(&str, &str)],
) -> Result<TokenGrant> {
    Api::new(provider, ctx, "", Auth::None)
        .get(url)
        .query(query)
        .read()
        .await
}

/// Refuses to publish (retry in an hour) when the account used its publishing quota at
/// `path` (`content_publishing_limit`, `threads_publishing_limit`), which counts every app's
/// posts of the last 24 hours.
pub async fn check_quota(graph: &Graph<'_>, path: &str) -> Result<()> {
    #[derive(Deserialize)]
    struct Limit {
        #[serde(default)]
        quota_usage: i64,
        config: LimitConfig,
    }
    #[derive(Deserialize)]
    struct LimitConfig {
        quota_total: i64,
    }
    let limit: Listed<Limit> = graph
        .get(path)
        .query(&[("fields", "quota_usage,config")])
        .read()
        .await?;
    match limit.data.first() {
        Some(l) if l.quota_usage >= l.config.quota_total => Err(ProviderError::RetryLater {
            message: format!(
                "{} allows {} posts in 24 hours and this account used them",
                graph.api.name(),
                l.config.quota_total
            ),
            after: Some(std::time::Duration::from_secs(3600)),
        }),
        _ => Ok(()),
    }
}

/// A post or a story (Facebook Pages and Instagram's `post_type` setting).
#[derive(Clone, Copy, Debug, Default, Deserialize, schemars::JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PostType {
    #[default]
    Post,
    Story,
}

/// Facebook's Graph host (Facebook Pages and Instagram through a page).
pub const FACEBOOK_GRAPH: &str = "https://graph.facebook.com";

/// A Meta login dialog and its token endpoint (scopes are comma-separated there).
pub const fn login(authorize: &'static str, token: &'static str) -> Endpoints {
    Endpoints {
        authorize,
        token,
        scope_separator: ",",
        ..Endpoints::DEFAULT
    }
}

/// Facebook Login, shared by Facebook Pages and Instagram through a page (one Meta app); its
/// token endpoint is read with GET.
pub static FACEBOOK_LOGIN: Endpoints = Endpoints {
    token_by_get: true,
    ..login(
        "https://www.facebook.com/dialog/oauth",
        "https://graph.facebook.com/oauth/access_token",
    )
};

/// The instance-wide Meta app of Facebook Pages and Instagram, under Postiz's names.
pub const FACEBOOK_APP: EnvCredentials = EnvCredentials {
    client_id: "FACEBOOK_APP_ID",
    client_secret: "FACEBOOK_APP_SECRET",
    instance_url: None,
};

/// A token Meta renews itself, with no refresh token (Instagram Login, Threads): a short-lived
/// token is exchanged for a 60-day one at `{host}/access_token`, which is renewed at
/// `{host}/refresh_access_token` before it ends.
pub struct SelfRenewing {
    pub host: &'static str,
    /// `ig_exchange_token`, `th_exchange_token`.
    pub exchange: &'static str,
    /// `ig_refresh_token`, `th_refresh_token`.
    pub refresh: &'static str,
}

impl SelfRenewing {
    /// The long-lived token for a short-lived one.
    pub async fn exchange(
        &self,
        provider: &dyn Provider,
        c: &Connecting<'_>,
        short: &str,
    ) -> Result<super::Tokens> {
        let app = require_app(provider, c.app)?;
        let query = [
            ("grant_type", self.exchange),
            ("client_secret", app.client_secret.as_str()),
            ("access_token", short),
        ];
        let url = format!("{}/access_token", self.host);
        Ok(renewable(long_lived(provider, c.ctx, &url, &query).await?))
    }

    /// The token renewed for another 60 days.
    pub async fn renew(
        &self,
        provider: &dyn Provider,
        ctx: &Ctx<'_>,
        token: &str,
    ) -> Result<super::Tokens> {
        let url = format!("{}/refresh_access_token", self.host);
        let query = [("grant_type", self.refresh), ("access_token", token)];
        Ok(renewable(long_lived(provider, ctx, &url, &query).await?))
    }
}

fn renewable(grant: TokenGrant) -> super::Tokens {
    super::Tokens {
        access_token: grant.access_token,
        refresh_token: None,
        expires_in: grant.expires_in,
        refresh_expires_in: None,
    }
}

/// Facebook Login's long-lived user token (`fb_exchange_token`) for a short-lived one.
pub async fn facebook_long_lived(
    provider: &dyn Provider,
    c: &Connecting<'_>,
    short: &str,
) -> Result<TokenGrant> {
    let app = require_app(provider, c.app)?;
    let token_url = provider.info().oauth2.map_or("", |e| e.token);
    let query = [
        ("grant_type", "fb_exchange_token"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
        ("fb_exchange_token", short),
    ];
    long_lived(provider, c.ctx, token_url, &query).await
}

/// Where a network keeps its containers (Instagram: `media`, Threads: `threads`).
pub struct Containers {
    pub create: &'static str,
    pub publish: &'static str,
    /// The fields a container's state is read from, the state first.
    pub status_fields: &'static str,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Creates a container for `user` with these fields (a form, as Meta documents them); returns
/// its id.
pub async fn create_container(
    graph: &Graph<'_>,
    containers: &Containers,
    user: &str,
    fields: &[(&str, &str)],
) -> Result<String> {
    let created: Created = graph
        .post(&format!("/{user}/{}", containers.create))
        .form(fields)
        .read()
        .await?;
    Ok(created.id)
}

/// A container's state: finished or still in progress (a failure is an error).
#[derive(Debug, PartialEq, Eq)]
pub enum ContainerState {
    Finished,
    InProgress,
}

/// What a pending container publish keeps between checks.
pub fn pending(user: &str, container: &str) -> Value {
    json!({ "user": user, "container": container })
}

/// Checks a pending container once and publishes it when it is finished.
pub async fn advance(
    graph: &Graph<'_>,
    containers: &Containers,
    pending: &Value,
) -> Result<super::PostOutcome> {
    let (Some(user), Some(container)) = (pending["user"].as_str(), pending["container"].as_str())
    else {
        return Err(ProviderError::BadBody(format!(
            "a pending {} publish lost its container",
            graph.api.name()
        )));
    };
    match container_state(graph, containers, container).await? {
        ContainerState::InProgress => Ok(super::PostOutcome::Pending(pending.clone())),
        ContainerState::Finished => Ok(super::PostOutcome::Published(
            publish_container(graph, containers, user, container).await?,
        )),
    }
}

/// Reads a container's state; `ERROR` and `EXPIRED` fail with Meta's reason.
pub async fn container_state(
    graph: &Graph<'_>,
    containers: &Containers,
    id: &str,
) -> Result<ContainerState> {
    let state: Value = graph
        .get(&format!("/{id}"))
        .query(&[("fields", containers.status_fields)])
        .read()
        .await?;
    let status = state["status_code"]
        .as_str()
        .or_else(|| state["status"].as_str())
        .unwrap_or("IN_PROGRESS");
    match status {
        "FINISHED" | "PUBLISHED" => Ok(ContainerState::Finished),
        "ERROR" | "EXPIRED" => {
            let why = state["error_message"]
                .as_str()
                .or_else(|| state["status"].as_str().filter(|s| *s != status))
                .unwrap_or(status);
            Err(ProviderError::BadBody(format!(
                "{} could not process the media ({status}): {why}",
                graph.api.name()
            )))
        }
        _ => Ok(ContainerState::InProgress),
    }
}

/// Publishes a finished container and reads the post's permalink.
pub async fn publish_container(
    graph: &Graph<'_>,
    containers: &Containers,
    user: &str,
    container: &str,
) -> Result<Published> {
    let published: Created = graph
        .post(&format!("/{user}/{}", containers.publish))
        .form(&[("creation_id", container)])
        .read()
        .await?;
    let permalink: Value = graph
        .get(&format!("/{}", published.id))
        .query(&[("fields", "permalink")])
        .read()
        .await?;
    Ok(Published {
        url: permalink["permalink"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        id: published.id,
        reference: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(code: i64, subcode: Option<i64>) -> ProviderError {
        let body = json!({ "error": {
            "message": "Error validating access token", "type": "OAuthException",
            "code": code, "error_subcode": subcode, "fbtrace_id": "A1"
        }});
        classify("Facebook", &body.to_string()).unwrap()
    }

    #[test]
    fn the_graph_version_is_the_operators_when_it_is_one() {
        for (set, used) in [
            ("v25.0", "v25.0"),
            ("25", GRAPH_VERSION),
            ("v2x.0", GRAPH_VERSION),
            ("v25.", GRAPH_VERSION),
            ("", GRAPH_VERSION),
        ] {
            let value = set.to_owned();
            let config = crate::config::Config::from_lookup(move |n| {
                (n == "SOCIALGATE_META_GRAPH_VERSION").then(|| value.clone())
            })
            .unwrap();
            assert_eq!(graph_version(&config), used, "{set:?}");
        }
    }

    #[test]
    fn meta_error_codes_become_the_kinds_the_worker_acts_on() {
        assert!(matches!(
            kind(190, Some(463)),
            ProviderError::RefreshNeeded(_)
        ));
        assert!(matches!(kind(190, None), ProviderError::RefreshNeeded(_)));
        assert!(matches!(
            kind(190, Some(460)),
            ProviderError::Disconnected(_)
        ));
        for limit in [4, 17, 32, 613] {
            assert!(kind(limit, None).is_transient(), "{limit}");
        }
        assert!(kind(9007, None).is_transient());
        let fetch = kind(9004, Some(2207052));
        assert!(
            matches!(&fetch, ProviderError::BadBody(m) if m.contains("could not fetch the media")),
            "{fetch:?}"
        );
        assert!(matches!(kind(100, None), ProviderError::BadBody(_)));
        assert!(classify("Facebook", "<html>").is_none());
    }
}
