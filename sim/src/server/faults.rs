//! Faults a mock site shows at its network edge: what can be asked for
//! ([`FaultRequest`], [`SiteFaultKind`]), how it is written on the control
//! API (JSON, humane durations, latency specs), and what the active set means
//! for a request arriving now ([`EdgeState`]).
//!
//! | kind | on the wire | on the model |
//! |---|---|---|
//! | `down` | service listener closed: connection refused; open connections dropped | `crash` at the start, `boot` when the last `down` ends |
//! | `hang` | connections accepted, requests held without answer; when the fault ends the held connections are closed without a reply | untouched (held requests never reach it) |
//! | `partition` | as `hang` from the client's view; a reply still waiting for its latency is lost too | untouched: keeps recording |
//! | `slow` | another latency distribution (the latest `slow` wins) | — |
//! | `errors` | that `rate` of requests answers HTTP 500 with a SOAP fault (highest rate wins; seeded RNG) | untouched |
//! | `lost_replies` | that `rate` of requests is executed, then its connection is dropped without a reply (highest rate wins; seeded RNG) | the request executes |
//! | `restart` | without `for`: none; with `for`: recorder calls answer HTTP 503 with a SOAP fault for the window, Login still works | recorders crash at the start and boot at the end (no `for`: `restart_recorders`) |
//! | `token_expiry` | — (instantaneous) | `invalidate_tokens` |
//! | `stream_loss` | — | the device's camera stream is lost for the window |
//!
//! A fault without `for` lasts until it is cleared (`DELETE /faults`), except
//! the instantaneous ones (`token_expiry`, `restart` without `for`).
//!
//! This module parses and describes; it performs no I/O and touches no model
//! (the transitions live in `state.rs`).

use serde_json::{Map, Value};

use engine::core::DeviceId;

use crate::intervals::Nanos;
use crate::world::latency::LatencyDist;

/// What a fault on a mock site does (see the module table).
#[derive(Debug, Clone, PartialEq)]
pub enum SiteFaultKind {
    Down,
    Hang,
    Partition,
    Slow(LatencyDist),
    Errors { rate: f64 },
    LostReplies { rate: f64 },
    Restart,
    TokenExpiry,
    StreamLoss { device: DeviceId },
}

impl SiteFaultKind {
    /// The kind's name on the control API and in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            SiteFaultKind::Down => "down",
            SiteFaultKind::Hang => "hang",
            SiteFaultKind::Partition => "partition",
            SiteFaultKind::Slow(_) => "slow",
            SiteFaultKind::Errors { .. } => "errors",
            SiteFaultKind::LostReplies { .. } => "lost_replies",
            SiteFaultKind::Restart => "restart",
            SiteFaultKind::TokenExpiry => "token_expiry",
            SiteFaultKind::StreamLoss { .. } => "stream_loss",
        }
    }
}

/// A fault to inject: what and for how long (`None`: until cleared).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRequest {
    pub kind: SiteFaultKind,
    /// `for`: the fault ends by itself after this long.
    pub duration: Option<Nanos>,
}

impl FaultRequest {
    /// A fault that lasts until cleared.
    pub fn new(kind: SiteFaultKind) -> Self {
        FaultRequest {
            kind,
            duration: None,
        }
    }

    /// The same fault, ending by itself after `duration`.
    pub fn lasting(mut self, duration: Nanos) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Whether the fault acts once and is never active (`token_expiry`, and
    /// `restart` without a duration).
    pub fn is_instantaneous(&self) -> bool {
        match self.kind {
            SiteFaultKind::TokenExpiry => true,
            SiteFaultKind::Restart => self.duration.unwrap_or(0) == 0,
            _ => false,
        }
    }

    /// Parses the control API's JSON body, e.g.
    /// `{"kind": "errors", "rate": 0.3, "for": "30s"}`,
    /// `{"kind": "slow", "latency": "normal:35ms:8ms"}` or
    /// `{"kind": "slow", "latency": {"dist": "fixed", "value": "200ms"}}`,
    /// `{"kind": "stream_loss", "device": "<guid>"}` (`camera` is accepted
    /// as another name of `device`). Unknown keys, keys that do not belong to
    /// the kind and missing required keys are errors.
    pub fn from_json(body: &[u8]) -> Result<FaultRequest, FaultError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            FaultError::bad_request(format!(
                "body is not JSON ({e}); expected an object like {{\"kind\": \"down\", \"for\": \"30s\"}}"
            ))
        })?;
        let Value::Object(obj) = value else {
            return Err(FaultError::bad_request(
                "body is not a JSON object; expected an object like {\"kind\": \"down\", \"for\": \"30s\"}",
            ));
        };
        Self::from_object(&obj)
    }

    fn from_object(obj: &Map<String, Value>) -> Result<FaultRequest, FaultError> {
        const KEYS: [&str; 6] = ["kind", "for", "rate", "latency", "device", "camera"];
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(FaultError::bad_request(format!(
                "unknown key `{k}`; expected some of kind, for, rate, latency, device"
            )));
        }
        let kind = match obj.get("kind") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(FaultError::bad_request("`kind` must be a string")),
            None => {
                return Err(FaultError::bad_request(format!(
                    "missing key `kind`; expected one of {KIND_NAMES}"
                )))
            }
        };
        let duration = match obj.get("for") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                parse_duration(s).map_err(|e| FaultError::bad_request(format!("`for`: {e}")))?,
            ),
            Some(_) => {
                return Err(FaultError::bad_request(
                    "`for` must be a duration string like \"30s\" or \"1m30s\"",
                ))
            }
        };
        let device = match (obj.get("device"), obj.get("camera")) {
            (Some(_), Some(_)) => {
                return Err(FaultError::bad_request(
                    "both `device` and `camera` given; expected one of them",
                ))
            }
            (Some(Value::String(s)), None) | (None, Some(Value::String(s))) => Some(s.clone()),
            (None, None) => None,
            _ => {
                return Err(FaultError::bad_request(
                    "`device` must be a device GUID string",
                ))
            }
        };
        let allowed: &[&str] = match kind {
            "errors" | "lost_replies" => &["rate"],
            "slow" => &["latency"],
            "stream_loss" => &["device", "camera"],
            _ => &[],
        };
        for k in ["rate", "latency", "device", "camera"] {
            if obj.contains_key(k) && !allowed.contains(&k) {
                return Err(FaultError::bad_request(format!(
                    "key `{k}` does not apply to kind `{kind}`"
                )));
            }
        }
        let kind = match kind {
            "down" => SiteFaultKind::Down,
            "hang" => SiteFaultKind::Hang,
            "partition" => SiteFaultKind::Partition,
            "restart" => SiteFaultKind::Restart,
            "token_expiry" => SiteFaultKind::TokenExpiry,
            "errors" | "lost_replies" => match obj.get("rate") {
                Some(Value::Number(n)) => {
                    let rate = n.as_f64().unwrap_or(f64::NAN);
                    if kind == "errors" {
                        SiteFaultKind::Errors { rate }
                    } else {
                        SiteFaultKind::LostReplies { rate }
                    }
                }
                Some(_) => {
                    return Err(FaultError::bad_request(
                        "`rate` must be a number from 0 to 1",
                    ))
                }
                None => {
                    return Err(FaultError::bad_request(format!(
                        "kind `{kind}` needs `rate`, a number from 0 to 1"
                    )))
                }
            },
            "slow" => match obj.get("latency") {
                Some(v) => SiteFaultKind::Slow(
                    latency_from_json(v)
                        .map_err(|e| FaultError::bad_request(format!("`latency`: {e}")))?,
                ),
                None => {
                    return Err(FaultError::bad_request(
                        "kind `slow` needs `latency`, e.g. \"fixed:200ms\" or {\"dist\": \"fixed\", \"value\": \"200ms\"}",
                    ))
                }
            },
            "stream_loss" => match device {
                Some(d) => SiteFaultKind::StreamLoss {
                    device: DeviceId::new(d),
                },
                None => {
                    return Err(FaultError::bad_request(
                        "kind `stream_loss` needs `device`, a device GUID of this site",
                    ))
                }
            },
            "engine_crash" => {
                return Err(FaultError::bad_request(
                    "kind `engine_crash` is not a site fault: a mock site cannot crash the engine; \
                     expected one of ".to_owned()
                        + KIND_NAMES,
                ))
            }
            other => {
                return Err(FaultError::bad_request(format!(
                    "unknown kind `{other}`; expected one of {KIND_NAMES}"
                )))
            }
        };
        let req = FaultRequest { kind, duration };
        req.validate()?;
        Ok(req)
    }

    /// Checks values that do not depend on the site (rate range, latency
    /// parameters).
    pub fn validate(&self) -> Result<(), FaultError> {
        match &self.kind {
            SiteFaultKind::Errors { rate } | SiteFaultKind::LostReplies { rate }
                if !(rate.is_finite() && (0.0..=1.0).contains(rate)) =>
            {
                Err(FaultError::bad_request(format!(
                    "`rate` is {rate}; expected a number from 0 to 1"
                )))
            }
            SiteFaultKind::Slow(dist) => dist
                .validate()
                .map_err(|e| FaultError::bad_request(format!("`latency`: {e}"))),
            _ => Ok(()),
        }
    }
}

const KIND_NAMES: &str =
    "down, hang, partition, slow, errors, lost_replies, restart, token_expiry, stream_loss";

/// Why a fault request was refused; `code` is the control API's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FaultError {
    /// `bad_request`, `unknown_device`, `unknown_fault` or `shut_down`.
    pub code: &'static str,
    pub message: String,
}

impl FaultError {
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        FaultError {
            code: "bad_request",
            message: message.into(),
        }
    }
}

/// Identifies an active fault on one mock site.
pub type FaultId = u64;

/// An injected fault and its window in model time.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultInfo {
    pub id: FaultId,
    pub request: FaultRequest,
    /// Model time it started.
    pub since: Nanos,
    /// Model time it ends by itself, if it has a duration (`None` for an
    /// instantaneous fault).
    pub until: Option<Nanos>,
}

/// What the active faults mean for a request arriving now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeState {
    /// A `down` is active (the listener is closed).
    pub down: bool,
    /// A `hang` or `partition` is active: nothing gets answered.
    pub blackholed: bool,
    /// A `restart` with a duration is active: recorder calls answer 503.
    pub restarting: bool,
    /// Latency of the latest active `slow`, replacing the base latency.
    pub slow: Option<LatencyDist>,
    /// Highest `errors` rate active (0 when none).
    pub error_rate: f64,
    /// Highest `lost_replies` rate active (0 when none).
    pub lost_reply_rate: f64,
}

impl EdgeState {
    /// The edge for a set of active faults (in start order).
    pub fn of<'a>(active: impl IntoIterator<Item = &'a FaultRequest>) -> EdgeState {
        let mut e = EdgeState::default();
        for f in active {
            match &f.kind {
                SiteFaultKind::Down => e.down = true,
                SiteFaultKind::Hang | SiteFaultKind::Partition => e.blackholed = true,
                SiteFaultKind::Restart => e.restarting = true,
                SiteFaultKind::Slow(d) => e.slow = Some(d.clone()),
                SiteFaultKind::Errors { rate } => e.error_rate = e.error_rate.max(*rate),
                SiteFaultKind::LostReplies { rate } => {
                    e.lost_reply_rate = e.lost_reply_rate.max(*rate)
                }
                SiteFaultKind::TokenExpiry | SiteFaultKind::StreamLoss { .. } => {}
            }
        }
        e
    }
}

/// Humane durations (`250ms`, `1m30s`, `10.05s`): the project-wide parser
/// of [`engine::duration`], its error as the message the API answers with.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    engine::duration::parse_duration(text).map_err(|e| e.to_string())
}

/// Parses a latency spec of the command line and the control API:
/// `fixed:20ms` (or just `20ms`), `uniform:5ms:50ms`, `normal:35ms:8ms`
/// (mean, stddev), `lognormal:15ms:80ms` (median, p99) or
/// `pareto:20ms:1.5` (scale, shape).
pub fn parse_latency(spec: &str) -> Result<LatencyDist, String> {
    let expected = "expected `fixed:20ms`, `uniform:5ms:50ms`, `normal:35ms:8ms`, \
                    `lognormal:15ms:80ms` or `pareto:20ms:1.5`";
    let parts: Vec<&str> = spec.trim().split(':').map(str::trim).collect();
    let d = |s: &str| parse_duration(s);
    let dist = match parts.as_slice() {
        [v] => LatencyDist::Fixed(d(v).map_err(|e| format!("{e}; or {expected}"))?),
        ["fixed", v] => LatencyDist::Fixed(d(v)?),
        ["uniform", a, b] => LatencyDist::Uniform {
            min: d(a)?,
            max: d(b)?,
        },
        ["normal", a, b] => LatencyDist::Normal {
            mean: d(a)?,
            stddev: d(b)?,
        },
        ["lognormal", a, b] => LatencyDist::LogNormal {
            median: d(a)?,
            p99: d(b)?,
        },
        ["pareto", a, b] => LatencyDist::Pareto {
            scale: d(a)?,
            shape: b
                .parse::<f64>()
                .map_err(|_| format!("pareto shape `{b}` is not a number; {expected}"))?,
        },
        _ => return Err(format!("`{spec}` is not a latency; {expected}")),
    };
    dist.validate()?;
    Ok(dist)
}

/// A latency on the control API: a spec string (see [`parse_latency`]) or an
/// object as in scenario files, `{"dist": "lognormal", "median": "15ms",
/// "p99": "80ms"}`.
pub fn latency_from_json(v: &Value) -> Result<LatencyDist, String> {
    let obj = match v {
        Value::String(s) => return parse_latency(s),
        Value::Object(o) => o,
        _ => return Err("expected a spec string like \"fixed:20ms\" or an object".into()),
    };
    let dist = match obj.get("dist") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return Err(
                "missing `dist`; expected one of fixed, uniform, normal, lognormal, pareto".into(),
            )
        }
    };
    let keys: &[&str] = match dist {
        "fixed" => &["value"],
        "uniform" => &["min", "max"],
        "normal" => &["mean", "stddev"],
        "lognormal" => &["median", "p99"],
        "pareto" => &["scale", "shape"],
        other => {
            return Err(format!(
                "unknown dist `{other}`; expected one of fixed, uniform, normal, lognormal, pareto"
            ))
        }
    };
    if let Some(k) = obj
        .keys()
        .find(|k| *k != "dist" && !keys.contains(&k.as_str()))
    {
        return Err(format!(
            "unknown key `{k}` for dist `{dist}`; expected {}",
            keys.join(", ")
        ));
    }
    let dur = |k: &str| -> Result<Nanos, String> {
        match obj.get(k) {
            Some(Value::String(s)) => parse_duration(s),
            Some(_) => Err(format!("`{k}` must be a duration string like \"20ms\"")),
            None => Err(format!("dist `{dist}` needs `{k}`")),
        }
    };
    let out = match dist {
        "fixed" => LatencyDist::Fixed(dur("value")?),
        "uniform" => LatencyDist::Uniform {
            min: dur("min")?,
            max: dur("max")?,
        },
        "normal" => LatencyDist::Normal {
            mean: dur("mean")?,
            stddev: dur("stddev")?,
        },
        "lognormal" => LatencyDist::LogNormal {
            median: dur("median")?,
            p99: dur("p99")?,
        },
        _ => LatencyDist::Pareto {
            scale: dur("scale")?,
            shape: match obj.get("shape") {
                Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
                _ => return Err("dist `pareto` needs `shape`, a number such as 1.5".into()),
            },
        },
    };
    out.validate()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::core::{MILLIS, SECS};

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(250 * MILLIS));
        assert_eq!(parse_duration("1m30s"), Ok(90 * SECS));
        assert_eq!(parse_duration(" 10.05s "), Ok(10_050 * MILLIS));
        assert_eq!(parse_duration("4h"), Ok(4 * 3600 * SECS));
        assert_eq!(parse_duration("1.5us"), Ok(1500));
        assert_eq!(parse_duration("0s"), Ok(0));
        for bad in [
            "",
            "30",
            "s",
            "3x",
            "1s1s",
            "1.2.3s",
            "0.5ns",
            "-1s",
            "99999999999999999999h",
        ] {
            let e = parse_duration(bad);
            assert!(
                e.as_ref().is_err_and(|m| m.contains("expected a duration")),
                "{bad}: {e:?}"
            );
        }
    }

    #[test]
    fn latency_specs() {
        assert_eq!(
            parse_latency("fixed:20ms"),
            Ok(LatencyDist::Fixed(20 * MILLIS))
        );
        assert_eq!(parse_latency("20ms"), Ok(LatencyDist::Fixed(20 * MILLIS)));
        assert_eq!(
            parse_latency("normal:35ms:8ms"),
            Ok(LatencyDist::Normal {
                mean: 35 * MILLIS,
                stddev: 8 * MILLIS
            })
        );
        assert_eq!(
            parse_latency("lognormal:15ms:80ms"),
            Ok(LatencyDist::LogNormal {
                median: 15 * MILLIS,
                p99: 80 * MILLIS
            })
        );
        assert_eq!(
            parse_latency("pareto:20ms:1.5"),
            Ok(LatencyDist::Pareto {
                scale: 20 * MILLIS,
                shape: 1.5
            })
        );
        assert!(parse_latency("lognormal:80ms:15ms").is_err());
        assert!(parse_latency("gauss:1ms").is_err());
        assert!(parse_latency("uniform:5ms").is_err());
    }

    #[test]
    fn fault_json() {
        let r = FaultRequest::from_json(br#"{"kind":"errors","rate":0.3,"for":"30s"}"#);
        assert_eq!(
            r,
            Ok(FaultRequest::new(SiteFaultKind::Errors { rate: 0.3 }).lasting(30 * SECS))
        );
        let r = FaultRequest::from_json(
            br#"{"kind":"slow","latency":{"dist":"uniform","min":"1ms","max":"2ms"}}"#,
        );
        assert_eq!(
            r.map(|r| r.kind),
            Ok(SiteFaultKind::Slow(LatencyDist::Uniform {
                min: MILLIS,
                max: 2 * MILLIS
            }))
        );
        let r = FaultRequest::from_json(br#"{"kind":"stream_loss","camera":"abc"}"#);
        assert_eq!(
            r.map(|r| r.kind),
            Ok(SiteFaultKind::StreamLoss {
                device: DeviceId::new("abc")
            })
        );
        for (bad, needle) in [
            (&br#"nope"#[..], "not JSON"),
            (br#"[1]"#, "not a JSON object"),
            (br#"{}"#, "missing key `kind`"),
            (br#"{"kind":"melt"}"#, "unknown kind `melt`"),
            (br#"{"kind":"engine_crash"}"#, "not a site fault"),
            (
                br#"{"kind":"down","for":"soon"}"#,
                "`soon` is not a duration",
            ),
            (br#"{"kind":"down","rate":0.5}"#, "does not apply"),
            (br#"{"kind":"down","colour":1}"#, "unknown key `colour`"),
            (br#"{"kind":"errors"}"#, "needs `rate`"),
            (br#"{"kind":"errors","rate":1.5}"#, "from 0 to 1"),
            (br#"{"kind":"slow"}"#, "needs `latency`"),
            (br#"{"kind":"slow","latency":"fast"}"#, "not a duration"),
            (br#"{"kind":"stream_loss"}"#, "needs `device`"),
        ] {
            match FaultRequest::from_json(bad) {
                Err(e) => {
                    assert_eq!(e.code, "bad_request");
                    assert!(e.message.contains(needle), "{e}");
                }
                Ok(r) => panic!("accepted {r:?}"),
            }
        }
    }

    #[test]
    fn edge_state_combines_active_faults() {
        let faults = [
            FaultRequest::new(SiteFaultKind::Errors { rate: 0.2 }),
            FaultRequest::new(SiteFaultKind::Errors { rate: 0.5 }),
            FaultRequest::new(SiteFaultKind::Slow(LatencyDist::Fixed(1))),
            FaultRequest::new(SiteFaultKind::Slow(LatencyDist::Fixed(2))),
            FaultRequest::new(SiteFaultKind::Partition),
        ];
        let e = EdgeState::of(&faults);
        assert_eq!(e.error_rate, 0.5);
        assert_eq!(e.slow, Some(LatencyDist::Fixed(2)));
        assert!(e.blackholed && !e.down && !e.restarting);
        assert_eq!(EdgeState::of(&[]), EdgeState::default());
    }
}
