//! Percent-encoding (RFC 3986): every byte outside the unreserved set, as OAuth 1.0a signing
//! and `next=` links need. Query strings of requests are built with `url::Url` instead.

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_everything_but_unreserved_characters() {
        assert_eq!(
            super::url_encode("/settings?a=b c"),
            "%2Fsettings%3Fa%3Db%20c"
        );
        assert_eq!(super::url_encode("a-b._~é"), "a-b._~%C3%A9");
    }
}
