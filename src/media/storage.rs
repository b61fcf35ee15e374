//! Where uploaded bytes live: under `<data dir>/uploads/YYYY/MM/DD/<32 hex>.<ext>`, served at
//! `{public URL}/uploads/…`, or with `SOCIALGATE_S3_*` in an S3-compatible bucket (same key,
//! served from its public URL). Writes go to a temporary file first, so a failed upload leaves
//! nothing behind.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ObjectStoreExt, PutPayload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::{Config, S3Config};

/// Objects above this size go up in parts.
const PART: usize = 8 * 1024 * 1024;

/// The storage uploads are kept in.
#[derive(Clone, Debug)]
pub enum Store {
    Local,
    S3 {
        bucket: Arc<AmazonS3>,
        public_url: String,
    },
}

impl Store {
    /// Local disk, or the configured bucket.
    pub fn from_config(config: &Config) -> Result<Store, object_store::Error> {
        let Some(S3Config {
            bucket,
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            public_url,
        }) = &config.s3
        else {
            return Ok(Store::Local);
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(access_key_id)
            .with_secret_access_key(secret_access_key);
        if let Some(endpoint) = endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        Ok(Store::S3 {
            bucket: Arc::new(builder.build()?),
            public_url: public_url.clone(),
        })
    }

    /// The public URL of a stored key.
    pub fn url(&self, config: &Config, key: &str) -> String {
        match self {
            Store::Local => format!("{}/{key}", config.public_url),
            Store::S3 { public_url, .. } => format!("{public_url}/{key}"),
        }
    }

    /// The bucket key behind one of our own object URLs (`{public URL}/uploads/…`).
    pub fn bucket_key<'a>(&self, url: &'a str) -> Option<&'a str> {
        match self {
            Store::Local => None,
            Store::S3 { public_url, .. } => url
                .strip_prefix(public_url.as_str())?
                .strip_prefix('/')
                .filter(|key| key.starts_with("uploads/") && !key.contains("..")),
        }
    }

    /// Removes a kept file again (its row could not be written); best effort.
    pub async fn remove(&self, config: &Config, key: &str) {
        match self {
            Store::Local => {
                let _ = tokio::fs::remove_file(config.data_dir.join(key)).await;
            }
            Store::S3 { bucket, .. } => {
                let _ = bucket.delete(&object_store::path::Path::from(key)).await;
            }
        }
    }

    /// Streams an object of the bucket into `dest`; returns its size.
    pub async fn download(&self, key: &str, dest: &Path) -> Result<u64, object_store::Error> {
        use futures_util::StreamExt;
        let Store::S3 { bucket, .. } = self else {
            return Err(object_store::Error::NotImplemented {
                operation: "download from local storage".into(),
                implementer: "Store::Local".into(),
            });
        };
        let io = |e: std::io::Error| object_store::Error::Generic {
            store: "S3",
            source: Box::new(e),
        };
        let mut stream = bucket
            .get(&object_store::path::Path::from(key))
            .await?
            .into_stream();
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok(size)
    }
}

/// A file being written. Dropped before `keep`, it removes its partial file.
pub struct Incoming {
    temp: PathBuf,
    file: tokio::fs::File,
    pub written: u64,
    kept: bool,
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
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
            kept: false,
        })
    }

    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes).await?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Moves the file to its final place; returns the storage key (`uploads/…/<name>`) and name.
    pub async fn keep(
        mut self,
        store: &Store,
        extension: &str,
    ) -> std::io::Result<(String, String)> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let today = chrono::Utc::now().format("%Y/%m/%d").to_string();
        let name = format!("{}.{extension}", crate::crypto::hex(&random_bytes()));
        let key = format!("uploads/{today}/{name}");
        match store {
            Store::Local => {
                let target = self
                    .temp
                    .parent()
                    .and_then(Path::parent)
                    .map(|p| p.join(&today));
                let target = target.ok_or_else(|| std::io::Error::other("bad upload directory"))?;
                tokio::fs::create_dir_all(&target).await?;
                tokio::fs::rename(&self.temp, target.join(&name)).await?;
                self.kept = true;
            }
            Store::S3 { bucket, .. } => {
                let sent = upload(bucket, &key, &self.temp, self.written).await;
                let _ = tokio::fs::remove_file(&self.temp).await;
                sent.map_err(std::io::Error::other)?;
            }
        }
        Ok((key, name))
    }

    /// Throws the partial file away.
    pub async fn discard(mut self) {
        let _ = tokio::fs::remove_file(&self.temp).await;
        self.kept = true;
    }
}

fn random_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    crate::crypto::os_random(&mut b);
    b
}

/// Reads up to one part from the file (less only at its end).
async fn read_part(source: &mut tokio::fs::File) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; PART];
    let mut filled = 0;
    while filled < PART {
        let n = source.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Sends a file to the bucket: one PUT when small, a multipart upload in 8 MiB parts otherwise.
async fn upload(
    bucket: &AmazonS3,
    key: &str,
    file: &Path,
    size: u64,
) -> Result<(), object_store::Error> {
    let location = object_store::path::Path::from(key);
    let mut source =
        tokio::fs::File::open(file)
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
    let io = |e: std::io::Error| object_store::Error::Generic {
        store: "S3",
        source: Box::new(e),
    };
    if size <= PART as u64 {
        let bytes = read_part(&mut source).await.map_err(io)?;
        bucket.put(&location, PutPayload::from(bytes)).await?;
        return Ok(());
    }
    let mut upload = bucket.put_multipart(&location).await?;
    loop {
        let part = read_part(&mut source).await.map_err(io)?;
        if part.is_empty() {
            break;
        }
        if let Err(e) = upload.put_part(PutPayload::from(part)).await {
            let _ = upload.abort().await;
            return Err(e);
        }
    }
    upload.complete().await?;
    Ok(())
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
