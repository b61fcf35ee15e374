//! Google Business Profile (`gmb`): Google's OAuth 2 with `business.manage`, then the location
//! to post as, picked among every account's locations; local posts (`STANDARD`, `EVENT`,
//! `OFFER`) with a call to action and a picture or video Google fetches from our public URL;
//! Google's limit of 10 edits a minute per profile kept by pacing; and the daily metrics of
//! Business Profile Performance.

use async_trait::async_trait;
use chrono::{NaiveDate, NaiveTime};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth};
use super::oauth2::{Endpoints, TokenGrant};
use super::{
    Analytics, AnalyticsPoint, AnalyticsSeries, ConnectedAccount, Connecting, EnvCredentials,
    MediaRules, On, Pacing, Page, PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo,
    Published, RefreshPolicy, Result, SettingsSpec, google, medium, settings,
};

pub struct Gmb;

/// What a local post is.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, Default, PartialEq)]
#[serde(rename_all = "UPPERCASE")]
enum Topic {
    #[default]
    Standard,
    Event,
    Offer,
}

/// The button under a post (`NONE`: no button).
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, Default, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Action {
    #[default]
    None,
    Book,
    Order,
    Shop,
    LearnMore,
    SignUp,
    GetOffer,
    Call,
}

/// Google Business Profile's post settings (Postiz's `GmbSettingsDto`).
#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", default)]
struct GmbSettings {
    /// A plain update, an event or an offer
    topic_type: Topic,
    /// The button under the post
    call_to_action_type: Action,
    /// Where the button leads (not for CALL, which dials the profile's number)
    #[serde(deserialize_with = "super::settings::http_url")]
    #[schemars(url)]
    call_to_action_url: Option<String>,
    /// The event's or offer's title
    event_title: Option<String>,
    /// YYYY-MM-DD
    event_start_date: Option<String>,
    /// YYYY-MM-DD
    event_end_date: Option<String>,
    /// HH:MM (optional)
    event_start_time: Option<String>,
    /// HH:MM (optional)
    event_end_time: Option<String>,
    offer_coupon_code: Option<String>,
    #[serde(deserialize_with = "super::settings::http_url")]
    #[schemars(url)]
    offer_redeem_url: Option<String>,
    /// The offer's terms and conditions
    offer_terms: Option<String>,
}

fn filled(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn date(value: &Option<String>, name: &str) -> std::result::Result<NaiveDate, String> {
    let text = filled(value).ok_or(format!("{name} is required for an event or an offer"))?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{name} must be YYYY-MM-DD"))
}

fn time(value: &Option<String>, name: &str) -> std::result::Result<Option<NaiveTime>, String> {
    filled(value)
        .map(|t| NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| format!("{name} must be HH:MM")))
        .transpose()
}

impl GmbSettings {
    /// The local post's fields beyond its summary and media, or what is missing.
    fn fields(&self) -> std::result::Result<Value, String> {
        let mut post = json!({});
        if self.topic_type != Topic::Standard {
            let title = filled(&self.event_title)
                .ok_or("eventTitle is required for an event or an offer")?;
            let (start, end) = (
                date(&self.event_start_date, "eventStartDate")?,
                date(&self.event_end_date, "eventEndDate")?,
            );
            let (start_time, end_time) = (
                time(&self.event_start_time, "eventStartTime")?,
                time(&self.event_end_time, "eventEndTime")?,
            );
            if (end, end_time) < (start, start_time) {
                return Err("the event ends before it starts".into());
            }
            let day = |d: NaiveDate| {
                use chrono::Datelike;
                json!({ "year": d.year(), "month": d.month(), "day": d.day() })
            };
            let clock = |t: NaiveTime| {
                use chrono::Timelike;
                json!({ "hours": t.hour(), "minutes": t.minute() })
            };
            let mut schedule = json!({ "startDate": day(start), "endDate": day(end) });
            if let Some(t) = start_time {
                schedule["startTime"] = clock(t);
            }
            if let Some(t) = end_time {
                schedule["endTime"] = clock(t);
            }
            post["event"] = json!({ "title": title, "schedule": schedule });
        }
        if self.topic_type == Topic::Offer {
            let terms = filled(&self.offer_terms).ok_or("offerTerms is required for an offer")?;
            let mut offer = json!({ "termsConditions": terms });
            if let Some(code) = filled(&self.offer_coupon_code) {
                offer["couponCode"] = json!(code);
            }
            if let Some(url) = &self.offer_redeem_url {
                offer["redeemOnlineUrl"] = json!(url);
            }
            post["offer"] = offer;
            // Google ignores a call to action on an offer.
            return Ok(post);
        }
        let action = serde_json::to_value(ActionName(self.call_to_action_type))
            .map_err(|e| e.to_string())?;
        match (self.call_to_action_type, &self.call_to_action_url) {
            (Action::None, _) => {}
            (Action::Call, _) => post["callToAction"] = json!({ "actionType": action }),
            (_, Some(url)) => post["callToAction"] = json!({ "actionType": action, "url": url }),
            (_, None) => return Err("callToActionUrl is required for this button".into()),
        }
        Ok(post)
    }
}

/// An action's name on the wire.
struct ActionName(Action);

impl serde::Serialize for ActionName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(match self.0 {
            Action::None => "ACTION_TYPE_UNSPECIFIED",
            Action::Book => "BOOK",
            Action::Order => "ORDER",
            Action::Shop => "SHOP",
            Action::LearnMore => "LEARN_MORE",
            Action::SignUp => "SIGN_UP",
            Action::GetOffer => "GET_OFFER",
            Action::Call => "CALL",
        })
    }
}

static INFO: ProviderInfo = ProviderInfo {
    identifier: "gmb",
    name: "Google My Business",
    oauth2: Some(&ENDPOINTS),
    scopes: &[
        "https://www.googleapis.com/auth/userinfo.profile",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/business.manage",
    ],
    max_length: 1500,
    max_concurrent_jobs: 3,
    between_steps: true,
    refresh: RefreshPolicy::BeforeExpiry,
    needs_app_credentials: true,
    env: Some(EnvCredentials {
        client_id: "GOOGLE_GMB_CLIENT_ID",
        client_secret: "GOOGLE_GMB_CLIENT_SECRET",
        instance_url: None,
    }),
    api_base: "https://mybusiness.googleapis.com",
    rules: "Google Business Profile posts have at most 1,500 characters and one picture or video; an event needs its title and dates, an offer its terms.",
    summary: "Google OAuth 2 (the YouTube app's Google Cloud project with the Business Profile APIs, access approved by Google); pick the location",
    pacing: Some(Pacing {
        posts: 10,
        per_seconds: 60,
    }),
    media: MediaRules {
        max: 1,
        video: true,
        video_alone: true,
        documents: false,
    },
    settings: SettingsSpec::of::<GmbSettings>(),
    fetches_media: true,
    no_pages: "This Google account manages no Business Profile location. Add it as a manager of the profile at business.google.com, then connect again.",
    denied: google::DENIED,
    ..ProviderInfo::DEFAULT
};

static ENDPOINTS: Endpoints = google::login();

impl Gmb {
    fn api<'a>(&'a self, on: &'a On<'a>, base: &str) -> Api<'a> {
        Api::new(self, on.ctx, base, Auth::Bearer(&on.auth.access_token))
    }

    /// Every location of every account the user manages, as `accounts/A/locations/L`.
    async fn locations(&self, on: &On<'_>) -> Result<Vec<Page>> {
        let accounts: Value = self
            .api(on, "https://mybusinessaccountmanagement.googleapis.com")
            .get("/v1/accounts")
            .query(&[("pageSize", "20")])
            .read()
            .await?;
        let mut pages = Vec::new();
        let info = self.api(on, "https://mybusinessbusinessinformation.googleapis.com");
        for account in accounts["accounts"].as_array().into_iter().flatten() {
            let Some(account) = account["name"].as_str() else {
                continue;
            };
            let listed: Value = info
                .get(&format!("/v1/{account}/locations"))
                .query(&[
                    ("readMask", "name,title,storefrontAddress"),
                    ("pageSize", "100"),
                ])
                .read()
                .await?;
            for location in listed["locations"].as_array().into_iter().flatten() {
                let Some(id) = location["name"].as_str() else {
                    continue;
                };
                // The town tells apart the branches of one business.
                let title = location["title"].as_str().unwrap_or(id);
                let name = match location["storefrontAddress"]["locality"].as_str() {
                    Some(town) => format!("{title} ({town})"),
                    None => title.to_owned(),
                };
                pages.push(Page {
                    id: format!("{account}/{id}"),
                    name,
                    picture: None,
                    username: None,
                });
            }
        }
        Ok(pages)
    }
}

#[async_trait]
impl Provider for Gmb {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn check_validity(&self, chain: &[PostDetails]) -> std::result::Result<(), String> {
        let [post] = chain else {
            return Err("Google Business Profile posts have no comments".into());
        };
        INFO.media.check(INFO.name, &post.media)?;
        settings::parse::<GmbSettings>(&post.settings)?
            .fields()
            .map(drop)
    }

    async fn account(&self, c: &Connecting<'_>, grant: TokenGrant) -> Result<ConnectedAccount> {
        google::account(self, c, grant).await
    }

    async fn pages(&self, on: &On<'_>) -> Result<Vec<Page>> {
        self.locations(on).await
    }

    async fn pick_page(&self, on: &On<'_>, page_id: &str) -> Result<ConnectedAccount> {
        let location = self
            .locations(on)
            .await?
            .into_iter()
            .find(|p| p.id == page_id)
            .ok_or_else(|| {
                ProviderError::BadBody(format!(
                    "this Google account manages no location {page_id:?}"
                ))
            })?;
        Ok(ConnectedAccount {
            internal_id: location.id,
            name: location.name,
            username: location.username,
            tokens: on.auth.tokens(),
            ..ConnectedAccount::default()
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        if post.reply_to.is_some() {
            return Err(ProviderError::NotSupported(
                "Google Business Profile posts have no comments".into(),
            ));
        }
        let settings: GmbSettings =
            settings::parse(&post.settings).map_err(ProviderError::BadBody)?;
        let mut body = settings.fields().map_err(ProviderError::BadBody)?;
        body["languageCode"] = json!("en-US");
        body["summary"] = json!(post.message);
        body["topicType"] = json!(match settings.topic_type {
            Topic::Standard => "STANDARD",
            Topic::Event => "EVENT",
            Topic::Offer => "OFFER",
        });
        let mut media = Vec::new();
        for m in &post.media {
            medium::check_fetchable(on.ctx, &INFO, &m.path)?;
            let format = if m.kind == "video" { "VIDEO" } else { "PHOTO" };
            media.push(json!({ "mediaFormat": format, "sourceUrl": m.path }));
        }
        if !media.is_empty() {
            body["media"] = json!(media);
        }
        let created: Value = self
            .api(on, INFO.api_base)
            .post(&format!("/v4/{}/localPosts", on.auth.internal_id))
            .json(&body)
            .read()
            .await?;
        if created["state"] == "REJECTED" {
            return Err(ProviderError::BadBody(
                "Google rejected the post (phone numbers in the text, or content Google takes for spam, are the usual reasons)".into(),
            ));
        }
        let id = created["name"].as_str().ok_or_else(|| {
            ProviderError::Unconfirmed("Google answered without the post's name".into())
        })?;
        Ok(PostOutcome::Published(Published {
            id: id.to_owned(),
            url: created["searchUrl"].as_str().unwrap_or_default().to_owned(),
            reference: None,
        }))
    }

    async fn analytics(&self, on: &On<'_>, days: u32) -> Result<Analytics> {
        use chrono::Datelike;
        let end = chrono::Utc::now().date_naive();
        let start = end - chrono::Duration::days(i64::from(days.clamp(1, 365)));
        let location = on
            .auth
            .internal_id
            .rsplit_once("/locations/")
            .map_or(on.auth.internal_id.as_str(), |(_, l)| l);
        let metrics = [
            ("Website clicks", "WEBSITE_CLICKS"),
            ("Calls", "CALL_CLICKS"),
            ("Direction requests", "BUSINESS_DIRECTION_REQUESTS"),
            ("Impressions on Maps", "BUSINESS_IMPRESSIONS_MOBILE_MAPS"),
            (
                "Impressions on Search",
                "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
            ),
        ];
        let numbers = [
            start.year().to_string(),
            start.month().to_string(),
            start.day().to_string(),
            end.year().to_string(),
            end.month().to_string(),
            end.day().to_string(),
        ];
        let mut query: Vec<(&str, &str)> =
            metrics.iter().map(|(_, m)| ("dailyMetrics", *m)).collect();
        query.extend([
            ("dailyRange.start_date.year", numbers[0].as_str()),
            ("dailyRange.start_date.month", numbers[1].as_str()),
            ("dailyRange.start_date.day", numbers[2].as_str()),
            ("dailyRange.end_date.year", numbers[3].as_str()),
            ("dailyRange.end_date.month", numbers[4].as_str()),
            ("dailyRange.end_date.day", numbers[5].as_str()),
        ]);
        let answer: Value = self
            .api(on, "https://businessprofileperformance.googleapis.com")
            .get(&format!(
                "/v1/locations/{location}:fetchMultiDailyMetricsTimeSeries"
            ))
            .query(&query)
            .read()
            .await?;
        let series = answer["multiDailyMetricTimeSeries"][0]["dailyMetricTimeSeries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok(metrics
            .iter()
            .map(|(label, metric)| {
                let data = series
                    .iter()
                    .find(|s| s["dailyMetric"] == *metric)
                    .and_then(|s| s["timeSeries"]["datedValues"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .map(|v| AnalyticsPoint {
                        total: v["value"]
                            .as_str()
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0),
                        date: format!(
                            "{:04}-{:02}-{:02}",
                            v["date"]["year"].as_i64().unwrap_or(0),
                            v["date"]["month"].as_i64().unwrap_or(0),
                            v["date"]["day"].as_i64().unwrap_or(0)
                        ),
                    })
                    .collect();
                AnalyticsSeries::new(*label, data)
            })
            .collect())
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        let answer: Value = serde_json::from_str(body).ok()?;
        let details = answer["error"]["details"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let limit = details
            .iter()
            .find_map(|d| d["metadata"]["quota_limit_value"].as_str());
        match (status, limit) {
            (429, Some("0")) => Some(ProviderError::BadBody(
                "Google has not approved this Google Cloud project for the Business Profile APIs yet (its quota is 0): request access at https://support.google.com/business/contact/api_default".into(),
            )),
            (429, _) => Some(ProviderError::RetryLater {
                message: "Google Business Profile takes at most 10 edits a minute per profile".into(),
                after: Some(std::time::Duration::from_secs(60)),
            }),
            _ => google::classify(INFO.name, status, body),
        }
    }
}
