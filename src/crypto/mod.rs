//! Random identifiers and secrets, hashing, constant-time comparison, passwords and the vault.

pub mod binding;
mod keys;
pub mod password;

pub use keys::{
    KeyError, Keys, MasterKey, finish_key_file_rotation, load_or_create_master_key,
    load_previous_master_key, start_key_file_rotation,
};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Fills `buf` from the operating system's CSPRNG.
pub fn os_random(buf: &mut [u8]) {
    // Without the OS generator no secret can be made safely; there is nothing to fall back to.
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// `len` characters from `[A-Za-z0-9]`, uniformly from the OS CSPRNG (rejection sampling).
pub fn random_alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        os_random(&mut buf);
        // 62 * 4 = 248: bytes at or above it would bias the draw.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == len {
                break;
            }
            out.push(ALPHANUMERIC[(*b % 62) as usize] as char);
        }
    }
    out
}

/// A secret made of `prefix` and `len` random alphanumeric characters (≈ 5.95 bits each).
pub fn new_secret(prefix: &str, len: usize) -> String {
    format!("{prefix}{}", random_alphanumeric(len))
}

/// Lowercase hex of SHA-256: how every secret we issue is stored.
pub fn sha256_hex(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

/// Constant-time equality of two strings (length may leak, content does not).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// A new UUIDv7 as text: the id of every row.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_prefix_length_and_alphabet() {
        let s = new_secret("pcs_", 48);
        assert_eq!(s.len(), 52);
        assert!(s.starts_with("pcs_"));
        assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(new_secret("pcs_", 48), s);
    }

    #[test]
    fn every_alphabet_character_appears() {
        let s = random_alphanumeric(20_000);
        for c in ALPHANUMERIC {
            assert!(s.as_bytes().contains(c), "{} never drawn", *c as char);
        }
    }

    #[test]
    fn hashes_and_comparisons() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(ct_eq("same", "same"));
        assert!(!ct_eq("same", "sane"));
        assert!(!ct_eq("same", "same!"));
    }
}
