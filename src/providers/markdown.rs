//! HTML from the editor to the CommonMark that `markdown` networks take (Reddit, Discord,
//! dev.to, Hashnode…).

use super::text::{decode_entities, links};

/// HTML from the editor to the CommonMark a `markdown` network takes (Reddit, Discord, dev.to,
/// Hashnode…): paragraphs become blank-line-separated blocks, `<br>` a new line, and
/// `strong`/`em`/`s`, links, lists, headings, quotes and code their Markdown forms (`<u>`,
/// `<span>` and unknown tags keep only their text). Entities are decoded and the source's
/// whitespace is collapsed as a browser would. Plain text stays what was typed: Markdown's
/// special characters in it are backslash-escaped, except a `#` inside a line, so hashtags
/// stay hashtags (a `#` that starts a line is escaped: it would make a heading). Code is
/// written verbatim. Malformed HTML (unclosed or stray tags, a lone `<`) is rendered as well
/// as it can be, never rejected.
pub fn html_to_markdown(html: &str) -> String {
    let mut blocks = Vec::new();
    markdown_blocks(&parse_html(&html_tokens(html)), &mut blocks);
    join_blocks(&blocks, false).trim().to_owned()
}

// HTML to Markdown: a tokenizer, a forgiving tree builder, then a renderer of blocks (which
// prefix and indent whole lines) around a writer of inline text (which collapses whitespace
// and escapes).

enum Token {
    Text(String),
    Open {
        name: String,
        href: Option<String>,
        void: bool,
    },
    Close(String),
}

enum Node {
    Text(String),
    Element(Element),
}

struct Element {
    name: String,
    href: Option<String>,
    children: Vec<Node>,
}

/// Deeper nesting than this is flattened, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 100;

/// Text (entities decoded) and tags. A `<` that does not start a well-formed tag is text.
fn html_tokens(html: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut text = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        match html_tag(after) {
            Some((token, len)) => {
                if !text.is_empty() {
                    tokens.push(Token::Text(decode_entities(&text)));
                    text.clear();
                }
                tokens.extend(token);
                rest = &after[len..];
            }
            None => {
                text.push('<');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        tokens.push(Token::Text(decode_entities(&text)));
    }
    tokens
}

/// The tag at the start of `s` (what follows a `<`) and its length with the `>`; `None` as the
/// token for comments and doctypes, `None` altogether when this is no tag.
fn html_tag(s: &str) -> Option<(Option<Token>, usize)> {
    if let Some(comment) = s.strip_prefix("!--") {
        let len = comment.find("-->").map_or(s.len(), |end| 3 + end + 3);
        return Some((None, len));
    }
    if s.starts_with(['!', '?']) {
        return s.find('>').map(|end| (None, end + 1));
    }
    let closing = s.starts_with('/');
    let body = &s[usize::from(closing)..];
    if !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let end = tag_end(s)?;
    let inside = &s[usize::from(closing)..end];
    let name_end = inside
        .find(|c: char| c.is_ascii_whitespace() || c == '/')
        .unwrap_or(inside.len());
    let name = inside[..name_end].to_ascii_lowercase();
    let token = if closing {
        Token::Close(name)
    } else {
        let href = if name == "a" {
            attribute(&inside[name_end..], "href")
        } else {
            None
        };
        let void = inside.trim_end().ends_with('/');
        Token::Open { name, href, void }
    };
    Some((Some(token), end + 1))
}

/// Where the tag's `>` is, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    let mut after_equals = false;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '>' => return Some(i),
            None if after_equals && matches!(c, '"' | '\'') => quote = Some(c),
            None => {}
        }
        if !c.is_ascii_whitespace() {
            after_equals = quote.is_none() && c == '=';
        }
    }
    None
}

/// The decoded value of attribute `wanted` in a tag's attribute list.
fn attribute(mut attrs: &str, wanted: &str) -> Option<String> {
    loop {
        attrs = attrs.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if attrs.is_empty() {
            return None;
        }
        let name_end = attrs
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(attrs.len());
        let name = &attrs[..name_end];
        attrs = attrs[name_end..].trim_start_matches(|c: char| c.is_ascii_whitespace());
        let mut value = "";
        if let Some(v) = attrs.strip_prefix('=') {
            let v = v.trim_start_matches(|c: char| c.is_ascii_whitespace());
            (value, attrs) = match v.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let quoted = &v[1..];
                    quoted
                        .find(q)
                        .map_or((quoted, ""), |e| (&quoted[..e], &quoted[e + 1..]))
                }
                _ => v.split_at(v.find(|c: char| c.is_ascii_whitespace()).unwrap_or(v.len())),
            };
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(decode_entities(value));
        }
    }
}

/// Elements without content or closing tag.
const VOID: &[&str] = &[
    "br", "hr", "img", "input", "meta", "link", "wbr", "area", "base", "col", "embed", "source",
    "track", "param",
];

/// Elements rendered as their own Markdown blocks.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

fn is_void(name: &str) -> bool {
    VOID.contains(&name)
}

fn is_block(name: &str) -> bool {
    BLOCKS.contains(&name)
}

/// The element tree. A closing tag closes every element opened after its own; one with no open
/// element is ignored; whatever is still open at the end is closed there.
fn parse_html(tokens: &[Token]) -> Vec<Node> {
    fn close_top(stack: &mut Vec<Element>) {
        if let Some(element) = stack.pop()
            && let Some(parent) = stack.last_mut()
        {
            parent.children.push(Node::Element(element));
        }
    }
    let root = Element {
        name: String::new(),
        href: None,
        children: Vec::new(),
    };
    let mut stack = vec![root];
    for token in tokens {
        match token {
            Token::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    top.children.push(Node::Text(text.clone()));
                }
            }
            Token::Open { name, href, void } => {
                let element = Element {
                    name: name.clone(),
                    href: href.clone(),
                    children: Vec::new(),
                };
                if *void || is_void(name) {
                    if let Some(top) = stack.last_mut() {
                        top.children.push(Node::Element(element));
                    }
                } else if stack.len() < MAX_DEPTH {
                    // As in HTML, an unclosed `<li>` or `<p>` ends at the next one.
                    if matches!(name.as_str(), "li" | "p")
                        && stack.last().is_some_and(|top| top.name == *name)
                    {
                        close_top(&mut stack);
                    }
                    stack.push(element);
                }
            }
            Token::Close(name) => {
                if let Some(open) = stack.iter().rposition(|e| e.name == *name)
                    && open > 0
                {
                    while stack.len() > open {
                        close_top(&mut stack);
                    }
                }
            }
        }
    }
    while stack.len() > 1 {
        close_top(&mut stack);
    }
    stack.pop().map(|root| root.children).unwrap_or_default()
}

/// The text under some nodes as in the source (entities decoded), a `<br>` as a new line.
fn plain_text(nodes: &[Node]) -> String {
    fn collect(nodes: &[Node], out: &mut String) {
        for node in nodes {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Element(e) if e.name == "br" => out.push('\n'),
                Node::Element(e) => collect(&e.children, out),
            }
        }
    }
    let mut out = String::new();
    collect(nodes, &mut out);
    out
}

fn collapse_whitespace(text: &str) -> String {
    text.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

fn longest_run(text: &str, of: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == of { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

struct Block {
    text: String,
    list: bool,
}

/// Blocks joined by a blank line; in a list item (`tight_lists`) a list follows on the next line.
fn join_blocks(blocks: &[Block], tight_lists: bool) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push_str(if tight_lists && block.list {
                "\n"
            } else {
                "\n\n"
            });
        }
        out.push_str(&block.text);
    }
    out
}

/// Renders nodes as blocks: runs of inline content between block elements become paragraphs.
fn markdown_blocks(nodes: &[Node], out: &mut Vec<Block>) {
    fn end_paragraph(paragraph: &mut Inline, out: &mut Vec<Block>) {
        let text = std::mem::take(paragraph).finish();
        if !text.is_empty() {
            out.push(Block { text, list: false });
        }
    }
    let mut paragraph = Inline::default();
    for node in nodes {
        match node {
            Node::Element(e) if is_block(&e.name) => {
                end_paragraph(&mut paragraph, out);
                markdown_block(e, out);
            }
            _ => paragraph.node(node),
        }
    }
    end_paragraph(&mut paragraph, out);
}

fn markdown_block(e: &Element, out: &mut Vec<Block>) {
    let name = e.name.as_str();
    let (text, list) = match name {
        "ul" | "ol" => (markdown_list(name == "ol", &e.children), true),
        "blockquote" => (markdown_quote(&e.children), false),
        "pre" => (markdown_fence(&e.children), false),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => (
            markdown_heading(name[1..].parse().unwrap_or(1), &e.children),
            false,
        ),
        // p, div, and an li outside a list.
        _ => return markdown_blocks(&e.children, out),
    };
    if let Some(text) = text {
        out.push(Block { text, list });
    }
}

/// `- ` or `1. ` items, their further lines indented to the item's content.
fn markdown_list(ordered: bool, children: &[Node]) -> Option<String> {
    let mut items: Vec<String> = Vec::new();
    for child in children {
        let content = match child {
            Node::Element(e) if e.name == "li" => markdown_item(&e.children),
            Node::Text(text) if text.chars().all(|c| c.is_ascii_whitespace()) => continue,
            other => markdown_item(std::slice::from_ref(other)),
        };
        if content.is_empty() {
            continue;
        }
        let marker = if ordered {
            format!("{}. ", items.len() + 1)
        } else {
            "- ".to_owned()
        };
        let indent = " ".repeat(marker.len());
        let lines: Vec<String> = content
            .lines()
            .enumerate()
            .map(|(i, line)| match (i, line.is_empty()) {
                (0, _) => format!("{marker}{line}"),
                (_, true) => String::new(),
                (_, false) => format!("{indent}{line}"),
            })
            .collect();
        items.push(lines.join("\n"));
    }
    (!items.is_empty()).then(|| items.join("\n"))
}

fn markdown_item(nodes: &[Node]) -> String {
    let mut blocks = Vec::new();
    markdown_blocks(nodes, &mut blocks);
    join_blocks(&blocks, true)
}

/// Every line prefixed with `> `.
fn markdown_quote(children: &[Node]) -> Option<String> {
    let mut blocks = Vec::new();
    markdown_blocks(children, &mut blocks);
    let inner = join_blocks(&blocks, false);
    let lines: Vec<String> = inner
        .lines()
        .map(|line| {
            if line.is_empty() {
                ">".to_owned()
            } else {
                format!("> {line}")
            }
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A fenced code block, its text verbatim; the fence outgrows any backtick run inside.
fn markdown_fence(children: &[Node]) -> Option<String> {
    let text = plain_text(children).replace("\r\n", "\n");
    // As in HTML, a newline right after `<pre>` is not content.
    let text = text.strip_prefix('\n').unwrap_or(&text).trim_end();
    if text.trim().is_empty() {
        return None;
    }
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    Some(format!("{fence}\n{text}\n{fence}"))
}

fn markdown_heading(level: usize, children: &[Node]) -> Option<String> {
    let mut line = Inline {
        single_line: true,
        ..Inline::default()
    };
    line.nodes(children);
    let mut text = line.finish();
    if text.is_empty() {
        return None;
    }
    // A heading's trailing ` ###` would be read as its closing sequence.
    let kept = text.trim_end_matches('#').len();
    if kept < text.len() && text[..kept].ends_with(' ') {
        text.insert(kept, '\\');
    }
    Some(format!("{} {text}", "#".repeat(level)))
}

/// Writes inline content: whitespace collapses and is written lazily (never at a line start,
/// and outside emphasis markers), opening markers wait for the element's first content (so an
/// empty element writes nothing), and text is escaped.
#[derive(Default)]
struct Inline {
    out: String,
    /// Collapsed whitespace to write before the next content.
    space: bool,
    /// Opening markers to write before the next content.
    opens: String,
    /// The emphasis markers currently open (a nested `<i><em>` must not become `**`).
    active: Vec<&'static str>,
    /// Headings: a break is a space.
    single_line: bool,
}

impl Inline {
    fn finish(self) -> String {
        self.out.trim_matches('\n').to_owned()
    }

    fn nodes(&mut self, nodes: &[Node]) {
        for node in nodes {
            self.node(node);
        }
    }

    fn node(&mut self, node: &Node) {
        let e = match node {
            Node::Text(text) => return self.text(text),
            Node::Element(e) => e,
        };
        match e.name.as_str() {
            "br" => self.line_break(true),
            "strong" | "b" => self.wrap("**", &e.children),
            "em" | "i" => self.wrap("*", &e.children),
            "s" | "strike" | "del" => self.wrap("~~", &e.children),
            "code" => self.code(&e.children),
            "a" => self.link(e.href.as_deref(), &e.children),
            // A block inside inline content (malformed, or under a span): keep it on its own lines.
            name if is_block(name) => {
                self.line_break(false);
                self.nodes(&e.children);
                self.line_break(false);
            }
            // u, span and unknown tags: their text.
            _ => self.nodes(&e.children),
        }
    }

    /// Writes pending whitespace and opening markers: content follows.
    fn flush(&mut self) {
        if self.space && !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push(' ');
        }
        self.space = false;
        self.out.push_str(&self.opens);
        self.opens.clear();
    }

    /// A `<br>` (`hard`), or the edge of a block: a new line, at most one blank line in a row.
    fn line_break(&mut self, hard: bool) {
        if self.single_line {
            self.space = true;
            return;
        }
        self.space = false;
        if self.out.is_empty() || self.out.ends_with("\n\n") || (!hard && self.out.ends_with('\n'))
        {
            return;
        }
        self.out.push('\n');
    }

    fn current_line(&self) -> &str {
        &self.out[self.out.rfind('\n').map_or(0, |i| i + 1)..]
    }

    fn wrap(&mut self, marker: &'static str, children: &[Node]) {
        if self.active.contains(&marker) {
            return self.nodes(children);
        }
        self.opens.push_str(marker);
        let pending = self.opens.len();
        self.active.push(marker);
        self.nodes(children);
        self.active.pop();
        if self.opens.len() >= pending {
            // Nothing was written inside: drop the opening marker.
            self.opens.truncate(pending - marker.len());
        } else {
            // A closing marker must end the text, not start the next line.
            let end = self.out.trim_end_matches('\n').len();
            self.out.insert_str(end, marker);
        }
    }

    fn code(&mut self, children: &[Node]) {
        let plain = plain_text(children);
        let content = collapse_whitespace(&plain);
        self.space |= plain.starts_with(|c: char| c.is_ascii_whitespace());
        if !content.is_empty() {
            self.flush();
            let fence = "`".repeat(longest_run(&content, '`') + 1);
            let pad = if content.starts_with('`') || content.ends_with('`') {
                " "
            } else {
                ""
            };
            self.out
                .push_str(&format!("{fence}{pad}{content}{pad}{fence}"));
        }
        self.space |= plain.ends_with(|c: char| c.is_ascii_whitespace());
    }

    /// `[text](href)`, or the bare URL when it is the text and Markdown would not misread it.
    fn link(&mut self, href: Option<&str>, children: &[Node]) {
        let href = href.map_or("", str::trim);
        if href.is_empty() {
            return self.nodes(children);
        }
        let mut label = Inline {
            active: self.active.clone(),
            single_line: self.single_line,
            ..Inline::default()
        };
        label.nodes(children);
        let label = label.finish();
        let plain = plain_text(children);
        self.space |= plain.starts_with(|c: char| c.is_ascii_whitespace());
        if !label.is_empty() {
            self.flush();
            if collapse_whitespace(&plain) == href && bare_url_is_safe(href) {
                self.out.push_str(href);
            } else {
                self.out.push('[');
                self.out.push_str(&label);
                self.out.push_str("](");
                self.out.push_str(&link_destination(href));
                self.out.push(')');
            }
        }
        self.space |= plain.ends_with(|c: char| c.is_ascii_whitespace());
    }

    /// Plain text; URLs in it are kept verbatim when that is safe, so they stay clickable.
    fn text(&mut self, text: &str) {
        let mut last = 0;
        for (start, end) in links(text) {
            self.escaped(&text[last..start]);
            let url = &text[start..end];
            if bare_url_is_safe(url) {
                self.flush();
                self.out.push_str(url);
            } else {
                self.escaped(url);
            }
            last = end;
        }
        self.escaped(&text[last..]);
    }

    fn escaped(&mut self, text: &str) {
        for (i, c) in text.char_indices() {
            if c.is_ascii_whitespace() {
                self.space = true;
                continue;
            }
            self.flush();
            let next = &text[i + c.len_utf8()..];
            let line = self.current_line();
            let escape = match c {
                '\\' | '*' | '_' | '[' | ']' | '`' | '~' => true,
                // Headings, quotes, bullets, setext underlines and thematic breaks start a line;
                // a `#` inside a line is a hashtag, left alone.
                '#' | '>' | '-' | '+' | '=' => line.is_empty(),
                // `1.` or `1)` then a space starts a numbered list.
                '.' | ')' => {
                    (1..=9).contains(&line.len())
                        && line.bytes().all(|b| b.is_ascii_digit())
                        && (next.is_empty() || next.starts_with(|n: char| n.is_ascii_whitespace()))
                }
                // Inline HTML and autolinks.
                '<' => next
                    .starts_with(|n: char| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')),
                // Entity references.
                '&' => next.find(';').is_some_and(|end| {
                    let name = next[..end].strip_prefix('#').unwrap_or(&next[..end]);
                    !name.is_empty() && name.chars().all(|n| n.is_ascii_alphanumeric())
                }),
                _ => false,
            };
            if escape {
                self.out.push('\\');
            }
            self.out.push(c);
        }
    }
}

/// Whether a URL can be written bare: Markdown (with autolinks) reads it back unchanged.
fn bare_url_is_safe(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.ends_with(|c: char| c.is_ascii_punctuation() && c != '/')
        && url.char_indices().all(|(i, c)| match c {
            // Emphasis can only start or end at an underscore that is not inside a word.
            '_' => {
                let before = url[..i].chars().next_back();
                let after = url[i + 1..].chars().next();
                before.is_some_and(char::is_alphanumeric)
                    && after.is_some_and(char::is_alphanumeric)
            }
            _ => {
                !c.is_whitespace()
                    && !matches!(
                        c,
                        '*' | '~' | '`' | '[' | ']' | '<' | '>' | '(' | ')' | '\\'
                    )
            }
        })
}

/// A link destination Markdown takes whole: parentheses, angle brackets, backslashes and
/// whitespace percent-encoded.
fn link_destination(href: &str) -> String {
    let mut out = String::with_capacity(href.len());
    for c in href.chars() {
        if c.is_whitespace() || c.is_control() || matches!(c, '(' | ')' | '<' | '>' | '\\') {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_become_blocks_with_one_blank_line_and_source_whitespace_collapses() {
        assert_eq!(
            html_to_markdown("<p>Hello\n   world</p>\n<p>Second</p>"),
            "Hello world\n\nSecond"
        );
        assert_eq!(html_to_markdown("<p>one<br>two</p>"), "one\ntwo");
        assert_eq!(
            html_to_markdown("<p>a</p><p></p><p>&nbsp;</p><p>b<br><br><br>c</p>"),
            "a\n\nb\n\nc"
        );
        assert_eq!(html_to_markdown(""), "");
    }

    #[test]
    fn bold_italic_and_strike_become_markers_and_underline_keeps_its_text() {
        assert_eq!(
            html_to_markdown(
                "<p><strong>bold</strong>, <em>italic</em>, <s>gone</s>, <u>under</u></p>"
            ),
            "**bold**, *italic*, ~~gone~~, under"
        );
        assert_eq!(
            html_to_markdown("<p><b>b</b> <i>i</i> <strike>x</strike></p>"),
            "**b** *i* ~~x~~"
        );
        // Spaces move outside the markers, empty and doubled elements write no markers.
        assert_eq!(
            html_to_markdown("<p>a<b> spaced </b>b<em></em></p>"),
            "a **spaced** b"
        );
        assert_eq!(html_to_markdown("<p><em><i>x</i></em></p>"), "*x*");
    }

    #[test]
    fn links_become_markdown_links_or_bare_urls() {
        assert_eq!(
            html_to_markdown(r#"<p>See <a href="https://example.com/a_(b)">the docs</a>.</p>"#),
            "See [the docs](https://example.com/a_%28b%29)."
        );
        assert_eq!(
            html_to_markdown(r#"<p><a href="https://example.com/x">https://example.com/x</a></p>"#),
            "https://example.com/x"
        );
        assert_eq!(
            html_to_markdown(r#"<p>go<a href="https://e.com/p"> here </a>now</p>"#),
            "go [here](https://e.com/p) now"
        );
    }

    #[test]
    fn lists_become_dash_and_numbered_items_with_nested_lists_indented() {
        assert_eq!(
            html_to_markdown(
                "<ul><li><p>One</p></li><li><p>Two</p><ul><li><p>Nested</p></li></ul></li></ul>"
            ),
            "- One\n- Two\n  - Nested"
        );
        assert_eq!(
            html_to_markdown(
                "<ol><li>First</li><li>Second<ol><li>Inner</li><li>Again</li></ol></li></ol>"
            ),
            "1. First\n2. Second\n   1. Inner\n   2. Again"
        );
        assert_eq!(
            html_to_markdown("<p>Intro</p><ul>\n  <li>a</li>\n</ul><p>After</p>"),
            "Intro\n\n- a\n\nAfter"
        );
    }

    #[test]
    fn headings_become_hashes() {
        assert_eq!(
            html_to_markdown("<h1>Title</h1><h3>Sub  title</h3><p>Body</p>"),
            "# Title\n\n### Sub title\n\nBody"
        );
        // A trailing ` #` would be taken for the closing sequence.
        assert_eq!(html_to_markdown("<h2>C #</h2>"), r"## C \#");
    }

    #[test]
    fn blockquotes_prefix_every_line() {
        assert_eq!(
            html_to_markdown("<blockquote><p>first<br>second</p></blockquote>"),
            "> first\n> second"
        );
        assert_eq!(
            html_to_markdown("<blockquote><p>a</p><p>b</p></blockquote>"),
            "> a\n>\n> b"
        );
    }

    #[test]
    fn code_is_written_verbatim_in_spans_and_fences() {
        assert_eq!(
            html_to_markdown(
                "<p>Run <code>cargo  test</code> now, <code>a`b</code> <code>*x*_y</code></p>"
            ),
            "Run `cargo test` now, ``a`b`` `*x*_y`"
        );
        assert_eq!(
            html_to_markdown(
                "<pre><code>fn main() {\n    let x = a * b; // &lt;ok&gt;\n}\n</code></pre>"
            ),
            "```\nfn main() {\n    let x = a * b; // <ok>\n}\n```"
        );
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html_to_markdown(
                "<p>Tom &amp; Jerry &lt;3 &quot;hi&quot; it&#39;s&nbsp;here &#x1F600; &#8212;</p>"
            ),
            "Tom & Jerry <3 \"hi\" it's here 😀 —"
        );
        // Typed text that Markdown would read as an entity stays text.
        assert_eq!(
            html_to_markdown("<p>&amp;amp; is an entity</p>"),
            r"\&amp; is an entity"
        );
    }

    #[test]
    fn special_characters_in_plain_text_are_escaped() {
        assert_eq!(
            html_to_markdown(r"<p>2 * 3 = 6, file_name, [x], `tick`, back\slash, ~approx</p>"),
            r"2 \* 3 = 6, file\_name, \[x\], \`tick\`, back\\slash, \~approx"
        );
        assert_eq!(
            html_to_markdown("<p># not a heading</p><p>- not a list<br>+ nor this</p>"),
            "\\# not a heading\n\n\\- not a list\n\\+ nor this"
        );
        assert_eq!(
            html_to_markdown("<p>1. nor this<br>&gt; nor a quote</p>"),
            "1\\. nor this\n\\> nor a quote"
        );
        assert_eq!(
            html_to_markdown("<p>a &lt;b&gt; tag, pi is 3.14</p>"),
            r"a \<b> tag, pi is 3.14"
        );
        assert_eq!(html_to_markdown("2 * 3"), r"2 \* 3");
    }

    #[test]
    fn hashtags_inside_a_line_are_kept_but_a_line_starting_with_hash_is_escaped() {
        assert_eq!(
            html_to_markdown("<p>Launch day #rustlang #opensource</p>"),
            "Launch day #rustlang #opensource"
        );
        assert_eq!(
            html_to_markdown("<p>#rustlang rocks</p>"),
            r"\#rustlang rocks"
        );
    }

    #[test]
    fn multi_byte_text_passes_through() {
        assert_eq!(
            html_to_markdown("<p>héllo — 😀 <b>日本</b></p>"),
            "héllo — 😀 **日本**"
        );
        assert_eq!(html_to_markdown("<p>1 <é 2</p>"), "1 <é 2");
    }

    #[test]
    fn unclosed_and_stray_tags_do_not_panic() {
        assert_eq!(html_to_markdown("<p>Hello <b>wörld"), "Hello **wörld**");
        assert_eq!(html_to_markdown("<p>a <b"), r"a \<b");
        assert_eq!(html_to_markdown("<p>x</i></b>y</p></div>"), "xy");
        assert_eq!(html_to_markdown("<ul><li>one<li>two</ul>"), "- one\n- two");
        assert_eq!(
            html_to_markdown(r#"<p>cut <a href="https://x.example"#),
            r#"cut \<a href="https://x.example"#
        );
        assert_eq!(html_to_markdown("<<>> <!-- never closed"), "<<>>");
    }

    #[test]
    fn unknown_tags_keep_their_text() {
        assert_eq!(
            html_to_markdown(
                r#"<p><span style="color:red">red</span> <mark>note</mark></p><div>div text</div>"#
            ),
            "red note\n\ndiv text"
        );
    }
}
