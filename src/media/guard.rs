//! Fetching a URL someone else chose without reaching our own network: https only, every
//! address of the host checked, the connection pinned to a checked address, every redirect
//! checked again, with time and size limits.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Why a URL was not fetched.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FetchError {
    #[error("only https URLs can be fetched")]
    NotHttps,
    #[error("the URL is not valid")]
    BadUrl,
    #[error("the address {0} is not public")]
    Forbidden(IpAddr),
    #[error("the host could not be resolved")]
    Unresolved,
    #[error("too many redirects")]
    TooManyRedirects,
    #[error("the server answered {0}")]
    Status(u16),
    #[error("the file is too large")]
    TooLarge,
    #[error("the request failed: {0}")]
    Failed(String),
}

/// Whether an address is on the public internet (not loopback, private, link-local, CGNAT,
/// unique-local, multicast, documentation or otherwise reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated)
                || s[0] == 0x2001 && s[1] == 0x0db8 // documentation
                || s[0] == 0x0064 && s[1] == 0xff9b // NAT64 (could reach IPv4 inside)
                || s[0] == 0x2002 // 6to4 embeds an IPv4 address
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0)) // IPv4-compatible
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240) // reserved
}

/// What a fetch may do.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_bytes: u64,
    pub timeout: Duration,
    /// `host:port` pairs the operator trusts (e.g. an internal CDN): http allowed, no address check.
    pub trusted: Vec<String>,
}

/// A fetched body and its declared type.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub final_url: url::Url,
}

fn trusted(url: &url::Url, limits: &Limits) -> bool {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return false;
    };
    let entry = format!("{host}:{port}");
    limits
        .trusted
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&entry))
}

/// Resolves the URL's host and returns one checked public address to connect to.
async fn checked_address(
    url: &url::Url,
    limits: &Limits,
) -> Result<Option<SocketAddr>, FetchError> {
    if trusted(url, limits) {
        return Ok(None);
    }
    if url.scheme() != "https" {
        return Err(FetchError::NotHttps);
    }
    let host = url.host_str().ok_or(FetchError::BadUrl)?;
    let port = url.port_or_known_default().ok_or(FetchError::BadUrl)?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        _ => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| FetchError::Unresolved)?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(FetchError::Unresolved);
    }
    // Every address must be public, or DNS could hand a different one to the connection.
    if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(FetchError::Forbidden(bad.ip()));
    }
    Ok(Some(addrs[0]))
}

/// A client that may only reach the checked address of `url` (no redirects followed).
pub async fn pinned_client(url: &url::Url, limits: &Limits) -> Result<reqwest::Client, FetchError> {
    let pinned = checked_address(url, limits).await?;
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(limits.timeout)
        .user_agent(concat!("socialgate/", env!("CARGO_PKG_VERSION")));
    if let (Some(addr), Some(host)) = (pinned, url.host_str()) {
        // The connection goes to the address that was checked, not to a second lookup.
        builder = builder.resolve(host, addr);
    }
    builder
        .build()
        .map_err(|e| FetchError::Failed(e.to_string()))
}

/// Whether a URL may be called at all: https on public addresses, or a trusted host.
pub async fn check_url(url: &str, limits: &Limits) -> Result<url::Url, FetchError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| FetchError::BadUrl)?;
    checked_address(&parsed, limits).await?;
    Ok(parsed)
}

/// GETs `url` (following at most 3 redirects, each checked) and reads at most `max_bytes`.
pub async fn fetch(url: &str, limits: &Limits) -> Result<Fetched, FetchError> {
    let mut url = url::Url::parse(url.trim()).map_err(|_| FetchError::BadUrl)?;
    let deadline = tokio::time::Instant::now() + limits.timeout;
    for _ in 0..=3 {
        let client = pinned_client(&url, limits).await?;
        let mut response = tokio::time::timeout_at(deadline, client.get(url.clone()).send())
            .await
            .map_err(|_| FetchError::Failed("timed out".into()))?
            .map_err(|e| FetchError::Failed(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or(FetchError::Status(status.as_u16()))?;
            url = url.join(location).map_err(|_| FetchError::BadUrl)?;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|n| n > limits.max_bytes)
        {
            return Err(FetchError::TooLarge);
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned());
        let mut bytes = Vec::new();
        loop {
            let chunk = tokio::time::timeout_at(deadline, response.chunk())
                .await
                .map_err(|_| FetchError::Failed("timed out".into()))?
                .map_err(|e| FetchError::Failed(e.without_url().to_string()))?;
            let Some(chunk) = chunk else { break };
            if bytes.len() as u64 + chunk.len() as u64 > limits.max_bytes {
                return Err(FetchError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Fetched {
            bytes,
            content_type,
            final_url: url,
        });
    }
    Err(FetchError::TooManyRedirects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "::127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
