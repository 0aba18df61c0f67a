//! Fuzz target of the scenario parser (proptest, a bounded number of cases
//! per test run): every scenario of the suite, mutated, and arbitrary
//! bytes never panic, and every refusal is an `Invalid` error at a real
//! `line:col`.

use engine::input_fuzz::{assert_position, edit, mutate};
use proptest::prelude::*;

use super::{parse, ScenarioError};

const BASES: &[&str] = &[
    include_str!("../../../scenarios/happy-path.toml"),
    include_str!("../../../scenarios/primary-down-mid-session.toml"),
    include_str!("../../../scenarios/click-races.toml"),
    include_str!("../../../scenarios/flaky-errors.toml"),
    include_str!("../../../scenarios/stream-loss.toml"),
    include_str!("../../../scenarios/engine-crash.toml"),
];

fn check(bytes: &[u8]) {
    let text = match engine::input::utf8_text(bytes.to_vec()) {
        Ok(t) => t,
        Err(e) => {
            assert!(e.line >= 1 && e.col >= 1);
            return;
        }
    };
    match parse(&text, "fuzz.toml") {
        Ok(s) => assert!(!s.sites.is_empty()),
        Err(ScenarioError::Invalid {
            file,
            line,
            col,
            message,
        }) => {
            assert_eq!(file, "fuzz.toml");
            assert!(!message.is_empty());
            assert_position(&text, line, col);
        }
        Err(e) => panic!("a parse error that is not `Invalid`: {e}"),
    }
}

#[test]
fn the_bases_are_valid() {
    for base in BASES {
        parse(base, "fuzz.toml").expect("a suite scenario parses");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn mutated_scenarios_never_panic(
        which in 0..BASES.len(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        check(&mutate(BASES[which].as_bytes(), &edits));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&bytes);
    }
}
