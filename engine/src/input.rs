//! Reading hand-written TOML files (the site config, scenario files): where
//! in the file something is, and TOML's own errors as one tidy line.
//!
//! Both file formats report mistakes as `file:line:col: what; expected …`;
//! these are the shared pieces of that.

/// 1-based line and character column of byte offset `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Where a file stops being UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    /// 1-based line and character column of the first invalid byte.
    pub line: usize,
    pub col: usize,
    /// The invalid byte.
    pub byte: u8,
}

impl std::fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "byte 0x{:02x} is not valid UTF-8; expected a UTF-8 text file",
            self.byte
        )
    }
}

/// `bytes` as text, or where (line, column) the first invalid UTF-8 byte is.
pub fn utf8_text(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        // The prefix up to `at` is valid by definition.
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let (line, col) = line_col(valid, at);
        NotUtf8 {
            line,
            col,
            byte: bytes[at],
        }
    })
}

/// A TOML (syntax or serde) message as one line, `what; expected …`.
pub fn tidy_toml_message(message: &str) -> String {
    let one_line = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = one_line.replacen(", expected ", "; expected ", 1);
    if let Some(rest) = out.strip_prefix("missing field `") {
        if let Some((key, "")) = rest.split_once('`') {
            out = format!("missing key `{key}`; expected `{key} = …` in this table");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "ab\ncµd\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (1, 3));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 6), (2, 3));
        assert_eq!(line_col(text, 99), (3, 1));
    }

    #[test]
    fn invalid_utf8_is_located() {
        assert_eq!(utf8_text(b"ok\n".to_vec()).unwrap(), "ok\n");
        let e = utf8_text(b"a = 1\nb = \"x\xffy\"\n".to_vec()).unwrap_err();
        assert_eq!((e.line, e.col, e.byte), (2, 7, 0xff));
        assert!(e.to_string().contains("0xff"), "{e}");
        let mut b = "µé".as_bytes().to_vec();
        b.push(0xc3);
        let e = utf8_text(b).unwrap_err();
        assert_eq!((e.line, e.col), (1, 3));
    }

    #[test]
    fn missing_field_reads_as_a_missing_key() {
        assert_eq!(
            tidy_toml_message("missing field `seed`\n"),
            "missing key `seed`; expected `seed = …` in this table"
        );
        assert_eq!(
            tidy_toml_message("invalid type: integer `3`, expected a string"),
            "invalid type: integer `3`; expected a string"
        );
    }
}
