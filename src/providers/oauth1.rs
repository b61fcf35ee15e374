//! OAuth 1.0a request signing (HMAC-SHA1, RFC 5849), as X's three-legged flow and API need.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::crypto::random_alphanumeric;
use crate::percent::url_encode;

/// The consumer (app) and, once known, the token that sign a request.
pub struct Signer<'a> {
    pub consumer_key: &'a str,
    pub consumer_secret: &'a str,
    pub token: Option<&'a str>,
    pub token_secret: Option<&'a str>,
}

impl<'a> Signer<'a> {
    /// The app's signer, with the token once there is one.
    pub fn new(
        app: &'a super::AppCredentials,
        token: Option<&'a str>,
        token_secret: Option<&'a str>,
    ) -> Self {
        Signer {
            consumer_key: &app.client_id,
            consumer_secret: &app.client_secret,
            token,
            token_secret,
        }
    }

    /// The `Authorization` header for a request. `url` carries no query; `params` are the query
    /// and form-body parameters (a JSON or multipart body is not signed); `extra` are protocol
    /// parameters such as `oauth_callback` or `oauth_verifier`.
    pub fn header(
        &self,
        method: &str,
        url: &str,
        params: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> String {
        let nonce = random_alphanumeric(32);
        let timestamp = chrono::Utc::now().timestamp().to_string();
        self.header_with(method, url, params, extra, &nonce, &timestamp)
    }

    fn header_with(
        &self,
        method: &str,
        url: &str,
        params: &[(&str, &str)],
        extra: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> String {
        let mut oauth: Vec<(&str, &str)> = vec![
            ("oauth_consumer_key", self.consumer_key),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", timestamp),
            ("oauth_version", "1.0"),
        ];
        if let Some(token) = self.token {
            oauth.push(("oauth_token", token));
        }
        oauth.extend_from_slice(extra);
        let signature = self.signature(method, url, params, &oauth);
        let mut parts: Vec<String> = oauth
            .iter()
            .map(|(k, v)| format!("{}=\"{}\"", url_encode(k), url_encode(v)))
            .collect();
        parts.push(format!("oauth_signature=\"{}\"", url_encode(&signature)));
        parts.sort();
        format!("OAuth {}", parts.join(", "))
    }

    fn signature(
        &self,
        method: &str,
        url: &str,
        params: &[(&str, &str)],
        oauth: &[(&str, &str)],
    ) -> String {
        let mut all: Vec<(String, String)> = params
            .iter()
            .chain(oauth)
            .map(|(k, v)| (url_encode(k), url_encode(v)))
            .collect();
        all.sort();
        let normalized = all
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let base = format!(
            "{}&{}&{}",
            method.to_ascii_uppercase(),
            url_encode(url),
            url_encode(&normalized)
        );
        let key = format!(
            "{}&{}",
            url_encode(self.consumer_secret),
            url_encode(self.token_secret.unwrap_or(""))
        );
        let mut mac =
            Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        mac.update(base.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// Reads a form-encoded answer such as `oauth_token=…&oauth_token_secret=…`.
pub fn parse_form(body: &str) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of X's "Creating a signature" documentation.
    #[test]
    fn matches_the_documented_example() {
        let signer = Signer {
            consumer_key: "xvz1evFS4wEEPTGEFPHBog",
            consumer_secret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            token: Some("370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
            token_secret: Some("LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"),
        };
        let header = signer.header_with(
            "POST",
            "https://api.twitter.com/1.1/statuses/update.json",
            &[
                ("include_entities", "true"),
                (
                    "status",
                    "Hello Ladies + Gentlemen, a signed OAuth request!",
                ),
            ],
            &[],
            "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
            "1318622958",
        );
        assert!(
            header.contains("oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\""),
            "{header}"
        );
        assert!(header.starts_with("OAuth "));
    }
}
