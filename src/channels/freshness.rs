//! Tokens kept fresh: a channel's credentials refreshed before use when they are about to
//! expire, refreshed on demand after a network refused them, and "refresh needed" (the user
//! reconnects) when the network will not renew them.

use chrono::Duration;

use super::channel::{Channel, auth, mark_refresh_needed, save_tokens};
use crate::crypto::Keys;
use crate::db::now;
use crate::error::AppError;
use crate::providers::{
    self, ChannelAuth, Ctx, On, Provider, ProviderError, RefreshPolicy, Tokens,
};

/// A channel's credentials ready for a call: refreshed first when the token expires within
/// five minutes. A refresh that fails marks the channel "refresh needed".
pub async fn fresh_auth(
    ctx: &Ctx<'_>,
    keys: &Keys,
    channel: &Channel,
) -> Result<ChannelAuth, FreshAuthError> {
    let mut auth = opened(ctx, keys, channel).await?;
    let Some(provider) = channel.provider() else {
        return Ok(auth);
    };
    let expiring = channel
        .token_expires_at
        .is_some_and(|at| at <= now() + Duration::minutes(5));
    if !expiring || provider.info().refresh == RefreshPolicy::Never {
        return Ok(auth);
    }
    let tokens = refresh_with(ctx, keys, channel, provider, &auth).await?;
    auth.access_token = tokens.access_token;
    auth.refresh_token = tokens.refresh_token.or(auth.refresh_token);
    Ok(auth)
}

/// Refreshes a channel's tokens now (ahead of expiry, or after the network refused them).
pub async fn refresh_now(
    ctx: &Ctx<'_>,
    keys: &Keys,
    channel: &Channel,
) -> Result<(), FreshAuthError> {
    let current = opened(ctx, keys, channel).await?;
    let provider = channel
        .provider()
        .ok_or_else(|| ProviderError::NotSupported("unknown network".into()))?;
    refresh_with(ctx, keys, channel, provider, &current)
        .await
        .map(drop)
}

/// The channel's tokens opened, with the app it was connected with.
async fn opened(ctx: &Ctx<'_>, keys: &Keys, channel: &Channel) -> Result<ChannelAuth, AppError> {
    let (keys, config, row) = (keys.clone(), ctx.config.clone(), channel.clone());
    ctx.db
        .run(move |conn| auth(conn, &keys, &config, &row))
        .await
}

/// Asks the network for new tokens and stores them; a refusal (not a transient failure) marks
/// the channel "refresh needed".
async fn refresh_with(
    ctx: &Ctx<'_>,
    keys: &Keys,
    channel: &Channel,
    provider: &dyn Provider,
    current: &ChannelAuth,
) -> Result<Tokens, FreshAuthError> {
    match providers::oauth2::refresh(provider, &On { ctx, auth: current }).await {
        Ok(tokens) => {
            let (keys, id, saved) = (keys.clone(), channel.id.clone(), tokens.clone());
            ctx.db
                .run(move |conn| save_tokens(conn, &keys, &id, &saved))
                .await?;
            Ok(tokens)
        }
        Err(e) if e.is_transient() => Err(FreshAuthError::Provider(e)),
        Err(e) => {
            let id = channel.id.clone();
            ctx.db
                .run(move |conn| mark_refresh_needed(conn, &id))
                .await?;
            Err(ProviderError::RefreshNeeded(e.to_string()).into())
        }
    }
}

/// Why a channel's credentials could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum FreshAuthError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl From<FreshAuthError> for AppError {
    fn from(e: FreshAuthError) -> Self {
        match e {
            FreshAuthError::App(e) => e,
            FreshAuthError::Provider(e) => e.into(),
        }
    }
}
