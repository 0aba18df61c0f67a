//! Mutation strategies shared by the property-based fuzz targets of the
//! parsers of outside input (site config here, scenarios in the harness,
//! REST bodies in the service): a valid input with random byte edits —
//! flips, inserted bytes (control, high, `"`, `[`, `=`, newline), deleted
//! ranges, truncation, duplicated slices — so that most cases get deep into
//! the parser before they go wrong.

use proptest::prelude::*;

/// One edit of a byte string.
#[derive(Debug, Clone)]
pub enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            b'"', b'[', b']', b'{', b'}', b'=', b'\n', b'\\', b'.', b',', b'#', b'\'', 0, 0x7f,
            0xc3, 0xff, b'0', b'-', b':'
        ]),
    ]
}

/// A random edit; positions are taken modulo the input length.
pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), interesting_byte()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (
            any::<usize>(),
            prop::collection::vec(interesting_byte(), 1..8)
        )
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<usize>(), 1usize..40).prop_map(|(p, n)| Edit::Delete(p, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..60).prop_map(|(p, n)| Edit::Duplicate(p, n)),
    ]
}

/// Applies `edits` to `input`.
pub fn mutate(input: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = input.to_vec();
    for e in edits {
        let len = out.len().max(1);
        match e {
            Edit::Flip(p, b) => {
                if !out.is_empty() {
                    let i = p % out.len();
                    out[i] = *b;
                }
            }
            Edit::Insert(p, bytes) => {
                let i = p % (out.len() + 1);
                out.splice(i..i, bytes.iter().copied());
            }
            Edit::Delete(p, n) => {
                let i = p % len;
                let j = (i + n).min(out.len());
                if i < j {
                    out.drain(i..j);
                }
            }
            Edit::Truncate(p) => out.truncate(p % len),
            Edit::Duplicate(p, n) => {
                let i = p % len;
                let j = (i + n).min(out.len());
                if i < j {
                    let slice = out[i..j].to_vec();
                    out.splice(j..j, slice);
                }
            }
        }
    }
    out
}

/// Asserts that `(line, col)` lies within `text` (1-based; one past the
/// last line allowed for errors at the very end).
pub fn assert_position(text: &str, line: usize, col: usize) {
    let lines = text.split('\n').count();
    assert!(line >= 1 && line <= lines + 1, "line {line} of {lines}");
    let width = text
        .split('\n')
        .nth(line - 1)
        .map_or(0, |l| l.chars().count());
    assert!(
        col >= 1 && col <= width + 2,
        "col {col} of a {width}-character line {line}"
    );
}
