//! A post request as a typed draft: Postiz's `POST /posts` body parsed, sanitized and checked
//! against each channel's network (settings, lengths, media, `check_validity`), ready for
//! `posts::create`. The Public API and the MCP tools both read requests through here; how a
//! refusal is worded on the wire is theirs.

use std::collections::HashSet;

use chrono::{NaiveDateTime, Timelike};
use serde_json::{Value, json};

use super::posts::{CreateRequest, NewGroup, NewValue, PostType};
use crate::channels::{self, Channel};
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::providers::text::html_to_plain;
use crate::providers::{MediaItem, PostDetails, Provider};

/// A failure answered the way Postiz answers it.
pub enum Invalid {
    /// Nest's validation body: `{"statusCode":400,"message":[…],"error":"Bad Request"}`.
    Fields(Vec<String>),
    /// A provider rule: `{"statusCode":400,"provider","name","message"}`.
    Provider {
        provider: String,
        name: String,
        message: String,
    },
    App(AppError),
}

impl From<AppError> for Invalid {
    fn from(e: AppError) -> Self {
        Invalid::App(e)
    }
}

impl Invalid {
    pub(crate) fn field(message: impl Into<String>) -> Self {
        Invalid::Fields(vec![message.into()])
    }
}

/// Content as stored: the HTML tags and attributes Postiz allows, links http(s), mailto or
/// relative only.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .tags(HashSet::from([
            "p", "br", "strong", "u", "a", "ul", "li", "h1", "h2", "h3", "span",
        ]))
        .generic_attributes(HashSet::from([
            "class",
            "data-mention-id",
            "data-mention-label",
        ]))
        .tag_attributes(std::collections::HashMap::from([(
            "a",
            HashSet::from(["href", "target", "rel"]),
        )]))
        .link_rel(None)
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .clean(html)
        .to_string()
}

/// Reads a date as Postiz clients send it: ISO 8601 with an offset, or without one (UTC).
pub fn parse_date(s: &str) -> Option<NaiveDateTime> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.naive_utc());
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d",
    ]
    .iter()
    .find_map(|f| {
        NaiveDateTime::parse_from_str(s, f).ok().or_else(|| {
            chrono::NaiveDate::parse_from_str(s, f)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
    })
}

/// An uploaded image's width and height, read from the start of its file on our disk (a few
/// kilobytes), for networks whose rules depend on them.
fn dimensions_of(config: &Config, path: &str) -> Option<(u32, u32)> {
    use std::io::Read;
    let file = crate::media::storage::local_file(config, path)?;
    let mut head = Vec::with_capacity(64 * 1024);
    std::fs::File::open(file)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .ok()?;
    crate::media::dimensions(&head)
}

fn media_of(config: &Config, image: &Value, at: &str) -> Result<Vec<MediaItem>, Invalid> {
    let Some(list) = image.as_array() else {
        return Err(Invalid::field(format!("{at}.image must be an array")));
    };
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let (Some(id), Some(path)) = (
                m.get("id").and_then(Value::as_str),
                m.get("path").and_then(Value::as_str),
            ) else {
                return Err(Invalid::field(format!(
                    "{at}.image.{i} must have an id and a path"
                )));
            };
            let Some(kind) = crate::media::kind_of_path(path) else {
                return Err(Invalid::field(format!(
                    "{at}.image.{i}.path must end in .png, .jpg, .jpeg, .gif, .webp, .mp4 or .pdf"
                )));
            };
            let _ = id;
            Ok(MediaItem {
                kind: kind.into(),
                path: path.to_owned(),
                alt: m.get("alt").and_then(Value::as_str).map(str::to_owned),
                thumbnail: m
                    .get("thumbnail")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                dimensions: dimensions_of(config, path),
            })
        })
        .collect()
}

/// A channel's group as validated: values ready to store and the chain a provider checks.
pub struct CheckedGroup {
    pub group: NewGroup,
}

/// Checks one `posts[i]` entry against its channel's provider (Postiz's `validatePosts`).
pub fn check_group(
    config: &Config,
    entry: &Value,
    i: usize,
    channel: &Channel,
    provider: &dyn Provider,
    draft: bool,
) -> Result<CheckedGroup, Invalid> {
    let at = format!("posts.{i}");
    let reject = |message: String| Invalid::Provider {
        provider: channel.provider.clone(),
        name: channel.name.clone(),
        message,
    };
    let mut settings = entry.get("settings").cloned().unwrap_or_else(|| json!({}));
    if !settings.is_object() {
        return Err(Invalid::field(format!("{at}.settings must be an object")));
    }
    settings["__type"] = json!(channel.provider);
    provider
        .info()
        .settings
        .validate(&settings)
        .map_err(|e| Invalid::field(format!("{at}.settings: {e}")))?;
    let Some(values) = entry
        .get("value")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
    else {
        return Err(Invalid::field(format!(
            "{at}.value must contain at least 1 element"
        )));
    };
    let mut stored = Vec::new();
    let mut chain = Vec::new();
    for (j, v) in values.iter().enumerate() {
        let vat = format!("{at}.value.{j}");
        let Some(content) = v.get("content").and_then(Value::as_str) else {
            return Err(Invalid::field(format!("{vat}.content must be a string")));
        };
        let image = v.get("image").cloned().unwrap_or(Value::Null);
        let media = media_of(config, &image, &vat)?;
        let content = sanitize(content);
        let plain = html_to_plain(&content);
        if plain.trim().is_empty() && media.is_empty() {
            return Err(reject(
                "Your post should have at least one character or one image.".into(),
            ));
        }
        if !draft && provider.text_length(plain.trim()) > provider.max_length(&channel.additional())
        {
            return Err(reject("post is too long, please fix it".into()));
        }
        let delay = match v.get("delay") {
            None | Some(Value::Null) => 0,
            Some(d) => d.as_i64().ok_or_else(|| {
                Invalid::field(format!("{vat}.delay must be a whole number of minutes"))
            })?,
        }
        .clamp(0, 60 * 24 * 30) as i32;
        if v.get("id")
            .is_some_and(|id| !id.is_string() && !id.is_null())
        {
            return Err(Invalid::field(format!("{vat}.id must be a string")));
        }
        chain.push(PostDetails {
            id: String::new(),
            message: plain,
            settings: settings.clone(),
            media,
            reply_to: None,
        });
        stored.push(NewValue {
            id: v
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            content,
            image: if image.is_null() { json!([]) } else { image },
            delay_minutes: delay,
        });
    }
    if !draft {
        provider.check_validity(&chain).map_err(reject)?;
    }
    if entry
        .get("group")
        .is_some_and(|g| !g.is_string() && !g.is_null())
    {
        return Err(Invalid::field(format!("{at}.group must be a string")));
    }
    Ok(CheckedGroup {
        group: NewGroup {
            integration_id: channel.id.clone(),
            replaces: entry
                .get("group")
                .and_then(Value::as_str)
                .filter(|g| !g.is_empty())
                .map(str::to_owned),
            settings,
            values: stored,
        },
    })
}

/// Parses and checks a whole `POST /posts` body.
pub async fn parse_request(
    db: &Db,
    config: &Config,
    org: &str,
    body: &Value,
) -> Result<CreateRequest, Invalid> {
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .and_then(PostType::parse)
        .ok_or_else(|| {
            Invalid::field("type must be one of the following values: draft, schedule, now, update")
        })?;
    if !body.get("shortLink").is_some_and(Value::is_boolean) {
        return Err(Invalid::field("shortLink must be a boolean value"));
    }
    let date = match body.get("date") {
        None | Some(Value::Null) => None,
        Some(d) => Some(
            d.as_str()
                .and_then(parse_date)
                .ok_or_else(|| Invalid::field("date must be a valid ISO 8601 date string"))?,
        ),
    };
    let date = match (kind, date) {
        (PostType::Now, _) => {
            let n = crate::db::now();
            n.with_second(0)
                .and_then(|d| d.with_nanosecond(0))
                .unwrap_or(n)
        }
        (_, Some(d)) => d,
        (_, None) => return Err(Invalid::field("date must be a valid ISO 8601 date string")),
    };
    let tags = body.get("tags").cloned().unwrap_or(Value::Null);
    let tags_ok = tags.as_array().is_some_and(|list| {
        list.iter().all(|t| {
            t.get("value").is_some_and(Value::is_string)
                && t.get("label").is_some_and(Value::is_string)
        })
    });
    if !tags_ok {
        return Err(Invalid::field("tags must be an array of {value, label}"));
    }
    let interval_days = match body.get("inter") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=365).contains(&n) => Some(n as i32),
            _ => {
                return Err(Invalid::field(
                    "inter must be a number of days between 1 and 365",
                ));
            }
        },
    };
    let Some(entries) = body
        .get("posts")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    else {
        return Err(Invalid::field("posts must contain at least 1 element"));
    };
    let mut groups = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(id) = entry
            .pointer("/integration/id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Err(Invalid::field("All posts must have an integration id"));
        };
        let (org_id, channel_id) = (org.to_owned(), id.to_owned());
        let channel = db
            .run(move |conn| channels::get(conn, &org_id, &channel_id))
            .await
            .map_err(|e| match e {
                AppError::NotFound(_) => {
                    Invalid::field(format!("Integration with id {id} not found"))
                }
                other => Invalid::App(other),
            })?;
        let provider = channel.provider().ok_or_else(|| {
            Invalid::field(format!("Integration with id {id} has no known provider"))
        })?;
        groups.push(
            check_group(
                config,
                entry,
                i,
                &channel,
                provider,
                kind == PostType::Draft,
            )?
            .group,
        );
    }
    let creation_method = match body.get("creationMethod") {
        None | Some(Value::Null) => "API",
        Some(m) => match m.as_str() {
            Some("API") => "API",
            Some("CLI") => "CLI",
            _ => return Err(Invalid::field("creationMethod must be API or CLI")),
        },
    };
    let republish = match body.get("republish") {
        None | Some(Value::Null) => false,
        Some(r) => r
            .as_bool()
            .ok_or_else(|| Invalid::field("republish must be a boolean value"))?,
    };
    Ok(CreateRequest {
        kind,
        date,
        tags,
        interval_days,
        republish,
        creation_method: creation_method.to_owned(),
        groups,
    })
}

/// Checks a `POST /posts` body without creating anything (a dry run): every problem at once,
/// those of the request as a whole and those of each channel's group.
pub async fn validate(
    db: &Db,
    config: &Config,
    org: &str,
    body: &Value,
) -> Result<Vec<String>, AppError> {
    let mut problems = Vec::new();
    let mut note = |invalid: Invalid, at: Option<usize>| -> Result<(), AppError> {
        let prefix = at.map(|i| format!("posts[{i}]: ")).unwrap_or_default();
        match invalid {
            Invalid::Fields(list) => {
                problems.extend(list.into_iter().map(|m| format!("{prefix}{m}")))
            }
            Invalid::Provider { name, message, .. } => {
                problems.push(format!("{prefix}{name}: {message}"))
            }
            Invalid::App(e) => return Err(e),
        }
        Ok(())
    };
    let entries = body
        .get("posts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.len() <= 1 {
        if let Err(invalid) = parse_request(db, config, org, body).await {
            note(invalid, None)?;
        }
    } else {
        for (i, entry) in entries.into_iter().enumerate() {
            let mut one = body.clone();
            one["posts"] = json!([entry]);
            if let Err(invalid) = parse_request(db, config, org, &one).await {
                note(invalid, Some(i))?;
            }
        }
    }
    problems.dedup();
    Ok(problems)
}

/// A post's settings with `changes` merged in (keys replaced), checked against its channel's
/// network again; the error names the channel.
pub fn merge_settings(
    post: &super::posts::Post,
    channel: &Channel,
    changes: serde_json::Map<String, Value>,
) -> Result<Value, String> {
    let mut settings: Value = crate::db::json_column(&post.settings, "posts.settings");
    for (k, v) in changes {
        settings[k] = v;
    }
    settings["__type"] = json!(channel.provider);
    if let Some(p) = channel.provider() {
        p.info()
            .settings
            .validate(&settings)
            .map_err(|e| format!("{}: {e}", channel.name))?;
    }
    Ok(settings)
}
