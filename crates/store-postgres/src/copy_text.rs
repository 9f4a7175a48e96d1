//! Rows in the text format of PostgreSQL's `COPY … FROM STDIN`: the fastest way to load many
//! rows, used by `parceld db copy` (`copy.rs`) and by large trackings batches (`parceld import`,
//! `trackings.rs`).
//!
//! A row is its values separated by tabs and ended by a newline; `\N` is NULL; a backslash,
//! tab, newline or carriage return inside a value is escaped with a backslash. Each type is
//! written as its own text input form (`bytea` as `\x` and hex, arrays as `{"…","…"}`).

use chrono::{DateTime, Utc};

/// A buffer of rows in COPY's text format.
#[derive(Default)]
pub(crate) struct CopyText {
    buffer: Vec<u8>,
    first: bool,
}

impl CopyText {
    pub(crate) fn new() -> Self {
        CopyText {
            buffer: Vec::with_capacity(1 << 16),
            first: true,
        }
    }

    fn separate(&mut self) {
        if !self.first {
            self.buffer.push(b'\t');
        }
        self.first = false;
    }

    /// Ends the current row.
    pub(crate) fn end_row(&mut self) {
        self.buffer.push(b'\n');
        self.first = true;
    }

    pub(crate) fn null(&mut self) {
        self.separate();
        self.buffer.extend_from_slice(b"\\N");
    }

    /// A value whose text needs no escaping (numbers, `t`/`f`, times).
    fn plain(&mut self, text: &str) {
        self.separate();
        self.buffer.extend_from_slice(text.as_bytes());
    }

    pub(crate) fn int(&mut self, value: i64) {
        self.plain(&value.to_string());
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.plain(if value { "t" } else { "f" });
    }

    /// A `timestamptz`, to the microsecond, in UTC.
    pub(crate) fn time(&mut self, value: DateTime<Utc>) {
        self.plain(&value.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string());
    }

    /// Text (also `jsonb` given as its text).
    pub(crate) fn text(&mut self, value: &str) {
        self.separate();
        escape_into(&mut self.buffer, value);
    }

    /// `bytea`: `\x` and hex, its backslash escaped.
    pub(crate) fn bytes(&mut self, value: &[u8]) {
        self.plain("\\\\x");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for byte in value {
            self.buffer.push(HEX[(byte >> 4) as usize]);
            self.buffer.push(HEX[(byte & 15) as usize]);
        }
    }

    /// `text[]`: an array literal with every element quoted.
    pub(crate) fn text_list(&mut self, values: &[String]) {
        let mut literal = String::from("{");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        literal.push('}');
        self.text(&literal);
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The rows written so far, leaving the buffer empty.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buffer)
    }
}

fn escape_into(buffer: &mut Vec<u8>, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'\\' => buffer.extend_from_slice(b"\\\\"),
            b'\t' => buffer.extend_from_slice(b"\\t"),
            b'\n' => buffer.extend_from_slice(b"\\n"),
            b'\r' => buffer.extend_from_slice(b"\\r"),
            other => buffer.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn values_are_escaped_as_copy_reads_them() {
        let mut text = CopyText::new();
        text.int(-7);
        text.bool(true);
        text.null();
        text.text("a\tb\\c\nd");
        text.bytes(&[0, 0xab]);
        text.text_list(&["x\"y".into(), "z\\".into()]);
        text.time(Utc.timestamp_millis_opt(1_700_000_000_123).unwrap());
        text.end_row();
        let row = String::from_utf8(text.take()).unwrap();
        assert_eq!(
            row,
            "-7\tt\t\\N\ta\\tb\\\\c\\nd\t\\\\x00ab\t{\"x\\\\\"y\",\"z\\\\\\\\\"}\t\
             2023-11-14 22:13:20.123000+00\n"
        );
        assert!(text.is_empty());
    }
}
