//! Instagram through Instagram Login (its own Consumer app, no Facebook Page): a 60-day token
//! renewed before it ends; publishing as `instagram` does, on Instagram's own Graph host.

use serde_json::Value;

use super::instagram::{INFO, Instagram, Login};
use super::meta::{self, SelfRenewing};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    ConnectedAccount, Connecting, EnvCredentials, ProviderInfo, RefreshPolicy, Result, display_name,
};

const INSTAGRAM_GRAPH: &str = "https://graph.instagram.com";

static STANDALONE_INFO: ProviderInfo = ProviderInfo {
    identifier: "instagram-standalone",
    name: "Instagram (Standalone)",
    oauth2: Some(&INSTAGRAM_LOGIN),
    scopes: &[
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_comments",
        "instagram_business_manage_insights",
    ],
    between_steps: false,
    refresh: RefreshPolicy::BeforeExpiry,
    env: Some(EnvCredentials {
        client_id: "INSTAGRAM_APP_ID",
        client_secret: "INSTAGRAM_APP_SECRET",
        instance_url: None,
    }),
    api_base: INSTAGRAM_GRAPH,
    summary: "Instagram Login with a separate Instagram app, a 60-day token renewed before it ends",
    no_pages: "",
    ..INFO
};

static TOKENS: SelfRenewing = SelfRenewing {
    host: INSTAGRAM_GRAPH,
    exchange: "ig_exchange_token",
    refresh: "ig_refresh_token",
};

static INSTAGRAM_LOGIN: Endpoints = meta::login(
    "https://www.instagram.com/oauth/authorize",
    "https://api.instagram.com/oauth/access_token",
);

/// Instagram through Instagram Login.
pub static STANDALONE: Instagram = Instagram {
    info: &STANDALONE_INFO,
    host: INSTAGRAM_GRAPH,
    login: Login::Instagram(&TOKENS),
};

/// The account behind a fresh Instagram Login grant, with its 60-day token.
pub(super) async fn account(
    instagram: &Instagram,
    tokens: &SelfRenewing,
    c: &Connecting<'_>,
    grant: TokenGrant,
) -> Result<ConnectedAccount> {
    let long = tokens.exchange(instagram, c, &grant.access_token).await?;
    let fields = "user_id,username,name,profile_picture_url,account_type";
    let me: Value = instagram
        .graph(c.ctx, &long.access_token)
        .me(fields)
        .await?;
    let id = match &me["user_id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => me["id"].as_str().unwrap_or_default().to_owned(),
    };
    let username = me["username"].as_str().map(str::to_owned);
    Ok(ConnectedAccount {
        internal_id: id,
        name: display_name(me["name"].as_str(), username.as_deref(), "Instagram"),
        picture: me["profile_picture_url"].as_str().map(str::to_owned),
        username,
        // The long-lived token itself is renewed: there is no refresh token.
        tokens: long,
        ..ConnectedAccount::default()
    })
}
