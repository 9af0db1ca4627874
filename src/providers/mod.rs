//! The providers, one module per kind of server. The mechanics they share (the HTTP client, web
//! sessions, forms and tables) live beside them in `crate::net`. Adding a kind is one module plus
//! one line in [`PROVIDERS`].
//!
//! Detection asks every provider at once whether the URL is its kind, and takes the first that
//! says yes in the order of [`PROVIDERS`].

pub mod homeassistant;
pub mod hypothesis;
pub mod jupyterhub;
pub mod matrix;
pub mod moodle;
pub mod phorge;
pub mod wordpress;

use url::Url;

use crate::error::{Error, Result};
use crate::model::Kind;
use crate::net::http::Http;
use crate::provider::Provider;

/// Every provider Keyward has, in the order detection prefers them.
static PROVIDERS: &[&dyn Provider] = &[
    &matrix::Matrix,
    &jupyterhub::JupyterHub,
    &homeassistant::HomeAssistant,
    &wordpress::WordPress,
    &moodle::Moodle,
    &phorge::Phorge,
    &hypothesis::Hypothesis,
];

/// The provider of a kind, or a plain error when this version of Keyward has none for it (an
/// accounts file written by another version).
pub fn get(kind: Kind) -> Result<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.kind() == kind).ok_or_else(|| {
        Error::unsupported(format!(
            "this version of Keyward cannot manage {} accounts (it knows {})",
            kind.as_str(),
            kind_names().join(", ")
        ))
    })
}

/// Every provider, for faces that list what can be added.
pub fn all() -> impl Iterator<Item = &'static dyn Provider> {
    PROVIDERS.iter().copied()
}

/// The ids of every kind, in registry order (`matrix`, `jupyterhub`, …): the CLI's `--kind`
/// values and the choices an error offers.
pub fn kind_names() -> Vec<String> {
    all().map(|p| p.kind().as_str().to_string()).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_provider_and_a_name() {
        let mut ids: Vec<_> = all().map(|p| p.kind().as_str()).collect();
        assert!(ids.iter().all(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase())), "{ids:?}");
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "two providers declare the same kind");
        for p in all() {
            let c = p.capabilities();
            assert!(!c.display_name.is_empty() && !c.sign_in.is_empty(), "{:?}", c.kind);
            assert!(c.revoke || !c.revoke_many, "{:?}: revoke_many without revoke", c.kind);
            assert_eq!(get(c.kind).unwrap().kind(), c.kind);
        }
    }
}
