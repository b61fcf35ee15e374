//! A PDF of pictures, one per page at the picture's own size: how a post's images become one
//! swipeable document (LinkedIn's "carousel") without LibreOffice on the server. A JPEG is
//! embedded as it is (`DCTDecode`); a PNG is decoded, any transparency laid on white, and
//! embedded deflated (`FlateDecode`).

use std::io::Write;

/// One picture ready for a page.
pub struct Picture {
    width: u32,
    height: u32,
    color_space: &'static str,
    filter: &'static str,
    data: Vec<u8>,
}

/// Reads a JPEG or PNG; other types (or broken files) are refused with the reason.
pub fn picture(bytes: &[u8]) -> Result<Picture, String> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg(bytes)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes)
    } else {
        Err("only JPEG and PNG pictures can become pages of a document".into())
    }
}

/// A JPEG's size and colour space from its frame header; the bytes are kept as they are.
fn jpeg(bytes: &[u8]) -> Result<Picture, String> {
    let broken = || "a JPEG picture is broken (no frame header)".to_owned();
    let mut at = 2;
    while at + 9 < bytes.len() {
        if bytes[at] != 0xFF {
            return Err(broken());
        }
        let marker = bytes[at + 1];
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let height = u32::from(u16::from_be_bytes([bytes[at + 5], bytes[at + 6]]));
            let width = u32::from(u16::from_be_bytes([bytes[at + 7], bytes[at + 8]]));
            let color_space = match bytes[at + 9] {
                1 => "DeviceGray",
                3 => "DeviceRGB",
                _ => return Err("CMYK JPEG pictures cannot become pages: save them as RGB".into()),
            };
            if width == 0 || height == 0 {
                return Err(broken());
            }
            return Ok(Picture {
                width,
                height,
                color_space,
                filter: "DCTDecode",
                data: bytes.to_vec(),
            });
        }
        at += 2 + len;
    }
    Err(broken())
}

/// A PNG decoded to 8-bit grey or RGB over white, deflated.
fn png(bytes: &[u8]) -> Result<Picture, String> {
    let decoded = super::opaque_png(bytes)?;
    let mut deflated = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflated
        .write_all(&decoded.pixels)
        .and_then(|()| deflated.flush())
        .map_err(|e| e.to_string())?;
    Ok(Picture {
        width: decoded.width,
        height: decoded.height,
        color_space: if decoded.grey {
            "DeviceGray"
        } else {
            "DeviceRGB"
        },
        filter: "FlateDecode",
        data: deflated.finish().map_err(|e| e.to_string())?,
    })
}

/// The document: a page per picture, in order.
pub fn document(pictures: &[Picture]) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let mut object = |out: &mut Vec<u8>, head: String, stream: Option<&[u8]>| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{head}\n", offsets.len()).as_bytes());
        if let Some(bytes) = stream {
            out.extend_from_slice(b"stream\n");
            out.extend_from_slice(bytes);
            out.extend_from_slice(b"\nendstream\n");
        }
        out.extend_from_slice(b"endobj\n");
    };
    // Objects: 1 catalog, 2 page tree, then per picture: page, image, content (3 each).
    let kids: Vec<String> = (0..pictures.len())
        .map(|i| format!("{} 0 R", 3 + 3 * i))
        .collect();
    object(&mut out, "<< /Type /Catalog /Pages 2 0 R >>".into(), None);
    object(
        &mut out,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pictures.len()
        ),
        None,
    );
    for (i, p) in pictures.iter().enumerate() {
        let (image, content) = (4 + 3 * i, 5 + 3 * i);
        object(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Resources << /XObject << /Im{i} {image} 0 R >> >> /Contents {content} 0 R >>",
                w = p.width,
                h = p.height
            ),
            None,
        );
        object(
            &mut out,
            format!(
                "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace /{} /BitsPerComponent 8 /Filter /{} /Length {} >>",
                p.width,
                p.height,
                p.color_space,
                p.filter,
                p.data.len()
            ),
            Some(&p.data),
        );
        let draw = format!("q {} 0 0 {} 0 0 cm /Im{i} Do Q", p.width, p.height);
        object(
            &mut out,
            format!("<< /Length {} >>", draw.len()),
            Some(draw.as_bytes()),
        );
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for offset in &offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×1 RGBA PNG: one opaque red pixel, one fully transparent one.
    fn rgba_png() -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, 2, 1);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&[255, 0, 0, 255, 0, 0, 0, 0])
            .unwrap();
        writer.finish().unwrap();
        bytes
    }

    #[test]
    fn a_png_is_laid_on_white_and_deflated() {
        let p = picture(&rgba_png()).unwrap();
        assert_eq!((p.width, p.height, p.color_space), (2, 1, "DeviceRGB"));
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::ZlibDecoder::new(p.data.as_slice()),
            &mut raw,
        )
        .unwrap();
        assert_eq!(raw, [255, 0, 0, 255, 255, 255]);
    }

    #[test]
    fn a_jpeg_keeps_its_bytes_and_reads_its_size() {
        // SOI, an APP0 segment, then a baseline frame header of 640×480 with 3 components.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
        jpeg.extend([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03]);
        jpeg.extend([0; 16]);
        let p = picture(&jpeg).unwrap();
        assert_eq!(
            (p.width, p.height, p.color_space, p.filter),
            (640, 480, "DeviceRGB", "DCTDecode")
        );
        assert_eq!(p.data, jpeg);
        assert!(picture(b"GIF89a....").is_err());
    }

    #[test]
    fn the_document_has_a_page_per_picture_and_a_correct_cross_reference() {
        let pictures = vec![picture(&rgba_png()).unwrap(), picture(&rgba_png()).unwrap()];
        let pdf = document(&pictures);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.contains("/Type /Pages /Kids [3 0 R 6 0 R] /Count 2"));
        assert_eq!(text.matches("/Type /Page ").count(), 2);
        // Every cross-reference entry points at its object (byte offsets in the file).
        let xref = 1 + pdf.windows(6).position(|w| w == b"\nxref\n").unwrap();
        let table = String::from_utf8(pdf[xref..].to_vec()).unwrap();
        let entries: Vec<usize> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert_eq!(entries.len(), 8);
        for (i, offset) in entries.iter().enumerate() {
            assert!(pdf[*offset..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
        let start: usize = table.lines().rev().nth(1).unwrap().parse().unwrap();
        assert_eq!(start, xref);
    }
}
