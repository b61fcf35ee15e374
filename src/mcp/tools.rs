//! The tools: Postiz's set under its wire names and argument shapes (each result wrapped in
//! `output`), then ours. Every tool calls the Public API's handler for the same operation, so
//! both speak the same rules; this file only translates arguments and answers. Bad arguments
//! and refusals are results with `isError`, in words a model can act on.

use actix_web::{HttpResponse, ResponseError, web};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::error::AppError;
use crate::oauth::scopes::Scope;
use crate::providers::settings;
use crate::public_api::auth::Credential;
use crate::public_api::{Caller, Segment, analytics, idempotency, integrations, media, posts};

/// One tool: what `tools/list` shows and the scope it needs.
pub struct Tool {
    pub name: &'static str,
    title: &'static str,
    description: &'static str,
    pub scope: Scope,
    read_only: bool,
    destructive: bool,
    idempotent: bool,
    open_world: bool,
    input: fn() -> Value,
    output: fn() -> Value,
}

impl Tool {
    fn listed(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": (self.input)(),
            "outputSchema": (self.output)(),
            "annotations": {
                "title": self.title,
                "readOnlyHint": self.read_only,
                "destructiveHint": self.destructive,
                "idempotentHint": self.idempotent,
                "openWorldHint": self.open_world,
            },
        })
    }
}

/// A `{key, value}` pair, Postiz's way of passing settings and tool data.
#[derive(Deserialize, JsonSchema)]
struct KeyValue {
    key: String,
    value: Value,
}

fn pairs(list: Vec<KeyValue>) -> Value {
    Value::Object(list.into_iter().map(|kv| (kv.key, kv.value)).collect())
}

#[derive(Deserialize, JsonSchema)]
struct NoArgs {}

#[derive(Deserialize, JsonSchema)]
struct GroupArgs {
    /// A group (customer) id from groupList, to list only its channels.
    #[serde(default)]
    group: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SchemaArgs {
    /// Whether the account is a premium one (X: longer posts). Postiz's argument.
    #[serde(default)]
    #[allow(dead_code)] // Postiz's argument; the channel's own flags decide the length
    is_premium: bool,
    /// The channel's platform, the `platform` integrationList gives (e.g. "x", "mastodon").
    platform: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct TriggerArgs {
    /// The channel id, from integrationList.
    integration_id: String,
    /// A methodName from the tools integrationSchema lists for the platform.
    method_name: String,
    /// The method's data, as key/value pairs.
    #[serde(default)]
    data_schema: Vec<KeyValue>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum When {
    Draft,
    Schedule,
    Now,
}

#[derive(Deserialize, JsonSchema)]
struct Content {
    /// HTML: <p>, <h1>-<h3>, <strong>, <u>, <ul>/<li>, <a>; plain text is taken as one paragraph.
    content: String,
    /// Media URLs from uploadFromUrlTool (`path`), images or MP4 videos.
    #[serde(default)]
    attachments: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SocialPost {
    /// The channel id, from integrationList.
    integration_id: String,
    #[serde(default)]
    #[allow(dead_code)] // Postiz's argument; the channel's own flags decide the length
    is_premium: bool,
    /// When to publish: ISO 8601 (UTC without an offset). Ignored for type "now".
    #[serde(default)]
    date: Option<String>,
    /// Whether links are shortened (Postiz's argument; kept as given).
    #[serde(default)]
    short_link: bool,
    /// draft: saved, not published; schedule: published at `date`; now: published at once.
    #[serde(rename = "type")]
    when: When,
    /// The post, then its comments (a thread), in order.
    posts_and_comments: Vec<Content>,
    /// The platform's settings as key/value pairs (see integrationSchema).
    #[serde(default)]
    settings: Vec<KeyValue>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ScheduleArgs {
    /// One entry per channel.
    social_post: Vec<SocialPost>,
    /// Sending the same key again within 24 hours returns the first answer instead of
    /// creating the posts twice.
    #[serde(default)]
    #[allow(dead_code)] // read by `keyed` from the arguments; declared for the schema
    idempotency_key: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RangeArgs {
    /// ISO 8601 start of the range.
    start_date: String,
    /// ISO 8601 end of the range.
    end_date: String,
    /// Only this group's (customer's) channels.
    #[serde(default)]
    customer: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct PostSettingsArgs {
    /// The post id.
    id: String,
    /// Settings to change, merged into the post's current ones.
    settings: Vec<KeyValue>,
    #[serde(default)]
    #[allow(dead_code)] // read by `keyed` from the arguments; declared for the schema
    idempotency_key: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UrlArgs {
    /// A public https URL of a PNG, JPEG, GIF, WebP image or an MP4 video.
    url: String,
    #[serde(default)]
    #[allow(dead_code)] // read by `keyed` from the arguments; declared for the schema
    idempotency_key: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct IdArgs {
    /// The post id (postId from integrationSchedulePostTool, or id from postsListTool).
    id: String,
    #[serde(default)]
    #[allow(dead_code)] // read by `keyed` from the arguments; declared for the schema
    idempotency_key: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateArgs {
    /// The post id.
    id: String,
    /// New content (HTML as in integrationSchedulePostTool); unchanged when absent.
    #[serde(default)]
    content: Option<String>,
    /// New media URLs; unchanged when absent, none when empty.
    #[serde(default)]
    attachments: Option<Vec<String>>,
    /// New ISO 8601 date; unchanged when absent.
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    #[allow(dead_code)] // read by `keyed` from the arguments; declared for the schema
    idempotency_key: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Status {
    Draft,
    Schedule,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct StatusArgs {
    /// The post id.
    id: String,
    /// draft: kept but not published; schedule: published at its date.
    status: Status,
    #[serde(default)]
    #[allow(dead_code)] // read by `keyed` from the arguments; declared for the schema
    idempotency_key: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ChannelArgs {
    /// The channel id, from integrationList.
    integration_id: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ChannelAnalyticsArgs {
    /// The channel id, from integrationList.
    integration_id: String,
    /// Days back, 1 to 365 (7 when absent).
    #[serde(default)]
    days: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct PostAnalyticsArgs {
    /// The post id.
    id: String,
    /// Days back, 1 to 365 (7 when absent).
    #[serde(default)]
    days: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
struct PageArgs {
    /// Page number, from 0.
    #[serde(default)]
    page: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ConnectArgs {
    /// The network's identifier (e.g. "mastodon", "bluesky", "x", "sandbox").
    platform: String,
    /// A channel id to reconnect instead of adding a new channel.
    #[serde(default)]
    refresh: Option<String>,
}

/// `T`'s schema as an MCP input schema: an object, its fields inline, in the plainest JSON
/// Schema clients map onto their own dialects (one `type` a property; no bare `true`).
fn input<T: JsonSchema>() -> Value {
    let mut schema = settings::schema::<T>();
    if schema.get("properties").is_none() {
        schema = json!({ "type": "object", "properties": {}, "additionalProperties": false });
    }
    portable(&mut schema);
    schema
}

/// Any JSON value a setting or a helper's data may hold, spelled portably.
fn any_value() -> Value {
    json!({ "anyOf": [
        { "type": "string" }, { "type": "number" }, { "type": "boolean" },
        { "type": "array" }, { "type": "object" },
    ] })
}

/// An optional field is left out rather than sent as `null`: `["string", "null"]` becomes
/// `"string"`; a schema that accepts anything says so with `anyOf`.
fn portable(schema: &mut Value) {
    match schema {
        Value::Bool(true) => *schema = any_value(),
        Value::Object(map) => {
            if map.is_empty() {
                *schema = any_value();
                return;
            }
            if let Some(Value::Array(types)) = map.get("type") {
                let named: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if named.len() == 1 {
                    map.insert("type".into(), named[0].clone());
                }
            }
            for key in ["properties", "$defs"] {
                if let Some(Value::Object(children)) = map.get_mut(key) {
                    children.values_mut().for_each(portable);
                }
            }
            for key in ["items", "additionalProperties"] {
                if let Some(child @ Value::Object(_)) = map.get_mut(key) {
                    portable(child);
                }
            }
            for key in ["anyOf", "oneOf", "allOf"] {
                if let Some(Value::Array(children)) = map.get_mut(key) {
                    children.iter_mut().for_each(portable);
                }
            }
        }
        _ => {}
    }
}

/// An output schema: `{output: <schema>}`.
fn output_of(inner: Value) -> Value {
    json!({
        "type": "object",
        "properties": { "output": inner },
        "required": ["output"],
    })
}

fn out_any() -> Value {
    output_of(json!({ "anyOf": [{ "type": "array" }, { "type": "object" }, { "type": "string" }] }))
}

fn out_list() -> Value {
    output_of(json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string" },
            },
            "required": ["id", "name"],
        },
    }))
}

fn out_created() -> Value {
    output_of(json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "postId": { "type": "string" },
                "integration": { "type": "string" },
            },
            "required": ["postId", "integration"],
        },
    }))
}

fn out_object() -> Value {
    output_of(json!({ "type": "object" }))
}

fn out_validation() -> Value {
    output_of(json!({
        "type": "object",
        "properties": {
            "valid": { "type": "boolean" },
            "errors": { "type": "array", "items": { "type": "string" } },
        },
        "required": ["valid", "errors"],
    }))
}

/// Every tool, in the order `tools/list` gives them.
static TOOLS: [Tool; 19] = [
    Tool {
        name: "integrationList",
        title: "List channels",
        description: "List the connected social channels posts can be scheduled to, with their id, name, picture and platform. Optionally pass a group id (from groupList) to list only that group's channels. Call this first to find the integrationId other tools need.",
        scope: Scope::IntegrationsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<GroupArgs>,
        output: out_list,
    },
    Tool {
        name: "groupList",
        title: "List groups",
        description: "List the groups (customers) channels are organized in, with their id and name.",
        scope: Scope::IntegrationsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<NoArgs>,
        output: out_list,
    },
    Tool {
        name: "integrationSchema",
        title: "Describe a platform",
        description: "Before writing a post for a platform, get its rules, maximum length, settings (a JSON schema of what integrationSchedulePostTool's settings may contain) and the helper tools triggerTool can call.",
        scope: Scope::IntegrationsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<SchemaArgs>,
        output: out_object,
    },
    Tool {
        name: "triggerTool",
        title: "Call a platform helper",
        description: "Call a platform helper (a methodName from integrationSchema's tools) for a channel, e.g. to list the boards, channels or flairs a setting needs. It asks the social network itself.",
        scope: Scope::IntegrationsWrite,
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
        input: input::<TriggerArgs>,
        output: out_any,
    },
    Tool {
        name: "integrationSchedulePostTool",
        title: "Create posts",
        description: "Create a draft, a scheduled post or a post published now, on one or several channels, each with its comments (a thread). Check the platform with integrationSchema first, and confirm with the user before publishing. Do not use this to change or delete a post (use postUpdateTool, postDeleteTool). If the post breaks a rule, the result says what to fix.",
        scope: Scope::PostsWrite,
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
        input: input::<ScheduleArgs>,
        output: out_created,
    },
    Tool {
        name: "postsListTool",
        title: "List posts",
        description: "List the posts scheduled, published or failed between two dates (ISO 8601), with their state (QUEUE, DRAFT, PUBLISHED, ERROR), content, channel and date.",
        scope: Scope::PostsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<RangeArgs>,
        output: out_object,
    },
    Tool {
        name: "postSettingsTool",
        title: "Change a post's settings",
        description: "Change the platform settings of a post that is not published yet; the keys given are merged into its current settings and checked again.",
        scope: Scope::PostsWrite,
        read_only: false,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<PostSettingsArgs>,
        output: out_object,
    },
    Tool {
        name: "uploadFromUrlTool",
        title: "Upload media from a URL",
        description: "Copy an image (PNG, JPEG, GIF, WebP) or an MP4 video from a public https URL into the media library. Returns {id, path}: pass `path` in a post's attachments.",
        scope: Scope::MediaWrite,
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
        input: input::<UrlArgs>,
        output: out_object,
    },
    Tool {
        name: "postGetTool",
        title: "Get a post",
        description: "Get one post with its comments, its state on the network, the published URL and the error if publishing failed.",
        scope: Scope::PostsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<IdArgs>,
        output: out_object,
    },
    Tool {
        name: "postUpdateTool",
        title: "Change a post",
        description: "Change the content, media or date of a post that is not published yet. Only what is given changes.",
        scope: Scope::PostsWrite,
        read_only: false,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<UpdateArgs>,
        output: out_object,
    },
    Tool {
        name: "postDeleteTool",
        title: "Delete a post",
        description: "Delete a post and its comments (the whole group across its channels). It cannot be undone; a published post stays on the network. Confirm with the user first.",
        scope: Scope::PostsWrite,
        read_only: false,
        destructive: true,
        idempotent: true,
        open_world: false,
        input: input::<IdArgs>,
        output: out_object,
    },
    Tool {
        name: "postStatusTool",
        title: "Draft or schedule a post",
        description: "Turn a scheduled post into a draft (it will not be published) or a draft into a scheduled post (published at its date).",
        scope: Scope::PostsWrite,
        read_only: false,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<StatusArgs>,
        output: out_object,
    },
    Tool {
        name: "validatePostTool",
        title: "Check posts without creating them",
        description: "Check posts exactly as integrationSchedulePostTool would (same arguments) without creating anything; returns every problem found, so they can all be fixed at once.",
        scope: Scope::PostsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<ScheduleArgs>,
        output: out_validation,
    },
    Tool {
        name: "findSlotTool",
        title: "Find a free slot",
        description: "Find the next free posting time of a channel (from its posting times), as an ISO 8601 date to use as a post's date.",
        scope: Scope::PostsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<ChannelArgs>,
        output: out_object,
    },
    Tool {
        name: "channelAnalyticsTool",
        title: "Channel analytics",
        description: "A channel's analytics (followers, impressions, … as the network reports them) over the last days, one series a metric.",
        scope: Scope::AnalyticsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
        input: input::<ChannelAnalyticsArgs>,
        output: out_any,
    },
    Tool {
        name: "postAnalyticsTool",
        title: "Post analytics",
        description: "A published post's analytics (likes, impressions, … as the network reports them), one series a metric.",
        scope: Scope::AnalyticsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: true,
        input: input::<PostAnalyticsArgs>,
        output: out_any,
    },
    Tool {
        name: "notificationsListTool",
        title: "Notifications",
        description: "The organization's notifications, newest first (published posts, failures, channels needing a reconnection).",
        scope: Scope::NotificationsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<PageArgs>,
        output: out_object,
    },
    Tool {
        name: "channelConnectTool",
        title: "Connect a channel",
        description: "Start connecting a social account: returns the URL to send the user to (they sign in at the network there). Use integrationList afterwards to see the new channel.",
        scope: Scope::IntegrationsWrite,
        read_only: false,
        destructive: false,
        idempotent: false,
        open_world: true,
        input: input::<ConnectArgs>,
        output: out_object,
    },
    Tool {
        name: "whoamiTool",
        title: "Who am I",
        description: "The organization this connection acts for, its timezone, the scopes granted and the limits that apply.",
        scope: Scope::IntegrationsRead,
        read_only: true,
        destructive: false,
        idempotent: true,
        open_world: false,
        input: input::<NoArgs>,
        output: out_object,
    },
];

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

/// `tools/list`: the tools the credential's scopes cover, in a fixed order, in one page.
pub fn list(caller: &Caller, params: &Value) -> Result<Value, String> {
    if params.get("cursor").is_some_and(|c| !c.is_null()) {
        return Err("Invalid cursor: the list has a single page".into());
    }
    let tools: Vec<Value> = TOOLS
        .iter()
        .filter(|t| caller.scopes.contains(t.scope))
        .map(Tool::listed)
        .collect();
    Ok(json!({ "tools": tools }))
}

/// A tool's result: the structured content and the same JSON as text.
fn result(structured: Value, is_error: bool) -> Value {
    json!({
        "content": [{ "type": "text", "text": structured.to_string() }],
        "structuredContent": structured,
        "isError": is_error,
    })
}

fn refused(message: &str) -> Value {
    json!({
        "content": [{ "type": "text", "text": message }],
        "isError": true,
    })
}

/// `tools/call` of a tool the caller may use.
pub async fn call(
    state: &web::Data<AppState>,
    caller: &Caller,
    tool: &Tool,
    arguments: Value,
) -> Value {
    match run(state, caller, tool.name, arguments).await {
        Ok(output) => result(json!({ "output": output }), false),
        Err(message) => refused(&message),
    }
}

fn args<T: DeserializeOwned>(arguments: Value) -> Result<T, String> {
    settings::parse(&arguments).map_err(|e| format!("Invalid arguments: {e}"))
}

/// What a handler answered: its JSON, or its refusal in words.
async fn answered(result: Result<HttpResponse, AppError>) -> Result<Value, String> {
    let response = result.unwrap_or_else(|e| e.error_response());
    let status = response.status();
    let bytes = actix_web::body::to_bytes(response.into_body())
        .await
        .map_err(|_| "the answer could not be read".to_owned())?;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let message = match (&body["msg"], &body["message"]) {
        (Value::String(m), _) => m.clone(),
        (_, Value::String(m)) => m.clone(),
        (_, Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        _ => format!("the request failed ({status})"),
    };
    Err(match body["name"].as_str() {
        Some(channel) => format!("{channel}: {message}"),
        None => message,
    })
}

fn query<T: DeserializeOwned>(value: Value) -> Result<web::Query<T>, String> {
    serde_json::from_value(value)
        .map(web::Query)
        .map_err(|e| e.to_string())
}

fn json_body<T: DeserializeOwned>(value: Value) -> Result<web::Json<T>, String> {
    serde_json::from_value(value)
        .map(web::Json)
        .map_err(|e| e.to_string())
}

/// A media URL as a post's `image` entry.
fn image(url: &str) -> Value {
    let id = url.rsplit('/').next().unwrap_or(url);
    json!({ "id": id, "path": url })
}

/// A paragraph of plain text becomes HTML; HTML is kept.
fn html(content: &str) -> String {
    if content.trim_start().starts_with('<') {
        content.to_owned()
    } else {
        format!("<p>{}</p>", ammonia::clean_text(content))
    }
}

/// integrationSchedulePostTool's arguments as `POST /posts` bodies, one per entry.
fn create_bodies(args: ScheduleArgs) -> Vec<Value> {
    args.social_post
        .into_iter()
        .map(|p| {
            let when = match p.when {
                When::Draft => "draft",
                When::Schedule => "schedule",
                When::Now => "now",
            };
            let values: Vec<Value> = p
                .posts_and_comments
                .iter()
                .map(|c| {
                    json!({
                        "content": html(&c.content),
                        "image": c.attachments.iter().map(|a| image(a)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "type": when,
                "date": p.date.unwrap_or_default(),
                "shortLink": p.short_link,
                "tags": [],
                "posts": [{
                    "integration": { "id": p.integration_id },
                    "value": values,
                    "settings": pairs(p.settings),
                }],
            })
        })
        .collect()
}

/// The credential's own scope for idempotency keys.
fn key_scope(caller: &Caller) -> String {
    match &caller.credential {
        Credential::ApiKey { id } => format!("mcp:key:{id}"),
        Credential::OAuthToken { id, .. } => format!("mcp:token:{id}"),
    }
}

/// Runs `f` once per `idempotencyKey` (when the arguments carry one) and request.
async fn keyed<F>(
    state: &AppState,
    caller: &Caller,
    name: &str,
    arguments: &Value,
    f: F,
) -> Result<Value, String>
where
    F: std::future::Future<Output = Result<Value, String>>,
{
    let Some(key) = arguments["idempotencyKey"]
        .as_str()
        .filter(|k| !k.is_empty())
    else {
        return f.await;
    };
    let mut request = arguments.clone();
    if let Some(object) = request.as_object_mut() {
        object.remove("idempotencyKey");
    }
    let fingerprint = format!("{name}\n{request}");
    let outcome = idempotency::once(
        state,
        &key_scope(caller),
        key,
        fingerprint.as_bytes(),
        async { f.await.map(|v| v.to_string()) },
    )
    .await
    .map_err(|e| e.to_string())?;
    outcome.map(|stored| serde_json::from_str(&stored).unwrap_or(Value::Null))
}

async fn run(
    state: &web::Data<AppState>,
    caller: &Caller,
    name: &str,
    arguments: Value,
) -> Result<Value, String> {
    let (s, c) = (state.clone(), caller.clone());
    match name {
        "integrationList" => {
            let a: GroupArgs = args(arguments)?;
            let list =
                answered(integrations::list(s, c, query(json!({ "group": a.group }))?).await)
                    .await?;
            Ok(Value::Array(
                list.as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|i| {
                        json!({
                            "id": i["id"],
                            "name": i["name"],
                            "picture": i["picture"],
                            "platform": i["identifier"],
                            "disabled": i["disabled"],
                            "customer": i["customer"],
                        })
                    })
                    .collect(),
            ))
        }
        "groupList" => {
            let _: NoArgs = args(arguments)?;
            answered(integrations::groups(s, c).await).await
        }
        "integrationSchema" => {
            let a: SchemaArgs = args(arguments)?;
            let provider = crate::providers::get(&a.platform)
                .filter(|p| crate::providers::offered(&state.config, *p))
                .ok_or_else(|| {
                    format!(
                        "Unknown platform {:?}: use the platform integrationList gives",
                        a.platform
                    )
                })?;
            Ok(crate::providers::describe(&state.config, provider, &[]))
        }
        "triggerTool" => {
            let a: TriggerArgs = args(arguments)?;
            let body =
                json_body(json!({ "methodName": a.method_name, "data": pairs(a.data_schema) }))?;
            let out = answered(integrations::trigger(s, c, Segment(a.integration_id), body).await)
                .await?;
            Ok(out["output"].clone())
        }
        "integrationSchedulePostTool" => {
            let a: ScheduleArgs = args(arguments.clone())?;
            keyed(state, caller, name, &arguments, async move {
                let mut created = Vec::new();
                for body in create_bodies(a) {
                    let answer =
                        answered(posts::create(s.clone(), c.clone(), web::Json(body)).await)
                            .await?;
                    created.extend(answer.as_array().cloned().unwrap_or_default());
                }
                Ok(Value::Array(created))
            })
            .await
        }
        "validatePostTool" => {
            let a: ScheduleArgs = args(arguments)?;
            let bodies = create_bodies(a);
            let several = bodies.len() > 1;
            let mut errors = Vec::new();
            for (i, body) in bodies.iter().enumerate() {
                let problems = crate::publishing::draft::validate(
                    &state.db,
                    &state.config,
                    &caller.organization_id,
                    body,
                )
                .await
                .map_err(|e| e.to_string())?;
                // Which entry a problem belongs to, when there are several.
                errors.extend(problems.into_iter().map(|p| {
                    if several {
                        format!("socialPost[{i}]: {p}")
                    } else {
                        p
                    }
                }));
            }
            Ok(json!({ "valid": errors.is_empty(), "errors": errors }))
        }
        "postsListTool" => {
            let a: RangeArgs = args(arguments)?;
            let q = query(
                json!({ "startDate": a.start_date, "endDate": a.end_date, "customer": a.customer }),
            )?;
            answered(posts::list(s, c, q).await).await
        }
        "postSettingsTool" => {
            let a: PostSettingsArgs = args(arguments.clone())?;
            keyed(state, caller, name, &arguments, async move {
                let body = json_body(json!({ "settings": pairs(a.settings) }))?;
                answered(posts::set_settings(s, c, Segment(a.id), body).await).await
            })
            .await
        }
        "uploadFromUrlTool" => {
            let a: UrlArgs = args(arguments.clone())?;
            keyed(state, caller, name, &arguments, async move {
                let body = json_body(json!({ "url": a.url }))?;
                answered(media::upload_from_url(s, c, body).await).await
            })
            .await
        }
        "postGetTool" => {
            let a: IdArgs = args(arguments)?;
            answered(posts::get_one(s, c, Segment(a.id)).await).await
        }
        "postUpdateTool" => {
            let a: UpdateArgs = args(arguments.clone())?;
            keyed(state, caller, name, &arguments, async move {
                let current =
                    answered(posts::get_one(s.clone(), c.clone(), Segment(a.id.clone())).await)
                        .await?;
                let mut values: Vec<Value> =
                    current["values"].as_array().cloned().unwrap_or_default();
                let Some(first) = values.first_mut() else {
                    return Err("the post has no content".into());
                };
                if let Some(content) = &a.content {
                    first["content"] = json!(html(content));
                }
                if let Some(list) = &a.attachments {
                    first["image"] = json!(list.iter().map(|u| image(u)).collect::<Vec<_>>());
                }
                let mut body = Map::new();
                body.insert("value".into(), Value::Array(values));
                if let Some(date) = a.date {
                    body.insert("date".into(), json!(date));
                }
                let body = web::Json(Value::Object(body));
                answered(posts::update(s, c, Segment(a.id), body).await).await
            })
            .await
        }
        "postDeleteTool" => {
            let a: IdArgs = args(arguments.clone())?;
            keyed(state, caller, name, &arguments, async move {
                answered(posts::delete(s, c, Segment(a.id)).await).await
            })
            .await
        }
        "postStatusTool" => {
            let a: StatusArgs = args(arguments.clone())?;
            keyed(state, caller, name, &arguments, async move {
                let status = match a.status {
                    Status::Draft => "draft",
                    Status::Schedule => "schedule",
                };
                let body = json_body(json!({ "status": status }))?;
                answered(posts::set_status(s, c, Segment(a.id), body).await).await
            })
            .await
        }
        "findSlotTool" => {
            let a: ChannelArgs = args(arguments)?;
            answered(posts::find_slot(s, c, Segment(a.integration_id)).await).await
        }
        "channelAnalyticsTool" => {
            let a: ChannelAnalyticsArgs = args(arguments)?;
            let q = query(json!({ "date": a.days.unwrap_or(7).to_string() }))?;
            answered(analytics::channel(s, c, Segment(a.integration_id), q).await).await
        }
        "postAnalyticsTool" => {
            let a: PostAnalyticsArgs = args(arguments)?;
            let q = query(json!({ "date": a.days.unwrap_or(7).to_string() }))?;
            answered(analytics::post(s, c, Segment(a.id), q).await).await
        }
        "notificationsListTool" => {
            let a: PageArgs = args(arguments)?;
            let q = query(json!({ "page": a.page.unwrap_or(0).to_string() }))?;
            answered(analytics::list_notifications(s, c, q).await).await
        }
        "channelConnectTool" => {
            let a: ConnectArgs = args(arguments)?;
            let q = query(json!({ "refresh": a.refresh }))?;
            answered(integrations::social(s, c, Segment(a.platform), q).await).await
        }
        "whoamiTool" => {
            let _: NoArgs = args(arguments)?;
            whoami(state, caller).await
        }
        _ => Err(format!("Unknown tool: {name}")),
    }
}

async fn whoami(state: &AppState, caller: &Caller) -> Result<Value, String> {
    let org = caller.organization_id.clone();
    let organization = state
        .db
        .run(move |conn| crate::accounts::users::find_organization(conn, &org))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the organization no longer exists")?;
    let credential = match &caller.credential {
        Credential::ApiKey { .. } => "api_key",
        Credential::OAuthToken { .. } => "oauth_token",
    };
    Ok(json!({
        "organization": { "id": organization.id, "name": organization.name },
        "timezone": "UTC",
        "credential": credential,
        "scopes": caller.scopes.iter().map(Scope::as_str).collect::<Vec<_>>(),
        "limits": {
            "requestsPerMinute": state.config.api_rate,
            "postsPerHour": state.config.api_post_limit,
        },
    }))
}
