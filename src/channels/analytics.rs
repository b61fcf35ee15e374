//! Channel and post analytics as the networks report them, kept an hour in `analytics_cache`
//! so dashboards and agents asking again do not spend the platforms' rate limits.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{Channel, fresh_auth};
use crate::crypto::Keys;
use crate::db::schema::analytics_cache;
use crate::db::{Db, DbConn, now};
use crate::error::AppError;
use crate::providers::{Ctx, On};
use crate::publishing::posts::Post;

fn cached(conn: &mut DbConn, key: &str) -> Result<Option<Value>, AppError> {
    let body: Option<String> = analytics_cache::table
        .filter(analytics_cache::key.eq(key))
        .filter(analytics_cache::expires_at.gt(now()))
        .select(analytics_cache::body)
        .first(conn)
        .optional()?;
    Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
}

fn remember(conn: &mut DbConn, key: &str, body: &Value) -> Result<(), AppError> {
    diesel::delete(
        analytics_cache::table.filter(
            analytics_cache::key
                .eq(key)
                .or(analytics_cache::expires_at.le(now())),
        ),
    )
    .execute(conn)?;
    diesel::insert_into(analytics_cache::table)
        .values((
            analytics_cache::key.eq(key),
            analytics_cache::body.eq(body.to_string()),
            analytics_cache::expires_at.eq(now() + Duration::hours(1)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Answers from the cache, or computes, stores and answers.
async fn through_cache<F, Fut>(db: &Db, key: String, compute: F) -> Result<Value, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Value, AppError>>,
{
    let k = key.clone();
    if let Some(hit) = db.run(move |conn| cached(conn, &k)).await? {
        return Ok(hit);
    }
    let body = compute().await?;
    let stored = body.clone();
    db.run(move |conn| remember(conn, &key, &stored)).await?;
    Ok(body)
}

/// A channel's series over the last `days` (`[]` for a network without analytics).
pub async fn of_channel(
    ctx: &Ctx<'_>,
    keys: &Keys,
    channel: &Channel,
    days: u32,
) -> Result<Value, AppError> {
    let key = format!("channel:{}:{days}", channel.id);
    through_cache(ctx.db, key, || async {
        let Some(provider) = channel.provider() else {
            return Ok(json!([]));
        };
        let auth = fresh_auth(ctx, keys, channel).await?;
        let series = provider.analytics(&On { ctx, auth: &auth }, days).await?;
        Ok(serde_json::to_value(series).unwrap_or_else(|_| json!([])))
    })
    .await
}

/// A published post's series (`[]` before it is published, `{"missing":true}` when its id on
/// the network was never confirmed).
pub async fn of_post(
    ctx: &Ctx<'_>,
    keys: &Keys,
    channel: &Channel,
    post: &Post,
    days: u32,
) -> Result<Value, AppError> {
    let Some(release) = post.release_id.clone() else {
        return Ok(json!([]));
    };
    if release == "missing" {
        return Ok(json!({ "missing": true }));
    }
    let key = format!("post:{}:{days}", post.id);
    through_cache(ctx.db, key, || async {
        let Some(provider) = channel.provider() else {
            return Ok(json!([]));
        };
        let auth = fresh_auth(ctx, keys, channel).await?;
        let on = On { ctx, auth: &auth };
        let series = provider.post_analytics(&on, &release, days).await?;
        Ok(serde_json::to_value(series).unwrap_or_else(|_| json!([])))
    })
    .await
}
