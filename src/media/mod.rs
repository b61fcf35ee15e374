//! Stored files and their types. Types come from the bytes, never from names or headers.

pub mod guard;
pub mod import;
pub mod library;
pub mod pdf;
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
/// avif, bmp, tiff), MP4 video and PDF documents. Anything else is refused.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(image) = sniff_image(bytes) {
        return Some(image);
    }
    if bytes.starts_with(b"%PDF-") {
        return Some("application/pdf");
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
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

/// The largest upload of this type: 10 MB for images, 1 GB for video (Postiz's limits), 100 MB
/// for a PDF document (LinkedIn's).
pub fn max_size(content_type: &str) -> u64 {
    if content_type.starts_with("video/") {
        1024 * 1024 * 1024
    } else if content_type == "application/pdf" {
        100 * 1024 * 1024
    } else {
        10 * 1024 * 1024
    }
}

/// The extensions a post's media path may end in.
pub const EXTENSIONS: [&str; 7] = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".pdf"];

/// What a post's medium is by its path's extension (query and fragment ignored): `image`,
/// `video` or `document`; `None` for an extension posts do not take.
pub fn kind_of_path(path: &str) -> Option<&'static str> {
    match extension_of(path)? {
        ".mp4" => Some("video"),
        ".pdf" => Some("document"),
        _ => Some("image"),
    }
}

/// Which of `EXTENSIONS` a path ends in (query and fragment ignored).
pub fn extension_of(path: &str) -> Option<&'static str> {
    let bare = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    EXTENSIONS.iter().find(|e| bare.ends_with(*e)).copied()
}

/// An image's width and height from its header (PNG, JPEG, GIF, WebP), when it can be read.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_be_bytes([
            *bytes.get(at)?,
            *bytes.get(at + 1)?,
        ])))
    };
    let le16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_le_bytes([
            *bytes.get(at)?,
            *bytes.get(at + 1)?,
        ])))
    };
    let le24 = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes([
            *bytes.get(at)?,
            *bytes.get(at + 1)?,
            *bytes.get(at + 2)?,
            0,
        ]))
    };
    match sniff_image(bytes)? {
        "image/png" => {
            let w = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
            let h = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
            Some((w, h))
        }
        "image/gif" => Some((le16(6)?, le16(8)?)),
        "image/jpeg" => {
            let mut at = 2;
            while at + 9 < bytes.len() {
                if bytes[at] != 0xFF {
                    at += 1;
                    continue;
                }
                let marker = bytes[at + 1];
                let frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
                if frame {
                    return Some((be16(at + 7)?, be16(at + 5)?));
                }
                if marker == 0xD8
                    || marker == 0x01
                    || (0xD0..=0xD7).contains(&marker)
                    || marker == 0xFF
                {
                    at += if marker == 0xFF { 1 } else { 2 };
                    continue;
                }
                at += 2 + be16(at + 2)? as usize;
            }
            None
        }
        "image/webp" => match bytes.get(12..16)? {
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            b"VP8L" => {
                let b = bytes.get(21..25)?;
                let w = 1 + (u32::from(b[0]) | (u32::from(b[1] & 0x3F) << 8));
                let h = 1
                    + ((u32::from(b[1]) >> 6)
                        | (u32::from(b[2]) << 2)
                        | (u32::from(b[3] & 0x0F) << 10));
                Some((w, h))
            }
            b"VP8X" => Some((1 + le24(24)?, 1 + le24(27)?)),
            _ => None,
        },
        _ => None,
    }
}

/// A PNG's pixels, 8-bit grey or RGB, any transparency laid over white.
pub struct Opaque {
    pub width: u32,
    pub height: u32,
    pub grey: bool,
    pub pixels: Vec<u8>,
}

/// Decodes a PNG to opaque 8-bit pixels (for a PDF page, or a JPEG copy).
pub fn opaque_png(bytes: &[u8]) -> Result<Opaque, String> {
    let broken = |e: png::DecodingError| format!("a PNG picture is broken: {e}");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(broken)?;
    let size = reader
        .output_buffer_size()
        .ok_or("a PNG picture is too large")?;
    let mut pixels = vec![0; size];
    let frame = reader.next_frame(&mut pixels).map_err(broken)?;
    pixels.truncate(frame.buffer_size());
    let over_white = |value: u8, alpha: u8| -> u8 {
        let (v, a) = (u32::from(value), u32::from(alpha));
        ((v * a + 255 * (255 - a) + 127) / 255) as u8
    };
    let (grey, pixels) = match frame.color_type {
        png::ColorType::Grayscale => (true, pixels),
        png::ColorType::Rgb => (false, pixels),
        png::ColorType::GrayscaleAlpha => (
            true,
            pixels.chunks(2).map(|p| over_white(p[0], p[1])).collect(),
        ),
        png::ColorType::Rgba => (
            false,
            pixels
                .chunks(4)
                .flat_map(|p| [0, 1, 2].map(|c| over_white(p[c], p[3])))
                .collect(),
        ),
        png::ColorType::Indexed => return Err("a PNG palette could not be expanded".into()),
    };
    Ok(Opaque {
        width: frame.width,
        height: frame.height,
        grey,
        pixels,
    })
}

/// A PNG as a JPEG (quality 90), for networks that take no PNG.
pub fn jpeg_from_png(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let picture = opaque_png(bytes)?;
    let (width, height) = (
        u16::try_from(picture.width).map_err(|_| "the picture is too wide for a JPEG")?,
        u16::try_from(picture.height).map_err(|_| "the picture is too tall for a JPEG")?,
    );
    let mut out = Vec::new();
    let color = if picture.grey {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&picture.pixels, width, height, color)
        .map_err(|e| format!("the picture could not be made a JPEG: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::dimensions;

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
        assert_eq!(super::sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(super::kind_of_path("/u/a.PDF?x=1"), Some("document"));
        assert_eq!(super::kind_of_path("https://h/v.mp4#t"), Some("video"));
        assert_eq!(super::kind_of_path("https://h/p.jpeg"), Some("image"));
        assert_eq!(super::kind_of_path("https://h/p.pdf.exe"), None);
    }

    #[test]
    fn image_dimensions_come_from_the_header() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&1080u32.to_be_bytes());
        png.extend_from_slice(&1350u32.to_be_bytes());
        assert_eq!(dimensions(&png), Some((1080, 1350)));
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&640u16.to_le_bytes());
        gif.extend_from_slice(&480u16.to_le_bytes());
        assert_eq!(dimensions(&gif), Some((640, 480)));
        // SOI, an APP0 segment of 16 bytes, then SOF0 with height 600 and width 800.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0u8; 14]);
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20, 0x03]);
        assert_eq!(dimensions(&jpeg), Some((800, 600)));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X".to_vec();
        webp.extend_from_slice(&[0u8; 8]);
        webp.extend_from_slice(&[0x37, 0x04, 0x00, 0x45, 0x05, 0x00]);
        assert_eq!(dimensions(&webp), Some((1080, 1350)));
        assert_eq!(dimensions(b"not an image"), None);
        assert_eq!(dimensions(&png[..18]), None);
    }
}
