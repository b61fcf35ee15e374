//! Redirect URIs: what may be registered, how a requested one is matched, and how the answer
//! is appended to it.

use url::Url;

/// Why a redirect URI cannot be registered.
pub fn check_registrable(uri: &str) -> Result<(), String> {
    let uri = uri.trim();
    if uri.is_empty() {
        return Err("a redirect URL is empty".into());
    }
    if uri.contains('*') {
        return Err(format!("{uri}: wildcards are not allowed"));
    }
    if uri.contains('#') {
        return Err(format!("{uri}: a fragment (#…) is not allowed"));
    }
    let parsed = Url::parse(uri).map_err(|_| format!("{uri}: not an absolute URL"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{uri}: user information (user@host) is not allowed"
        ));
    }
    match parsed.scheme() {
        "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(format!(
            "{uri}: http is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https"
        )),
        other => Err(format!(
            "{uri}: the scheme {other}: is not allowed; use https"
        )),
    }
}

/// What a self-registering client may register: what a developer may, plus the private-use
/// schemes of native apps (RFC 8252 §7.1, `cursor://…`), matched exactly like any other.
pub fn check_dynamic(uri: &str) -> Result<(), String> {
    let parsed = Url::parse(uri.trim()).map_err(|_| format!("{uri}: not an absolute URL"))?;
    match parsed.scheme() {
        "http" | "https" => check_registrable(uri),
        "javascript" | "data" | "file" | "vbscript" | "about" | "blob" | "ftp" | "ws" | "wss" => {
            Err(format!(
                "{uri}: the scheme {}: is not allowed",
                parsed.scheme()
            ))
        }
        _ if uri.contains('#') => Err(format!("{uri}: a fragment (#…) is not allowed")),
        _ if !parsed.username().is_empty() || parsed.password().is_some() => Err(format!(
            "{uri}: user information (user@host) is not allowed"
        )),
        _ => Ok(()),
    }
}

fn is_loopback(url: &Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))
}

/// Whether `requested` is the registered URI: the exact string, or for an http loopback
/// registration the same URI on any port (RFC 8252 §7.3).
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(reg), Ok(req)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    reg.scheme() == "http"
        && req.scheme() == "http"
        && is_loopback(&reg)
        && reg.host_str() == req.host_str()
        && req.username().is_empty()
        && req.password().is_none()
        && reg.path() == req.path()
        && reg.query() == req.query()
        && req.fragment().is_none()
        // The requested string must be what the parsed form says (no tricks the parser hides).
        && requested == req.as_str()
}

/// The redirect URI with parameters appended, keeping any query it already has.
pub fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&crate::percent::url_encode(v));
        sep = '&';
    }
    out
}

/// The host the consent screen names.
pub fn host_of(uri: &str) -> String {
    Url::parse(uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| uri.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        assert!(check_registrable("https://app.example/cb").is_ok());
        assert!(check_registrable("https://app.example/cb?tenant=1").is_ok());
        assert!(check_registrable("http://127.0.0.1/cb").is_ok());
        assert!(check_registrable("http://localhost:8000/cb").is_ok());
        for bad in [
            "http://app.example/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://app.example/cb#f",
            "https://*.example/cb",
            "https://user@app.example/cb",
            "myapp://cb",
            "/relative",
            "",
        ] {
            assert!(check_registrable(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact_except_loopback_ports() {
        let reg = "https://app.example/cb";
        assert!(matches(reg, reg));
        for bad in [
            "https://app.example/cb/",
            "https://app.example/CB",
            "https://app.example/cb?x=1",
            "https://app.example/cb#f",
            "https://app.example/cb%2F..",
            "https://APP.example/cb",
            "https://app.example:443/cb",
            "https://app.example.evil/cb",
            "https://app.example@evil/cb",
            "https://evil/?https://app.example/cb",
        ] {
            assert!(!matches(reg, bad), "{bad}");
        }
        let loopback = "http://127.0.0.1/cb";
        assert!(matches(loopback, "http://127.0.0.1:54321/cb"));
        assert!(!matches(loopback, "http://127.0.0.1:54321/other"));
        assert!(!matches(loopback, "http://attacker@127.0.0.1:5/cb"));
        assert!(!matches(loopback, "http://localhost:5/cb"));
        assert!(!matches(
            "https://127.0.0.1/cb",
            "https://127.0.0.1:8443/cb"
        ));
    }

    #[test]
    fn params_are_appended_to_an_existing_query() {
        assert_eq!(
            with_params(
                "https://app.example/cb?tenant=1",
                &[("code", "abc"), ("state", "a b&c")]
            ),
            "https://app.example/cb?tenant=1&code=abc&state=a%20b%26c"
        );
        assert_eq!(
            with_params("https://a.example/cb", &[("error", "access_denied")]),
            "https://a.example/cb?error=access_denied"
        );
    }
}
