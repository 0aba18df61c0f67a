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
