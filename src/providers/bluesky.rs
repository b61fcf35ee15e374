//! Bluesky: an app password checked with `createSession`, sessions renewed with
//! `refreshSession`, posts as `app.bsky.feed.post` records with link and mention facets,
//! images through `uploadBlob`, replies with root and parent references.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, Auth};
use super::medium::{MediaKind, Medium};
use super::text::links;
use super::{
    AuthInput, AuthKind, AuthStart, ChannelAuth, ConnectedAccount, Connecting, CustomField,
    MediaRules, On, PostDetails, PostOutcome, Provider, ProviderError, ProviderInfo, Published,
    RefreshPolicy, Result, Tokens, check_instance_url, display_name,
};

pub struct Bluesky;

static INFO: ProviderInfo = ProviderInfo {
    identifier: "bluesky",
    name: "Bluesky",
    auth: AuthKind::Credentials,
    custom_fields: &FIELDS,
    max_length: 300,
    max_concurrent_jobs: 2,
    refresh: RefreshPolicy::BeforeExpiry,
    rules: "Bluesky posts have at most 300 characters and 4 pictures of at most 1 MB each.",
    summary: "A form on socialgate: service URL, handle or email, **app password**, checked with the server before saving",
    media: MediaRules {
        max: 4,
        video: false,
        video_alone: false,
        documents: false,
    },
    logo: include_str!("../../static/logos/bluesky.svg"),
    ..ProviderInfo::DEFAULT
};

static FIELDS: [CustomField; 3] = [
    CustomField {
        key: "service",
        label: "Service URL",
        kind: "text",
        default_value: "https://bsky.social",
        validation: "^https?://",
    },
    CustomField {
        key: "identifier",
        label: "Handle or email",
        kind: "text",
        default_value: "",
        validation: ".+",
    },
    CustomField {
        key: "password",
        label: "App password",
        kind: "password",
        default_value: "",
        validation: ".+",
    },
];

/// Bluesky's limit for one image blob.
const IMAGE_LIMIT: u64 = 1_000_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    did: String,
    handle: String,
    access_jwt: String,
    refresh_jwt: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
}

#[derive(Deserialize)]
struct Blob {
    blob: Value,
}

#[derive(Deserialize)]
struct Record {
    uri: String,
    cid: String,
}

/// Seconds until a JWT's `exp`, when it can be read (two hours otherwise).
fn expires_in(jwt: &str) -> i64 {
    let exp = jwt
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("exp").and_then(Value::as_i64));
    match exp {
        Some(exp) => (exp - chrono::Utc::now().timestamp()).max(0),
        None => 7200,
    }
}

/// `@handle.domain` mentions as byte ranges (the `@` included) and the handle.
fn mentions(text: &str) -> Vec<(usize, usize, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (i, _) in text.match_indices('@') {
        if i > 0 && !(bytes[i - 1] as char).is_whitespace() && bytes[i - 1] != b'(' {
            continue;
        }
        let rest = &text[i + 1..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        let handle = rest[..len].trim_end_matches('.');
        if handle.contains('.') && !handle.starts_with('.') {
            out.push((i, i + 1 + handle.len(), handle.to_ascii_lowercase()));
        }
    }
    out
}

/// The channel's service (its PDS), where its records live.
fn service(auth: &ChannelAuth) -> Result<&str> {
    auth.instance_url
        .as_deref()
        .ok_or_else(|| ProviderError::Disconnected("the channel has no service URL".into()))
}

/// Link facets, and mention facets for handles that resolve (others stay plain text).
async fn facets(api: &Api<'_>, text: &str) -> Vec<Value> {
    let mut facets: Vec<Value> = links(text)
        .into_iter()
        .map(|(start, end)| {
            json!({
                "index": { "byteStart": start, "byteEnd": end },
                "features": [{ "$type": "app.bsky.richtext.facet#link", "uri": &text[start..end] }]
            })
        })
        .collect();
    for (start, end, handle) in mentions(text) {
        let resolved: Result<Value, _> = api
            .get("/xrpc/com.atproto.identity.resolveHandle")
            .query(&[("handle", &handle)])
            .read()
            .await;
        if let Some(did) = resolved
            .ok()
            .and_then(|v| v.get("did").and_then(Value::as_str).map(str::to_owned))
        {
            facets.push(json!({
                "index": { "byteStart": start, "byteEnd": end },
                "features": [{ "$type": "app.bsky.richtext.facet#mention", "did": did }]
            }));
        }
    }
    facets
}

async fn image(api: &Api<'_>, medium: &Medium) -> Result<Value> {
    if medium.kind != MediaKind::Image {
        return Err(ProviderError::BadBody("Bluesky takes pictures only".into()));
    }
    if medium.len > IMAGE_LIMIT {
        return Err(ProviderError::BadBody(format!(
            "Bluesky takes pictures of at most 1 MB; {} has {} bytes",
            medium.source, medium.len
        )));
    }
    let blob: Blob = api
        .post("/xrpc/com.atproto.repo.uploadBlob")
        .body(medium.body().await?, medium.mime)
        .read()
        .await?;
    Ok(blob.blob)
}

#[async_trait]
impl Provider for Bluesky {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn authorization_url(&self, c: &Connecting<'_>, state: &str) -> Result<AuthStart> {
        let mut url = url::Url::parse(&format!(
            "{}/integrations/social/bluesky/connect",
            c.ctx.config.public_url
        ))
        .map_err(|e| ProviderError::BadBody(e.to_string()))?;
        url.query_pairs_mut().append_pair("state", state);
        Ok(AuthStart {
            url: url.into(),
            state_key: state.to_owned(),
            secret: None,
        })
    }

    async fn authenticate(&self, c: &Connecting<'_>, input: AuthInput) -> Result<ConnectedAccount> {
        let field = |k: &str| input.fields.get(k).map(String::as_str).unwrap_or("");
        let service = check_instance_url(if field("service").is_empty() {
            "https://bsky.social"
        } else {
            field("service")
        })
        .map_err(ProviderError::BadBody)?;
        let session: Session = Api::new(self, c.ctx, &service, Auth::None)
            .post("/xrpc/com.atproto.server.createSession")
            .json(&json!({ "identifier": field("identifier"), "password": field("password") }))
            .read()
            .await
            .map_err(|e| match e {
                ProviderError::RefreshNeeded(_) | ProviderError::BadBody(_) => {
                    ProviderError::BadBody(
                        "Bluesky did not accept this handle and app password".into(),
                    )
                }
                other => other,
            })?;
        let profile: Profile = Api::new(self, c.ctx, &service, Auth::Bearer(&session.access_jwt))
            .get("/xrpc/app.bsky.actor.getProfile")
            .query(&[("actor", &session.did)])
            .read()
            .await?;
        Ok(ConnectedAccount {
            internal_id: session.did,
            name: display_name(
                profile.display_name.as_deref(),
                Some(&session.handle),
                "Bluesky",
            ),
            picture: profile.avatar,
            username: Some(session.handle),
            tokens: Tokens {
                expires_in: Some(expires_in(&session.access_jwt)),
                access_token: session.access_jwt,
                refresh_token: Some(session.refresh_jwt),
                refresh_expires_in: None,
            },
            instance_url: Some(service),
            ..ConnectedAccount::default()
        })
    }

    async fn refresh(&self, on: &On<'_>) -> Result<Tokens> {
        let refresh = on
            .auth
            .refresh_token
            .as_deref()
            .ok_or_else(|| ProviderError::RefreshNeeded("no refresh token".into()))?;
        let session: Session = Api::new(self, on.ctx, service(on.auth)?, Auth::Bearer(refresh))
            .post("/xrpc/com.atproto.server.refreshSession")
            .read()
            .await?;
        Ok(Tokens {
            expires_in: Some(expires_in(&session.access_jwt)),
            access_token: session.access_jwt,
            refresh_token: Some(session.refresh_jwt),
            refresh_expires_in: None,
        })
    }

    async fn publish(&self, on: &On<'_>, post: &PostDetails) -> Result<PostOutcome> {
        let api = Api::new(
            self,
            on.ctx,
            service(on.auth)?,
            Auth::Bearer(&on.auth.access_token),
        );
        let mut images = Vec::new();
        for m in &post.media {
            let blob = image(&api, &Medium::open(on.ctx, &m.path).await?).await?;
            images.push(json!({ "alt": m.alt.clone().unwrap_or_default(), "image": blob }));
        }
        let mut record = json!({
            "$type": "app.bsky.feed.post",
            "text": post.message,
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let facets = facets(&api, &post.message).await;
        if !facets.is_empty() {
            record["facets"] = Value::Array(facets);
        }
        if !images.is_empty() {
            record["embed"] = json!({ "$type": "app.bsky.embed.images", "images": images });
        }
        if let Some(thread) = post.reply_to.as_ref() {
            let reference = |p: &Published| json!({ "uri": p.id, "cid": p.reference.clone().unwrap_or_default() });
            record["reply"] =
                json!({ "root": reference(&thread.root), "parent": reference(&thread.parent) });
        }
        let created: Record = api
            .post("/xrpc/com.atproto.repo.createRecord")
            .json(&json!({ "repo": on.auth.internal_id, "collection": "app.bsky.feed.post", "record": record }))
            .read()
            .await?;
        let rkey = created
            .uri
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let handle = on
            .auth
            .username
            .clone()
            .unwrap_or_else(|| on.auth.internal_id.clone());
        Ok(PostOutcome::Published(Published {
            url: format!("https://bsky.app/profile/{handle}/post/{rkey}"),
            id: created.uri,
            reference: Some(created.cid),
        }))
    }

    fn classify(&self, status: u16, body: &str) -> Option<ProviderError> {
        (status == 400 && (body.contains("ExpiredToken") || body.contains("InvalidToken")))
            .then(|| ProviderError::RefreshNeeded("Bluesky session expired".into()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_mentions_by_byte_offsets() {
        let text = "héllo @alice.bsky.social and @bob.";
        let found = super::mentions(text);
        assert_eq!(found.len(), 1);
        let (s, e, h) = &found[0];
        assert_eq!(&text[*s..*e], "@alice.bsky.social");
        assert_eq!(h, "alice.bsky.social");
        assert_eq!(*s, 7); // "héllo " is 7 bytes
    }
}
