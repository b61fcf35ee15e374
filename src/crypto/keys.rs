//! The master key, the keys derived from it, and the AES-256-GCM vault for provider secrets.

use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::{hex, hmac_sha256, os_random, sha256_hex};

/// The 32-byte master key from `SOCIALGATE_SECRET_KEY` or `<data dir>/secret.key`.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(bytes)
    }

    /// A short public name of this key, stored beside every value it encrypts.
    pub fn id(&self) -> String {
        sha256_hex(&hex(&hmac_sha256(&self.0, b"socialgate key id")))[..8].to_owned()
    }

    /// A value that proves which key this is without revealing it, kept in the database.
    pub fn check_value(&self) -> String {
        hex(&hmac_sha256(&self.0, b"socialgate key check v1"))
    }

    fn derive(&self, purpose: &str) -> [u8; 32] {
        hmac_sha256(&self.0, purpose.as_bytes())
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "SOCIALGATE_SECRET_KEY is not set; --production refuses to create a key file (generate one with `openssl rand -base64 32`)"
    )]
    MissingInProduction,
    #[error("cannot read the key file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("cannot write the key file {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("the key file {0} does not hold base64 of exactly 32 bytes")]
    Malformed(PathBuf),
    #[error("this value was encrypted under key {0}, which is not loaded")]
    UnknownKey(String),
    #[error("an encrypted value is damaged or was not made with this key")]
    Damaged,
    #[error("{0}")]
    Mismatch(String),
    #[error("the database could not be read to check the master key: {0}")]
    Database(String),
}

/// The explicit key, else the one in `<data_dir>/secret.key`, else (not in production) a new one
/// written there with mode 0600. The flag says whether a new key file was created.
pub fn load_or_create_master_key(
    explicit: Option<[u8; 32]>,
    data_dir: &Path,
    production: bool,
) -> Result<(MasterKey, Option<PathBuf>), KeyError> {
    if let Some(bytes) = explicit {
        return Ok((MasterKey(bytes), None));
    }
    if production {
        return Err(KeyError::MissingInProduction);
    }
    let path = data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = crate::config::decode_key(&text)
                .ok_or_else(|| KeyError::Malformed(path.clone()))?;
            Ok((MasterKey(bytes), None))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            os_random(&mut bytes);
            write_private(&path, format!("{}\n", STANDARD.encode(bytes)).as_bytes())
                .map_err(|e| KeyError::Write(path.clone(), e))?;
            Ok((MasterKey(bytes), Some(path)))
        }
        Err(e) => Err(KeyError::Read(path, e)),
    }
}

/// Replaces `<data_dir>/secret.key` with `new`, keeping the old key in `secret.key.previous`
/// (so values not yet re-encrypted still open) until [`finish_key_file_rotation`].
pub fn start_key_file_rotation(
    data_dir: &Path,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<(), KeyError> {
    let previous = data_dir.join("secret.key.previous");
    let current = data_dir.join("secret.key");
    let staged = data_dir.join("secret.key.new");
    if !previous.exists() {
        write_private(
            &previous,
            format!("{}\n", STANDARD.encode(old.0)).as_bytes(),
        )
        .map_err(|e| KeyError::Write(previous.clone(), e))?;
    }
    let _ = std::fs::remove_file(&staged);
    write_private(&staged, format!("{}\n", STANDARD.encode(new.0)).as_bytes())
        .map_err(|e| KeyError::Write(staged.clone(), e))?;
    std::fs::rename(&staged, &current).map_err(|e| KeyError::Write(current, e))
}

/// Forgets the replaced key once every value is under the new one.
pub fn finish_key_file_rotation(data_dir: &Path) -> Result<(), KeyError> {
    let previous = data_dir.join("secret.key.previous");
    match std::fs::remove_file(&previous) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(KeyError::Write(previous, e)),
        _ => Ok(()),
    }
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        os_random(&mut bytes);
        MasterKey(bytes)
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// The key a rotation replaced, when it is still needed: the explicit one, or
/// `<data_dir>/secret.key.previous` written by `socialgate admin rotate-secret-key`.
pub fn load_previous_master_key(
    explicit: Option<[u8; 32]>,
    data_dir: &Path,
) -> Result<Option<MasterKey>, KeyError> {
    if let Some(bytes) = explicit {
        return Ok(Some(MasterKey(bytes)));
    }
    let path = data_dir.join("secret.key.previous");
    match std::fs::read_to_string(&path) {
        Ok(text) => crate::config::decode_key(&text)
            .map(|b| Some(MasterKey(b)))
            .ok_or(KeyError::Malformed(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeyError::Read(path, e)),
    }
}

/// Keys derived from the master key, one per purpose, plus the vault.
#[derive(Clone)]
pub struct Keys {
    /// HS256 key of session JWTs.
    pub session: [u8; 32],
    /// HMAC key that binds CSRF tokens to a session.
    pub csrf: [u8; 32],
    vault_id: String,
    vault: Aes256Gcm,
    /// Older keys that may still decrypt during a rotation: (id, cipher).
    previous: Vec<(String, Aes256Gcm)>,
}

impl Keys {
    pub fn new(master: &MasterKey) -> Self {
        Keys {
            session: master.derive("socialgate session jwt v1"),
            csrf: master.derive("socialgate csrf v1"),
            vault_id: master.id(),
            vault: Aes256Gcm::new(&master.derive("socialgate vault v1").into()),
            previous: Vec::new(),
        }
    }

    /// Lets values sealed under `older` still be opened (during a key rotation).
    pub fn with_previous(mut self, older: &MasterKey) -> Self {
        self.previous.push((
            older.id(),
            Aes256Gcm::new(&older.derive("socialgate vault v1").into()),
        ));
        self
    }

    /// Encrypts with a random nonce: `v1.<key id>.<nonce>.<ciphertext>`, base64url.
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        os_random(&mut nonce);
        let ciphertext = self
            .vault
            .encrypt(&Nonce::from(nonce), plaintext.as_bytes())
            .expect("AES-GCM encryption of an in-memory buffer does not fail");
        format!(
            "v1.{}.{}.{}",
            self.vault_id,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ciphertext)
        )
    }

    /// Decrypts a value made by [`Keys::seal`] under the current or a previous key.
    pub fn open(&self, sealed: &str) -> Result<String, KeyError> {
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(kid), Some(nonce), Some(ct), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(KeyError::Damaged);
        };
        let cipher = if kid == self.vault_id {
            &self.vault
        } else {
            &self
                .previous
                .iter()
                .find(|(id, _)| id == kid)
                .ok_or_else(|| KeyError::UnknownKey(kid.to_owned()))?
                .1
        };
        let nonce: [u8; 12] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(KeyError::Damaged)?;
        let ct = URL_SAFE_NO_PAD.decode(ct).map_err(|_| KeyError::Damaged)?;
        let plain = cipher
            .decrypt(&Nonce::from(nonce), ct.as_slice())
            .map_err(|_| KeyError::Damaged)?;
        String::from_utf8(plain).map_err(|_| KeyError::Damaged)
    }

    /// The id of the key new values are sealed under.
    pub fn key_id(&self) -> &str {
        &self.vault_id
    }

    /// Whether a key with this id is loaded (the current one or one a rotation replaced).
    pub fn opens(&self, key_id: &str) -> bool {
        self.vault_id == key_id || self.previous.iter().any(|(id, _)| id == key_id)
    }

    /// Whether `sealed` was made under the current key.
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) == Some(self.vault_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_with_random_nonces() {
        let keys = Keys::new(&MasterKey([7; 32]));
        let a = keys.seal("provider-token");
        let b = keys.seal("provider-token");
        assert_ne!(a, b);
        assert!(!a.contains("provider-token"));
        assert_eq!(keys.open(&a).unwrap(), "provider-token");
        assert!(keys.is_current(&a));
    }

    #[test]
    fn a_tampered_value_or_a_foreign_key_fails() {
        let keys = Keys::new(&MasterKey([7; 32]));
        let sealed = keys.seal("secret");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(keys.open(&String::from_utf8(tampered).unwrap()).is_err());
        let other = Keys::new(&MasterKey([8; 32]));
        assert!(matches!(other.open(&sealed), Err(KeyError::UnknownKey(_))));
        let rotated = Keys::new(&MasterKey([8; 32])).with_previous(&MasterKey([7; 32]));
        assert_eq!(rotated.open(&sealed).unwrap(), "secret");
        assert!(!rotated.is_current(&sealed));
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create_master_key(None, dir.path(), false).unwrap();
        assert!(created.is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = load_or_create_master_key(None, dir.path(), false).unwrap();
        assert!(created.is_none());
        assert_eq!(first.id(), again.id());
        assert!(matches!(
            load_or_create_master_key(None, dir.path(), true),
            Err(KeyError::MissingInProduction)
        ));
    }
}
