//! The checkup: what deserves attention across every account, ranked, each finding with its
//! reason in plain words and the action that fixes it.
//!
//! It reads only the model (the listings a refresh saved, and what changed since the last look)
//! and makes no request of its own. A finding the user called fine is not raised again until the
//! credential changes in the way that finding is about (its fingerprint). Keyward's own
//! credential is never a finding: it is how Keyward sees the rest.
//!
//! Deliberately not here: wording for a face (the reason is one finished sentence any face shows
//! as it is), and acting on a finding (the faces call `revoke` with the finding's ids).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::clients::Form;
use crate::model::{Account, Credential, CredentialKind, Listing};
use crate::summary;

/// What a finding is about. Stable names: scripts match on them.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Appeared since the last look.
    New,
    /// A session or device whose client nothing identifies.
    Unrecognised,
    /// Not used for `inactive_days` or more.
    Inactive,
    /// Made `never_used_days` or more ago, never used.
    NeverUsed,
    /// The same client holds several credentials of one account: the older ones.
    DuplicateClient,
    /// A token that never expires.
    NoExpiry,
    /// Expires within `expiring_days`.
    Expiring,
}

impl Code {
    pub const ALL: [Code; 7] =
        [Code::New, Code::Unrecognised, Code::Inactive, Code::NeverUsed, Code::DuplicateClient, Code::NoExpiry, Code::Expiring];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::New => "new",
            Code::Unrecognised => "unrecognised",
            Code::Inactive => "inactive",
            Code::NeverUsed => "never_used",
            Code::DuplicateClient => "duplicate_client",
            Code::NoExpiry => "no_expiry",
            Code::Expiring => "expiring",
        }
    }

    /// How much acting on it is worth, before the particulars of one credential.
    fn weight(self) -> u32 {
        match self {
            Code::New => 900,
            Code::Unrecognised => 700,
            Code::Inactive => 600,
            Code::NeverUsed => 500,
            Code::DuplicateClient => 400,
            Code::NoExpiry => 300,
            Code::Expiring => 200,
        }
    }
}

/// The thresholds of the checkup: settings, with the defaults of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    pub inactive_days: i64,
    pub never_used_days: i64,
    pub expiring_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { inactive_days: 90, never_used_days: 30, expiring_days: 14 }
    }
}

/// What fixes a finding.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Fix {
    /// Revoke it (sign it out, delete it) through Keyward.
    Revoke,
    /// Replace it with a new value (the old one stops working).
    Replace,
    /// Keyward cannot end it: the server's page can.
    OpenPage { url: String },
    /// Nothing to end: look at it and decide (a token about to expire).
    Review,
}

/// One thing worth attention.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub account: String,
    pub account_id: String,
    pub credential_id: String,
    pub credential_kind: CredentialKind,
    pub name: Option<String>,
    /// The credential's plain-words line, as the list shows it.
    pub summary: String,
    /// What this kind of credential is, in one paragraph (`summary::guide`).
    #[serde(default)]
    pub guide: String,
    pub code: Code,
    /// One sentence: what was found and what to do ("This phone has not been used since March.
    /// If you no longer have it, sign it out.").
    pub reason: String,
    pub fix: Fix,
    /// Higher first.
    pub rank: u32,
    /// What "this is fine" remembers: the finding comes back when this changes.
    pub fingerprint: String,
}

/// A finding the user called fine.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dismissal {
    pub account_id: String,
    pub credential_id: String,
    pub code: Code,
    pub fingerprint: String,
}

/// One account as the checkup reads it: the account, its last listing, and the ids that appeared
/// since the last look.
pub struct Input<'a> {
    pub account: &'a Account,
    pub listing: &'a Listing,
    pub appeared: &'a [String],
}

/// Every finding across the accounts, most worth acting on first, without the dismissed ones.
pub fn findings(inputs: &[Input], dismissed: &[Dismissal], thresholds: &Thresholds, now: DateTime<Utc>) -> Vec<Finding> {
    let mut out: Vec<Finding> = inputs.iter().flat_map(|i| account_findings(i, thresholds, now)).collect();
    out.retain(|f| {
        !dismissed.iter().any(|d| {
            d.account_id == f.account_id && d.credential_id == f.credential_id && d.code == f.code && d.fingerprint == f.fingerprint
        })
    });
    out.sort_by(|a, b| b.rank.cmp(&a.rank).then_with(|| a.account.cmp(&b.account)).then_with(|| a.credential_id.cmp(&b.credential_id)));
    out
}

fn account_findings(input: &Input, th: &Thresholds, now: DateTime<Utc>) -> Vec<Finding> {
    let creds: Vec<&Credential> = input.listing.credentials.iter().filter(|c| !c.current).collect();
    let mut out = Vec::new();
    let older_duplicates = older_duplicates(&creds);
    for c in &creds {
        let s = summary::summarise(c, now);
        let what = what_it_is(c, s.client.as_ref());
        let finding = |code: Code, reason: String, fingerprint: String, extra: u32| Finding {
            account: input.account.name(),
            account_id: input.account.id.clone(),
            credential_id: c.id.clone(),
            credential_kind: c.kind,
            name: c.name.clone(),
            summary: s.line.clone(),
            guide: summary::guide::explain(c.kind, input.account.kind).to_string(),
            code,
            reason,
            fix: fix_of(c),
            rank: code.weight() + extra,
            fingerprint,
        };
        let end = end_words(c);

        if input.appeared.iter().any(|id| id == &c.id) {
            out.push(finding(
                Code::New,
                format!("{what} appeared since you last looked ({}). If it is not yours, {end}.", s.line),
                String::new(),
                0,
            ));
        }
        if is_unrecognised(c, s.client.as_ref()) {
            let recent = c.last_used.is_some_and(|t| now - t < Duration::days(th.inactive_days));
            out.push(finding(
                Code::Unrecognised,
                format!("Nothing identifies the program behind {} ({}). If you do not know it, {end}.", lower_first(&what), s.line),
                hints_fingerprint(c),
                if recent { 50 } else { 0 },
            ));
        }
        let last_used = c.last_used.or_else(|| c.usage.iter().filter_map(|u| u.last_used).max());
        if let Some(t) = last_used.filter(|t| now - *t >= Duration::days(th.inactive_days)) {
            let days = (now - t).num_days();
            out.push(finding(
                Code::Inactive,
                format!(
                    "{what} has not been used since {}. If you no longer {}, {end}.",
                    summary::absolute(t).split(',').next().unwrap_or(""),
                    no_longer(c, s.client.as_ref())
                ),
                t.to_rfc3339(),
                (days / 30).min(49) as u32,
            ));
        }
        if c.tracks_use && last_used.is_none() {
            if let Some(made) = c.created.filter(|t| now - *t >= Duration::days(th.never_used_days)) {
                out.push(finding(
                    Code::NeverUsed,
                    format!("{what} was made {} and has never been used. If nothing needs it, {end}.", summary::relative(made, now)),
                    made.to_rfc3339(),
                    ((now - made).num_days() / 30).min(49) as u32,
                ));
            }
        }
        if let Some(newer) = older_duplicates.get(c.id.as_str()) {
            out.push(finding(
                Code::DuplicateClient,
                format!(
                    "{} has {} credentials on this account and this is an older one; the older ones are likely forgotten. If {} is not used any more, {end}.",
                    newer.0, newer.1, lower_first(&what)
                ),
                format!("{}:{}", newer.0, newer.1),
                0,
            ));
        }
        if c.never_expires && c.kind != CredentialKind::Session && c.kind != CredentialKind::PushRegistration {
            out.push(finding(
                Code::NoExpiry,
                format!("{what} never expires: whoever has it keeps access until it is revoked. If nothing needs it any more, {end}."),
                "never".into(),
                0,
            ));
        }
        if let Some(e) = c.expires.filter(|e| *e > now && *e - now <= Duration::days(th.expiring_days)) {
            out.push(finding(
                Code::Expiring,
                format!(
                    "{what} expires {}: whatever uses it stops working then. If it is still needed, make a new one in time.",
                    summary::relative(e, now)
                ),
                e.to_rfc3339(),
                0,
            ));
        }
    }
    out
}

/// Sessions and devices only: a token the user named is recognised by its name.
fn is_unrecognised(c: &Credential, client: Option<&crate::clients::Client>) -> bool {
    let device_like = matches!(c.kind, CredentialKind::Session | CredentialKind::PushRegistration);
    device_like && !c.hints.is_empty() && !client.is_some_and(|cl| cl.recognised)
}

/// For each credential whose client also holds a newer credential of the same account: that
/// client's name and how many it holds.
fn older_duplicates<'a>(creds: &[&'a Credential]) -> HashMap<&'a str, (String, usize)> {
    let mut by_client: HashMap<String, Vec<&Credential>> = HashMap::new();
    for c in creds {
        if let Some(cl) = crate::clients::recognise(&c.hints).filter(|cl| cl.recognised && c.kind == CredentialKind::Session) {
            by_client.entry(cl.label()).or_default().push(c);
        }
    }
    let mut out = HashMap::new();
    for (label, mut group) in by_client {
        if group.len() < 2 {
            continue;
        }
        group.sort_by_key(|c| std::cmp::Reverse(c.last_used.or(c.created)));
        let n = group.len();
        for c in group.into_iter().skip(1) {
            out.insert(c.id.as_str(), (label.clone(), n));
        }
    }
    out
}

/// "This phone", "Element Desktop on macOS", "The API token “Nightly backup”", "This session".
fn what_it_is(c: &Credential, client: Option<&crate::clients::Client>) -> String {
    if let Some(cl) = client.filter(|cl| cl.recognised) {
        return match cl.form {
            Form::MobileApp if c.kind == CredentialKind::Session => format!("{} (a phone or tablet)", cl.label()),
            _ => cl.label(),
        };
    }
    match (&c.name, c.kind) {
        (Some(n), _) if !n.trim().is_empty() => format!("The {} “{}”", c.kind.noun(), crate::net::http::one_line(n)),
        (_, k) => format!("This {}", k.noun()),
    }
}

fn no_longer(c: &Credential, client: Option<&crate::clients::Client>) -> &'static str {
    match (c.kind, client.map(|cl| cl.form)) {
        (CredentialKind::Session, Some(Form::MobileApp)) => "have it",
        (CredentialKind::Session | CredentialKind::PushRegistration, _) => "use it",
        _ => "need it",
    }
}

/// "sign it out", "revoke it", "replace it", "end it on its page".
fn end_words(c: &Credential) -> &'static str {
    if !c.actions.revoke {
        return "end it on the server's page";
    }
    if c.actions.revoke_replaces {
        return "replace it";
    }
    match c.kind {
        CredentialKind::Session => "sign it out",
        CredentialKind::PushRegistration => "remove it",
        _ => "revoke it",
    }
}

fn fix_of(c: &Credential) -> Fix {
    match (c.actions.revoke, c.actions.revoke_replaces, &c.manage_url) {
        (true, true, _) => Fix::Replace,
        (true, false, _) => Fix::Revoke,
        (false, _, Some(url)) => Fix::OpenPage { url: url.clone() },
        (false, _, None) => Fix::Review,
    }
}

fn hints_fingerprint(c: &Credential) -> String {
    serde_json::to_string(&c.hints).unwrap_or_default()
}

fn lower_first(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) if s.starts_with("This ") || s.starts_with("The ") => f.to_lowercase().chain(cs).collect(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientHints, Credential};

    fn account() -> Account {
        Account {
            id: "a1".into(),
            kind: crate::providers::matrix::KIND,
            base_url: "https://matrix.example.org".into(),
            login: "alice".into(),
            user_id: "@alice:example.org".into(),
            label: None,
            own_credential: None,
            server_facts: vec![],
            signed_in: true,
            added: Utc::now(),
        }
    }

    fn listing(creds: Vec<Credential>) -> Listing {
        Listing { account_id: "a1".into(), fetched: Utc::now(), credentials: creds, gaps: vec![], account_actions: Default::default() }
    }

    fn session(id: &str, ua: &str, last_used_days: Option<i64>, now: DateTime<Utc>) -> Credential {
        let mut c = Credential::new(id, CredentialKind::Session);
        c.hints = ClientHints { user_agent: Some(ua.into()), ..Default::default() };
        c.tracks_use = true;
        c.last_used = last_used_days.map(|d| now - Duration::days(d));
        c.actions.revoke = true;
        c
    }

    fn codes(fs: &[Finding], id: &str) -> Vec<Code> {
        fs.iter().filter(|f| f.credential_id == id).map(|f| f.code).collect()
    }

    #[test]
    fn each_code_is_found_with_its_default_threshold_and_the_own_credential_never_is() {
        let now = Utc::now();
        let ff = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        let mut own = session("OWN", ff, Some(400), now);
        own.current = true;
        let old = session("OLD", ff, Some(120), now);
        let fresh = session("FRESH", ff, Some(1), now);
        let odd = session("ODD", "zzqq-unknown-agent/0.1", Some(2), now);
        let mut token = Credential::new("T1", CredentialKind::ApiToken);
        token.name = Some("Nightly backup".into());
        token.tracks_use = true;
        token.created = Some(now - Duration::days(45));
        token.never_expires = true;
        token.actions.revoke = true;
        let mut soon = Credential::new("T2", CredentialKind::ApiToken);
        soon.expires = Some(now + Duration::days(3));
        soon.last_used = Some(now - Duration::days(1));
        let l = listing(vec![own, old, fresh, odd, token, soon]);
        let a = account();
        let appeared = vec!["FRESH".to_string()];
        let fs = findings(&[Input { account: &a, listing: &l, appeared: &appeared }], &[], &Thresholds::default(), now);
        assert!(codes(&fs, "OWN").is_empty(), "{fs:#?}");
        assert_eq!(codes(&fs, "OLD"), vec![Code::Inactive, Code::DuplicateClient]);
        assert_eq!(codes(&fs, "FRESH"), vec![Code::New]);
        assert_eq!(codes(&fs, "ODD"), vec![Code::Unrecognised]);
        assert_eq!(codes(&fs, "T1"), vec![Code::NeverUsed, Code::NoExpiry], "a named token is not unrecognised");
        assert_eq!(codes(&fs, "T2"), vec![Code::Expiring]);
        // Ranked: the new one first, the expiring one last.
        assert_eq!(fs.first().unwrap().code, Code::New);
        assert_eq!(fs.last().unwrap().code, Code::Expiring);
        let inactive = fs.iter().find(|f| f.code == Code::Inactive).unwrap();
        assert!(inactive.reason.starts_with("Firefox on Linux has not been used since "), "{}", inactive.reason);
        assert!(inactive.reason.ends_with("If you no longer use it, sign it out."), "{}", inactive.reason);
        assert_eq!(inactive.fix, Fix::Revoke);
    }

    #[test]
    fn thresholds_are_settings() {
        let now = Utc::now();
        let l = listing(vec![session("S", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", Some(40), now)]);
        let a = account();
        let strict = Thresholds { inactive_days: 30, ..Default::default() };
        assert!(findings(&[Input { account: &a, listing: &l, appeared: &[] }], &[], &Thresholds::default(), now).is_empty());
        let fs = findings(&[Input { account: &a, listing: &l, appeared: &[] }], &[], &strict, now);
        assert_eq!(fs.iter().map(|f| f.code).collect::<Vec<_>>(), vec![Code::Inactive]);
    }

    #[test]
    fn a_dismissed_finding_stays_away_until_the_credential_changes() {
        let now = Utc::now();
        let mut c = session("S", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", Some(200), now);
        let a = account();
        let l = listing(vec![c.clone()]);
        let input = [Input { account: &a, listing: &l, appeared: &[] }];
        let f = findings(&input, &[], &Thresholds::default(), now).remove(0);
        let fine = Dismissal {
            account_id: f.account_id.clone(),
            credential_id: f.credential_id.clone(),
            code: f.code,
            fingerprint: f.fingerprint,
        };
        assert!(findings(&input, &[fine.clone()], &Thresholds::default(), now).is_empty());
        // Used again, then idle again: a new fingerprint, so it is raised again.
        c.last_used = Some(now - Duration::days(100));
        let l2 = listing(vec![c]);
        let input2 = [Input { account: &a, listing: &l2, appeared: &[] }];
        assert_eq!(findings(&input2, &[fine], &Thresholds::default(), now).len(), 1);
    }
}
