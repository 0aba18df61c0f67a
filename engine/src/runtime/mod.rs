//! The tokio driver of the engine: real clock, real HTTP/SOAP, timers.
//!
//! It owns the I/O around one [`crate::core::Mirror`]: where each site is
//! ([`SiteEndpoint`]), speaking XProtect SOAP to it ([`SoapClient`]), the
//! loop that feeds the engine time and replies and executes its commands
//! ([`Driver`]), and the async API to the running engine ([`EngineHandle`]).
//!
//! Every engine decision (what to send, when to retry, when a site is down,
//! when to renew) stays in `core`; the runtime only carries commands and
//! replies, exactly as the virtual-time world in `sim` does.

mod client;
mod config;
mod driver;
mod events;
mod handle;
mod login;
mod ntlm;
mod rest;
mod tls;

pub use client::{ClientError, SoapClient};
pub use config::{SiteAuth, SiteEndpoint, SiteLogin};
pub use driver::{spawn, Driver, RuntimeError, SendGate as DriverGate};
pub use events::{Outcome, RequestKind, RuntimeEvent};
#[doc(hidden)]
pub use handle::Request as EngineRequest;
pub use handle::{EngineHandle, EngineStopped, IntentError, RuntimeStats, SiteProblem};
pub use login::LoginExchange;
pub use ntlm::{NtlmClient, NtlmError};
pub use rest::{Bearer, REST_API_PREFIX};
pub use tls::{fingerprint_hex, parse_fingerprint};

#[cfg(test)]
mod tests;
