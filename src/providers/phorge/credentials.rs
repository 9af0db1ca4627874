//! The panels' rows as Keyward's credentials, with every field Phorge gives, the gaps where it
//! gives nothing, and what can be done with each.
//!
//! Times are read in the user's zone (`dates.rs`); without the zone they stay in the page's words
//! (a detail), never a guess. Phorge records no use of an API token: no credential here gets a
//! "last used" time; the account's last Conduit call (not tied to any token) is said instead.
//! Sessions record no address, so where each one started comes from the activity log's login
//! entry with the same digest.

use chrono::{DateTime, Utc};

use super::conduit::PublicKey;
use super::dates;
use super::pages::{ActivityRow, CallRow, OauthRow, SessionRow, SshKeyRow, TempTokenRow, TokenRow};
use crate::model::{Actions, ClientHints, Credential, CredentialKind, Fact, Gap};

/// Phorge's limit on a token's name, in bytes.
pub const TOKEN_NAME_MAX_BYTES: usize = 64;

/// The pseudo-credential for Phorge's "sign out every session" (`auth.logout`).
pub const EVERY_SESSION: &str = "every-session";

/// The user's zone and the time the pages were read.
pub struct Clock {
    pub zone: Option<String>,
    pub now: DateTime<Utc>,
}

impl Clock {
    fn datetime(&self, text: &str) -> Option<DateTime<Utc>> {
        dates::datetime(text, self.zone.as_deref()?, self.now)
    }
    fn end_of_day(&self, text: &str) -> Option<DateTime<Utc>> {
        dates::end_of_day(text, self.zone.as_deref()?, self.now)
    }
    fn date_and_time(&self, date: &str, time: &str) -> Option<DateTime<Utc>> {
        dates::date_and_time(date, time, self.zone.as_deref()?, self.now)
    }
}

/// A time read into UTC; when it could not be, the page's words kept as a detail.
fn read_or_keep(c: &mut Credential, label: &str, text: &str, read: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    if read.is_none() && !text.is_empty() {
        c.details.push(Fact::new(format!("{label} (as Phorge shows it)"), text));
    }
    read
}

/// The account's newest Conduit call that is not Keyward's own, in words ("user.whoami on Sun,
/// Nov 22, 1:06 PM"). Keyward calls Conduit once, `user.whoami` when it signs in (at `own_call`,
/// epoch seconds): that row is passed over, so the call said is someone else's.
pub fn last_call_words(calls: &[CallRow], clock: &Clock, own_call: Option<i64>) -> Option<String> {
    // The log shows minutes, and the two clocks may disagree by a little: a minute either way.
    let own = |c: &CallRow| match (own_call, clock.datetime(&c.date)) {
        (Some(own), Some(t)) => c.method == "user.whoami" && (t.timestamp() / 60 - own / 60).abs() <= 1,
        _ => false,
    };
    let skip = calls.iter().position(own);
    calls.iter().enumerate().find(|(i, _)| Some(*i) != skip).map(|(_, c)| {
        let error = if c.error.is_empty() { String::new() } else { format!(", which failed ({})", c.error) };
        format!("{} on {}{error}", c.method, c.date)
    })
}

pub fn token(t: &TokenRow, clock: &Clock, last_call: Option<&str>, panel: &str) -> Credential {
    let mut c = Credential::new(format!("token-{}", t.id), CredentialKind::ApiToken);
    c.name = Some(t.name.clone()).filter(|n| !n.is_empty());
    c.hints = ClientHints {
        note: c.name.clone(),
        app_name: (t.type_name == "Command Line API Token").then(|| "arc (Phorge's command line)".to_string()),
        ..Default::default()
    };
    c.created = read_or_keep(&mut c, "Created", &t.created, clock.datetime(&t.created));
    match t.expires.as_str() {
        "Never" => c.never_expires = true,
        other => {
            c.expires = read_or_keep(&mut c, "Expires", other, clock.datetime(other));
        }
    }
    c.details.push(Fact::new("Token (first 8 characters)", t.prefix.clone()));
    c.details.push(Fact::new("Type", t.type_name.clone()));
    if t.type_name == "Command Line API Token" && t.expires != "Never" {
        c.details.push(Fact::new(
            "Not used yet",
            "A command-line token expires an hour after it was made unless it is used; its first use makes it permanent",
        ));
    }
    c.details.push(Fact::new("Last used", "Phorge does not record when each API token is used"));
    if let Some(call) = last_call {
        c.details.push(Fact::new("This account's last Conduit call (any token or session)", call.to_string()));
    }
    c.manage_url = Some(panel.to_string());
    c.actions = Actions {
        rename: true,
        revoke: t.can_terminate,
        revoke_warning: Some("Any program using this token can no longer call Phorge's API".into()),
        why_not: (!t.can_terminate).then(|| "Phorge offers no Terminate for this token".to_string()),
        ..Default::default()
    };
    c
}

/// Where a session started: its first activity-log entry with the same digest.
fn started<'a>(digest: &str, log: &'a [ActivityRow]) -> Option<&'a ActivityRow> {
    log.iter().filter(|r| r.session == digest && r.action.starts_with("Login")).min_by_key(|r| r.id)
}

/// The credential id of a session: its digest, unless two sessions share one.
pub fn session_id(row: &SessionRow, all: &[SessionRow]) -> String {
    let shared = all.iter().filter(|r| r.digest == row.digest).count() > 1;
    match (shared, row.id) {
        (true, Some(id)) => format!("session-{}-{id}", row.digest),
        _ => format!("session-{}", row.digest),
    }
}

pub fn session(row: &SessionRow, all: &[SessionRow], clock: &Clock, log: Option<&[ActivityRow]>, panel: &str) -> Credential {
    let mut c = Credential::new(session_id(row, all), CredentialKind::Session);
    let conduit = row.kind == "conduit";
    c.name = Some(if conduit { format!("Conduit session {}", row.digest) } else { format!("Web session {}", row.digest) });
    c.hints = ClientHints {
        app_name: conduit.then(|| "Conduit client (conduit.connect)".to_string()),
        device_name: row.current.then(|| "Keyward".to_string()),
        ..Default::default()
    };
    c.current = row.current;
    c.created = read_or_keep(&mut c, "Created", &row.created, clock.datetime(&row.created));
    c.expires = clock.end_of_day(&row.expires);
    c.details.push(Fact::new("Expires (Phorge shows the day only)", row.expires.clone()));
    c.details.push(Fact::new("Session (first 6 characters of its digest)", row.digest.clone()));
    c.details.push(Fact::new("Type", row.kind.clone()));
    c.details.push(Fact::new("High security", if row.hisec.is_empty() { "off".to_string() } else { format!("on for {} more", row.hisec) }));
    match log.map(|l| started(&row.digest, l)) {
        Some(Some(entry)) => {
            c.details.push(Fact::new("Signed in from", entry.ip.clone()));
            let when = clock
                .date_and_time(&entry.date, &entry.time)
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| format!("{}, {}", entry.date, entry.time));
            c.details.push(Fact::new("Signed in", format!("{when} ({})", entry.action)));
        }
        Some(None) => c.details.push(Fact::new("Signed in from", "not in the first page of the activity log")),
        None => {}
    }
    c.details.push(Fact::new("Last active", "Phorge does not record when a session was last used, or from where"));
    c.manage_url = Some(panel.to_string());
    c.actions = if row.current {
        Actions {
            revoke: true,
            revoke_warning: Some("This is Keyward's own web session: Keyward logs it out and is signed out of this account".into()),
            ..Default::default()
        }
    } else {
        Actions {
            revoke: row.id.is_some(),
            why_not: row.id.is_none().then(|| "Phorge offers no Terminate for this session".to_string()),
            ..Default::default()
        }
    };
    c
}

/// Phorge's "sign out every session" (`auth.logout`), as a credential of its own: it is not one
/// session, so it gets its own id and says in its warning exactly what goes and what stays.
pub fn every_session(keyward_has_a_session: bool) -> Credential {
    let mut c = Credential::new(EVERY_SESSION, CredentialKind::Session);
    c.name = Some("Every web and Conduit session of this account".into());
    c.current = keyward_has_a_session;
    c.details.push(Fact::new("What this is", "Phorge's sign-out of every session at once (Conduit auth.logout), not one session"));
    let own = if keyward_has_a_session {
        "Keyward's own web session included, so Keyward is signed out of this account"
    } else {
        "Keyward keeps working: it signed in with an API token, and tokens stay"
    };
    c.actions = Actions {
        revoke: true,
        revoke_warning: Some(format!(
            "Signs out every web and Conduit session of this account, {own}; API tokens, SSH keys and OAuth authorizations stay"
        )),
        why_not: Some("It has no name: it is not one credential but all of the account's sessions".into()),
        ..Default::default()
    };
    c
}

fn key_credential(id: String, name: &str, comment: &str, key_type: &str, manage: String) -> Credential {
    let mut c = Credential::new(id, CredentialKind::Key);
    c.name = Some(name.to_string()).filter(|n| !n.is_empty());
    c.hints = ClientHints { note: c.name.clone(), device_name: Some(comment.to_string()).filter(|s| !s.is_empty()), ..Default::default() };
    if !comment.is_empty() {
        c.details.push(Fact::new("Comment", comment));
    }
    c.details.push(Fact::new("Type", key_type));
    c.manage_url = Some(manage);
    c.actions = Actions {
        revoke: true,
        revoke_warning: Some("Phorge cannot reinstate a revoked SSH key: the private key stops working for good".into()),
        why_not: Some("Keyward renames API tokens only; an SSH key is renamed on its page in Phorge".into()),
        ..Default::default()
    };
    c
}

pub fn ssh_key(k: &SshKeyRow, clock: &Clock, base: &url::Url) -> Credential {
    let manage = crate::net::http::join(base, &format!("auth/sshkey/view/{}/", k.id)).to_string();
    let mut c = key_credential(format!("sshkey-{}", k.id), &k.name, &k.comment, &k.key_type, manage);
    c.created = read_or_keep(&mut c, "Added", &k.added, clock.datetime(&k.added));
    if let Some(t) = k.trusted {
        c.details.push(Fact::new("Trusted", if t { "yes" } else { "no" }));
    }
    c
}

/// An SSH key as Conduit gives it (no dates: Conduit has none).
pub fn ssh_key_from_conduit(k: &PublicKey, base: &url::Url) -> Option<Credential> {
    let id: u64 = k.id.parse().ok()?;
    let parts: Vec<&str> = k.key.split_whitespace().collect();
    let manage = crate::net::http::join(base, &format!("auth/sshkey/view/{id}/")).to_string();
    let mut c =
        key_credential(format!("sshkey-{id}"), &k.name, parts.get(2).copied().unwrap_or(""), parts.first().copied().unwrap_or(""), manage);
    c.details.push(Fact::new("Trusted", if k.is_trusted { "yes" } else { "no" }));
    c.details.push(Fact::new("Added", "Conduit does not say when a key was added"));
    c.actions.revoke = false;
    c.actions.why_not = Some("Conduit cannot revoke SSH keys: Keyward needs a password sign-in (a web session) for that".into());
    Some(c)
}

pub fn oauth(o: &OauthRow, clock: &Clock, panel: &str) -> Credential {
    let mut c = Credential::new(format!("oauth-{}", o.id), CredentialKind::OauthGrant);
    c.name = Some(o.application.clone()).filter(|n| !n.is_empty());
    c.hints = ClientHints { oauth_client: c.name.clone(), ..Default::default() };
    c.created = read_or_keep(&mut c, "Created", &o.created, clock.datetime(&o.created));
    if !o.scope.is_empty() {
        c.restrictions = o.scope.split_whitespace().map(str::to_string).collect();
    }
    c.details.push(Fact::new("Scope", if o.scope.is_empty() { "none listed".to_string() } else { o.scope.clone() }));
    match clock.datetime(&o.updated) {
        Some(t) => c.details.push(Fact::new("Updated", t.to_rfc3339())),
        None => c.details.push(Fact::new("Updated (as Phorge shows it)", o.updated.clone())),
    }
    c.manage_url = Some(panel.to_string());
    c.actions = Actions {
        revoke: true,
        revoke_warning: Some("The application loses access, and the access tokens it holds stop working".into()),
        ..Default::default()
    };
    c
}

pub fn temporary_token(t: &TempTokenRow, n: usize, clock: &Clock, panel: &str) -> Credential {
    let id = match t.id {
        Some(id) => format!("temptoken-{id}"),
        None => format!("temptoken-row{n}"),
    };
    let mut c = Credential::new(id, CredentialKind::ApiToken);
    c.name = Some(t.kind.clone());
    c.hints = ClientHints { note: c.name.clone(), ..Default::default() };
    c.details.push(Fact::new("Temporary token", "A one-time link or code Phorge made (a login link, a password reset, an MFA enrolment)"));
    if t.expires == "Expired" {
        c.details.push(Fact::new("Expires", "Expired (Phorge lists it until its cleanup runs)"));
    } else {
        c.expires = read_or_keep(&mut c, "Expires", &t.expires, clock.datetime(&t.expires));
    }
    c.manage_url = Some(panel.to_string());
    c.actions = Actions {
        revoke: t.id.is_some(),
        revoke_warning: Some("The link or code stops working".into()),
        why_not: t
            .id
            .is_none()
            .then(|| "Phorge does not let this temporary token be revoked (it has expired, or it is in use)".to_string()),
        ..Default::default()
    };
    c
}

/// "Phorge records no use of a token", and what it does record.
pub fn last_used_gap(last_call: Option<&str>, log_url: &str) -> Gap {
    let known = match last_call {
        Some(call) => format!("; this account's last Conduit call, by any token or session, was {call}"),
        None => "; its Conduit call log shows no call by this account".to_string(),
    };
    Gap::with_url(format!("Phorge does not record when each API token was last used{known}"), log_url)
}

/// Does a new name fit Phorge's rules? Refused whole, never cut.
pub fn check_token_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a token's name cannot be empty".into());
    }
    if name.len() > TOKEN_NAME_MAX_BYTES {
        return Err(format!(
            "Phorge keeps at most {TOKEN_NAME_MAX_BYTES} bytes of a token's name, and this one is {} bytes long; choose a shorter name",
            name.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::phorge::pages;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/data/phorge/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn clock() -> Clock {
        Clock { zone: Some("UTC".into()), now: DateTime::parse_from_rfc3339("2026-11-22T13:06:30Z").unwrap().with_timezone(&Utc) }
    }

    #[test]
    fn sessions_say_where_they_started_from_the_activity_log() {
        let rows = pages::sessions(&fixture("sessions-panel.html")).unwrap().rows;
        let log = pages::activity(&fixture("activity-panel.html")).unwrap();
        let own = session(&rows[1], &rows, &clock(), Some(&log), "p");
        assert_eq!(own.id, "session-2b816f");
        assert!(own.current && own.actions.revoke);
        assert_eq!(own.created.unwrap().to_rfc3339(), "2026-11-22T13:01:00+00:00");
        assert_eq!(own.expires.unwrap().to_rfc3339(), "2026-12-22T23:59:59+00:00");
        let d = |c: &Credential, l: &str| c.details.iter().find(|f| f.label == l).map(|f| f.value.clone());
        assert_eq!(d(&own, "Signed in from").as_deref(), Some("127.0.0.1"));
        assert_eq!(d(&own, "Signed in").as_deref(), Some("2026-11-22T13:01:00+00:00 (Login: Partial Login)"));
        assert_eq!(own.last_ip, None, "the login address is not a last-used address");
        let other = session(&rows[0], &rows, &clock(), Some(&log), "p");
        assert_eq!((other.id.as_str(), other.current, other.actions.revoke), ("session-90c30b", false, true));
    }

    #[test]
    fn tokens_keep_the_prefix_only_and_never_claim_a_use() {
        let rows = pages::api_tokens(&fixture("apitokens-panel.html")).unwrap().rows;
        let calls = pages::conduit_log(&fixture("conduit-log.html")).unwrap();
        let last = last_call_words(&calls, &clock(), None);
        let c = token(&rows[1], &clock(), last.as_deref(), "p");
        assert_eq!((c.id.as_str(), c.name.as_deref(), c.never_expires), ("token-1", Some("laptop-cli"), true));
        assert_eq!((c.last_used, c.tracks_use), (None, false));
        let all = serde_json::to_string(&c).unwrap();
        assert!(all.contains("\"api-fka1\"") && !all.contains("api-fka1x"), "{all}");
        assert!(all.contains("user.whoami on Sun, Nov 22, 1:06 PM"), "{all}");
    }

    #[test]
    fn keywards_own_sign_in_call_is_not_the_accounts_last_call() {
        let calls = pages::conduit_log(&fixture("conduit-log.html")).unwrap();
        // The newest row (user.whoami at 1:06 PM) is Keyward's sign-in: the auth.logout before it is said.
        let own = DateTime::parse_from_rfc3339("2026-11-22T13:06:12Z").unwrap().timestamp();
        assert_eq!(last_call_words(&calls, &clock(), Some(own)).as_deref(), Some("auth.logout on Sun, Nov 22, 1:06 PM"));
        // Only Keyward's one call is passed over, and only when its minute matches.
        let earlier = DateTime::parse_from_rfc3339("2026-11-22T13:03:00Z").unwrap().timestamp();
        assert_eq!(last_call_words(&calls, &clock(), Some(earlier)).as_deref(), Some("user.whoami on Sun, Nov 22, 1:06 PM"));
        assert_eq!(last_call_words(&[], &clock(), None), None);
    }

    #[test]
    fn without_the_zone_times_stay_in_the_pages_words() {
        let rows = pages::api_tokens(&fixture("apitokens-panel-cli-token-unused.html")).unwrap().rows;
        let c = token(&rows[0], &Clock { zone: None, now: Utc::now() }, None, "p");
        assert_eq!((c.created, c.expires), (None, None));
        assert!(c.details.iter().any(|f| f.label == "Expires (as Phorge shows it)" && f.value == "Sun, Nov 22, 2:04 PM"));
    }

    #[test]
    fn token_names_are_refused_whole_not_cut() {
        assert!(check_token_name(&"x".repeat(64)).is_ok());
        assert!(check_token_name(&"x".repeat(65)).unwrap_err().contains("65 bytes"));
        // 22 characters, 66 bytes: Phorge counts bytes.
        assert!(check_token_name(&"€".repeat(22)).unwrap_err().contains("66 bytes"));
        assert!(check_token_name(" ").is_err());
    }
}
