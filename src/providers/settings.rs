//! A network's post settings, defined once as a typed struct
//! (`#[derive(Deserialize, JsonSchema)]`): the JSON schema `integration-settings` serves, the
//! check `POST /posts` runs and the values `publish` reads all come from that one definition.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The schema and the check of one network's settings, as plain functions so a
/// `ProviderInfo` can hold them in a `static`.
#[derive(Clone, Copy)]
pub struct SettingsSpec {
    pub schema: fn() -> Value,
    pub check: fn(&Value) -> Result<(), String>,
}

impl std::fmt::Debug for SettingsSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SettingsSpec")
    }
}

impl SettingsSpec {
    /// A network without settings: any object is accepted.
    pub const ANY: SettingsSpec = SettingsSpec {
        schema: any_schema,
        check: any_object,
    };

    /// The JSON schema clients are shown.
    pub fn json_schema(&self) -> Value {
        (self.schema)()
    }

    /// Checks a post's settings; the error names the field.
    pub fn validate(&self, settings: &Value) -> Result<(), String> {
        (self.check)(settings)
    }

    /// The settings of type `T`.
    pub const fn of<T: DeserializeOwned + JsonSchema>() -> SettingsSpec {
        SettingsSpec {
            schema: schema::<T>,
            check: check::<T>,
        }
    }
}

fn any_schema() -> Value {
    json!({ "type": "object", "properties": {}, "additionalProperties": true })
}

fn any_object(settings: &Value) -> Result<(), String> {
    match settings {
        Value::Object(_) | Value::Null => Ok(()),
        _ => Err("settings must be an object".into()),
    }
}

/// `T`'s JSON schema with every sub-schema inline (clients read `properties.x.enum` directly).
pub fn schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    schema
}

fn check<T: DeserializeOwned>(settings: &Value) -> Result<(), String> {
    parse::<T>(settings).map(drop)
}

/// Reads settings as `T`. Keys `T` does not name (such as Postiz's `__type`) are ignored; a
/// wrong value is named by its path: `who_can_reply_post: unknown variant …`.
pub fn parse<T: DeserializeOwned>(settings: &Value) -> Result<T, String> {
    let value = match settings {
        Value::Null => json!({}),
        other => other.clone(),
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path.is_empty() || path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// A tag as the editor sends it (`{value, label}`); the value is what networks take.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Tag {
    pub value: String,
    #[allow(
        dead_code,
        reason = "part of Postiz's shape; the value is what networks take"
    )]
    #[serde(default)]
    label: String,
}

/// An optional `http(s)` URL setting (an empty string means none).
pub fn http_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?.unwrap_or_default();
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
            Ok(Some(value.to_owned()))
        }
        _ => Err(serde::de::Error::custom(format!(
            "{value:?} is not an http(s) URL"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    enum Audience {
        Everyone,
        Friends,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)] // read through the schema and the check only
    struct Sample {
        #[serde(default)]
        audience: Option<Audience>,
        #[serde(default)]
        title: String,
    }

    #[test]
    fn one_definition_gives_the_schema_and_the_check() {
        let spec = SettingsSpec::of::<Sample>();
        let schema = (spec.schema)();
        assert_eq!(schema["properties"]["audience"]["enum"][1], "friends");
        assert_eq!(schema["properties"]["title"]["type"], "string");
        assert!((spec.check)(&json!({ "audience": "friends", "__type": "x" })).is_ok());
        assert!((spec.check)(&Value::Null).is_ok());
        let error = (spec.check)(&json!({ "audience": "nobody" })).unwrap_err();
        assert!(
            error.starts_with("audience: unknown variant `nobody`"),
            "{error}"
        );
        assert!(
            (spec.check)(&json!({ "title": 3 }))
                .unwrap_err()
                .starts_with("title:")
        );
    }
}
