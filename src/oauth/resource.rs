//! Resource indicators (RFC 8707): a client may bind its token to the MCP endpoint or to the
//! Public API; the token is then accepted only there. A token minted without one works on both
//! (Postiz's flow).

use url::Url;

/// The paths under the public URL a token can be bound to.
pub const PATHS: [&str; 2] = ["/mcp", "/public/v1"];

/// The resource URL of `path` on this server (`{PUBLIC_URL}/mcp`).
pub fn url(public_url: &str, path: &str) -> String {
    format!("{}{path}", public_url.trim_end_matches('/'))
}

/// The canonical form of a resource the client named, when it is one of ours. Scheme and host
/// compare without case and a trailing slash is ignored (RFC 8707 §2, MCP's canonical URI).
pub fn canonical(public_url: &str, value: &str) -> Option<String> {
    let normal = |s: &str| -> Option<String> {
        let u = Url::parse(s).ok()?;
        if u.fragment().is_some() || u.query().is_some() || !u.username().is_empty() {
            return None;
        }
        Some(u.as_str().trim_end_matches('/').to_owned())
    };
    let given = normal(value)?;
    PATHS
        .iter()
        .map(|p| url(public_url, p))
        .find(|ours| normal(ours).as_deref() == Some(given.as_str()))
}

/// Why a `resource` was refused, naming what is accepted.
pub fn refusal(public_url: &str) -> String {
    format!(
        "resource must be {} or {}",
        url(public_url, PATHS[0]),
        url(public_url, PATHS[1])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_two_resources_in_their_spellings() {
        let base = "https://sg.example";
        let mcp = Some("https://sg.example/mcp".to_owned());
        assert_eq!(canonical(base, "https://sg.example/mcp"), mcp);
        assert_eq!(canonical(base, "HTTPS://SG.example/mcp/"), mcp);
        assert_eq!(
            canonical(base, "https://sg.example/public/v1"),
            Some("https://sg.example/public/v1".to_owned())
        );
        for other in [
            "https://sg.example",
            "https://sg.example/mcp#x",
            "https://sg.example/mcp?a=1",
            "https://evil.example/mcp",
            "http://sg.example/mcp",
            "not a url",
        ] {
            assert_eq!(canonical(base, other), None, "{other}");
        }
    }
}
