//! Instagram through Instagram Login (its own Consumer app, no Facebook Page): a 60-day token
//! renewed before it ends; publishing as `instagram` does, on Instagram's own Graph host.

use async_trait::async_trait;
use serde_json::Value;

use super::instagram::{CONTAINERS, INFO, account_insights, check_chain, publish_on};
use super::meta::{self, Graph, SelfRenewing};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    AnalyticsSeries, AppCredentials, ChannelAuth, ConnectedAccount, Ctx, EnvCredentials,
    PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo, RefreshPolicy, Thread, Tokens,
};

pub struct InstagramStandalone;

const INSTAGRAM_GRAPH: &str = "https://graph.instagram.com";

static STANDALONE_INFO: ProviderInfo = ProviderInfo {
    identifier: "instagram-standalone",
    name: "Instagram (Standalone)",
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

static INSTAGRAM_LOGIN: Endpoints = Endpoints {
    authorize: "https://www.instagram.com/oauth/authorize",
    token: "https://api.instagram.com/oauth/access_token",
    scope_separator: ",",
    ..Endpoints::DEFAULT
};

fn instagram_graph<'a>(ctx: &'a Ctx<'a>, token: &'a str) -> Graph<'a> {
    Graph::new(
        &InstagramStandalone,
        ctx,
        INSTAGRAM_GRAPH,
        meta::graph_version(ctx.config),
        token,
    )
}

#[async_trait]
impl Provider for InstagramStandalone {
    fn info(&self) -> &'static ProviderInfo {
        &STANDALONE_INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> Result<(), String> {
        check_chain(&STANDALONE_INFO, chain)
    }

    fn oauth2(&self) -> Option<&'static Endpoints> {
        Some(&INSTAGRAM_LOGIN)
    }

    async fn account(
        &self,
        ctx: &Ctx<'_>,
        app: &AppCredentials,
        grant: TokenGrant,
    ) -> Result<ConnectedAccount, ProviderError> {
        let long = TOKENS.exchange(self, ctx, app, &grant.access_token).await?;
        let me: Value = instagram_graph(ctx, &long.access_token)
            .get("/me")
            .query(&[(
                "fields",
                "user_id,username,name,profile_picture_url,account_type",
            )])
            .read()
            .await?;
        let id = match &me["user_id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => me["id"].as_str().unwrap_or_default().to_owned(),
        };
        let username = me["username"].as_str().map(str::to_owned);
        Ok(ConnectedAccount {
            internal_id: id,
            name: me["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .or_else(|| username.clone())
                .unwrap_or_else(|| "Instagram".into()),
            picture: me["profile_picture_url"].as_str().map(str::to_owned),
            username,
            // The long-lived token itself is renewed: there is no refresh token.
            tokens: long,
            instance_url: None,
            additional_settings: Vec::new(),
        })
    }

    async fn refresh(&self, ctx: &Ctx<'_>, auth: &ChannelAuth) -> Result<Tokens, ProviderError> {
        TOKENS.renew(self, ctx, &auth.access_token).await
    }

    async fn publish(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        post: &PostDetails,
        reply_to: Option<&Thread>,
    ) -> Result<PostOutcome, ProviderError> {
        let graph = instagram_graph(ctx, &auth.access_token);
        publish_on(
            ctx,
            &STANDALONE_INFO,
            &graph,
            &auth.internal_id,
            post,
            reply_to,
        )
        .await
    }

    async fn check_status(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        pending: &Value,
    ) -> Result<PostOutcome, ProviderError> {
        meta::advance(
            &instagram_graph(ctx, &auth.access_token),
            &CONTAINERS,
            pending,
        )
        .await
    }

    async fn analytics(
        &self,
        ctx: &Ctx<'_>,
        auth: &ChannelAuth,
        days: u32,
    ) -> Result<Vec<AnalyticsSeries>, ProviderError> {
        account_insights(
            &instagram_graph(ctx, &auth.access_token),
            &auth.internal_id,
            days,
        )
        .await
    }

    fn classify(&self, _status: u16, body: &str) -> Option<ProviderError> {
        meta::classify(STANDALONE_INFO.name, body)
    }
}
