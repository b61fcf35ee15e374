//! The docs follow the registry: the README's table of networks and openapi.yaml's lists of
//! network identifiers are held to `providers::ALL`, so adding a network never means editing
//! them by hand. `UPDATE_DOCS=1 cargo test --test api registry` rewrites the README's table.

use serde_yaml_ng::Value;
use socialgate::providers::{ALL, AuthKind, ProviderInfo};

/// Networks compiled only into the test suite (the `network-sketch` feature).
const TEST_ONLY: &[&str] = &["sketch"];

fn documented() -> Vec<&'static ProviderInfo> {
    ALL.iter()
        .map(|p| p.info())
        .filter(|i| !TEST_ONLY.contains(&i.identifier))
        .collect()
}

fn needs(info: &ProviderInfo) -> String {
    if info.builtin {
        return "Nothing. Offered unless `SOCIALGATE_SANDBOX=false` (or instance-wide credentials are in use)".into();
    }
    if !info.needs_app_credentials {
        return match info.auth {
            AuthKind::Credentials => "Nothing (the account's own credentials, in the form)".into(),
            _ => "Nothing".into(),
        };
    }
    let mut fields = vec!["Client ID", "Client Secret"];
    if info.has_instance_url {
        fields.push("Instance URL");
    }
    format!(
        "The organization's {} app: {} (\"{} API credentials are not configured\" until then)",
        info.name,
        fields.join(", "),
        info.name
    )
}

fn environment(info: &ProviderInfo) -> String {
    match info.env {
        None => "—".into(),
        Some(env) => [
            Some(env.client_id),
            Some(env.client_secret),
            env.instance_url,
        ]
        .into_iter()
        .flatten()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", "),
    }
}

fn table() -> String {
    let mut out = String::from(
        "| Network | How it connects | What it needs | Instance-wide credentials |\n| --- | --- | --- | --- |\n",
    );
    for info in documented() {
        out.push_str(&format!(
            "| `{}` ({}) | {} | {} | {} |\n",
            info.identifier,
            info.name,
            info.summary,
            needs(info),
            environment(info)
        ));
    }
    out
}

#[test]
fn the_readme_lists_every_network_of_the_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let start = readme
        .find("<!-- networks:")
        .expect("the README marks its table");
    let start = start + readme[start..].find("-->\n").unwrap() + 4;
    let end = readme.find("<!-- /networks -->").unwrap();
    let expected = table();
    if readme[start..end] != expected {
        if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
            std::fs::write(
                path,
                format!("{}{expected}{}", &readme[..start], &readme[end..]),
            )
            .unwrap();
            return;
        }
        panic!(
            "README's table of networks is not the registry's; rerun with UPDATE_DOCS=1.\nExpected:\n{expected}\nFound:\n{}",
            &readme[start..end]
        );
    }
    for info in documented() {
        assert!(
            !info.summary.is_empty(),
            "{} has no summary",
            info.identifier
        );
    }
}

#[test]
fn openapi_lists_every_network_of_the_registry() {
    let spec: Value =
        serde_yaml_ng::from_str(include_str!("../../openapi.yaml")).expect("openapi.yaml parses");
    let ids: Vec<Value> = documented()
        .iter()
        .map(|i| Value::String(i.identifier.into()))
        .collect();
    let parameters = spec["paths"]["/public/v1/social/{provider}"]["get"]["parameters"]
        .as_sequence()
        .unwrap();
    let provider = parameters.iter().find(|p| p["name"] == "provider").unwrap();
    assert_eq!(
        provider["schema"]["enum"].as_sequence().unwrap(),
        &ids,
        "GET /public/v1/social/{{provider}}"
    );
    assert_eq!(
        spec["components"]["schemas"]["Integration"]["properties"]["identifier"]["enum"]
            .as_sequence()
            .unwrap(),
        &ids,
        "Integration.identifier"
    );
}
