//! `[policy]` as people write it, in the site config and in scenario files
//! alike: optional overrides of the engine's [`Policy`], checked the same
//! way everywhere.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::core::{Nanos, Policy};
use crate::duration::{format_duration, Dur};

/// `[policy]`: overrides of [`Policy`]; unknown keys are rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverrides {
    pub request_timeout: Option<Spanned<Dur>>,
    pub retry_initial: Option<Spanned<Dur>>,
    pub retry_max: Option<Spanned<Dur>>,
    pub probe_interval: Option<Spanned<Dur>>,
    pub down_probe_interval: Option<Spanned<Dur>>,
    pub failures_before_down: Option<Spanned<u32>>,
    pub renew_before: Option<Spanned<Dur>>,
    pub token_renew_before: Option<Spanned<Dur>>,
}

/// An override that makes no sense, with the span of the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub span: Range<usize>,
    pub message: String,
}

impl PolicyOverrides {
    /// The engine defaults with these overrides applied.
    pub fn apply(&self) -> Result<Policy, PolicyError> {
        let mut out = Policy::default();
        let positive = |v: &Option<Spanned<Dur>>, key: &str, target: &mut Nanos| {
            if let Some(d) = v {
                if d.get_ref().0 == 0 {
                    return Err(PolicyError {
                        span: d.span(),
                        message: format!("`{key}` is 0s; expected a positive duration"),
                    });
                }
                *target = d.get_ref().0;
            }
            Ok(())
        };
        positive(
            &self.request_timeout,
            "request_timeout",
            &mut out.request_timeout,
        )?;
        positive(&self.retry_initial, "retry_initial", &mut out.retry_initial)?;
        positive(&self.retry_max, "retry_max", &mut out.retry_max)?;
        positive(
            &self.probe_interval,
            "probe_interval",
            &mut out.probe_interval,
        )?;
        positive(
            &self.down_probe_interval,
            "down_probe_interval",
            &mut out.down_probe_interval,
        )?;
        if let Some(d) = &self.renew_before {
            out.renew_before = d.get_ref().0;
        }
        if let Some(d) = &self.token_renew_before {
            out.token_renew_before = d.get_ref().0;
        }
        if let Some(n) = &self.failures_before_down {
            if *n.get_ref() == 0 {
                return Err(PolicyError {
                    span: n.span(),
                    message: "`failures_before_down` is 0; expected 1 or more".into(),
                });
            }
            out.failures_before_down = *n.get_ref();
        }
        if out.retry_max < out.retry_initial {
            let span = self
                .retry_max
                .as_ref()
                .or(self.retry_initial.as_ref())
                .map_or(0..0, |d| d.span());
            return Err(PolicyError {
                span,
                message: format!(
                    "`retry_max` ({}) is below `retry_initial` ({}); expected retry_max >= retry_initial",
                    format_duration(out.retry_max),
                    format_duration(out.retry_initial)
                ),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{MILLIS, SECS};

    fn parse(text: &str) -> PolicyOverrides {
        toml::from_str(text).expect("valid TOML")
    }

    #[test]
    fn overrides_apply_over_defaults() {
        let p = parse("request_timeout = \"5s\"\nfailures_before_down = 3")
            .apply()
            .unwrap();
        assert_eq!(p.request_timeout, 5 * SECS);
        assert_eq!(p.failures_before_down, 3);
        assert_eq!(p.retry_initial, Policy::default().retry_initial);
    }

    #[test]
    fn nonsense_is_rejected_with_its_span() {
        let e = parse("probe_interval = \"0s\"").apply().unwrap_err();
        assert!(
            e.message.contains("`probe_interval` is 0s"),
            "{}",
            e.message
        );
        assert_eq!(e.span, 17..21);
        let e = parse("retry_initial = \"3s\"\nretry_max = \"500ms\"")
            .apply()
            .unwrap_err();
        assert!(
            e.message.contains("below `retry_initial` (3s)"),
            "{}",
            e.message
        );
        assert_eq!(parse("").apply().unwrap(), Policy::default());
        assert!(toml::from_str::<PolicyOverrides>("probe = \"1s\"").is_err());
        let _ = MILLIS;
    }
}
