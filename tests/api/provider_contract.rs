//! The contract every network keeps, run against each network's fake: connect, publish with
//! media, reply, a refused token (renewed where the network can, else "refresh needed"), a rate
//! limit (retry later, with the platform's Retry-After), and a revoked account. A new network
//! adds one `Network` implementation here and gets the whole baseline.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use socialgate::channels;
use socialgate::providers::{MediaItem, ProviderError, Published, Thread};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::fakes::{
    PNG, bluesky, dribbble, facebook, gmb, image, instagram, linkedin, mastodon, pinterest, reddit,
    sketch, threads, tiktok, trusted, x, youtube,
};
use crate::helpers::{Tenant, TestApp, client, spawn_app_with};

/// One network's fake, as the contract drives it.
trait Network: Sized {
    async fn start() -> Self;
    fn server(&self) -> &MockServer;
    /// Server settings that send the network's hosts to the fake.
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![("SOCIALGATE_FETCH_TRUSTED_HOSTS", trusted(self.server()))]
    }
    /// Connects alice's account for the tenant; returns the channel id.
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String;
    /// Mounts uploads and posts (a reply gets an id of its own).
    async fn accept_posts(&self);
    /// Where posts are created.
    const PUBLISH_PATH: &'static str;
    /// What the platform answers to an access token it no longer takes.
    fn refused_token() -> ResponseTemplate;
    /// What it answers once the account is gone or revoked our access.
    fn revoked() -> ResponseTemplate;
    /// Whether a refused token is renewed (else the user must reconnect).
    const RENEWS_TOKENS: bool;
    /// The media of the first post: by default the picture the fake serves at `/files/cat.png`.
    async fn media(&self, _app: &TestApp, _tenant: &Tenant) -> Vec<MediaItem> {
        vec![image(
            &format!("{}/files/cat.png", self.server().uri()),
            Some("a cat"),
        )]
    }
    /// Whether a post may go out without media (else every post carries the same media).
    const TEXT_ONLY: bool = true;
    /// Whether the network takes a reply to a post (a comment).
    const REPLIES: bool = true;
    /// The post settings every post carries.
    fn settings() -> Value {
        json!({})
    }
}

/// An id for each post, a different one for a reply (its body names what it answers).
fn post_id(req: &Request, reply_marker: &str, root: &str, reply: &str) -> String {
    if String::from_utf8_lossy(&req.body).contains(reply_marker) {
        reply.to_owned()
    } else {
        root.to_owned()
    }
}

async fn run<N: Network>() {
    let network = N::start().await;
    let vars = network.vars();
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&refs).await;
    let tenant = app.tenant("ada@example.com").await;
    let id = network.connect(&app, &tenant).await;
    let channel = app.channel(&tenant.org, &id).await;
    Mock::given(method("GET"))
        .and(path("/files/cat.png"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(PNG),
        )
        .mount(network.server())
        .await;
    network.accept_posts().await;

    // Publish with media, then a reply in its thread.
    let media = network.media(&app, &tenant).await;
    let later = if N::TEXT_ONLY { vec![] } else { media.clone() };
    let post = |channel: socialgate::channels::Channel, text: &'static str| {
        let (app, later) = (&app, later.clone());
        async move {
            app.publish_with(&channel, text, later, N::settings(), None)
                .await
        }
    };
    let root: Published = app
        .publish_with(
            &channel,
            "Hello from the contract",
            media,
            N::settings(),
            None,
        )
        .await
        .expect("a post with media goes out");
    if N::REPLIES {
        let thread = Thread {
            root: root.clone(),
            parent: root.clone(),
        };
        let reply = app
            .publish(&channel, "And a reply", vec![], Some(&thread))
            .await
            .expect("a reply goes out");
        assert_ne!(reply.id, root.id, "the reply is a post of its own");
    }

    // A rate limit: retry later, when the platform says.
    once(
        &network,
        N::PUBLISH_PATH,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "120")
            .set_body_json(json!({ "error": "Too Many Requests" })),
    )
    .await;
    let limited = post(channel.clone(), "too soon").await;
    assert!(
        matches!(
            &limited,
            Err(ProviderError::RetryLater { after: Some(after), .. }) if *after == Duration::from_secs(120)
        ),
        "{limited:?}"
    );

    // A refused token: renewed where the network can, else the user must reconnect.
    once(&network, N::PUBLISH_PATH, N::refused_token()).await;
    let refused = post(channel.clone(), "with an old token").await;
    assert!(
        matches!(&refused, Err(ProviderError::RefreshNeeded(_))),
        "{refused:?}"
    );
    let renewed = channels::refresh_now(&app.state.ctx(), &app.state.keys, &channel).await;
    if N::RENEWS_TOKENS {
        renewed.expect("the token is renewed");
        let channel = app.channel(&tenant.org, &id).await;
        post(channel, "with a new token")
            .await
            .expect("the renewed token publishes");
    } else {
        assert!(renewed.is_err(), "nothing to renew: the user reconnects");
    }

    // A revoked account: the channel needs reconnecting.
    once(&network, N::PUBLISH_PATH, N::revoked()).await;
    let channel = app.channel(&tenant.org, &id).await;
    let revoked = post(channel, "after revocation").await;
    assert!(
        matches!(
            &revoked,
            Err(ProviderError::Disconnected(_) | ProviderError::RefreshNeeded(_))
        ),
        "{revoked:?}"
    );
}

/// The platform answers `answer` to the next post, then as before.
async fn once<N: Network>(network: &N, at: &str, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(answer)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(network.server())
        .await;
}

macro_rules! contract {
    ($($test:ident: $network:ty),* $(,)?) => {
        $(
            #[actix_web::test]
            async fn $test() {
                run::<$network>().await;
            }
        )*
    };
}

contract!(
    mastodon_keeps_the_network_contract: Mastodon,
    bluesky_keeps_the_network_contract: Bluesky,
    x_keeps_the_network_contract: X,
    facebook_keeps_the_network_contract: Facebook,
    threads_keeps_the_network_contract: Threads,
    instagram_keeps_the_network_contract: Instagram,
    instagram_standalone_keeps_the_network_contract: InstagramStandalone,
    linkedin_keeps_the_network_contract: LinkedIn,
    linkedin_page_keeps_the_network_contract: LinkedInPage,
    youtube_keeps_the_network_contract: YouTube,
    gmb_keeps_the_network_contract: Gmb,
    tiktok_keeps_the_network_contract: TikTok,
    pinterest_keeps_the_network_contract: Pinterest,
    reddit_keeps_the_network_contract: Reddit,
    dribbble_keeps_the_network_contract: Dribbble,
    a_network_built_from_the_kit_keeps_the_network_contract: Sketch,
);

/// ada's channel; every post is a video.
struct YouTube(MockServer);

impl Network for YouTube {
    async fn start() -> Self {
        YouTube(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![("SOCIALGATE_PROVIDER_HOSTS", youtube::hosts(&self.0))]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        youtube::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        let seen = youtube::Upload::default();
        for token in ["ya29.one", "ya29.two"] {
            youtube::mount_upload_at(&self.0, token, None, seen.clone()).await;
        }
    }
    async fn media(&self, app: &TestApp, tenant: &Tenant) -> Vec<MediaItem> {
        let (status, video) = app
            .upload(&tenant.key, "clip.mp4", youtube::mp4(300_000))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{video}");
        vec![youtube::video_item(&video["path"])]
    }
    const TEXT_ONLY: bool = false;
    const REPLIES: bool = false;
    fn settings() -> Value {
        json!({ "title": "From the contract" })
    }
    const PUBLISH_PATH: &'static str = "/upload/youtube/v3/videos";
    fn refused_token() -> ResponseTemplate {
        youtube::error(401, "global", "authError", "Invalid Credentials")
    }
    fn revoked() -> ResponseTemplate {
        youtube::error(401, "global", "authError", "Invalid Credentials")
    }
    const RENEWS_TOKENS: bool = true;
}

/// Bo's Bakery; no comments on local posts.
struct Gmb(MockServer);

impl Network for Gmb {
    async fn start() -> Self {
        Gmb(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOCIALGATE_PROVIDER_HOSTS", gmb::hosts(&self.0)),
            ("SOCIALGATE_FETCH_TRUSTED_HOSTS", trusted(&self.0)),
        ]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        gmb::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        gmb::mount_posts(&self.0).await;
    }
    const REPLIES: bool = false;
    const PUBLISH_PATH: &'static str = "/v4/accounts/111/locations/987/localPosts";
    fn refused_token() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(json!({ "error": {
            "code": 401, "status": "UNAUTHENTICATED",
            "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."
        }}))
    }
    fn revoked() -> ResponseTemplate {
        Self::refused_token()
    }
    const RENEWS_TOKENS: bool = true;
}

/// ada's profile, or with `PAGE` the Acme page she administers.
struct LinkedInOf<const PAGE: bool>(MockServer);
type LinkedIn = LinkedInOf<false>;
type LinkedInPage = LinkedInOf<true>;

impl<const PAGE: bool> Network for LinkedInOf<PAGE> {
    async fn start() -> Self {
        LinkedInOf(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOCIALGATE_PROVIDER_HOSTS", linkedin::hosts(&self.0)),
            ("SOCIALGATE_FETCH_TRUSTED_HOSTS", trusted(&self.0)),
        ]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        let network = if PAGE {
            linkedin::mount_organizations(&self.0).await;
            "linkedin-page"
        } else {
            "linkedin"
        };
        linkedin::connect(app, &tenant.key, &tenant.org, &self.0, network).await
    }
    async fn accept_posts(&self) {
        let author = if PAGE {
            "urn:li:organization:2414183"
        } else {
            "urn:li:person:ada-sub"
        };
        linkedin::mount_publishing(&self.0, author).await;
    }
    const PUBLISH_PATH: &'static str = "/rest/posts";
    fn refused_token() -> ResponseTemplate {
        linkedin::error(401, "", 65600, "Invalid access token")
    }
    fn revoked() -> ResponseTemplate {
        linkedin::error(
            401,
            "REVOKED_ACCESS_TOKEN",
            65601,
            "The token used in the request has been revoked by the user",
        )
    }
    const RENEWS_TOKENS: bool = false;
}

struct Mastodon(MockServer);

impl Network for Mastodon {
    async fn start() -> Self {
        Mastodon(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        mastodon::mount_oauth(&self.0, "write:statuses profile write:media").await;
        mastodon::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        let url = format!("{}/media/m1.png", self.0.uri());
        Mock::given(method("POST"))
            .and(path("/api/v2/media"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "id": "m1", "url": url })),
            )
            .mount(&self.0)
            .await;
        let base = self.0.uri();
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(move |req: &Request| {
                let id = post_id(req, "in_reply_to_id", "201", "202");
                ResponseTemplate::new(200)
                    .set_body_json(json!({ "id": id, "url": format!("{base}/@alice/{id}") }))
            })
            .mount(&self.0)
            .await;
    }
    const PUBLISH_PATH: &'static str = "/api/v1/statuses";
    fn refused_token() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(json!({ "error": "The access token is invalid" }))
    }
    fn revoked() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(json!({ "error": "The access token was revoked" }))
    }
    const RENEWS_TOKENS: bool = false;
}

struct Bluesky(MockServer);

impl Network for Bluesky {
    async fn start() -> Self {
        Bluesky(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        bluesky::mount_session(&self.0).await;
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.server.refreshSession"))
            .and(wiremock::matchers::header(
                "authorization",
                "Bearer refresh-1",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "did": "did:plc:alice", "handle": "alice.test",
                "accessJwt": bluesky::jwt("access-2"), "refreshJwt": "refresh-2"
            })))
            .mount(&self.0)
            .await;
        bluesky::connect(app, &tenant.key, &self.0).await
    }
    async fn accept_posts(&self) {
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.repo.uploadBlob"))
            .and(wiremock::matchers::header("content-type", "image/png"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "blob": { "$type": "blob", "ref": { "$link": "bafk" }, "mimeType": "image/png", "size": PNG.len() }
            })))
            .mount(&self.0)
            .await;
        Mock::given(method("POST"))
            .and(path("/xrpc/com.atproto.repo.createRecord"))
            .respond_with(|req: &Request| {
                let rkey = post_id(req, "\"reply\"", "r1", "r2");
                ResponseTemplate::new(200).set_body_json(json!({
                    "uri": format!("at://did:plc:alice/app.bsky.feed.post/{rkey}"), "cid": format!("cid-{rkey}")
                }))
            })
            .mount(&self.0)
            .await;
    }
    const PUBLISH_PATH: &'static str = "/xrpc/com.atproto.repo.createRecord";
    fn refused_token() -> ResponseTemplate {
        ResponseTemplate::new(400)
            .set_body_json(json!({ "error": "ExpiredToken", "message": "Token has expired" }))
    }
    fn revoked() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(
            json!({ "error": "AuthenticationRequired", "message": "Invalid identifier or password" }),
        )
    }
    const RENEWS_TOKENS: bool = true;
}

struct X(MockServer);

impl Network for X {
    async fn start() -> Self {
        X(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOCIALGATE_FETCH_TRUSTED_HOSTS", trusted(&self.0)),
            ("SOCIALGATE_PROVIDER_HOSTS", x::x_hosts(&self.0)),
        ]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        app.set_credentials(
            &tenant.org,
            "x",
            "x-consumer-key",
            "x-consumer-secret",
            None,
        )
        .await;
        x::mount_oauth(&self.0, &app.url("/integrations/social/x")).await;
        let url = app.connect_url(&tenant.key, "x").await;
        assert_eq!(
            url,
            format!(
                "{}/oauth/authenticate?oauth_token=request-token",
                self.0.uri()
            )
        );
        let r = client()
            .get(app.url(
                "/integrations/social/x?oauth_token=request-token&oauth_verifier=the-verifier",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        app.channel_id(&tenant.key, "x").await
    }
    async fn accept_posts(&self) {
        let signed = || x::signed(Some("42-access"), "access-secret");
        let media = json!({ "data": { "id": "media-1" } });
        for at in [
            "/2/media/upload/initialize",
            "/2/media/upload/media-1/finalize",
            "/2/media/metadata",
        ] {
            Mock::given(method("POST"))
                .and(path(at))
                .and(signed())
                .respond_with(ResponseTemplate::new(200).set_body_json(media.clone()))
                .mount(&self.0)
                .await;
        }
        Mock::given(method("POST"))
            .and(path("/2/media/upload/media-1/append"))
            .and(signed())
            .respond_with(ResponseTemplate::new(204))
            .mount(&self.0)
            .await;
        Mock::given(method("POST"))
            .and(path("/2/tweets"))
            .and(signed())
            .respond_with(|req: &Request| {
                let id = post_id(req, "in_reply_to_tweet_id", "1001", "1002");
                ResponseTemplate::new(201)
                    .set_body_json(json!({ "data": { "id": id, "text": "" } }))
            })
            .mount(&self.0)
            .await;
    }
    const PUBLISH_PATH: &'static str = "/2/tweets";
    fn refused_token() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
        }))
    }
    fn revoked() -> ResponseTemplate {
        Self::refused_token()
    }
    const RENEWS_TOKENS: bool = false;
}

struct Sketch(MockServer);

impl Network for Sketch {
    async fn start() -> Self {
        Sketch(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOCIALGATE_FETCH_TRUSTED_HOSTS", trusted(&self.0)),
            ("SOCIALGATE_PROVIDER_HOSTS", sketch::hosts(&self.0)),
        ]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        sketch::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        sketch::mount_publishing(&self.0).await;
    }
    const PUBLISH_PATH: &'static str = "/v1/containers";
    fn refused_token() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(json!({ "error": "invalid_token" }))
    }
    fn revoked() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(json!({ "error": "account_deleted" }))
    }
    const RENEWS_TOKENS: bool = true;
}

struct Facebook(MockServer);

impl Network for Facebook {
    async fn start() -> Self {
        Facebook(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOCIALGATE_FETCH_TRUSTED_HOSTS", trusted(&self.0)),
            ("SOCIALGATE_PROVIDER_HOSTS", facebook::hosts(&self.0)),
        ]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        facebook::mount_login(
            &self.0,
            "/postiz/integrations/social/facebook",
            vec![facebook::page("p-1", "Ada's Bakery", "page-token-1")],
        )
        .await;
        facebook::connect(app, &tenant.key, &tenant.org, &self.0, "facebook", "p-1").await
    }
    async fn accept_posts(&self) {
        facebook::mount_page(&self.0).await;
    }
    const PUBLISH_PATH: &'static str = "/v27.0/p-1/feed";
    fn refused_token() -> ResponseTemplate {
        facebook::error(
            190,
            Some(463),
            "Error validating access token: Session has expired",
        )
    }
    fn revoked() -> ResponseTemplate {
        facebook::error(
            190,
            Some(460),
            "Error validating access token: The session has been invalidated because the user changed their password",
        )
    }
    const RENEWS_TOKENS: bool = false;
}

struct Threads(MockServer);

impl Network for Threads {
    async fn start() -> Self {
        Threads(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![("SOCIALGATE_PROVIDER_HOSTS", threads::hosts(&self.0))]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        threads::mount_login(&self.0).await;
        threads::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        threads::mount_publishing(&self.0, 4).await;
    }
    const PUBLISH_PATH: &'static str = "/v1.0/th-42/threads";
    fn refused_token() -> ResponseTemplate {
        facebook::error(
            190,
            Some(463),
            "Error validating access token: Session has expired",
        )
    }
    fn revoked() -> ResponseTemplate {
        facebook::error(
            190,
            Some(458),
            "Error validating access token: The user has not authorized application",
        )
    }
    const RENEWS_TOKENS: bool = true;
}

struct Instagram(MockServer);

impl Network for Instagram {
    async fn start() -> Self {
        Instagram(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![("SOCIALGATE_PROVIDER_HOSTS", facebook::hosts(&self.0))]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        facebook::mount_login(
            &self.0,
            "/postiz/integrations/social/instagram",
            vec![instagram::linked_page()],
        )
        .await;
        facebook::connect(app, &tenant.key, &tenant.org, &self.0, "instagram", "ig-1").await
    }
    async fn accept_posts(&self) {
        instagram::mount_publishing(&self.0, "ig-1", "page-token-1", 3).await;
    }
    const PUBLISH_PATH: &'static str = "/v27.0/ig-1/media";
    fn refused_token() -> ResponseTemplate {
        facebook::error(
            190,
            Some(463),
            "Error validating access token: Session has expired",
        )
    }
    fn revoked() -> ResponseTemplate {
        facebook::error(
            190,
            Some(460),
            "Error validating access token: the user changed their password",
        )
    }
    const RENEWS_TOKENS: bool = false;
}

struct InstagramStandalone(MockServer);

impl Network for InstagramStandalone {
    async fn start() -> Self {
        InstagramStandalone(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![(
            "SOCIALGATE_PROVIDER_HOSTS",
            instagram::standalone_hosts(&self.0),
        )]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        instagram::mount_standalone_login(&self.0).await;
        instagram::connect_standalone(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        instagram::mount_publishing(&self.0, "1789", "ig-long-", 3).await;
    }
    const PUBLISH_PATH: &'static str = "/v27.0/1789/media";
    fn refused_token() -> ResponseTemplate {
        facebook::error(
            190,
            Some(463),
            "Error validating access token: Session has expired",
        )
    }
    fn revoked() -> ResponseTemplate {
        facebook::error(
            190,
            Some(458),
            "Error validating access token: the app was removed",
        )
    }
    const RENEWS_TOKENS: bool = true;
}

/// ada's creator account; every post is a short video, private.
struct TikTok(MockServer);

impl Network for TikTok {
    async fn start() -> Self {
        TikTok(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![("SOCIALGATE_PROVIDER_HOSTS", tiktok::hosts(&self.0))]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        tiktok::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        tiktok::mount_publishing(&self.0).await;
    }
    async fn media(&self, app: &TestApp, tenant: &Tenant) -> Vec<MediaItem> {
        let (status, video) = app
            .upload(&tenant.key, "clip.mp4", tiktok::mp4_lasting(400_000, 12))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{video}");
        vec![youtube::video_item(&video["path"])]
    }
    const TEXT_ONLY: bool = false;
    const REPLIES: bool = false;
    fn settings() -> Value {
        json!({ "privacy_level": "SELF_ONLY", "content_posting_method": "DIRECT_POST" })
    }
    const PUBLISH_PATH: &'static str = "/v2/post/publish/video/init/";
    fn refused_token() -> ResponseTemplate {
        tiktok::error(
            401,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )
    }
    fn revoked() -> ResponseTemplate {
        tiktok::error(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )
    }
    const RENEWS_TOKENS: bool = true;
}

/// ada's boards; a pin with a picture on Breads.
struct Pinterest(MockServer);

impl Network for Pinterest {
    async fn start() -> Self {
        Pinterest(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SOCIALGATE_PROVIDER_HOSTS", pinterest::hosts(&self.0)),
            ("SOCIALGATE_FETCH_TRUSTED_HOSTS", trusted(&self.0)),
        ]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        pinterest::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        pinterest::mount_publishing(&self.0).await;
    }
    const TEXT_ONLY: bool = false;
    const REPLIES: bool = false;
    fn settings() -> Value {
        json!({ "board": "549755885175", "title": "Fresh bread" })
    }
    const PUBLISH_PATH: &'static str = "/v5/pins";
    fn refused_token() -> ResponseTemplate {
        pinterest::error(401, 2, "Authentication failed.")
    }
    fn revoked() -> ResponseTemplate {
        pinterest::error(401, 2, "Authentication failed.")
    }
    const RENEWS_TOKENS: bool = true;
}

/// ada_writes; a text post to r/selfhosted and a comment under it.
struct Reddit(MockServer);

impl Network for Reddit {
    async fn start() -> Self {
        Reddit(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![("SOCIALGATE_PROVIDER_HOSTS", reddit::hosts(&self.0))]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        reddit::connect(app, &tenant.key, &tenant.org, &self.0)
            .await
            .0
    }
    async fn accept_posts(&self) {}
    async fn media(&self, _app: &TestApp, _tenant: &Tenant) -> Vec<MediaItem> {
        Vec::new()
    }
    fn settings() -> Value {
        json!({ "subreddit": [{ "value": {
            "subreddit": "/r/selfhosted/", "title": "Hello from the contract", "type": "self",
            "is_flair_required": false
        }}]})
    }
    const PUBLISH_PATH: &'static str = "/api/submit";
    fn refused_token() -> ResponseTemplate {
        ResponseTemplate::new(401)
            .insert_header(
                "www-authenticate",
                "Bearer realm=\"reddit\", error=\"invalid_token\"",
            )
            .set_body_json(json!({ "message": "Unauthorized", "error": 401 }))
    }
    fn revoked() -> ResponseTemplate {
        Self::refused_token()
    }
    const RENEWS_TOKENS: bool = true;
}

/// ada's shots: a 400×300 picture each time.
struct Dribbble(MockServer);

impl Network for Dribbble {
    async fn start() -> Self {
        Dribbble(MockServer::start().await)
    }
    fn server(&self) -> &MockServer {
        &self.0
    }
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![("SOCIALGATE_PROVIDER_HOSTS", dribbble::hosts(&self.0))]
    }
    async fn connect(&self, app: &TestApp, tenant: &Tenant) -> String {
        dribbble::connect(app, &tenant.key, &tenant.org, &self.0).await
    }
    async fn accept_posts(&self) {
        dribbble::mount_shots(&self.0).await;
    }
    async fn media(&self, app: &TestApp, tenant: &Tenant) -> Vec<MediaItem> {
        let (status, shot) = app
            .upload(&tenant.key, "shot.png", dribbble::png(400, 300))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{shot}");
        vec![image(shot["path"].as_str().unwrap(), None)]
    }
    const TEXT_ONLY: bool = false;
    const REPLIES: bool = false;
    fn settings() -> Value {
        json!({ "title": "A shot" })
    }
    const PUBLISH_PATH: &'static str = "/v2/shots";
    fn refused_token() -> ResponseTemplate {
        ResponseTemplate::new(401).set_body_json(json!({ "message": "Bad credentials." }))
    }
    fn revoked() -> ResponseTemplate {
        Self::refused_token()
    }
    const RENEWS_TOKENS: bool = false;
}
