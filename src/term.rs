//! The command line's standard output: every subcommand prints through
//! [`out!`] and [`outln!`] instead of `print!`/`println!`.
//!
//! - Colours: [`paint`] marks verdict words with `anstyle` styles, and the
//!   text goes out through `anstream`, which drops the escape codes unless
//!   stdout is a terminal and `NO_COLOR` is unset (it also honours
//!   `CLICOLOR`/`CLICOLOR_FORCE`). So `dualrec … | less`, a file or a CI log
//!   get plain text.
//! - A closed stdout is a normal way for a reader to stop listening
//!   (`dualrec suite scenarios --list | head -3`): `println!` panics there.
//!   Here the first failed write (a broken pipe silently, anything else
//!   with one warning on stderr) closes our side: later output is dropped
//!   and the command carries on — reports are still written and the exit
//!   code is still the verdict.
//!
//! Tables come from `harness::report::terminal_table` (comfy-table); this
//! module does no layout.

use std::fmt;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};

/// Set once a write to stdout failed; nothing is written after that.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to stdout (see the module doc); never panics.
pub fn write(args: fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = anstream::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if !CLOSED.swap(true, Ordering::Relaxed) && e.kind() != ErrorKind::BrokenPipe {
            eprintln!("warning: cannot write to stdout ({e}); further output dropped");
        }
    }
}

/// `print!` through [`write`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::term::write(format_args!($($arg)*))
    };
}

/// `println!` through [`write`].
macro_rules! outln {
    () => {
        $crate::term::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::term::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

const PASS: Style = AnsiColor::Green.on_default();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const FLAKY: Style = AnsiColor::Yellow.on_default().bold();

/// Colours the verdict words of `text`: `PASS`/`pass` green,
/// `FAIL`/`FAILED` bold red, `FLAKY` bold yellow (whole words only); other
/// text is unchanged. Whether the colours reach the screen is up to
/// [`write`].
pub fn paint(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let style = match word.as_str() {
            "PASS" | "pass" => Some(PASS),
            "FAIL" | "FAILED" => Some(FAIL),
            "FLAKY" => Some(FLAKY),
            _ => None,
        };
        match style {
            Some(s) => out.push_str(&format!("{s}{word}{s:#}")),
            None => out.push_str(word),
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(ch);
        } else {
            word.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_colours_whole_verdict_words_only() {
        let text = "PASS  bypass  x\nFAIL  FLAKY passed";
        let painted = paint(text);
        assert_eq!(
            painted,
            format!(
                "{PASS}PASS{PASS:#}  bypass  x\n{FAIL}FAIL{FAIL:#}  {FLAKY}FLAKY{FLAKY:#} passed"
            )
        );
        assert!(painted.contains("\x1b[32mPASS\x1b[0m"), "{painted:?}");
        // What anstream leaves when colours are off: the text itself.
        assert_eq!(anstream::adapter::strip_str(&painted).to_string(), text);
    }
}
