//! A post's medium as a network uploads it: read from storage in chunks (local disk, the S3
//! bucket, or a fetched URL spooled to a temporary file), never held whole in memory unless a
//! network asks for the bytes, with its kind, type and file name.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::http::transport_error;
use super::{Ctx, ProviderError, Result};
use crate::media::guard::{self, FetchError};

/// Image, video or (PDF) document, decided from the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Document,
}

/// One medium, ready to be sent.
#[derive(Debug)]
pub struct Medium {
    file: PathBuf,
    /// Whether `file` is ours to delete when done (a download), not an upload in storage.
    spooled: bool,
    pub len: u64,
    pub mime: &'static str,
    pub kind: MediaKind,
    pub file_name: String,
    /// Where it came from, for messages.
    pub source: String,
}

impl Drop for Medium {
    fn drop(&mut self) {
        if self.spooled {
            let _ = std::fs::remove_file(&self.file);
        }
    }
}

fn unreadable(path: &str, e: impl std::fmt::Display) -> ProviderError {
    ProviderError::BadBody(format!("the media {path} is not readable: {e}"))
}

impl Medium {
    /// Opens a post's medium: our own upload on disk or in the bucket, or a URL fetched through
    /// the SSRF guard (https, public addresses, or `SOCIALGATE_FETCH_TRUSTED_HOSTS`).
    pub async fn open(ctx: &Ctx<'_>, path: &str) -> Result<Medium> {
        let (file, spooled) = match crate::media::storage::local_file(ctx.config, path) {
            Some(file) => (file, false),
            None => (spool(ctx, path).await?, true),
        };
        let mut medium = Medium {
            file,
            spooled,
            len: 0,
            mime: "application/octet-stream",
            kind: MediaKind::Image,
            file_name: path
                .split(['?', '#'])
                .next()
                .and_then(|p| p.rsplit('/').next())
                .filter(|n| !n.is_empty())
                .unwrap_or("media")
                .to_owned(),
            source: path.to_owned(),
        };
        let mut head = [0u8; 64];
        let mut f = tokio::fs::File::open(&medium.file)
            .await
            .map_err(|e| unreadable(path, e))?;
        medium.len = f.metadata().await.map_err(|e| unreadable(path, e))?.len();
        let n = read_full(&mut f, &mut head)
            .await
            .map_err(|e| unreadable(path, e))?;
        medium.mime = crate::media::sniff(&head[..n]).ok_or_else(|| {
            ProviderError::BadBody(format!(
                "the media {path} is not a supported image, video or PDF document"
            ))
        })?;
        medium.kind = match medium.mime {
            "application/pdf" => MediaKind::Document,
            video if video.starts_with("video/") => MediaKind::Video,
            _ => MediaKind::Image,
        };
        Ok(medium)
    }

    /// The whole medium in memory (for networks that take small images in one body).
    pub async fn bytes(&self) -> Result<Vec<u8>> {
        tokio::fs::read(&self.file)
            .await
            .map_err(|e| unreadable(&self.source, e))
    }

    /// The medium as a streamed request body.
    pub async fn body(&self) -> Result<reqwest::Body> {
        let file = tokio::fs::File::open(&self.file)
            .await
            .map_err(|e| unreadable(&self.source, e))?;
        Ok(reqwest::Body::wrap_stream(
            tokio_util::io::ReaderStream::new(file),
        ))
    }

    /// A multipart part with the medium streamed, its file name and type.
    pub async fn part(&self) -> Result<reqwest::multipart::Part> {
        reqwest::multipart::Part::stream_with_length(self.body().await?, self.len)
            .file_name(self.file_name.clone())
            .mime_str(self.mime)
            .map_err(transport_error)
    }

    /// The file, read from `offset` on.
    async fn open_at(&self, offset: u64) -> Result<tokio::fs::File> {
        use tokio::io::AsyncSeekExt;
        let mut file = tokio::fs::File::open(&self.file)
            .await
            .map_err(|e| unreadable(&self.source, e))?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(|e| unreadable(&self.source, e))?;
        Ok(file)
    }

    /// `len` bytes from `offset` (fewer at the end): a resumed upload starts where the
    /// platform says it stopped.
    pub async fn chunk_at(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut file = self.open_at(offset).await?;
        let mut buffer = vec![0u8; len];
        let n = read_full(&mut file, &mut buffer)
            .await
            .map_err(|e| unreadable(&self.source, e))?;
        buffer.truncate(n);
        Ok(buffer)
    }

    /// `len` bytes from `offset` as a streamed request body (a chunk of an upload, read from
    /// storage as it is sent).
    pub async fn range_body(&self, offset: u64, len: u64) -> Result<reqwest::Body> {
        let file = self.open_at(offset).await?;
        Ok(reqwest::Body::wrap_stream(
            tokio_util::io::ReaderStream::new(file.take(len)),
        ))
    }

    /// A video's duration in seconds, from its MP4 (or QuickTime) `moov/mvhd` box, wherever in
    /// the file the box is; `None` when the file does not say.
    pub async fn duration(&self) -> Option<f64> {
        let mut at = 0u64;
        // The top-level boxes, read by their headers only, until `moov`.
        while at + 8 <= self.len {
            let head = self.chunk_at(at, 16).await.ok()?;
            let (size, kind) = box_header(&head)?;
            if kind == *b"moov" {
                let moov = self
                    .chunk_at(at, size.min(64 * 1024 * 1024) as usize)
                    .await
                    .ok()?;
                return mvhd_duration(&moov[header_len(&head)?..]);
            }
            // A size smaller than a header is not MP4: no duration to read.
            if size < 8 {
                return None;
            }
            at = at.checked_add(size)?;
        }
        None
    }

    /// Reads the medium `size` bytes at a time (the last chunk may be shorter).
    pub async fn chunks(&self, size: usize) -> Result<Chunks> {
        let file = tokio::fs::File::open(&self.file)
            .await
            .map_err(|e| unreadable(&self.source, e))?;
        Ok(Chunks {
            file,
            size: size.max(1),
            index: 0,
            source: self.source.clone(),
        })
    }
}

/// The address a platform can fetch an image from in one of the `accepted` types: the image's
/// own, or, for a PNG, that of a JPEG copy made and kept in storage beside the uploads.
pub async fn url_accepted(ctx: &Ctx<'_>, path: &str, accepted: &[&str]) -> Result<String> {
    let image = Medium::open(ctx, path).await?;
    if accepted.contains(&image.mime) {
        return Ok(path.to_owned());
    }
    if image.mime != "image/png" || !accepted.contains(&"image/jpeg") {
        return Err(ProviderError::BadBody(format!(
            "{} is {}; this network takes {}",
            image.file_name,
            image.mime,
            accepted.join(", ")
        )));
    }
    let png = image.bytes().await?;
    let jpeg = tokio::task::spawn_blocking(move || crate::media::jpeg_from_png(&png))
        .await
        .map_err(|e| ProviderError::BadBody(e.to_string()))?
        .map_err(ProviderError::BadBody)?;
    let stored = async {
        let mut copy = crate::media::storage::Incoming::create(ctx.config).await?;
        copy.write(&jpeg).await?;
        copy.keep(ctx.store, "jpg").await
    };
    let (key, _) = stored
        .await
        .map_err(|e| ProviderError::retry(format!("the JPEG copy could not be stored: {e}")))?;
    Ok(ctx.store.url(ctx.config, &key))
}

/// An MP4 box's size (the whole box, header included) and type.
fn box_header(head: &[u8]) -> Option<(u64, [u8; 4])> {
    let size = u32::from_be_bytes(head.get(0..4)?.try_into().ok()?);
    let kind: [u8; 4] = head.get(4..8)?.try_into().ok()?;
    let size = match size {
        1 => u64::from_be_bytes(head.get(8..16)?.try_into().ok()?),
        n => u64::from(n),
    };
    Some((size, kind))
}

fn header_len(head: &[u8]) -> Option<usize> {
    Some(
        if u32::from_be_bytes(head.get(0..4)?.try_into().ok()?) == 1 {
            16
        } else {
            8
        },
    )
}

/// The duration `mvhd` states, among the boxes of `moov`'s body.
fn mvhd_duration(mut boxes: &[u8]) -> Option<f64> {
    while boxes.len() >= 8 {
        let (size, kind) = box_header(boxes)?;
        let start = header_len(boxes)?;
        let body = boxes.get(start..usize::try_from(size).ok()?.min(boxes.len()))?;
        if kind == *b"mvhd" {
            // Version 1: 64-bit times; version 0: 32-bit.
            let (timescale, duration) = if body.first()? == &1 {
                (
                    u32::from_be_bytes(body.get(20..24)?.try_into().ok()?),
                    u64::from_be_bytes(body.get(24..32)?.try_into().ok()?),
                )
            } else {
                (
                    u32::from_be_bytes(body.get(12..16)?.try_into().ok()?),
                    u64::from(u32::from_be_bytes(body.get(16..20)?.try_into().ok()?)),
                )
            };
            return (timescale > 0).then(|| duration as f64 / f64::from(timescale));
        }
        boxes = boxes.get(usize::try_from(size).ok().filter(|s| *s >= 8)?..)?;
    }
    None
}

/// Sequential chunks of a medium.
pub struct Chunks {
    file: tokio::fs::File,
    size: usize,
    index: usize,
    source: String,
}

impl Chunks {
    /// The next `len` bytes (fewer only at the end), whatever the chunk size.
    pub async fn take(&mut self, len: usize) -> Result<Vec<u8>> {
        let mut buffer = vec![0u8; len];
        let n = read_full(&mut self.file, &mut buffer)
            .await
            .map_err(|e| unreadable(&self.source, e))?;
        buffer.truncate(n);
        Ok(buffer)
    }

    /// The next chunk and its index, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<(usize, Vec<u8>)>> {
        let mut buffer = vec![0u8; self.size];
        let n = read_full(&mut self.file, &mut buffer)
            .await
            .map_err(|e| unreadable(&self.source, e))?;
        if n == 0 {
            return Ok(None);
        }
        buffer.truncate(n);
        let index = self.index;
        self.index += 1;
        Ok(Some((index, buffer)))
    }
}

async fn read_full(file: &mut tokio::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let n = file.read(&mut buffer[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// A temporary file under the data directory for a medium that is not on our disk.
fn spool_path(ctx: &Ctx<'_>) -> PathBuf {
    ctx.config
        .data_dir
        .join("uploads")
        .join("incoming")
        .join(format!("out-{}", crate::crypto::random_alphanumeric(24)))
}

async fn spool(ctx: &Ctx<'_>, path: &str) -> Result<PathBuf> {
    let dest = spool_path(ctx);
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| unreadable(path, e))?;
    }
    let written = match ctx.store.bucket_key(path) {
        Some(key) => ctx
            .store
            .download(key, &dest)
            .await
            .map(drop)
            .map_err(|e| ProviderError::retry(format!("could not read the media {path}: {e}"))),
        None => fetch_to(ctx, path, &dest).await,
    };
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&dest).await;
        return Err(e);
    }
    Ok(dest)
}

async fn fetch_to(ctx: &Ctx<'_>, path: &str, dest: &Path) -> Result<()> {
    let limits = guard::Limits {
        max_bytes: 1024 * 1024 * 1024,
        timeout: Duration::from_secs(120),
        trusted: ctx.config.fetch_trusted.clone(),
    };
    let fetched = guard::fetch(path, &limits).await.map_err(|e| match e {
        FetchError::Failed(_) | FetchError::Status(500..) => {
            ProviderError::retry(format!("could not fetch the media {path}: {e}"))
        }
        other => ProviderError::BadBody(format!("could not fetch the media {path}: {other}")),
    })?;
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| unreadable(path, e))?;
    file.write_all(&fetched.bytes)
        .await
        .map_err(|e| unreadable(path, e))?;
    file.flush().await.map_err(|e| unreadable(path, e))
}

/// Whether a host can be reached from the internet, as far as its name tells: loopback,
/// private, link-local and `localhost`/`.local`/`.internal` names cannot.
fn reachable_from_internet(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => guard::is_public(std::net::IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => guard::is_public(std::net::IpAddr::V6(*ip)),
        url::Host::Domain(name) => {
            let name = name.to_ascii_lowercase();
            !(name == "localhost"
                || name.ends_with(".localhost")
                || name.ends_with(".local")
                || name.ends_with(".internal")
                || !name.contains('.'))
        }
    }
}

/// Why networks that fetch media themselves cannot reach `base` (our public URL or the
/// bucket's), naming them: `base` is not reachable from the internet.
pub fn unreachable_by(names: &[&str], base: &str) -> Option<String> {
    let url = url::Url::parse(base).ok()?;
    if names.is_empty() || reachable_from_internet(&url.host()?) {
        return None;
    }
    let (they, verb) = match names {
        [one] => ((*one).to_owned(), "fetches"),
        [rest @ .., last] => (format!("{} and {last}", rest.join(", ")), "fetch"),
        [] => return None,
    };
    let reach = if names.len() == 1 {
        they.clone()
    } else {
        "they".to_owned()
    };
    Some(format!(
        "{they} {verb} media from socialgate's public address, and {} cannot be reached from \
         the internet: set SOCIALGATE_PUBLIC_URL (or SOCIALGATE_S3_PUBLIC_URL) to an address {reach} can reach",
        url.host_str().unwrap_or(base)
    ))
}

/// Whether this network fetches media itself and the platform is not sent to a local address
/// by `SOCIALGATE_PROVIDER_HOSTS` (a local fake can reach local media).
pub fn fetches_from_outside(config: &crate::config::Config, info: &super::ProviderInfo) -> bool {
    info.fetches_media && !platform_is_local(config, info)
}

/// Whether `SOCIALGATE_PROVIDER_HOSTS` sends the platform to a local address.
fn platform_is_local(config: &crate::config::Config, info: &super::ProviderInfo) -> bool {
    url::Url::parse(info.api_base)
        .ok()
        .and_then(|api| {
            let host = api.host_str()?.to_owned();
            config.providers.hosts.base_for(&host).cloned()
        })
        .and_then(|base| base.host().map(|h| !reachable_from_internet(&h)))
        .unwrap_or(false)
}

/// Whether the platform can fetch `url` itself (else a network that can sends the bytes).
pub fn can_fetch(config: &crate::config::Config, info: &super::ProviderInfo, url: &str) -> bool {
    platform_is_local(config, info) || unreachable_by(&[info.name], url).is_none()
}

/// Why a network that fetches media itself cannot fetch from `base`, if it cannot.
pub fn unreachable_media(
    config: &crate::config::Config,
    info: &super::ProviderInfo,
    base: &str,
) -> Option<String> {
    if !fetches_from_outside(config, info) {
        return None;
    }
    unreachable_by(&[info.name], base)
}

/// The media base URL of this installation: the bucket's public URL, or our own.
pub fn media_base(config: &crate::config::Config) -> &str {
    config
        .s3
        .as_ref()
        .map_or(config.public_url.as_str(), |s3| s3.public_url.as_str())
}

/// Before a network fetches `path` itself: refuse, with a reason people understand, a URL the
/// platform cannot reach.
pub fn check_fetchable(ctx: &Ctx<'_>, info: &super::ProviderInfo, path: &str) -> Result<()> {
    match unreachable_media(ctx.config, info, path) {
        Some(reason) => Err(ProviderError::BadBody(reason)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An MP4 with `moov` after `mdat`, as cameras write it: `mvhd` version 0 or 1.
    pub(crate) fn mp4_lasting(seconds: u32, version: u8) -> Vec<u8> {
        let mut file = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
        file.extend_from_slice(&1008u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend(std::iter::repeat_n(7u8, 1000));
        let mut mvhd = vec![version, 0, 0, 0];
        if version == 1 {
            mvhd.extend_from_slice(&[0; 16]);
            mvhd.extend_from_slice(&600u32.to_be_bytes());
            mvhd.extend_from_slice(&(u64::from(seconds) * 600).to_be_bytes());
        } else {
            mvhd.extend_from_slice(&[0; 8]);
            mvhd.extend_from_slice(&600u32.to_be_bytes());
            mvhd.extend_from_slice(&(seconds * 600).to_be_bytes());
        }
        mvhd.extend_from_slice(&[0; 80]);
        let mvhd_box = [
            ((mvhd.len() + 8) as u32).to_be_bytes().as_slice(),
            b"mvhd",
            &mvhd,
        ]
        .concat();
        file.extend_from_slice(&((mvhd_box.len() + 8) as u32).to_be_bytes());
        file.extend_from_slice(b"moov");
        file.extend_from_slice(&mvhd_box);
        file
    }

    #[test]
    fn a_videos_duration_is_read_from_its_movie_header() {
        for version in [0, 1] {
            let file = mp4_lasting(75, version);
            let moov = file.windows(4).position(|w| w == b"moov").unwrap() + 4;
            assert_eq!(mvhd_duration(&file[moov..]), Some(75.0));
        }
        assert_eq!(mvhd_duration(b"\0\0\0\x08free"), None);
    }

    fn config(vars: &[(&str, &str)]) -> crate::config::Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        crate::config::Config::from_lookup(move |n| {
            vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    static FETCHER: crate::providers::ProviderInfo = crate::providers::ProviderInfo {
        identifier: "fetcher",
        name: "Fetcher",
        api_base: "https://graph.fetcher.example",
        fetches_media: true,
        ..crate::providers::ProviderInfo::DEFAULT
    };

    #[test]
    fn media_must_be_reachable_by_the_platform_that_fetches_it() {
        let laptop = config(&[]);
        let reason = unreachable_media(&laptop, &FETCHER, "http://localhost:8080/uploads/a.png");
        assert!(reason.unwrap().contains("SOCIALGATE_PUBLIC_URL"));
        for private in [
            "http://127.0.0.1/u",
            "http://10.1.2.3/u",
            "http://[::1]/u",
            "http://box/u",
        ] {
            assert!(
                unreachable_media(&laptop, &FETCHER, private).is_some(),
                "{private}"
            );
        }
        assert!(unreachable_media(&laptop, &FETCHER, "https://media.example.com/u").is_none());
        let faked = config(&[(
            "SOCIALGATE_PROVIDER_HOSTS",
            "graph.fetcher.example=http://127.0.0.1:9001",
        )]);
        assert!(unreachable_media(&faked, &FETCHER, "http://127.0.0.1:8080/u").is_none());
        let proxied = config(&[(
            "SOCIALGATE_PROVIDER_HOSTS",
            "graph.fetcher.example=https://egress.example.com",
        )]);
        assert!(unreachable_media(&proxied, &FETCHER, "http://127.0.0.1:8080/u").is_some());
        let other = crate::providers::ProviderInfo {
            fetches_media: false,
            ..crate::providers::ProviderInfo::DEFAULT
        };
        assert!(unreachable_media(&laptop, &other, "http://localhost/u").is_none());
        let both = unreachable_by(&["Facebook Page", "Threads"], "http://localhost:8080").unwrap();
        assert!(
            both.starts_with("Facebook Page and Threads fetch media"),
            "{both}"
        );
        assert!(both.ends_with("an address they can reach"), "{both}");
    }

    #[test]
    fn a_platform_that_cannot_fetch_a_picture_is_known_before_it_is_asked() {
        // Pinterest's rule: by URL when it can fetch it, else the bytes.
        let sender = crate::providers::ProviderInfo {
            fetches_media: false,
            ..FETCHER
        };
        let laptop = config(&[]);
        assert!(!can_fetch(
            &laptop,
            &sender,
            "http://localhost:8080/uploads/a.png"
        ));
        assert!(can_fetch(
            &laptop,
            &sender,
            "https://media.example.com/a.png"
        ));
        let faked = config(&[(
            "SOCIALGATE_PROVIDER_HOSTS",
            "graph.fetcher.example=http://127.0.0.1:9001",
        )]);
        assert!(can_fetch(
            &faked,
            &sender,
            "http://localhost:8080/uploads/a.png"
        ));
    }
}
