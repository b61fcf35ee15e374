//! Stored files and their types. Types come from the bytes, never from names or headers.

/// The image type of `bytes` by its magic number: png, jpeg, gif or webp.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The type of an image or video by its magic number (images as `sniff_image`, plus MP4 and
/// QuickTime video).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    sniff_image(bytes).or_else(|| {
        if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
            Some(if &bytes[8..10] == b"qt" {
                "video/quicktime"
            } else {
                "video/mp4"
            })
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sniffs_by_magic_bytes() {
        assert_eq!(
            super::sniff_image(b"\x89PNG\r\n\x1a\nrest"),
            Some("image/png")
        );
        assert_eq!(
            super::sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(super::sniff_image(b"GIF89a..."), Some("image/gif"));
        assert_eq!(
            super::sniff_image(b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(super::sniff_image(b"<svg onload=alert(1)>"), None);
    }
}
