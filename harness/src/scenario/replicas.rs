//! `[scenario] engines = N` and the `engine` key of `engine_crash` faults:
//! which replicas a world runs and which one a crash kills.

use toml::Spanned;

use super::error::ScenarioError;
use super::raw::RawFault;
use super::validate::Ctx;
use sim::world::EngineTarget;

/// Most replicas a scenario may run.
pub const MAX_ENGINES: i64 = 16;

pub(super) fn engines(raw: Option<&Spanned<i64>>, cx: &Ctx<'_>) -> Result<usize, ScenarioError> {
    match raw {
        None => Ok(1),
        Some(n) if (1..=MAX_ENGINES).contains(n.get_ref()) => Ok(*n.get_ref() as usize),
        Some(n) => Err(cx.err(
            n.span(),
            format!(
                "`engines = {}`; expected a number of engine replicas from 1 to {MAX_ENGINES}",
                n.get_ref()
            ),
        )),
    }
}

pub(super) fn target(
    f: &RawFault,
    cx: &Ctx<'_>,
    engines: usize,
) -> Result<Option<EngineTarget>, ScenarioError> {
    let Some(e) = &f.engine else {
        return Ok(None);
    };
    if f.kind.get_ref() != "engine_crash" {
        return Err(cx.err(
            e.span(),
            format!(
                "`engine` does not apply to `kind = \"{}\"`; expected it only on `engine_crash`",
                f.kind.get_ref()
            ),
        ));
    }
    let expected = format!(
        "expected `engine = \"leader\"`, `\"standby\"` or a replica index from 0 to {}",
        engines - 1
    );
    let t = match e.get_ref() {
        toml::Value::String(s) if s == "leader" => EngineTarget::Leader,
        toml::Value::String(s) if s == "standby" => EngineTarget::Standby,
        toml::Value::Integer(i) if *i >= 0 && (*i as u64) < engines as u64 => {
            EngineTarget::Index(*i as usize)
        }
        other => {
            return Err(cx.err(e.span(), format!("`engine = {other}`; {expected}")));
        }
    };
    if engines == 1 && t == EngineTarget::Standby {
        return Err(cx.err(
            e.span(),
            "`engine = \"standby\"` with a single engine; expected `engines = N` (N ≥ 2) in `[scenario]`",
        ));
    }
    Ok(Some(t))
}
