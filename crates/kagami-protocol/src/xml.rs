//! A small XML writer: elements, attributes and escaped text into one `String`.
//! Parsing is roxmltree's job.

pub(crate) struct XmlWriter {
    pub(crate) out: String,
    /// A start tag is open (`<name attr="v"`) and still takes attributes.
    open: bool,
    /// How timestamps are written in this document: the protocols differ.
    pub(crate) timestamps: crate::scalar::TsFormat,
}

impl XmlWriter {
    pub(crate) fn new() -> Self {
        XmlWriter { out: String::with_capacity(256), open: false, timestamps: crate::scalar::TsFormat::Iso8601 }
    }

    pub(crate) fn declaration(&mut self) {
        self.out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    }

    fn close_start(&mut self) {
        if self.open {
            self.out.push('>');
            self.open = false;
        }
    }

    pub(crate) fn start(&mut self, name: &str) {
        self.close_start();
        self.out.push('<');
        self.out.push_str(name);
        self.open = true;
    }

    /// Only between `start` and the element's first content.
    pub(crate) fn attr(&mut self, name: &str, value: &str) {
        if !self.open {
            return;
        }
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_into(&mut self.out, value, true);
        self.out.push('"');
    }

    pub(crate) fn text(&mut self, text: &str) {
        self.close_start();
        escape_into(&mut self.out, text, false);
    }

    pub(crate) fn end(&mut self, name: &str) {
        self.close_start();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.start(name);
        self.text(text);
        self.end(name);
    }

    pub(crate) fn finish(mut self) -> String {
        self.close_start();
        self.out
    }
}

/// Escapes markup characters; `\r` always (a parser would fold `\r\n` into `\n`), and
/// in attributes the whitespace that attribute normalization would otherwise change.
/// Characters XML 1.0 cannot carry at all, not even as references (NUL and the other
/// C0 controls, U+FFFE, U+FFFF), become U+FFFD: echoed in an error message or a key,
/// they would otherwise make the whole answer unreadable to every XML parser.
fn escape_into(out: &mut String, s: &str, attribute: bool) {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' if attribute => "&quot;",
            '\r' => "&#xD;",
            '\n' if attribute => "&#xA;",
            '\t' if attribute => "&#x9;",
            '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => "\u{FFFD}",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_elements_with_escaped_text_and_attributes() {
        let mut w = XmlWriter::new();
        w.start("Root");
        w.attr("xmlns", "https://example.com/");
        w.attr("test", "<a&\"b\">");
        w.leaf("Name", "x < y & \r\n");
        w.start("Empty");
        w.end("Empty");
        w.end("Root");
        assert_eq!(
            w.finish(),
            "<Root xmlns=\"https://example.com/\" test=\"&lt;a&amp;&quot;b&quot;&gt;\"><Name>x &lt; y &amp; &#xD;\n</Name><Empty></Empty></Root>"
        );
    }

    #[test]
    fn characters_xml_cannot_carry_become_replacement_characters() {
        let mut w = XmlWriter::new();
        w.start("Root");
        w.attr("a", "x\u{0}y");
        w.leaf("Key", "nul\u{0}bell\u{7}tab\tffff\u{FFFF}");
        w.end("Root");
        let xml = w.finish();
        assert_eq!(
            xml,
            "<Root a=\"x\u{FFFD}y\"><Key>nul\u{FFFD}bell\u{FFFD}tab\tffff\u{FFFD}</Key></Root>"
        );
        assert!(roxmltree::Document::parse(&xml).is_ok());
    }
}
