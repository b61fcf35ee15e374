//! Configuration from the environment (and `.env`), with defaults that work on a laptop.

use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine;

/// Which database a URL names, decided by its scheme alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbBackend {
    Sqlite,
    Postgres,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Whether new people may sign up through the web page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signups {
    Open,
    Closed,
}

/// Everything the server reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// Public base URL without a trailing slash, e.g. `http://localhost:8080`.
    pub public_url: String,
    pub database_url: String,
    pub db_backend: DbBackend,
    pub data_dir: PathBuf,
    /// The master key, when given explicitly; otherwise `<data dir>/secret.key` is used.
    pub secret_key: Option<[u8; 32]>,
    /// The master key before a rotation, still accepted for opening sealed values.
    pub previous_secret_key: Option<[u8; 32]>,
    pub log_format: LogFormat,
    pub signups: Signups,
    /// Social networks: which are offered and where their APIs live.
    pub providers: ProviderConfig,
    /// `host:port` pairs media may be fetched from without the public-address check.
    pub fetch_trusted: Vec<String>,
    /// `SOCIALGATE_DCR_ALLOWED_HOSTS`: when set, the only https hosts a self-registering client
    /// (`POST /oauth/register`) may redirect to.
    pub dcr_allowed_hosts: Vec<String>,
    /// `SOCIALGATE_TRUSTED_PROXIES`: peers whose `Forwarded`/`X-Forwarded-For` is believed.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// `SOCIALGATE_MCP_ALLOWED_ORIGINS`: browser origins allowed to call `/mcp` besides ours.
    pub mcp_allowed_origins: Vec<String>,
    /// `/public/v1` requests per minute per credential (0: no limit).
    pub api_rate: u32,
    /// `POST /public/v1/posts` per hour per organization (0: no limit).
    pub api_post_limit: u32,
    /// `SOCIALGATE_SANDBOX_CONCURRENCY`: sandbox publishes running at once across instances
    /// (unset: the sandbox's own 10), for load tests.
    pub sandbox_concurrency: Option<u32>,
    /// S3-compatible storage for uploads, when `SOCIALGATE_S3_BUCKET` is set.
    pub s3: Option<S3Config>,
}

/// Where uploads go when they do not stay on local disk.
#[derive(Clone, Debug)]
pub struct S3Config {
    pub bucket: String,
    /// An S3-compatible endpoint (MinIO, R2, …); AWS when absent.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The public base URL objects are served from (a CDN or the bucket's public URL).
    pub public_url: String,
}

/// What the process environment held at start, for the settings each network names itself
/// (Postiz's instance-wide credentials such as `X_API_KEY`): config knows no network.
#[derive(Clone)]
pub struct Environment(std::sync::Arc<Lookup>);

/// Reads one variable.
type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

impl Environment {
    /// The non-empty, trimmed value of a variable.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be secrets: never printed.
        f.write_str("Environment(..)")
    }
}

/// `SOCIALGATE_PROVIDER_HOSTS`: hosts of the networks' APIs sent elsewhere (a local fake,
/// staging, an egress proxy). Scheme, host and port are replaced; path and query are kept.
#[derive(Clone, Debug, Default)]
pub struct ProviderHosts(Vec<(String, url::Url)>);

impl ProviderHosts {
    /// Parses space- or comma-separated `host=base-url` pairs.
    pub fn parse(value: &str) -> Result<ProviderHosts, String> {
        let mut pairs = Vec::new();
        for pair in value
            .split([' ', ',', '\n'])
            .filter(|p| !p.trim().is_empty())
        {
            let (host, base) = pair.trim().split_once('=').ok_or_else(|| {
                format!(
                    "{pair:?} is not host=base-url (e.g. graph.facebook.com=http://127.0.0.1:9001)"
                )
            })?;
            let host = host.trim().to_ascii_lowercase();
            if host.is_empty() || host.contains(['/', ':', '@']) {
                return Err(format!("{host:?} is not a host name"));
            }
            let base = url::Url::parse(base.trim())
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .filter(|u| u.path() == "/" && u.query().is_none() && u.username().is_empty())
                .ok_or_else(|| {
                    format!("{base:?} is not a base URL such as http://127.0.0.1:9001")
                })?;
            pairs.push((host, base));
        }
        Ok(ProviderHosts(pairs))
    }

    /// The URL with its scheme, host and port replaced when its host is listed.
    pub fn rewrite(&self, url: &str) -> String {
        let Ok(mut parsed) = url::Url::parse(url) else {
            return url.to_owned();
        };
        let Some(host) = parsed.host_str().map(str::to_ascii_lowercase) else {
            return url.to_owned();
        };
        let Some((_, base)) = self.0.iter().find(|(h, _)| *h == host) else {
            return url.to_owned();
        };
        // `set_scheme` refuses some changes (e.g. to a non-special scheme); both are special.
        let _ = parsed.set_scheme(base.scheme());
        let _ = parsed.set_host(base.host_str());
        let _ = parsed.set_port(base.port());
        parsed.to_string()
    }

    /// Whether a host is sent elsewhere.
    pub fn lists(&self, host: &str) -> bool {
        self.base_for(host).is_some()
    }

    /// Where requests to this host go instead, if it is listed.
    pub fn base_for(&self, host: &str) -> Option<&url::Url> {
        self.0
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map(|(_, base)| base)
    }
}

/// How the provider layer is configured.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `SOCIALGATE_SANDBOX`: whether the built-in networks are offered; unset, they are unless
    /// instance-wide credentials are in use (the registry decides, knowing their names).
    pub sandbox: Option<bool>,
    /// Whether the instance-wide credentials may be used when an organization has none.
    pub env_credentials: bool,
    /// The environment, where each network finds its instance-wide credentials.
    pub env: Environment,
    /// Path prefix of the callback URLs (`/postiz` by default, as the tenant guide expects).
    pub callback_prefix: String,
    /// Hosts a `returnURL` may send the user back to: exact names or `*.example.com`.
    pub return_url_hosts: Vec<String>,
    /// Where requests to the networks' hosts go instead (`SOCIALGATE_PROVIDER_HOSTS`).
    pub hosts: ProviderHosts,
    /// The `LinkedIn-Version` (YYYYMM) sent to LinkedIn's versioned API
    /// (`SOCIALGATE_LINKEDIN_VERSION`); LinkedIn switches each version off after about a year.
    pub linkedin_version: String,
    /// Whether the LinkedIn app has `r_basicprofile` (`SOCIALGATE_LINKEDIN_BASIC_PROFILE`):
    /// then it is asked for too, and a member's public profile name (`vanityName`) is read.
    pub linkedin_basic_profile: bool,
}

/// The LinkedIn API version used unless `SOCIALGATE_LINKEDIN_VERSION` says otherwise.
pub const LINKEDIN_VERSION: &str = "202609";

/// One bad variable: the message names it, and the process exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn invalid(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// The default database URL: an SQLite file under the data directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/socialgate.db";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let snapshot: std::collections::HashMap<String, String> = std::env::vars().collect();
        Self::from_lookup(move |name| snapshot.get(name).cloned())
    }

    /// Reads configuration through `get`, so tests can supply their own variables.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let get = std::sync::Arc::new(get);
        let env = Environment(get.clone());
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());

        let listen = match var("SOCIALGATE_LISTEN") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.trim().parse().map_err(|_| {
                invalid(
                    "SOCIALGATE_LISTEN",
                    format!("{v:?} is not an address and port such as 127.0.0.1:8080"),
                )
            })?,
        };

        let public_url = match var("SOCIALGATE_PUBLIC_URL") {
            None => "http://localhost:8080".to_owned(),
            Some(v) => parse_public_url(&v).map_err(|m| invalid("SOCIALGATE_PUBLIC_URL", m))?,
        };

        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let db_backend = backend_of(&database_url).map_err(|m| invalid("DATABASE_URL", m))?;

        let data_dir = PathBuf::from(var("SOCIALGATE_DATA_DIR").unwrap_or_else(|| "./data".into()));

        let secret_key = match var("SOCIALGATE_SECRET_KEY") {
            None => None,
            Some(v) => Some(decode_key(&v).ok_or_else(|| {
                invalid(
                    "SOCIALGATE_SECRET_KEY",
                    "expected base64 of exactly 32 bytes",
                )
            })?),
        };

        let previous_secret_key = match var("SOCIALGATE_PREVIOUS_SECRET_KEY") {
            None => None,
            Some(v) => Some(decode_key(&v).ok_or_else(|| {
                invalid(
                    "SOCIALGATE_PREVIOUS_SECRET_KEY",
                    "expected base64 of exactly 32 bytes",
                )
            })?),
        };

        let log_format = match var("SOCIALGATE_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "SOCIALGATE_LOG_FORMAT",
                    format!("{other:?} is neither \"pretty\" nor \"json\""),
                ));
            }
        };

        let signups = match var("SOCIALGATE_SIGNUPS").as_deref().map(str::trim) {
            None | Some("open") => Signups::Open,
            Some("closed") => Signups::Closed,
            Some(other) => {
                return Err(invalid(
                    "SOCIALGATE_SIGNUPS",
                    format!("{other:?} is neither \"open\" nor \"closed\""),
                ));
            }
        };

        if let Some(filter) = var("RUST_LOG") {
            tracing_subscriber::EnvFilter::try_new(&filter)
                .map_err(|e| invalid("RUST_LOG", format!("{filter:?} is not a log filter: {e}")))?;
        }

        let providers = provider_config(&var, env)?;
        let list = |name: &str| -> Vec<String> {
            var(name)
                .map(|v| {
                    v.split([',', ' '])
                        .map(|h| h.trim().trim_end_matches('/').to_ascii_lowercase())
                        .filter(|h| !h.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let fetch_trusted = list("SOCIALGATE_FETCH_TRUSTED_HOSTS");
        let dcr_allowed_hosts = list("SOCIALGATE_DCR_ALLOWED_HOSTS");
        let mcp_allowed_origins = list("SOCIALGATE_MCP_ALLOWED_ORIGINS");
        let trusted_proxies = crate::client_ip::TrustedProxies::parse(
            &var("SOCIALGATE_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|e| invalid("SOCIALGATE_TRUSTED_PROXIES", e))?;
        let number = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| invalid(name, format!("{v:?} is not a whole number"))),
            }
        };
        let api_rate = number("SOCIALGATE_API_RATE", 600)?;
        let api_post_limit = number("SOCIALGATE_API_LIMIT", 90)?;
        let sandbox_concurrency = match var("SOCIALGATE_SANDBOX_CONCURRENCY") {
            None => None,
            Some(_) => Some(number("SOCIALGATE_SANDBOX_CONCURRENCY", 10)?.max(1)),
        };
        let s3 = match var("SOCIALGATE_S3_BUCKET") {
            None => None,
            Some(bucket) => {
                let need = |name: &'static str| {
                    var(name).ok_or_else(|| {
                        invalid(name, "is required when SOCIALGATE_S3_BUCKET is set")
                    })
                };
                let endpoint = match var("SOCIALGATE_S3_ENDPOINT") {
                    None => None,
                    Some(v) => Some(
                        parse_public_url(&v).map_err(|m| invalid("SOCIALGATE_S3_ENDPOINT", m))?,
                    ),
                };
                Some(S3Config {
                    bucket: bucket.trim().to_owned(),
                    endpoint,
                    region: var("SOCIALGATE_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: need("SOCIALGATE_S3_ACCESS_KEY_ID")?,
                    secret_access_key: need("SOCIALGATE_S3_SECRET_ACCESS_KEY")?,
                    public_url: parse_public_url(&need("SOCIALGATE_S3_PUBLIC_URL")?)
                        .map_err(|m| invalid("SOCIALGATE_S3_PUBLIC_URL", m))?,
                })
            }
        };

        Ok(Config {
            providers,
            fetch_trusted,
            dcr_allowed_hosts,
            mcp_allowed_origins,
            trusted_proxies,
            api_rate,
            api_post_limit,
            sandbox_concurrency,
            s3,
            listen,
            public_url,
            database_url,
            db_backend,
            data_dir,
            secret_key,
            previous_secret_key,
            log_format,
            signups,
        })
    }

    /// Whether cookies must carry `Secure`.
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Decodes a base64 (standard or URL-safe, padded or not) 32-byte key.
pub fn decode_key(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(text).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
}

fn parse_public_url(v: &str) -> Result<String, String> {
    let v = v.trim().trim_end_matches('/');
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(|| format!("{v:?} must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || rest.contains(['?', '#', ' ']) || host.contains('@') {
        return Err(format!("{v:?} is not a plain http(s) URL with a host"));
    }
    Ok(v.to_owned())
}

/// Picks the backend from the URL scheme. A mistyped PostgreSQL URL is an error, never a file name.
pub fn backend_of(url: &str) -> Result<DbBackend, String> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DbBackend::Postgres);
    }
    if url.starts_with("sqlite://") || url.starts_with("sqlite:") {
        return match sqlite_path(url) {
            "" => Err("the SQLite URL names no file (use sqlite://./data/socialgate.db)".into()),
            _ => Ok(DbBackend::Sqlite),
        };
    }
    // Anything that looks like `scheme:` is a URL we do not speak; only bare paths remain.
    if let Some((scheme, _)) = url.split_once(':')
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        let hint = if scheme.to_ascii_lowercase().starts_with("postgres") {
            " (PostgreSQL URLs look like postgres://user:password@host/dbname)"
        } else {
            " (use sqlite://PATH or postgres://…)"
        };
        return Err(format!("unsupported database URL scheme {scheme:?}{hint}"));
    }
    if url.is_empty() {
        return Err("empty database URL".into());
    }
    Ok(DbBackend::Sqlite)
}

/// The file path inside an SQLite URL (`sqlite://./x.db`, `sqlite:x.db`, or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    let url = url.trim();
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(invalid(var, format!("{other:?} is neither true nor false"))),
    }
}

fn provider_config(
    var: &dyn Fn(&str) -> Option<String>,
    env: Environment,
) -> Result<ProviderConfig, ConfigError> {
    let env_credentials = match var("SOCIALGATE_ENV_PROVIDER_CREDENTIALS") {
        Some(v) => parse_bool("SOCIALGATE_ENV_PROVIDER_CREDENTIALS", &v)?,
        None => false,
    };
    let sandbox = match var("SOCIALGATE_SANDBOX") {
        Some(v) => Some(parse_bool("SOCIALGATE_SANDBOX", &v)?),
        None => None,
    };
    let callback_prefix = match var("SOCIALGATE_PROVIDER_CALLBACK_PREFIX") {
        None => "/postiz".to_owned(),
        Some(v) => {
            let v = v.trim().trim_end_matches('/');
            if !v.is_empty() && (!v.starts_with('/') || v.contains(['?', '#', ' '])) {
                return Err(invalid(
                    "SOCIALGATE_PROVIDER_CALLBACK_PREFIX",
                    format!("{v:?} is not a path such as /postiz (or empty)"),
                ));
            }
            v.to_owned()
        }
    };
    let return_url_hosts = var("SOCIALGATE_RETURN_URL_HOSTS")
        .map(|v| {
            v.split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let hosts = match var("SOCIALGATE_PROVIDER_HOSTS") {
        None => ProviderHosts::default(),
        Some(v) => ProviderHosts::parse(&v).map_err(|m| invalid("SOCIALGATE_PROVIDER_HOSTS", m))?,
    };
    let linkedin_version = match var("SOCIALGATE_LINKEDIN_VERSION") {
        None => LINKEDIN_VERSION.to_owned(),
        Some(v) => {
            let v = v.trim();
            let month = v.get(4..).and_then(|m| m.parse::<u32>().ok());
            if v.len() != 6
                || !v.bytes().all(|b| b.is_ascii_digit())
                || !matches!(month, Some(1..=12))
            {
                return Err(invalid(
                    "SOCIALGATE_LINKEDIN_VERSION",
                    format!("{v:?} is not a version such as {LINKEDIN_VERSION} (YYYYMM)"),
                ));
            }
            v.to_owned()
        }
    };
    let linkedin_basic_profile = match var("SOCIALGATE_LINKEDIN_BASIC_PROFILE") {
        None => false,
        Some(v) => parse_bool("SOCIALGATE_LINKEDIN_BASIC_PROFILE", &v)?,
    };
    Ok(ProviderConfig {
        sandbox,
        linkedin_version,
        linkedin_basic_profile,
        env_credentials,
        env,
        callback_prefix,
        return_url_hosts,
        hosts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_work_on_a_laptop() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://localhost:8080");
        assert_eq!(c.db_backend, DbBackend::Sqlite);
        assert_eq!(sqlite_path(&c.database_url), "./data/socialgate.db");
        assert!(c.secret_key.is_none());
        assert_eq!(c.signups, Signups::Open);
    }

    #[test]
    fn database_urls_pick_a_backend_by_scheme() {
        assert_eq!(backend_of("postgres://u:p@h/db"), Ok(DbBackend::Postgres));
        assert_eq!(backend_of("postgresql://h/db"), Ok(DbBackend::Postgres));
        assert_eq!(backend_of("sqlite:///tmp/x.db"), Ok(DbBackend::Sqlite));
        assert_eq!(backend_of("./x.db"), Ok(DbBackend::Sqlite));
        assert!(
            backend_of("postgresql:typo")
                .unwrap_err()
                .contains("PostgreSQL URLs")
        );
        assert!(backend_of("mysql://h/db").is_err());
        assert!(backend_of("sqlite://").is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(&[("SOCIALGATE_LISTEN", "nowhere")]).unwrap_err();
        assert_eq!(err.var, "SOCIALGATE_LISTEN");
        assert_eq!(
            config(&[("SOCIALGATE_SECRET_KEY", "c2hvcnQ=")])
                .unwrap_err()
                .var,
            "SOCIALGATE_SECRET_KEY"
        );
        assert_eq!(
            config(&[("SOCIALGATE_PUBLIC_URL", "ftp://x")])
                .unwrap_err()
                .var,
            "SOCIALGATE_PUBLIC_URL"
        );
        assert_eq!(
            config(&[("SOCIALGATE_SIGNUPS", "maybe")]).unwrap_err().var,
            "SOCIALGATE_SIGNUPS"
        );
        assert_eq!(
            config(&[("SOCIALGATE_LOG_FORMAT", "xml")]).unwrap_err().var,
            "SOCIALGATE_LOG_FORMAT"
        );
        for bad in ["2026-09", "202613", "20260"] {
            assert_eq!(
                config(&[("SOCIALGATE_LINKEDIN_VERSION", bad)])
                    .unwrap_err()
                    .var,
                "SOCIALGATE_LINKEDIN_VERSION"
            );
        }
        assert_eq!(
            config(&[("DATABASE_URL", "postgresql:typo")])
                .unwrap_err()
                .var,
            "DATABASE_URL"
        );
    }

    #[test]
    fn public_url_loses_its_trailing_slash() {
        let c = config(&[("SOCIALGATE_PUBLIC_URL", "https://gate.example.com/")]).unwrap();
        assert_eq!(c.public_url, "https://gate.example.com");
        assert!(c.https());
    }

    #[test]
    fn provider_hosts_replace_scheme_host_and_port_only() {
        let hosts = ProviderHosts::parse(
            "graph.facebook.com=http://127.0.0.1:9001, api.x.com=https://proxy.example:8443",
        )
        .unwrap();
        assert_eq!(
            hosts.rewrite("https://graph.facebook.com/v20.0/me/accounts?fields=id,name"),
            "http://127.0.0.1:9001/v20.0/me/accounts?fields=id,name"
        );
        assert_eq!(
            hosts.rewrite("https://API.X.com/2/tweets"),
            "https://proxy.example:8443/2/tweets"
        );
        assert_eq!(
            hosts.rewrite("https://upload.x.com/2/media"),
            "https://upload.x.com/2/media"
        );
        assert!(hosts.lists("api.x.com"));
        for bad in [
            "api.x.com",
            "api.x.com=ftp://x",
            "api.x.com=http://h/path",
            "a/b=http://h",
        ] {
            assert!(ProviderHosts::parse(bad).is_err(), "{bad}");
        }
        let err = config(&[("SOCIALGATE_PROVIDER_HOSTS", "nonsense")]).unwrap_err();
        assert_eq!(err.var, "SOCIALGATE_PROVIDER_HOSTS");
    }
}
