//! Stored files and their types. Types come from the bytes, never from names or headers.

pub mod guard;
pub mod library;
pub mod storage;

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

/// The type of an upload by its magic number: the images Postiz accepts (png, jpeg, gif, webp,
/// avif, bmp, tiff) and MP4 video. Anything else is refused.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(image) = sniff_image(bytes) {
        return Some(image);
    }
    if bytes.starts_with(b"BM") && bytes.len() >= 14 {
        return Some("image/bmp");
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Some("image/tiff");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return match &bytes[8..12] {
            b"avif" | b"avis" => Some("image/avif"),
            b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1"
            | b"M4V " | b"dash" | b"MSNV" => Some("video/mp4"),
            _ => None,
        };
    }
    None
}

/// The file extension of a sniffed type.
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/avif" => "avif",
        "image/bmp" => "bmp",
        "image/tiff" => "tiff",
        "video/mp4" => "mp4",
        _ => "bin",
    }
}

/// The largest upload of this type: 10 MB for images, 1 GB for video (Postiz's limits).
pub fn max_size(content_type: &str) -> u64 {
    if content_type.starts_with("video/") {
        1024 * 1024 * 1024
    } else {
        10 * 1024 * 1024
    }
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
        assert_eq!(
            super::sniff(b"\0\0\0\x20ftypisom\0\0\x02\0"),
            Some("video/mp4")
        );
        assert_eq!(
            super::sniff(b"\0\0\0\x1cftypavif\0\0\0\0"),
            Some("image/avif")
        );
        assert_eq!(super::sniff(b"\0\0\0\x14ftypqt  \0\0\0\0"), None);
        assert_eq!(super::sniff(b"II*\0\x08\0\0\0"), Some("image/tiff"));
        assert_eq!(super::sniff(b"%PDF-1.7"), None);
    }
}
