//! `spawn_app()`: a real server on a free port, its own database, and cookie-keeping clients.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::redirect::Policy;
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use socialgate::AppState;
use socialgate::channels::{self, Channel};
use socialgate::config::{Config, LogFormat};
use socialgate::providers::{
    ChannelAuth, MediaItem, On, PostDetails, PostOutcome, Published, Thread,
};

/// Everything the server logged during this test run, for the no-secrets-in-logs checks.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// All log output so far.
pub fn logs() -> String {
    socialgate::telemetry::flush();
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        socialgate::telemetry::init(LogFormat::Json, // The test's own HTTP client logs its cookies; the server side is what is checked.
            "debug,actix_server=warn,h2=info,hyper=info,hyper_util=info,cookie_store=off,reqwest=off", || LogWriter);
    });
}

/// A PostgreSQL database made for one test and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create(admin_url: &str) -> PgDatabase {
        let name = format!("sg_test_{}", uuid_simple());
        let mut conn =
            PgConnection::establish(admin_url).expect("TEST_DATABASE_URL must be reachable");
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .unwrap();
        let url = with_database(admin_url, &name);
        PgDatabase {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn uuid_simple() -> String {
    socialgate::crypto::random_alphanumeric(16).to_lowercase()
}

/// The URL with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_and_path = &base[scheme_end..];
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    format!("{}{host}/{name}{query}", &base[..scheme_end])
}

/// The test server is local: no TLS unless the URL asks for it. (libpq's OpenSSL, torn down at
/// process exit while a pool thread may still be connecting, once crashed the test binary
/// after every test had passed.)
pub fn without_tls(url: &str) -> String {
    if url.contains("sslmode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// The database a new test uses: PostgreSQL when `TEST_DATABASE_URL` is set, else SQLite.
pub struct TestDatabase {
    pub url: String,
    pub pg: Option<PgDatabase>,
}

pub fn test_database(dir: &std::path::Path) -> TestDatabase {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(admin) => {
            let pg = PgDatabase::create(&without_tls(&admin));
            TestDatabase {
                url: pg.url.clone(),
                pg: Some(pg),
            }
        }
        None => TestDatabase {
            url: format!("sqlite://{}", dir.join("socialgate.db").display()),
            pg: None,
        },
    }
}

pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

pub struct TestApp {
    pub address: String,
    pub state: web::Data<AppState>,
    pub dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// A server with the default configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A server with extra environment variables (e.g. `SOCIALGATE_SIGNUPS=closed`).
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let db = test_database(dir.path());
    spawn_on(dir, db.url.clone(), db.pg, vars).await
}

/// A server on an existing database (e.g. one the command line provisioned).
pub async fn spawn_on(
    dir: tempfile::TempDir,
    database_url: String,
    pg: Option<PgDatabase>,
    vars: &[(&str, &str)],
) -> TestApp {
    init_logs();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    // The server's public URL is its real address, so links it hands out can be followed.
    let mut all: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url.clone()),
        (
            "SOCIALGATE_DATA_DIR".into(),
            dir.path().display().to_string(),
        ),
        ("SOCIALGATE_PUBLIC_URL".into(), address.clone()),
    ];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(move |name| {
        all.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test configuration is valid");
    let state = socialgate::prepare(config, false).expect("the app starts");
    let server = socialgate::server(state.clone(), listener, Some(1)).unwrap();
    actix_web::rt::spawn(server);
    TestApp {
        address,
        state,
        dir,
        _pg: pg,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn client() -> Client {
    browser().build().unwrap()
}

/// A browser-like client behind a proxy that names it by `X-Forwarded-For: address`.
pub fn client_at(address: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", address.parse().unwrap());
    browser().default_headers(headers).build().unwrap()
}

fn browser() -> reqwest::ClientBuilder {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
}

/// The value of the first `<input … name="NAME" value="…">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html_unescape(&html[start..end]))
}

/// What a browser makes of an escaped attribute value.
pub fn html_unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
}

/// The value of the input with this id.
pub fn input_by_id(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let v = rest.find("value=\"")? + 7;
    let end = rest[v..].find('"')? + v;
    Some(rest[v..end].to_owned())
}

/// The database, pages, and accounts.
impl TestApp {
    /// Runs `f` on the test's database (to age a code, remove a membership, …).
    pub async fn with_db<T, F>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&mut socialgate::db::DbConn) -> diesel::QueryResult<T> + Send + 'static,
    {
        self.state
            .db
            .run(move |conn| f(conn).map_err(socialgate::db::DbError::from))
            .await
            .unwrap()
    }

    /// `POST /device/code`, as the Postiz CLI starts a login.
    pub async fn start_device_login(&self) -> Value {
        client()
            .post(self.url("/device/code"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// GETs a path and returns its JSON body.
    pub async fn get_json(&self, client: &Client, path: &str) -> Value {
        self.get(client, path).await.json().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.unwrap()
    }

    /// GETs a page and returns its status and body.
    pub async fn page(&self, client: &Client, path: &str) -> (StatusCode, String) {
        let r = self.get(client, path).await;
        (r.status(), r.text().await.unwrap())
    }

    /// The CSRF token in the form of a page.
    pub async fn csrf(&self, client: &Client, path: &str) -> String {
        let (_, html) = self.page(client, path).await;
        input_value(&html, "csrf_token").unwrap_or_else(|| panic!("no csrf_token on {path}"))
    }

    pub async fn post_form(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> Response {
        client.post(self.url(path)).form(form).send().await.unwrap()
    }

    /// Signs up through the page (a new organization whose admin is this user).
    pub async fn sign_up(&self, client: &Client, email: &str, password: &str) -> Response {
        let token = self.csrf(client, "/signup").await;
        self.post_form(
            client,
            "/signup",
            &[
                ("csrf_token", &token),
                ("name", "Test User"),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn sign_in(&self, client: &Client, email: &str, password: &str) -> Response {
        let token = self.csrf(client, "/signin").await;
        self.post_form(
            client,
            "/signin",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// A new client signed up as a new user with their own organization.
    pub async fn signed_up_client(&self, email: &str) -> Client {
        let c = client();
        let r = self.sign_up(&c, email, "a long password").await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "sign-up of {email} failed"
        );
        c
    }

    /// Creates an API key on the Public API page and returns it.
    pub async fn create_api_key(&self, client: &Client, name: &str) -> String {
        let token = self.csrf(client, "/settings/developers/public-api").await;
        let r = self
            .post_form(
                client,
                "/settings/developers/public-api",
                &[("csrf_token", &token), ("name", name)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        input_by_id(&r.text().await.unwrap(), "new-key").expect("the new key is shown")
    }

    /// The id of the (first) organization of the user with this email.
    /// Revokes the first key listed on the browser's API keys page, as its user would.
    pub async fn revoke_first_api_key(&self, browser: &Client) {
        let (_, html) = self.page(browser, "/settings/developers/public-api").await;
        let id = html
            .split("/settings/developers/public-api/")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .expect("a key is listed")
            .to_owned();
        let csrf = self.csrf(browser, "/settings/developers/public-api").await;
        let r = self
            .post_form(
                browser,
                &format!("/settings/developers/public-api/{id}/revoke"),
                &[("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }

    pub async fn org_of(&self, email: &str) -> String {
        let email = email.to_owned();
        self.state
            .db
            .run(move |conn| {
                let user = socialgate::accounts::users::find_user_by_email(conn, &email)?
                    .expect("user exists");
                let orgs = socialgate::accounts::users::organizations_of(conn, &user.id)?;
                Ok::<_, socialgate::error::AppError>(orgs[0].id.clone())
            })
            .await
            .unwrap()
    }

    /// A new user signed up in a browser, with an API key named "agent" for their organization.
    pub async fn tenant(&self, email: &str) -> Tenant {
        let browser = self.signed_up_client(email).await;
        let key = self.create_api_key(&browser, "agent").await;
        let org = self.org_of(email).await;
        Tenant {
            browser,
            key,
            org,
            email: email.to_owned(),
        }
    }
}

/// A user with their own organization and an API key: what most tests start from.
pub struct Tenant {
    /// The browser the user signed up in (it keeps the session cookie).
    pub browser: Client,
    /// An API key of the organization, named "agent".
    pub key: String,
    /// The organization's id.
    pub org: String,
    /// The email the user signed up with (and signs in with, password "a long password").
    #[allow(dead_code, reason = "no test reads it yet")]
    pub email: String,
}

/// The Public API and channels, as an API client and the worker use them.
impl TestApp {
    /// `GET /public/v1/is-connected` with this Authorization header value.
    pub async fn is_connected(&self, authorization: Option<&str>) -> (StatusCode, Value) {
        let mut req = client().get(self.url("/public/v1/is-connected"));
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// `GET /public/v1{path}` with this credential.
    pub async fn api_get(&self, credential: &str, path: &str) -> (StatusCode, Value) {
        self.authed_get(credential, &format!("/public/v1{path}"))
            .await
    }

    /// `GET {path}` with this credential in `Authorization`.
    pub async fn authed_get(&self, credential: &str, path: &str) -> (StatusCode, Value) {
        let r = client()
            .get(self.url(path))
            .header("Authorization", credential)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A request to `/public/v1{path}` with a JSON body.
    pub async fn api_send(
        &self,
        method: Method,
        key: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = client()
            .request(method, self.url(&format!("/public/v1{path}")))
            .header("Authorization", key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Each `POST /public/v1/posts` body is refused with 400, naming what the case says.
    pub async fn refuses_posts(&self, key: &str, cases: Vec<(Value, &str)>) {
        for (body, expected) in cases {
            let (status, answer) = self
                .api_send(reqwest::Method::POST, key, "/posts", Some(body))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{expected}: {answer}");
            assert!(
                answer.to_string().contains(expected),
                "{expected}: {answer}"
            );
        }
    }

    /// `POST /public/v1/upload` of these bytes.
    pub async fn upload(&self, key: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
        let r = client()
            .post(self.url("/public/v1/upload"))
            .header("Authorization", key)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The id of the organization's channel of this network, as `GET /integrations` lists it.
    pub async fn channel_id(&self, key: &str, network: &str) -> String {
        let (_, list) = self.api_get(key, "/integrations").await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["identifier"] == network)
            .unwrap_or_else(|| panic!("no {network} channel in {list}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The URL `GET /public/v1/social/{provider}` answers with.
    pub async fn connect_url(&self, key: &str, provider_and_query: &str) -> String {
        let (status, body) = self
            .api_get(key, &format!("/social/{provider_and_query}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["url"].as_str().unwrap().to_owned()
    }

    /// Connects the sandbox as an API client would: follow the URL with any HTTP client.
    pub async fn connect_sandbox(&self, key: &str) -> Value {
        let url = self.connect_url(key, "sandbox").await;
        let r = Client::new().get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let (_, list) = self.api_get(key, "/integrations").await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["identifier"] == "sandbox")
            .cloned()
            .expect("the sandbox channel is listed")
    }

    /// Stores an organization's app credentials for a network.
    pub async fn set_credentials(
        &self,
        org: &str,
        provider: &str,
        id: &str,
        secret: &str,
        instance: Option<&str>,
    ) {
        let (keys, db) = (self.state.keys.clone(), self.state.db.clone());
        let (org, provider, id, secret, instance) = (
            org.to_owned(),
            provider.to_owned(),
            id.to_owned(),
            secret.to_owned(),
            instance.map(str::to_owned),
        );
        actix_web::web::block(move || {
            socialgate::admin::set_provider_credentials(
                &mut db.get().unwrap(),
                &keys,
                &org,
                &provider,
                &id,
                &secret,
                None,
                instance.as_deref(),
            )
        })
        .await
        .unwrap()
        .unwrap();
    }

    /// A channel row by its id.
    pub async fn channel(&self, org: &str, id: &str) -> Channel {
        let (org, id) = (org.to_owned(), id.to_owned());
        self.state
            .db
            .run(move |conn| channels::get(conn, &org, &id))
            .await
            .unwrap()
    }

    /// The channel's credentials, refreshed first if they are about to expire.
    pub async fn channel_auth(&self, channel: &Channel) -> ChannelAuth {
        channels::fresh_auth(&self.state.ctx(), &self.state.keys, channel)
            .await
            .unwrap()
    }

    /// A published post's series from the channel's network, as JSON.
    pub async fn post_analytics(&self, channel: &Channel, release_id: &str, days: u32) -> Value {
        let auth = self.channel_auth(channel).await;
        let ctx = self.state.ctx();
        let on = On {
            ctx: &ctx,
            auth: &auth,
        };
        let series = channel
            .provider()
            .unwrap()
            .post_analytics(&on, release_id, days)
            .await
            .unwrap();
        serde_json::to_value(series).unwrap()
    }

    /// Publishes through the channel's provider, as the worker does (checking a two-phase
    /// publish until it is done).
    pub async fn publish(
        &self,
        channel: &Channel,
        text: &str,
        media: Vec<MediaItem>,
        thread: Option<&Thread>,
    ) -> Result<Published, socialgate::providers::ProviderError> {
        let settings = Value::Object(Default::default());
        self.publish_with(channel, text, media, settings, thread)
            .await
    }

    /// Publishes with these post settings (`post_type`, …).
    pub async fn publish_with(
        &self,
        channel: &Channel,
        text: &str,
        media: Vec<MediaItem>,
        settings: Value,
        thread: Option<&Thread>,
    ) -> Result<Published, socialgate::providers::ProviderError> {
        let provider = channel.provider().unwrap();
        let auth = channels::fresh_auth(&self.state.ctx(), &self.state.keys, channel)
            .await
            .map_err(|e| match e {
                channels::FreshAuthError::Provider(p) => p,
                other => panic!("{other}"),
            })?;
        let post = PostDetails {
            id: socialgate::crypto::new_id(),
            message: text.to_owned(),
            settings,
            media,
            reply_to: thread.cloned(),
        };
        let ctx = self.state.ctx();
        let on = On {
            ctx: &ctx,
            auth: &auth,
        };
        let mut outcome = provider.publish(&on, &post).await?;
        // A two-phase network: checked until done, as the worker does between its runs.
        for _ in 0..10 {
            match outcome {
                PostOutcome::Published(p) => return Ok(p),
                PostOutcome::Pending(data) => {
                    outcome = provider.check_status(&on, &data).await?;
                }
            }
        }
        panic!("the publish is still pending: {outcome:?}")
    }
}

/// A publishing worker running in this process (as `serve` runs one) until `stop`.
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    handle: actix_web::rt::task::JoinHandle<()>,
}

impl Worker {
    /// Stops claiming and waits for the running jobs to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

impl TestApp {
    /// Creates a post through the Public API and runs a worker until it is published; answers
    /// the post as `GET /public/v1/posts/{id}` shows it.
    pub async fn published_by_worker(&self, key: &str, body: Value) -> Value {
        let (status, created) = self.api_send(Method::POST, key, "/posts", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let post = created[0]["postId"].as_str().unwrap().to_owned();
        let worker = self.start_worker();
        let published = eventually("the post to be published", || {
            let post = &post;
            async move {
                let (_, p) = self.api_get(key, &format!("/posts/{post}")).await;
                (p["state"] == "PUBLISHED").then_some(p)
            }
        })
        .await;
        worker.stop().await;
        published
    }

    /// Starts a worker on this app's database.
    pub fn start_worker(&self) -> Worker {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let handle = actix_web::rt::spawn(socialgate::publishing::worker::run(
            self.state.clone(),
            stopped,
        ));
        Worker { stop, handle }
    }
}

/// An app registered for an organization, as a third-party developer holds it.
pub struct RegisteredApp {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// OAuth, as a third-party app and the user who approves it go through it.
impl TestApp {
    /// Registers an app for the organization with these redirect URIs.
    pub async fn register_app(
        &self,
        org_id: &str,
        redirect_uris: &[&str],
        public: bool,
    ) -> RegisteredApp {
        let (org, uris): (String, Vec<String>) = (
            org_id.to_owned(),
            redirect_uris.iter().map(|s| s.to_string()).collect(),
        );
        let db = self.state.db.clone();
        let out = actix_web::web::block(move || {
            socialgate::admin::create_oauth_app(
                &mut db.get().unwrap(),
                &org,
                "Test App",
                &uris,
                public,
            )
        })
        .await
        .unwrap()
        .unwrap();
        RegisteredApp {
            client_id: out["client_id"].as_str().unwrap().to_owned(),
            client_secret: out
                .get("client_secret")
                .and_then(|s| s.as_str())
                .map(str::to_owned),
        }
    }

    /// `GET /oauth/authorize?…` with the browser's cookies.
    pub async fn authorize(&self, browser: &Client, query: &[(&str, &str)]) -> Response {
        let q = serde_urlencoded::to_string(query).unwrap();
        browser
            .get(self.url(&format!("/oauth/authorize?{q}")))
            .send()
            .await
            .unwrap()
    }

    /// Answers a consent page ("approve" or "deny") and returns the response.
    pub async fn answer_consent(
        &self,
        browser: &Client,
        consent_html: &str,
        action: &str,
    ) -> Response {
        let request_id = input_value(consent_html, "request_id").expect("a consent form");
        let csrf = input_value(consent_html, "csrf_token").unwrap();
        let org = input_value(consent_html, "organization_id")
            .or_else(|| {
                consent_html
                    .split("<option value=\"")
                    .nth(1)
                    .map(|s| s.split('"').next().unwrap().to_owned())
            })
            .unwrap();
        self.post_form(
            browser,
            "/oauth/authorize",
            &[
                ("csrf_token", &csrf),
                ("request_id", &request_id),
                ("organization_id", &org),
                ("action", action),
            ],
        )
        .await
    }

    /// Runs authorize + approve and returns the code from the redirect.
    pub async fn obtain_code(&self, browser: &Client, query: &[(&str, &str)]) -> String {
        let r = self.authorize(browser, query).await;
        assert_eq!(r.status(), StatusCode::OK, "consent screen expected");
        let html = r.text().await.unwrap();
        let r = self.answer_consent(browser, &html, "approve").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        query_param(&location, "code").expect("a code in the redirect")
    }

    /// `POST /oauth/token` with a form body.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> Response {
        client()
            .post(self.url("/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A full confidential-client flow; returns the access token.
    pub async fn access_token(
        &self,
        browser: &Client,
        registered: &RegisteredApp,
        scope: &str,
    ) -> String {
        let code = self
            .obtain_code(
                browser,
                &[
                    ("client_id", &registered.client_id),
                    ("response_type", "code"),
                    ("scope", scope),
                    ("state", "s"),
                ],
            )
            .await;
        let r = self
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", &registered.client_id),
                (
                    "client_secret",
                    registered.client_secret.as_deref().unwrap(),
                ),
            ])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

/// A query parameter of a URL, decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// How many times a parameter appears in a URL's query.
pub fn query_count(url: &str, name: &str) -> usize {
    url.split_once('?')
        .map(|(_, q)| {
            url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k == name)
                .count()
        })
        .unwrap_or(0)
}

/// Polls `f` every 50 ms until it yields a value and returns that value. Gives up after 600
/// tries (30 s: a loaded CI machine needs that long) and panics with `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(value) = f().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("gave up after 30 s waiting for {what}");
}
