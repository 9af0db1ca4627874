//! The providers, one module per kind of server. The mechanics they share (the HTTP client, web
//! sessions, forms and tables) live beside them in `crate::net`. Adding a kind is one module plus
//! one line in [`PROVIDERS`].
//!
//! Detection asks every provider at once whether the URL is its kind, and takes the first that
//! says yes in the order of [`PROVIDERS`].

pub mod homeassistant;
pub mod jupyterhub;
pub mod matrix;
pub mod moodle;
pub mod wordpress;

use url::Url;

use crate::error::{Error, Result};
use crate::model::Kind;
use crate::provider::Provider;
use crate::net::http::Http;

/// Every provider Keyward has, in the order detection prefers them.
static PROVIDERS: &[&dyn Provider] =
    &[&matrix::Matrix, &jupyterhub::JupyterHub, &homeassistant::HomeAssistant, &wordpress::WordPress, &moodle::Moodle];

/// The provider of a kind, or a plain error when Keyward cannot manage that kind yet.
pub fn get(kind: Kind) -> Result<&'static dyn Provider> {
    PROVIDERS
        .iter()
        .copied()
        .find(|p| p.kind() == kind)
        .ok_or_else(|| Error::NotAllowed(format!("Keyward cannot manage {} accounts yet", kind.display_name())))
}

/// Every provider, for faces that list what can be added.
pub fn all() -> impl Iterator<Item = &'static dyn Provider> {
    PROVIDERS.iter().copied()
}

/// What every probe of one detection may read, together.
const DETECTION_CAP: usize = 8 * 1024 * 1024;

/// What kind of server is at `url`, and the base URL to use for it.
pub async fn detect(http: &Http, url: &Url) -> Result<(Kind, Url)> {
    let http = http.with_shared_cap(DETECTION_CAP);
    let answers = futures::future::join_all(PROVIDERS.iter().map(|p| p.probe(&http, url))).await;
    let mut errors = Vec::new();
    for (p, answer) in PROVIDERS.iter().zip(answers) {
        match answer {
            Ok(Some(base)) => return Ok((p.kind(), base)),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    Err(why_undetected(errors).unwrap_or_else(|| Error::UnknownKind { url: url.as_str().trim_end_matches('/').to_string() }))
}

/// Why no probe said yes, when that is more than "unknown kind": the server limits requests
/// (the probe that was stopped may have been the right one), sent too much, pointed to plain
/// http, could not be reached, or sent a probe to another host (a WordPress API root elsewhere, a
/// single sign-on page: what the user needs to know to type the right address).
fn why_undetected(errors: Vec<Error>) -> Option<Error> {
    let rank = |e: &Error| match e {
        Error::RateLimited { .. } => 0,
        Error::TooLarge { .. } => 1,
        Error::Refused { .. } | Error::Insecure { .. } => 2,
        Error::Unreachable { .. } | Error::Timeout { .. } => 3,
        Error::Redirected { .. } => 4,
        _ => 9,
    };
    errors.into_iter().filter(|e| rank(e) < 9).min_by_key(rank)
}
