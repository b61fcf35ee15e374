//! Where uploaded bytes live: under `<data dir>/uploads/YYYY/MM/DD/<32 hex>.<ext>`, served at
//! `{public URL}/uploads/…`. Writes go to a temporary file first, so a failed upload leaves
//! nothing behind.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use crate::config::Config;

/// A file being written.
pub struct Incoming {
    temp: PathBuf,
    file: tokio::fs::File,
    pub written: u64,
}

impl Incoming {
    /// Starts a new file in the data directory.
    pub async fn create(config: &Config) -> std::io::Result<Incoming> {
        let dir = config.data_dir.join("uploads").join("incoming");
        tokio::fs::create_dir_all(&dir).await?;
        let temp = dir.join(crate::crypto::random_alphanumeric(24));
        let file = tokio::fs::File::create(&temp).await?;
        Ok(Incoming {
            temp,
            file,
            written: 0,
        })
    }

    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes).await?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Moves the file to its final place; returns the storage key (`uploads/…/<name>`) and name.
    pub async fn keep(mut self, extension: &str) -> std::io::Result<(String, String)> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let today = chrono::Utc::now().format("%Y/%m/%d").to_string();
        let name = format!("{}.{extension}", crate::crypto::hex(&random_bytes()));
        let key = format!("uploads/{today}/{name}");
        let target = self
            .temp
            .parent()
            .and_then(Path::parent)
            .map(|p| p.join(&today));
        let target = target.ok_or_else(|| std::io::Error::other("bad upload directory"))?;
        tokio::fs::create_dir_all(&target).await?;
        tokio::fs::rename(&self.temp, target.join(&name)).await?;
        Ok((key, name))
    }

    /// Throws the partial file away.
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.temp).await;
    }
}

fn random_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    crate::crypto::os_random(&mut b);
    b
}

/// The public URL of a storage key.
pub fn public_url(config: &Config, key: &str) -> String {
    format!("{}/{key}", config.public_url)
}

/// The file behind one of our own `/uploads/…` URLs (for providers, which read it from disk).
pub fn local_file(config: &Config, url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix(&config.public_url)?
        .strip_prefix("/uploads/")?;
    file_of(config, rest)
}

/// `YYYY/MM/DD/<hex>.<ext>` under the uploads directory; nothing else resolves.
pub fn file_of(config: &Config, rest: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = rest.split('/').collect();
    let [y, m, d, name] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (stem, ext) = name.split_once('.')?;
    let ok = digits(y, 4)
        && digits(m, 2)
        && digits(d, 2)
        && stem.len() == 32
        && stem.bytes().all(|b| b.is_ascii_hexdigit())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| {
        config
            .data_dir
            .join("uploads")
            .join(y)
            .join(m)
            .join(d)
            .join(name)
    })
}

/// The content type to serve a stored file with, from the extension we gave it.
pub fn served_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "png" => "image/png",
        "jpg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "bmp" => "image/bmp",
        "tiff" => "image/tiff",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}
