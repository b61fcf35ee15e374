//! What Google's networks share: Google's OAuth 2 (offline access with consent, so a refresh
//! token comes every time), its error body (`{"error":{"code","message","errors":[{"domain",
//! "reason"}]}}`) read into the kinds the worker acts on, and the daily quota that resets at
//! midnight Pacific time.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Utc, Weekday};
use serde::Deserialize;

use super::api::{Api, Auth};
use super::oauth2::{Endpoints, TokenGrant};
use super::text::html_to_plain;
use super::{ConnectedAccount, Connecting, Provider, ProviderError, display_name};

/// Google's OAuth 2 endpoints: a refresh token every time (`access_type=offline` with
/// `prompt=consent`), earlier grants kept.
pub const fn login() -> Endpoints {
    Endpoints {
        authorize: "https://accounts.google.com/o/oauth2/v2/auth",
        token: "https://oauth2.googleapis.com/token",
        authorize_params: &[
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("include_granted_scopes", "true"),
        ],
        ..Endpoints::DEFAULT
    }
}

/// The Google account behind fresh tokens (OpenID Connect `userinfo`), as the channel that
/// waits while its user picks what to publish to (a location, one of several YouTube channels).
pub async fn account(
    provider: &dyn Provider,
    c: &Connecting<'_>,
    grant: TokenGrant,
) -> super::Result<ConnectedAccount> {
    let me: serde_json::Value = Api::new(
        provider,
        c.ctx,
        "https://openidconnect.googleapis.com",
        Auth::Bearer(&grant.access_token),
    )
    .get("/v1/userinfo")
    .read()
    .await?;
    let id = me["sub"]
        .as_str()
        .ok_or_else(|| ProviderError::BadBody("Google sent no account id".into()))?;
    Ok(ConnectedAccount {
        internal_id: id.to_owned(),
        name: display_name(me["name"].as_str(), me["email"].as_str(), "Google account"),
        picture: me["picture"].as_str().map(str::to_owned),
        tokens: grant.into(),
        ..ConnectedAccount::default()
    })
}

/// What the user is told when Google sends them back with access denied.
pub const DENIED: &str = "If Google said “Access blocked: … has not completed the Google verification process”, the Google Cloud app is in Testing mode: add this Google account's email under APIs & Services → OAuth consent screen → Test users (or publish the app), then connect again.";

#[derive(Deserialize)]
struct Body {
    error: Failure,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Failure {
    message: String,
    errors: Vec<Detail>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Detail {
    reason: String,
}

/// Google's error body as an error kind; `None` leaves it to the generic rules.
pub fn classify(name: &str, status: u16, body: &str) -> Option<ProviderError> {
    let failure = serde_json::from_str::<Body>(body).ok()?.error;
    let reason = failure
        .errors
        .first()
        .map(|d| d.reason.as_str())
        .unwrap_or_default();
    // Google's messages may hold HTML links.
    let message = super::error::truncate(&html_to_plain(&failure.message), 300);
    Some(match reason {
        "quotaExceeded" => ProviderError::RetryLater {
            message: format!(
                "{name}'s daily API quota is used up; publishing resumes after it resets at midnight Pacific time ({message})"
            ),
            after: Some(until_quota_reset(Utc::now().naive_utc())),
        },
        "uploadLimitExceeded" => ProviderError::RetryLater {
            message: format!(
                "this {name} channel reached its daily upload limit; trying again in a day ({message})"
            ),
            after: Some(Duration::from_secs(24 * 3600)),
        },
        "rateLimitExceeded" | "userRateLimitExceeded" => ProviderError::retry(message),
        "insufficientPermissions" => ProviderError::Disconnected(format!(
            "{name} access was granted without every permission socialgate asks for: reconnect and keep every box ticked ({message})"
        )),
        "youtubeSignupRequired" => ProviderError::BadBody(
            "this Google account has no YouTube channel: create one on youtube.com, then connect again".into(),
        ),
        _ if status == 401 => ProviderError::RefreshNeeded(message),
        _ => return None,
    })
}

/// The `n`th `weekday` of a month (1-based).
fn nth(year: i32, month: u32, weekday: Weekday, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let shift = (7 + weekday.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    first + chrono::Duration::days(i64::from(shift + 7 * (n - 1)))
}

/// Pacific time's offset from UTC at a UTC moment: -7 hours in daylight saving time (second
/// Sunday of March, 10:00 UTC, to the first Sunday of November, 09:00 UTC), else -8.
fn pacific_offset(utc: NaiveDateTime) -> i64 {
    let year = utc.year();
    let starts = nth(year, 3, Weekday::Sun, 2)
        .and_hms_opt(10, 0, 0)
        .unwrap_or_default();
    let ends = nth(year, 11, Weekday::Sun, 1)
        .and_hms_opt(9, 0, 0)
        .unwrap_or_default();
    if utc >= starts && utc < ends { -7 } else { -8 }
}

/// How long until the next midnight in Pacific time, when Google's daily quotas reset (a
/// minute later, to be safe).
pub fn until_quota_reset(utc: NaiveDateTime) -> Duration {
    let local = utc + chrono::Duration::hours(pacific_offset(utc));
    let seconds_today = i64::from(local.num_seconds_from_midnight());
    Duration::from_secs((24 * 3600 - seconds_today + 60) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn quotas_reset_at_midnight_pacific_in_summer_and_winter() {
        // 2026-11-30 10:00 UTC is 02:00 PST: 22 hours to go.
        assert_eq!(
            until_quota_reset(at("2026-11-30 10:00:00")),
            Duration::from_secs(22 * 3600 + 60)
        );
        // 2026-07-01 06:30 UTC is 23:30 PDT the day before: half an hour.
        assert_eq!(
            until_quota_reset(at("2026-07-01 06:30:00")),
            Duration::from_secs(1800 + 60)
        );
        // Daylight saving time began on 2026-03-08 at 10:00 UTC.
        assert_eq!(pacific_offset(at("2026-03-08 09:59:59")), -8);
        assert_eq!(pacific_offset(at("2026-03-08 10:00:00")), -7);
        assert_eq!(pacific_offset(at("2026-11-01 08:59:59")), -7);
        assert_eq!(pacific_offset(at("2026-11-01 09:00:00")), -8);
    }

    #[test]
    fn a_used_up_quota_waits_and_a_missing_permission_asks_to_reconnect() {
        let quota = r#"{"error":{"code":403,"message":"The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.","errors":[{"message":"x","domain":"youtube.quota","reason":"quotaExceeded"}]}}"#;
        match classify("YouTube", 403, quota) {
            Some(ProviderError::RetryLater {
                message,
                after: Some(_),
            }) => {
                assert!(message.contains("midnight Pacific"), "{message}");
                assert!(message.contains("exceeded your quota."), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let scopes = r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED"}}"#;
        assert!(matches!(
            classify("YouTube", 403, scopes),
            Some(ProviderError::Disconnected(_))
        ));
        assert_eq!(classify("YouTube", 400, "not json"), None);
    }
}
