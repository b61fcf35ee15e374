//! Text as networks count and take it: graphemes, X's weighted length, links, HTML to plain
//! text (Markdown is in `markdown`).

use unicode_segmentation::UnicodeSegmentation;

/// User-perceived characters (Bluesky counts these).
pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

/// The `http(s)://…` links in a text, as byte ranges.
pub fn links(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = find_scheme(&text[from..]) {
        let start = from + pos;
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .map_or(text.len(), |e| start + e);
        // Trailing punctuation belongs to the sentence, not the link.
        let trimmed = text[start..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
        let end = start + trimmed.len();
        if trimmed.len() > "https://".len() {
            out.push((start, end));
        }
        from = end.max(start + 1);
    }
    out
}

fn find_scheme(text: &str) -> Option<usize> {
    let http = text.find("http://");
    let https = text.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// X's weighted length: most Latin, Cyrillic and general punctuation count 1, everything else
/// (CJK, emoji) 2, and every link 23 (it is shortened to t.co).
pub fn x_weighted_length(text: &str) -> usize {
    let mut total = 0;
    let mut last = 0;
    for (start, end) in links(text) {
        total += x_weight(&text[last..start]) + 23;
        last = end;
    }
    total + x_weight(&text[last..])
}

fn x_weight(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0..=4351 | 8192..=8205 | 8208..=8223 | 8242..=8247 => 1,
            _ => 2,
        })
        .sum()
}

/// HTML from the editor to the plain text a `normal` network takes: paragraphs and breaks
/// become new lines, tags go, entities are decoded.
pub fn html_to_plain(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or("");
        if name == "br"
            || (tag.starts_with('/') && matches!(name, "p" | "div" | "li" | "h1" | "h2" | "h3"))
        {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    decode_entities(out.trim_end_matches('\n'))
}

pub(super) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let entity = &after[1..e];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => entity
                    .strip_prefix("#x")
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &after[len..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_graphemes_not_bytes() {
        assert_eq!(graphemes("héllo"), 5);
        assert_eq!(graphemes("👍🏽"), 1);
        assert_eq!(graphemes("🇫🇷!"), 2);
    }

    #[test]
    fn x_counts_links_as_23_and_wide_characters_as_2() {
        assert_eq!(x_weighted_length("hello"), 5);
        assert_eq!(
            x_weighted_length("see https://example.com/a/very/long/path"),
            4 + 23
        );
        assert_eq!(x_weighted_length("日本"), 4);
        assert_eq!(x_weighted_length("😀"), 2);
    }

    #[test]
    fn finds_links_without_trailing_punctuation() {
        let t = "go to https://a.example/x. and http://b.example";
        let found: Vec<&str> = links(t).into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(found, ["https://a.example/x", "http://b.example"]);
    }

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            html_to_plain("<p>Hello &amp; <strong>welcome</strong></p><p>line&#39;2<br>3</p>"),
            "Hello & welcome\nline'2\n3"
        );
        assert_eq!(html_to_plain("plain 1 < 2"), "plain 1 < 2");
    }
}
