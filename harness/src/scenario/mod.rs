//! Scenario files (TOML, see `docs/scenario-format.md`): reading,
//! validating, and the validated [`Scenario`] model.
//!
//! [`parse`] and [`load`] either return a fully validated scenario (names
//! resolved to indices, defaults applied, camera ranges and repeated faults
//! expanded) or a [`ScenarioError`] pointing at `file:line:col` of the
//! offending key or value and saying what was expected. They never panic
//! and never replace a wrong value with a default.
//!
//! Layout: `raw` (serde input types), `validate` (raw → model), `model`
//! (the output), `duration` and `guarantees` (value syntaxes), `error`.

pub mod duration;
pub mod error;
pub mod guarantees;
pub mod model;
mod raw;
pub mod real_mode;
mod replicas;
mod validate;

use std::path::Path;

pub use duration::{format_duration, parse_duration, DurationError};
pub use error::ScenarioError;
pub use model::{
    CameraSettingsDef, ClickDef, FaultDef, FaultKind, Scenario, SessionDef, SiteDef, WorkloadDef,
};
pub use validate::{camera_name, camera_number, DEFAULT_REAL_TOLERANCE};

/// Reads and validates the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Io {
        file: file.clone(),
        source,
    })?;
    let text = engine::input::utf8_text(bytes).map_err(|e| ScenarioError::Invalid {
        file: file.clone(),
        line: e.line,
        col: e.col,
        message: e.to_string(),
    })?;
    parse(&text, &file)
}

/// Validates scenario `text`; `file_name` is used in error locations.
pub fn parse(text: &str, file_name: &str) -> Result<Scenario, ScenarioError> {
    let raw: raw::RawFile =
        toml::from_str(text).map_err(|e| ScenarioError::from_toml(file_name, text, &e))?;
    validate::validate(
        raw,
        &validate::Ctx {
            file: file_name,
            text,
        },
    )
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
