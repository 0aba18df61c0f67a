//! [`ScenarioError`]: why a scenario file was rejected, pointing at
//! `file:line:col` of the offending key or value.

use std::ops::Range;

pub(crate) use engine::input::{line_col, tidy_toml_message};

/// A scenario that could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read (exit code 3 territory).
    #[error("{file}: cannot read the scenario file: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid scenario (exit code 2 territory). `message`
    /// says what was wrong and, after `; expected`, what was expected.
    #[error("{file}:{line}:{col}: {message}")]
    Invalid {
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        col: usize,
        message: String,
    },
}

impl ScenarioError {
    /// An invalid-scenario error at byte offset `span.start` of `text`.
    pub(crate) fn at(
        file: &str,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let (line, col) = line_col(text, span.start);
        ScenarioError::Invalid {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }

    /// Converts a TOML (syntax or serde) error into one line with a location.
    pub(crate) fn from_toml(file: &str, text: &str, e: &toml::de::Error) -> Self {
        let start = e.span().map_or(0, |s| s.start);
        ScenarioError::at(file, text, start..start, tidy_toml_message(e.message()))
    }

    /// The 1-based line and column, for invalid-scenario errors.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            ScenarioError::Invalid { line, col, .. } => Some((*line, *col)),
            ScenarioError::Io { .. } => None,
        }
    }
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
        // `d` is after the two-byte `µ`.
        assert_eq!(line_col(text, 6), (2, 3));
        assert_eq!(line_col(text, 5), (2, 2)); // inside `µ`: snaps back
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn toml_messages_become_one_line() {
        assert_eq!(
            tidy_toml_message("unknown field `x`, expected `a` or `b`"),
            "unknown field `x`; expected `a` or `b`"
        );
        assert_eq!(
            tidy_toml_message("invalid table header\nexpected `.`, `]`\n"),
            "invalid table header; expected `.`, `]`"
        );
        assert_eq!(
            tidy_toml_message("missing field `seed`"),
            "missing key `seed`; expected `seed = …` in this table"
        );
    }
}
