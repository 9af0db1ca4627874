//! What changed since the user last looked: credentials that appeared, that disappeared, and
//! addresses a credential was used from that were not seen for it before.
//!
//! Every refresh compares the new listing with the previous one ([`diff`]) and adds what it finds
//! to the account's pending changes ([`Watch`]), which stay until the user has seen them. The
//! first listing of an account is the baseline: nothing in it is "new". Only the model is read;
//! the changes keep a copy of the credential (never a secret: the model holds none) so a face
//! can word it at the time it shows it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Credential, Listing};

/// What happened to a credential.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Appeared,
    Disappeared,
    /// Used from an address not seen for it before.
    NewAddress,
}

/// One change, as kept until it is seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub change: ChangeKind,
    /// When Keyward noticed it (the refresh that found it).
    pub at: DateTime<Utc>,
    /// The credential as it was then (as it was last seen, for one that disappeared).
    pub credential: Credential,
    /// The new address, for `NewAddress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// What Keyward remembers of one account between refreshes, beside its listing: the changes
/// not seen yet, and every address each credential was seen using.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    #[serde(default)]
    pub pending: Vec<Change>,
    #[serde(default)]
    pub addresses: BTreeMap<String, BTreeSet<String>>,
}

impl Watch {
    /// Records the changes from `previous` (None: the first listing, a baseline) to `next`.
    pub fn record(&mut self, previous: Option<&Listing>, next: &Listing) {
        let found = diff(previous, next, &self.addresses);
        for c in &next.credentials {
            let seen = self.addresses.entry(c.id.clone()).or_default();
            seen.extend(addresses_of(c));
        }
        let alive: BTreeSet<&str> = next.credentials.iter().map(|c| c.id.as_str()).collect();
        self.addresses.retain(|id, _| alive.contains(id.as_str()));
        for ch in found {
            // A credential that comes and goes between looks: keep the newest word on it.
            self.pending.retain(|p| !(p.credential.id == ch.credential.id && p.change == ch.change && p.address == ch.address));
            self.pending.push(ch);
        }
    }

    /// The ids that appeared since the last look and are still there.
    pub fn appeared(&self) -> Vec<String> {
        self.pending.iter().filter(|c| c.change == ChangeKind::Appeared).map(|c| c.credential.id.clone()).collect()
    }
}

/// The changes between two listings of one account.
pub fn diff(previous: Option<&Listing>, next: &Listing, known: &BTreeMap<String, BTreeSet<String>>) -> Vec<Change> {
    let Some(prev) = previous else { return Vec::new() };
    let at = next.fetched;
    let before: BTreeMap<&str, &Credential> = prev.credentials.iter().map(|c| (c.id.as_str(), c)).collect();
    let after: BTreeMap<&str, &Credential> = next.credentials.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut out = Vec::new();
    for (id, c) in &after {
        match before.get(id) {
            None => out.push(Change { change: ChangeKind::Appeared, at, credential: (*c).clone(), address: None }),
            Some(old) => {
                let mut seen: BTreeSet<String> = known.get(*id).cloned().unwrap_or_default();
                seen.extend(addresses_of(old));
                for a in addresses_of(c) {
                    if !seen.contains(&a) {
                        out.push(Change { change: ChangeKind::NewAddress, at, credential: (*c).clone(), address: Some(a) });
                    }
                }
            }
        }
    }
    for (id, c) in &before {
        if !after.contains_key(id) {
            out.push(Change { change: ChangeKind::Disappeared, at, credential: (*c).clone(), address: None });
        }
    }
    out
}

fn addresses_of(c: &Credential) -> BTreeSet<String> {
    c.last_ip.iter().chain(c.usage.iter().filter_map(|u| u.ip.as_ref())).filter(|a| !a.trim().is_empty()).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CredentialKind;

    fn listing(creds: Vec<Credential>) -> Listing {
        Listing { account_id: "a".into(), fetched: Utc::now(), credentials: creds, gaps: vec![], account_actions: Default::default() }
    }

    fn cred(id: &str, ip: Option<&str>) -> Credential {
        let mut c = Credential::new(id, CredentialKind::Session);
        c.last_ip = ip.map(str::to_string);
        c
    }

    #[test]
    fn the_first_listing_is_a_baseline() {
        let mut w = Watch::default();
        w.record(None, &listing(vec![cred("A", Some("203.0.113.7"))]));
        assert!(w.pending.is_empty());
    }

    #[test]
    fn appeared_disappeared_and_new_addresses_are_recorded_once() {
        let mut w = Watch::default();
        let first = listing(vec![cred("A", Some("203.0.113.7")), cred("B", None)]);
        w.record(None, &first);
        let second = listing(vec![cred("A", Some("198.51.100.7")), cred("C", Some("192.0.2.1"))]);
        w.record(Some(&first), &second);
        let mut got: Vec<(ChangeKind, String, Option<String>)> =
            w.pending.iter().map(|c| (c.change, c.credential.id.clone(), c.address.clone())).collect();
        got.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            got,
            vec![
                (ChangeKind::NewAddress, "A".into(), Some("198.51.100.7".into())),
                (ChangeKind::Disappeared, "B".into(), None),
                (ChangeKind::Appeared, "C".into(), None),
            ]
        );
        // Back to an address already seen for A: nothing new.
        let third = listing(vec![cred("A", Some("203.0.113.7")), cred("C", Some("192.0.2.1"))]);
        w.pending.clear();
        w.record(Some(&second), &third);
        assert!(w.pending.is_empty(), "{:?}", w.pending);
        assert_eq!(w.appeared(), Vec::<String>::new());
    }
}
